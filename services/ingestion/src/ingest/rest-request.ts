import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { BackpressureError, Bus } from '@mlops/bus';
import { DATASET_NAME, type DatasetSpec } from '@mlops/contracts';
import { ApiError, readBody, SpecCatalog } from '@mlops/nest-kit';
import { INGESTION_CONFIG, type IngestionConfig } from '../config';
import { IngestService, type IngestPlan } from './ingest.service';
import { ACCEPTED_MEDIA_TYPES, parseBody, type IncomingRow } from './parse-body';

/**
 * What the REST endpoints of ingestion (`/events`, `/feedback`) do alike before and after their
 * own planning: refuse a bad dataset name, shed load while the producer is saturated (429), read
 * and parse the body within the limits, find the dataset's spec (404); then write the plan and
 * map a bus failure to 429 (back-pressure) or 503.
 */
@Injectable()
export class RestIngest {
  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly specs: SpecCatalog,
    private readonly ingest: IngestService,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  async read(
    dataset: string,
    req: Request,
    accepted: readonly (typeof ACCEPTED_MEDIA_TYPES)[number][] = ACCEPTED_MEDIA_TYPES,
  ): Promise<{ rows: IncomingRow[]; spec: DatasetSpec }> {
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
      accepted,
    );
    if (!parsed.ok) throw new ApiError(parsed.status, parsed.code, parsed.message);
    if (parsed.rows.length === 0)
      throw new ApiError(400, 'empty_batch', 'the request holds no records');
    const spec = await this.specs.resolve(dataset);
    if (!spec) throw new ApiError(404, 'unknown_dataset', `no dataset spec named "${dataset}"`);
    return { rows: parsed.rows, spec };
  }

  /** Writes the plan's records (acks=all); `what` names them in a 503. */
  async write(plan: Pick<IngestPlan, 'outputs'>, what: string): Promise<void> {
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
        `the ${what} could not be written to Kafka; retry with the same ids`,
      );
    }
  }
}
