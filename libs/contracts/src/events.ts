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
  /**
   * Who sent it: the raw event's `ce_source`, or for REST the request's `ce-source` header, else
   * `rest:<principal>` (`rest:anonymous` without authentication), else `kafka:<topic>`.
   */
  source: z.string().min(1).max(512),
});

export const CleanEvent = ValidatedEvent.extend({
  /**
   * What data-quality noticed or repaired on this record: `missing:<field>`,
   * `imputed:<field>`, `outlier:<field>`, `clipped:<field>`, `near_duplicate:<event id>`,
   * `label_conflict`.
   */
  quality: z.object({ flags: z.array(z.string()) }),
});

/** Reasons data-quality gives when it drops or rejects a record (see the quality spec). */
export const QUALITY_REASON_CODES = [
  'duplicate_id',
  'duplicate_content',
  'near_duplicate',
  'outlier',
  'label_conflict',
  'quality_config_invalid',
] as const;

const count = z.number().int().nonnegative();
const rate = z.number().min(0).max(1);
/** A statistic that is null while the field has no value yet. */
const stat = z.number().nullable();

/** Counts of one window or since the start: records, verdicts, and records per flag. */
export const QualityCounts = z.object({
  records: count,
  verdicts: z.object({ pass: count, drop: count, reject: count }),
  /** Records per flag: per rule (`missing`, `outlier`, …) and per rule and field (`missing:amount`). */
  flags: z.record(z.string(), count),
});

/** Shares of the records in a window that a rule hit. */
export const QualityRates = z.object({
  duplicate: rate,
  nearDuplicate: rate,
  missing: rate,
  imputed: rate,
  outlier: rate,
  labelConflict: rate,
  rejected: rate,
});

/** Robust statistics of one numeric field, over the values the rules learned from (no outliers). */
export const FieldSummary = z.object({
  count,
  mean: stat,
  std: stat,
  min: stat,
  max: stat,
  q1: stat,
  median: stat,
  q3: stat,
  iqr: stat,
});

export const QualityReportEvent = z.object({
  dataset: datasetName,
  specVersion: z.number().int().positive(),
  /** The `events.validated.v1` partition whose records this covers (state is per partition). */
  partition: z.number().int().nonnegative(),
  window: z.object({
    /** 0, 1, 2, … per dataset and partition. */
    index: count,
    /** Input offsets: first of the window, last of it. */
    fromOffset: z.string().regex(/^\d+$/),
    toOffset: z.string().regex(/^\d+$/),
    /** Ingest times of the window's first and last record. */
    openedAt: isoTime,
    closedAt: isoTime,
  }),
  counts: QualityCounts,
  rates: QualityRates,
  cumulative: QualityCounts,
  /** Per numeric field, since the start (quartiles by P²; see libs/ml README for their error). */
  stats: z.record(z.string(), FieldSummary),
  /** Rates of the partition's previous windows, oldest first (at most 24): the trend. */
  history: z
    .array(z.object({ index: count, closedAt: isoTime, records: count, rates: QualityRates }))
    .max(24),
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
  /** The featureset that computed the vector (`fs-…`, or `numeric@spec-vN` before any fit). */
  featuresetVersion: z.string().min(1),
  /** Column names: absent for a fitted featureset (they are on featuresets.v1). */
  names: z.array(z.string()).optional(),
  vector: z.array(z.number()),
  label: z.union([z.number(), z.string()]).nullable(),
  eventTime: isoTime.nullable(),
});

/** A registered model's name: what MLflow allows, minus the characters that break URLs. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const modelName = z
  .string()
  .regex(MODEL_NAME, 'a model name is letters, digits, ".", "_" or "-" (128 at most)');
/** An alias name (production, canary, staging, …). */
export const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const aliasName = z.string().regex(ALIAS_NAME, 'an alias is lower case letters, digits, _ or -');
const sha256Hex = z.string().regex(/^[a-f0-9]{64}$/, 'a sha256 is 64 lower-case hex digits');

