import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { BackpressureError, Bus } from '@mlops/bus';
import { DATASET_NAME } from '@mlops/contracts';
import { ApiError, readBody, SpecCatalog } from '@mlops/nest-kit';
import { INGESTION_CONFIG, type IngestionConfig } from '../config';
import type { IngestResponse } from './events.controller';
import { FEEDBACK_MEDIA_TYPES, planFeedback } from './feedback';
import { IngestService } from './ingest.service';
import { parseBody } from './parse-body';

/** At most this many problems are listed in a 400's details. */
const MAX_LISTED_PROBLEMS = 100;

@Controller('v1/datasets/:dataset')
export class FeedbackController {
  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly specs: SpecCatalog,
    private readonly ingest: IngestService,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

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
    if (!DATASET_NAME.test(dataset))
      throw new ApiError(
        400,
        'invalid_dataset_name',
        'a dataset name is lower case letters, digits, _ or -',
      );
    if (this.bus.producer.saturated) {
      throw new ApiError(429, 'backpressure', 'ingestion is saturated; retry later', undefined, {
        'Retry-After': '1',
      });
    }
    const body = await readBody(req, this.config.INGEST_MAX_BODY_BYTES);
    const parsed = parseBody(
      req.headers['content-type'],
      body,
      this.config.INGEST_MAX_ROWS,
      FEEDBACK_MEDIA_TYPES,
    );
    if (!parsed.ok) throw new ApiError(parsed.status, parsed.code, parsed.message);
    if (parsed.rows.length === 0)
      throw new ApiError(400, 'empty_batch', 'the request holds no records');
    const spec = await this.specs.resolve(dataset);
    if (!spec) throw new ApiError(404, 'unknown_dataset', `no dataset spec named "${dataset}"`);
    const plan = planFeedback(dataset, parsed.rows);
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
    try {
      await this.ingest.produce(plan);
    } catch (err) {
      if (err instanceof BackpressureError) {
        throw new ApiError(429, 'backpressure', err.message, undefined, {
          'Retry-After': String(Math.ceil(err.retryAfterMs / 1000)),
        });
      }
      throw new ApiError(
        503,
        'bus_unavailable',
        'the labels could not be written to Kafka; retry with the same ids',
      );
    }
    return {
      dataset,
      specVersion: spec.version,
      accepted: plan.results.length,
      rejected: 0,
      results: plan.results,
    };
  }
}
