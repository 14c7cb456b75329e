import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { principalOf } from '@mlops/auth';
import { BackpressureError, Bus } from '@mlops/bus';
import { DATASET_NAME } from '@mlops/contracts';
import { ApiError, readBody, SpecCatalog } from '@mlops/nest-kit';
import { INGESTION_CONFIG, type IngestionConfig } from '../config';
import { IngestService, planIngest, type RowOutcome } from './ingest.service';
import { parseBody } from './parse-body';

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
  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly specs: SpecCatalog,
    private readonly ingest: IngestService,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  /**
   * Accepts one record, an array, NDJSON or CloudEvents; answers 202 once every row is on Kafka
   * (valid ones on events.validated.v1, invalid ones dead-lettered with reasons). A body that
   * cannot be read as a whole, or in which no row is valid (422, with every row's reasons),
   * produces nothing.
   */
  @Post('events')
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
    const parsed = parseBody(req.headers['content-type'], body, this.config.INGEST_MAX_ROWS);
    if (!parsed.ok) throw new ApiError(parsed.status, parsed.code, parsed.message);
    if (parsed.rows.length === 0)
      throw new ApiError(400, 'empty_batch', 'the request holds no records');
    const spec = await this.specs.resolve(dataset);
    if (!spec) throw new ApiError(404, 'unknown_dataset', `no dataset spec named "${dataset}"`);
    const plan = planIngest(
      spec,
      parsed.rows,
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
        'the records could not be written to Kafka; retry with the same ids',
      );
    }
    return {
      dataset,
      specVersion: spec.version,
      accepted: plan.accepted,
      rejected: plan.rejected,
      results: plan.results,
    };
  }
}