/** A stored artifact: where it is, how big, and its hash (whoever loads it checks the hash). */
export const ArtifactRef = z.object({
  uri: z.string().min(1).max(2048),
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  format: z.enum(['onnx', 'tfjs', 'json', 'other']).default('onnx'),
});

/** Records a model learned from: `from` inclusive, `to` exclusive (Kafka offsets as strings). */
export const OffsetRange = z.object({
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  from: z.string().regex(/^\d+$/),
  to: z.string().regex(/^\d+$/),
});

const lineage = {
  model: modelName,
  /** The job that produced it (trainer or compressor job id). */
  jobId: z.string().min(1).max(256),
  dataset: z.string().regex(DATASET_NAME),
  datasetSpecVersion: z.number().int().positive(),
  featuresetVersion: z.string().min(1).max(256),
  artifact: ArtifactRef,
  params: z.record(z.string(), z.unknown()).default({}),
  metrics: z.record(z.string(), z.number()).default({}),
  trainedOn: z.array(OffsetRange).default([]),
  tags: z.record(z.string(), z.string()).default({}),
  description: z.string().max(5000).optional(),
};

export const ModelTrainedEvent = z.object({
  ...lineage,
  task: z.enum(['binary', 'multiclass', 'regression']).optional(),
  /**
   * The training report (JSON): evaluation on validation and test, per-epoch curves, and the
   * reference statistics the drift monitor compares serving traffic with.
   */
  report: ArtifactRef.optional(),
});

/** A featureset version: `fs-` and the first 16 hex digits of its artifact's sha256. */
export const FEATURESET_VERSION = /^fs-[a-f0-9]{16}$/;

/**
 * What to fit a featureset on and train with: exact offset ranges of events.clean.v1, or the
 * records ingested in a time range (resolved to offsets by the feature service).
 */
export const TrainingRequestEvent = z.object({
  /** Idempotency: one training dataset per request id. */
  requestId: z.string().min(1).max(256),
  dataset: datasetName,
  range: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('offsets'),
      /** Per partition of events.clean.v1: `from` inclusive, `to` exclusive. */
      partitions: z
        .array(
          z.object({
            partition: z.number().int().nonnegative(),
            from: z.string().regex(/^\d+$/),
            to: z.string().regex(/^\d+$/),
          }),
        )
        .min(1),
    }),
    z.object({ kind: z.literal('time'), from: isoTime, to: isoTime }),
  ]),
  reason: z.string().max(2000).default(''),
  requestedBy: z.string().min(1).max(256),
});

/** A fitted featureset, announced on the compacted featuresets.v1 (latest per dataset). */
export const FeaturesetEvent = z.object({
  dataset: datasetName,
  version: z.string().regex(FEATURESET_VERSION),
  specVersion: z.number().int().positive(),
  /** The featureset's JSON (resolved spec + fitted state) in the registry's artifact store. */
  artifact: ArtifactRef,
  /** Column names, in vector order. */
  names: z.array(z.string()),
  fittedOn: z.array(OffsetRange),
  records: z.number().int().nonnegative(),
  createdAt: isoTime,
});

const splitCounts = z.object({
  train: z.number().int().nonnegative(),
  validation: z.number().int().nonnegative(),
  test: z.number().int().nonnegative(),
});

/** A materialised training matrix, ready for the trainer. */
export const TrainingDatasetEvent = z.object({
  requestId: z.string().min(1).max(256),
  dataset: datasetName,
  specVersion: z.number().int().positive(),
  featuresetVersion: z.string().regex(FEATURESET_VERSION),
  featureset: ArtifactRef,
  /** The matrix (libs/features matrix format: float32 rows, labels, split per row). */
  matrix: ArtifactRef,
  trainedOn: z.array(OffsetRange),
  columns: z.number().int().nonnegative(),
  rows: splitCounts,
  /** Rows per label value and split (classification). */
  classCounts: z.record(z.string(), splitCounts),
  labelField: z.string().nullable(),
});

