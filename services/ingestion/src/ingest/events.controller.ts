import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { principalOf } from '@mlops/auth';
import { ApiError } from '@mlops/nest-kit';
import { planIngest, type RowOutcome } from './ingest.service';
import { RestIngest } from './rest-request';

/**
 * Who sent a REST request: its `ce-source` header (binary-mode CloudEvents), else the
 * authenticated caller, else `rest:anonymous`.
 */
function restSource(req: Request): string {
  const header = req.headers['ce-source'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim().slice(0, 512);
  const subject = principalOf(req).subject;
  return `rest:${subject}`.slice(0, 512);
}

export interface IngestResponse {
  dataset: string;
  specVersion: number;
  accepted: number;
  rejected: number;
  results: RowOutcome[];
}

@Controller('v1/datasets/:dataset')
export class EventsController {
  constructor(private readonly rest: RestIngest) {}

  /**
   * Accepts one record, an array, NDJSON or CloudEvents; answers 202 once every row is on Kafka
   * (valid ones on events.validated.v1, invalid ones dead-lettered with reasons). A body that
   * cannot be read as a whole, or in which no row is valid (422, with every row's reasons),
   * produces nothing.
   */
  @Post('events')
  @HttpCode(202)
  async post(@Param('dataset') dataset: string, @Req() req: Request): Promise<IngestResponse> {
    const { rows, spec } = await this.rest.read(dataset, req);
    const plan = planIngest(
      spec,
      rows,
      'rest',
      `rest:/v1/datasets/${dataset}/events`,
      restSource(req),
    );
    if (plan.accepted === 0) {
      // Nothing in it is usable: the caller gets every reason now, and the bus gets nothing.
      throw new ApiError(
        422,
        'no_valid_rows',
        `none of the ${plan.results.length} rows passes the ${dataset} spec`,
        { results: plan.results },
      );
    }
    await this.rest.write(plan, 'records');
    return {
      dataset,
      specVersion: spec.version,
      accepted: plan.accepted,
      rejected: plan.rejected,
      results: plan.results,
    };
  }
}
