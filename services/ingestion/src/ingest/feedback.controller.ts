import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '@mlops/nest-kit';
import type { IngestResponse } from './events.controller';
import { FEEDBACK_MEDIA_TYPES, planFeedback } from './feedback';
import { RestIngest } from './rest-request';

/** At most this many problems are listed in a 400's details. */
const MAX_LISTED_PROBLEMS = 100;

@Controller('v1/datasets/:dataset')
export class FeedbackController {
  constructor(private readonly rest: RestIngest) {}

  /**
   * Accepts late labels — one record `{entityId, label, requestId?, eventTime?, id?}`, an array
   * of them, or NDJSON — for a registered dataset, and answers 202 once each is on
   * `feedback.v1` (key `dataset:entityId`). All or nothing: one invalid record refuses the whole
   * request (400 `invalid_feedback`, every problem with its record index and field in
   * `details.problems`) and nothing is produced. Body limits, auth, 404/413/415/429/503 as on
   * `/events`.
   */
  @Post('feedback')
  @HttpCode(202)
  async post(@Param('dataset') dataset: string, @Req() req: Request): Promise<IngestResponse> {
    const { rows, spec } = await this.rest.read(dataset, req, FEEDBACK_MEDIA_TYPES);
    const plan = planFeedback(dataset, rows);
    if (!plan.ok) {
      const [first] = plan.problems;
      const more = plan.problems.length - 1;
      throw new ApiError(
        400,
        'invalid_feedback',
        `record ${first.index}${first.field ? `, field ${first.field}` : ''}: ${first.message}` +
          (more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : '') +
          '; nothing was accepted',
        { problems: plan.problems.slice(0, MAX_LISTED_PROBLEMS) },
      );
    }
    await this.rest.write(plan, 'labels');
    return {
      dataset,
      specVersion: spec.version,
      accepted: plan.results.length,
      rejected: 0,
      results: plan.results,
    };
  }
}