export const TRAINING_JOB_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const;

/** A training job's state; the latest record per job id is its state (keyed by job id). */
export const TrainingJobEvent = z.object({
  jobId: z.string().min(1).max(256),
  state: z.enum(TRAINING_JOB_STATES),
  /** The training dataset event the job trains on (what a restarted trainer re-runs). */
  input: TrainingDatasetEvent,
  model: modelName,
  attempt: z.number().int().nonnegative(),
  queuedAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  /** Last progress of a running job (epoch, step, loss, metric). */
  progress: z.record(z.string(), z.number()).nullable(),
  /** Set when failed or cancelled: a stable code and a message a person can act on. */
  error: z.object({ code: z.string().min(1), message: z.string() }).nullable(),
  /** Set when succeeded. */
  result: z
    .object({
      artifact: ArtifactRef,
      report: ArtifactRef,
      metrics: z.record(z.string(), z.number()),
      backend: z.string(),
      durationMs: z.number().nonnegative(),
    })
    .nullable(),
  /** Who cancelled, or `trainer`. */
  updatedBy: z.string().min(1).max(256),
});

export const ModelCompressedEvent = z.object({
  ...lineage,
  /** The trained version this variant was made from. */
  parentVersion: z.number().int().positive(),
  /** int8, int4, pruned50, student… */
  variant: z.string().min(1).max(64),
  gate: z.object({ passed: z.boolean(), reasons: z.array(z.string()).default([]) }),
  /** The variant the compressor recommends among those that passed (at most one per parent). */
  recommended: z.boolean().default(false),
});

export const ModelDecisionEvent = z.object({
  model: modelName,
  /**
   * set_alias: `alias` → `version`. promote: `production` → the version behind `alias`
   * (canary by default). rollback: `alias` (production by default) → `version`, or to the
   * version it pointed at before; rolling back `canary` (without `version`) removes the alias:
   * its traffic returns to production. delete_alias: remove `alias`.
   */
  action: z.enum(['set_alias', 'promote', 'rollback', 'delete_alias']),
  alias: aliasName.optional(),
  version: z.number().int().positive().optional(),
  reason: z.string().min(1).max(2000),
  decidedBy: z.string().min(1).max(256),
});

export const ModelLifecycleEvent = z.object({
  model: modelName,
  /** The full current alias map: the latest record per model is the world. */
  aliases: z.record(z.string(), z.number().int().positive()),
  latestVersion: z.number().int().nonnegative(),
  /** What changed to produce this record. */
  change: z.object({
    kind: z.enum(['alias_set', 'alias_deleted', 'version_created', 'model_deleted']),
    alias: z.string().nullable(),
    from: z.number().int().positive().nullable(),
    to: z.number().int().positive().nullable(),
    actor: z.string(),
    reason: z.string(),
    at: isoTime,
  }),
  /** The registry's outbox sequence number: increasing, one per record. */
  sequence: z.number().int().positive(),
});

/**
 * One prediction (one row) served online or stream-scored, logged to predictions.v1 off the
 * response path. The drift monitor compares `features` and `score` with the version's training
 * reference and joins `requestId`/`entityId` with feedback.v1.
 */
