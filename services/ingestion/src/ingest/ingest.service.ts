import { Inject, Injectable } from '@nestjs/common';
import { Bus, deadLetterPayload, type Outgoing } from '@mlops/bus';
import {
  EVENTS,
  canonicalJson,
  contentEventId,
  entityKey,
  newTraceparent,
  validateRecord,
  type DatasetSpec,
  type RecordProblem,
  type ValidatedEvent,
} from '@mlops/contracts';
import type { IncomingRow } from './parse-body';

export interface RowOutcome {
  index: number;
  id: string;
  status: 'accepted' | 'rejected';
  reasons?: RecordProblem[];
}

export interface IngestPlan {
  outputs: Outgoing[];
  results: RowOutcome[];
  accepted: number;
  rejected: number;
}

/** The id of a row: the producer's, else one derived from the content (retries dedupe). */
export function rowId(dataset: string, row: IncomingRow): string {
  return row.id ?? contentEventId(dataset, canonicalJson(row.record));
}

/**
 * Checks records against their dataset spec and builds what to produce: the typed record for
 * each valid row, a dead letter with reason codes for each invalid one. Pure apart from the
 * clock; the caller produces the outputs. Each validated record is enriched with the ingest
 * time, how it came in (`via`) and who sent it: the row's own source (a CloudEvent's `source`,
 * a raw record's `ce_source`), else `defaultSource`.
 */
export function planIngest(
  spec: DatasetSpec,
  rows: IncomingRow[],
  via: 'rest' | 'kafka',
  origin: string,
  defaultSource: string,
  now = new Date(),
): IngestPlan {
  const outputs: Outgoing[] = [];
  const results: RowOutcome[] = [];
  const ingestedAt = now.toISOString();
  let accepted = 0;
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    const id = rowId(spec.name, row);
    const traceparent = row.traceparent ?? newTraceparent();
    const checked = validateRecord(spec, row.record);
    if (checked.ok) {
      accepted++;
      const data: ValidatedEvent = {
        dataset: spec.name,
        specVersion: spec.version,
        entityId: checked.entityId,
        record: checked.record,
        ingestedAt,
        via,
        source: row.source ?? defaultSource,
      };
      outputs.push({
        event: EVENTS.validatedEvent,
        key: entityKey(spec.name, checked.entityId),
        data,
        attrs: { id, traceparent, subject: spec.name },
      });
      results.push({ index, id, status: 'accepted' });
    } else {
      const reasons = checked.problems;
      const value = Buffer.from(JSON.stringify(row.record) ?? 'null');
      outputs.push({
        event: EVENTS.rejectedEvent,
        key: `${spec.name}:${id}`,
        data: deadLetterPayload(
          'ingestion',
          reasons,
          { topic: origin, key: null, value, headers: {} },
          3 * 1024 * 1024,
          { eventId: id, dataset: spec.name },
        ),
        attrs: { traceparent, subject: spec.name },
      });
      results.push({ index, id, status: 'rejected', reasons });
    }
  }
  return { outputs, results, accepted, rejected: rows.length - accepted };
}

@Injectable()
export class IngestService {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  /** Produces a plan's records; resolves once all are acknowledged (acks=all). */
  async produce(plan: Pick<IngestPlan, 'outputs'>): Promise<void> {
    await this.bus.producer.send(plan.outputs);
  }
}
