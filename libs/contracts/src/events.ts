import { z } from 'zod';
import { DATASET_NAME, DatasetSpec } from './spec/dataset-spec';
import { RECORD_REASON_CODES } from './spec/validate-record';
import type { TopicKey } from './topics';

/**
 * Every event type on the bus: its CloudEvents `type`, the topic it travels on and the zod
 * schema of its payload — the one source of truth from which the bus validates on produce and
 * on consume, and from which `docs/asyncapi.yaml` is written.
 */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  /** CloudEvents `type`; ends in the payload version. */
  readonly type: string;
  readonly topic: TopicKey;
  readonly schema: S;
  readonly summary: string;
  /**
   * `optional`: records may arrive from any Kafka client without CloudEvents headers (the raw
   * ingest topic); the bus then derives a content-based id. `required`: missing headers make a
   * dead letter.
   */
  readonly envelope: 'required' | 'optional';
}

function defineEvent<S extends z.ZodType>(def: EventDefinition<S>): EventDefinition<S> {
  return Object.freeze(def);
}

export type EventPayload<E extends EventDefinition> = z.output<E['schema']>;

const datasetName = z.string().regex(DATASET_NAME);
const isoTime = z.iso.datetime({ offset: true });

export const RawEvent = z.object({
  /** Which dataset spec the record belongs to. */
  dataset: datasetName,
  /** The business record as the producer has it; checked against the dataset spec. */
  record: z.record(z.string(), z.unknown()),
});

export const ValidatedEvent = z.object({
  dataset: datasetName,
  specVersion: z.number().int().positive(),
  entityId: z.string().min(1),
  /** The record typed by the spec: numeric strings converted, timestamps in ISO 8601 UTC. */
  record: z.record(z.string(), z.unknown()),
  ingestedAt: isoTime,
  /** How the record entered: a REST request or the raw Kafka topic. */
  via: z.enum(['rest', 'kafka']),
});

export const CleanEvent = ValidatedEvent.extend({
  /** What data-quality noticed or repaired on this record. */
  quality: z.object({ flags: z.array(z.string()) }),
});

export const RejectionReason = z.object({
  /** A stable code: a record-level code of the spec check, or a bus-level one. */
  code: z.string().min(1),
  message: z.string(),
  field: z.string().optional(),
});

/** Bus-level reasons, besides the record-level ones of {@link RECORD_REASON_CODES}. */
export const BUS_REASON_CODES = [
  'not_json',
  'schema_mismatch',
  'envelope_invalid',
  'payload_too_large',
  'unknown_dataset',
  'handler_rejected',
  'unknown_event_type',
] as const;

export const RejectedEvent = z.object({
  /** The service that rejected the record. */
  stage: z.string().min(1),
  reasons: z.array(RejectionReason).min(1),
  dataset: z.string().optional(),
  /** The original `ce_id`, when it had one. */
  eventId: z.string().optional(),
  rejectedAt: isoTime,
  original: z.object({
    topic: z.string(),
    partition: z.number().int().nonnegative().optional(),
    offset: z.string().optional(),
    key: z.string().nullable(),
    headers: z.record(z.string(), z.string()),
    /** The value as UTF-8 text when it is valid UTF-8, else base64. */
    value: z.string().nullable(),
    valueEncoding: z.enum(['utf8', 'base64']),
    valueBytes: z.number().int().nonnegative(),
    /** True when `value` was cut to the dead-letter size limit (`valueBytes` is the full size). */
    truncated: z.boolean(),
  }),
});

export const FeatureVectorEvent = z.object({
  dataset: datasetName,
  entityId: z.string().min(1),
  /** The featureset that computed the vector. */
  featuresetVersion: z.string().min(1),
  names: z.array(z.string()),
  vector: z.array(z.number()),
  label: z.union([z.number(), z.string()]).nullable(),
  eventTime: isoTime.nullable(),
});

export const DedupeEntry = z.object({
  dataset: datasetName,
  eventId: z.string().min(1),
  /** When the id was first seen (its position in the window). */
  seenAt: isoTime,
});

export const EVENTS = {
  rawEvent: defineEvent({
    type: 'dev.mlops.ingest.raw.v1',
    topic: 'ingestRaw',
    schema: RawEvent,
    summary: 'A raw record for a dataset, from any producer.',
    envelope: 'optional',
  }),
  validatedEvent: defineEvent({
    type: 'dev.mlops.events.validated.v1',
    topic: 'eventsValidated',
    schema: ValidatedEvent,
    summary: 'A record that passed its dataset spec.',
    envelope: 'required',
  }),
  rejectedEvent: defineEvent({
    type: 'dev.mlops.events.rejected.v1',
    topic: 'eventsRejected',
    schema: RejectedEvent,
    summary: 'A dead letter with its reasons and the original record.',
    envelope: 'required',
  }),
  cleanEvent: defineEvent({
    type: 'dev.mlops.events.clean.v1',
    topic: 'eventsClean',
    schema: CleanEvent,
    summary: 'A de-duplicated, repaired record.',
    envelope: 'required',
  }),
  featureVector: defineEvent({
    type: 'dev.mlops.features.v1',
    topic: 'features',
    schema: FeatureVectorEvent,
    summary: 'The feature vector of one event.',
    envelope: 'required',
  }),
  datasetSpec: defineEvent({
    type: 'dev.mlops.pipeline.spec.v1',
    topic: 'pipelineSpecs',
    schema: DatasetSpec,
    summary: 'The current version of a dataset spec (a tombstone deletes the dataset).',
    envelope: 'required',
  }),
  dedupeEntry: defineEvent({
    type: 'dev.mlops.data-quality.dedupe.v1',
    topic: 'dataQualityDedupe',
    schema: DedupeEntry,
    summary: 'An event id in the de-duplication window (a tombstone: it left the window).',
    envelope: 'required',
  }),
} as const;

export type EventKey = keyof typeof EVENTS;

export type RawEvent = z.infer<typeof RawEvent>;
export type ValidatedEvent = z.infer<typeof ValidatedEvent>;
export type CleanEvent = z.infer<typeof CleanEvent>;
export type RejectedEvent = z.infer<typeof RejectedEvent>;
export type RejectionReason = z.infer<typeof RejectionReason>;
export type FeatureVectorEvent = z.infer<typeof FeatureVectorEvent>;
export type DedupeEntry = z.infer<typeof DedupeEntry>;

/** Every reason code a dead letter may carry. */
export const REJECTION_CODES: readonly string[] = [...RECORD_REASON_CODES, ...BUS_REASON_CODES];