export const PredictionEvent = z.object({
  model: modelName,
  version: z.number().int().positive(),
  /** The alias that routed the request to this version (null: addressed by version). */
  alias: aliasName.nullable(),
  dataset: datasetName.nullable(),
  featuresetVersion: z.string().min(1).max(256).nullable(),
  /** online: answered a request; shadow: scored beside production, not answered; stream: features.v1. */
  mode: z.enum(['online', 'shadow', 'stream']),
  requestId: z.string().min(1).max(512),
  /** Row index inside the request (a request of N rows logs N predictions). */
  row: z.number().int().nonnegative(),
  entityId: z.string().max(512).nullable(),
  /** The row's input vector (spec `predictionLog.features: full`). */
  features: z.array(z.number()).optional(),
  /** Its summary instead (`summary`): count, mean, min, max and a hash of the values. */
  featureSummary: z
    .object({
      count: z.number().int().nonnegative(),
      mean: z.number(),
      min: z.number(),
      max: z.number(),
      sha256: sha256Hex,
    })
    .optional(),
  /** Every output tensor's values for this row, by output name. */
  outputs: z.record(z.string(), z.array(z.union([z.number(), z.string(), z.boolean()]))),
  /** P(class 1) (binary), the top probability (multiclass) or the prediction (regression). */
  score: z.number().nullable(),
  /** The predicted class (its name when the model has class names) or null for regression. */
  label: z.union([z.string(), z.number()]).nullable(),
  /** Server time for the whole request (queue + compute), ms. */
  latencyMs: z.number().nonnegative(),
  cached: z.boolean(),
  /** The features.v1 event a stream-scored prediction came from. */
  sourceEventId: z.string().max(512).nullable(),
  at: isoTime,
  /**
   * Set when scoring failed: outputs is empty, score and label are null. The drift monitor
   * counts these for a version's error rate.
   */
  error: z.object({ code: z.string().min(1).max(128), message: z.string().max(2000) }).optional(),
});

/**
 * A label that arrives after the event it belongs to (a chargeback confirming fraud, say). The
 * drift monitor joins it to predictions by `requestId` when the caller kept it, else by
 * `entityId` (the latest prediction for the entity within the join window).
 */
export const FeedbackEvent = z.object({
  dataset: datasetName,
  entityId: z.string().min(1).max(512),
  requestId: z.string().min(1).max(512).nullable(),
  label: z.union([z.number(), z.string().min(1).max(256)]),
  /** When the labelled event happened (not when the label arrived). */
  eventTime: isoTime.nullable(),
});

/** Drift found on a window of one model version's traffic, with the evidence. */
export const DriftAlertEvent = z.object({
  model: modelName,
  version: z.number().int().positive(),
  alias: aliasName.nullable(),
  dataset: datasetName.nullable(),
  /** feature: input distributions; prediction: outputs and confidence; performance: labels. */
  kind: z.enum(['feature', 'prediction', 'performance', 'canary']),
  severity: z.enum(['info', 'warning', 'critical']),
  window: z.object({
    kind: z.enum(['count', 'time']),
    events: z.number().int().nonnegative(),
    from: isoTime,
    to: isoTime,
  }),
  /** One sentence for people. */
  summary: z.string().min(1).max(2000),
  /** Drifted features, strongest first (feature drift). */
  drifted: z.array(z.string()).default([]),
  /** The report behind the alert: per-feature statistics, tests, p-values, histograms. */
  evidence: z.record(z.string(), z.unknown()),
  /** Where the full report is served (drift monitor REST). */
  reportId: z.string().min(1).max(256),
  at: isoTime,
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
  featureset: defineEvent({
    type: 'dev.mlops.featuresets.v1',
    topic: 'featuresets',
    schema: FeaturesetEvent,
    summary: "A dataset's current fitted featureset (compacted: the latest per dataset).",
    envelope: 'required',
  }),
  trainingRequest: defineEvent({
    type: 'dev.mlops.training.request.v1',
    topic: 'trainingRequests',
    schema: TrainingRequestEvent,
    summary: 'Fit a featureset and build a training matrix on a range of the clean stream.',
    envelope: 'required',
  }),
  trainingDataset: defineEvent({
    type: 'dev.mlops.training.dataset.v1',
    topic: 'trainingDatasets',
    schema: TrainingDatasetEvent,
    summary: 'A materialised training matrix and its featureset, with lineage.',
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
  qualityReport: defineEvent({
    type: 'dev.mlops.quality.report.v1',
    topic: 'qualityReports',
    schema: QualityReportEvent,
    summary:
      'Data-quality counts, rates and robust field statistics of one dataset, input partition and window.',
    envelope: 'required',
  }),
  modelTrained: defineEvent({
    type: 'dev.mlops.models.trained.v1',
    topic: 'modelsTrained',
    schema: ModelTrainedEvent,
    summary: 'A trained model and its lineage, its artifact already stored by the registry.',
    envelope: 'required',
  }),
  trainingJob: defineEvent({
    type: 'dev.mlops.training.job.v1',
    topic: 'trainingJobs',
    schema: TrainingJobEvent,
    summary: "A training job's state; its end (succeeded, failed, cancelled) closes the job.",
    envelope: 'required',
  }),
  modelCompressed: defineEvent({
    type: 'dev.mlops.models.compressed.v1',
    topic: 'modelsCompressed',
    schema: ModelCompressedEvent,
    summary: 'A compressed variant of a trained version, with its gate result.',
    envelope: 'required',
  }),
  modelDecision: defineEvent({
    type: 'dev.mlops.models.decision.v1',
    topic: 'modelsDecisions',
    schema: ModelDecisionEvent,
    summary: 'A decision to move an alias: promote, roll back, set or delete.',
    envelope: 'required',
  }),
  feedback: defineEvent({
    type: 'dev.mlops.feedback.v1',
    topic: 'feedback',
    schema: FeedbackEvent,
    summary: 'A late label for an event, joined to its prediction by request or entity id.',
    envelope: 'optional',
  }),
  driftAlert: defineEvent({
    type: 'dev.mlops.drift.alert.v1',
    topic: 'driftAlerts',
    schema: DriftAlertEvent,
    summary: 'Drift found on a window of a model version: severity, evidence, statistics.',
    envelope: 'required',
  }),
  prediction: defineEvent({
    type: 'dev.mlops.predictions.v1',
    topic: 'predictions',
    schema: PredictionEvent,
    summary: 'One prediction served online, in shadow, or stream-scored from features.v1.',
    envelope: 'required',
  }),
  modelLifecycle: defineEvent({
    type: 'dev.mlops.models.lifecycle.v1',
    topic: 'modelsLifecycle',
    schema: ModelLifecycleEvent,
    summary: "A model's current alias map after a change (compacted: the latest per model).",
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
export type QualityCounts = z.infer<typeof QualityCounts>;
export type QualityRates = z.infer<typeof QualityRates>;
export type FieldSummary = z.infer<typeof FieldSummary>;
export type QualityReportEvent = z.infer<typeof QualityReportEvent>;
export type TrainingRequestEvent = z.infer<typeof TrainingRequestEvent>;
export type FeaturesetEvent = z.infer<typeof FeaturesetEvent>;
export type TrainingDatasetEvent = z.infer<typeof TrainingDatasetEvent>;
export type ArtifactRef = z.infer<typeof ArtifactRef>;
export type OffsetRange = z.infer<typeof OffsetRange>;
export type ModelTrainedEvent = z.infer<typeof ModelTrainedEvent>;
export type TrainingJobEvent = z.infer<typeof TrainingJobEvent>;
export type TrainingJobState = (typeof TRAINING_JOB_STATES)[number];
export type ModelCompressedEvent = z.infer<typeof ModelCompressedEvent>;
export type ModelDecisionEvent = z.infer<typeof ModelDecisionEvent>;
export type ModelLifecycleEvent = z.infer<typeof ModelLifecycleEvent>;
export type PredictionEvent = z.infer<typeof PredictionEvent>;
export type FeedbackEvent = z.infer<typeof FeedbackEvent>;
export type DriftAlertEvent = z.infer<typeof DriftAlertEvent>;

/** Every reason code a dead letter may carry. */
export const REJECTION_CODES: readonly string[] = [
  ...RECORD_REASON_CODES,
  ...BUS_REASON_CODES,
  ...QUALITY_REASON_CODES,
];
