/**
 * Every Kafka topic of the platform, in one place. A topic's name, its key, its cleanup policy
 * and who produces and consumes it are part of the contract: a service never spells a topic
 * name itself, it asks this module (optionally with a deployment-wide prefix).
 */

/** The services of the platform, by their directory name under `services/`. */
export const SERVICES = [
  'ingestion',
  'data-quality',
  'feature',
  'trainer',
  'compressor',
  'model-registry',
  'inference',
  'drift-monitor',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** What a topic's record key is: it fixes the unit of ordering. */
export type TopicKeying =
  | 'dataset:entityId'
  | 'dataset'
  | 'model'
  | 'dataset:eventId'
  | 'input-partition'
  | 'job'
  /** A snapshot's head and its chunks (`head`, `chunk/<generation>/<i>`). */
  | 'snapshot-part';

export interface TopicDefinition {
  /** The versioned topic name, without deployment prefix. */
  readonly name: string;
  readonly description: string;
  readonly key: TopicKeying;
  /** Compacted topics hold the latest record per key; a starting service reads them whole. */
  readonly compacted: boolean;
  /** Default partition count when a service creates the topic. */
  readonly partitions: number;
  readonly producers: readonly ServiceName[];
  readonly consumers: readonly ServiceName[];
  /** Topic configs beyond the defaults (`max.message.bytes`, segment sizes of a changelog). */
  readonly configs?: Readonly<Record<string, string>>;
}

function topic(def: TopicDefinition): TopicDefinition {
  return Object.freeze(def);
}

/**
 * The topic map of DESIGN.md. Names are the contract: add topics freely, never rename one;
 * a breaking payload change is a new `.vN`.
 */
export const TOPICS = {
  ingestRaw: topic({
    name: 'ingest.raw.v1',
    description:
      'Raw business events as producers send them, before validation. Any Kafka client may produce here.',
    key: 'dataset:entityId',
    compacted: false,
    partitions: 3,
    producers: [],
    consumers: ['ingestion'],
  }),
  eventsValidated: topic({
    name: 'events.validated.v1',
    description: 'Events that passed the dataset spec, typed and enriched by ingestion.',
    key: 'dataset:entityId',
    compacted: false,
    partitions: 3,
    producers: ['ingestion'],
    consumers: ['data-quality'],
  }),
  eventsRejected: topic({
    name: 'events.rejected.v1',
    description:
      'Dead letters of the data path: the original payload and headers with the stage and reason codes.',
    key: 'dataset:eventId',
    compacted: false,
    partitions: 3,
    producers: ['ingestion', 'data-quality', 'feature'],
    consumers: [],
  }),
  eventsClean: topic({
    name: 'events.clean.v1',
    description: 'Events after de-duplication and repair by data-quality.',
    key: 'dataset:entityId',
    compacted: false,
    partitions: 3,
    producers: ['data-quality'],
    consumers: ['feature'],
  }),
  feedback: topic({
    name: 'feedback.v1',
    description: 'Labels that arrive after the event they belong to.',
    key: 'dataset:entityId',
    compacted: false,
    partitions: 3,
    producers: ['ingestion'],
    consumers: ['drift-monitor'],
  }),
  qualityReports: topic({
    name: 'quality.reports.v1',
    description:
      'Data-quality reports per dataset, input partition and window: counts per rule, rates, their trend, and robust statistics per numeric field.',
    key: 'dataset',
    compacted: false,
    partitions: 1,
    producers: ['data-quality'],
    consumers: ['data-quality', 'feature'],
  }),
  features: topic({
    name: 'features.v1',
    description: 'Feature vectors per event, computed with the current featureset.',
    key: 'dataset:entityId',
    compacted: false,
    partitions: 3,
    producers: ['feature'],
    consumers: ['inference', 'drift-monitor'],
  }),
  featuresets: topic({
    name: 'featuresets.v1',
    description: 'Fitted featureset versions per dataset.',
    key: 'dataset',
    compacted: true,
    partitions: 1,
    producers: ['feature'],
    consumers: ['inference', 'feature'],
  }),
  trainingRequests: topic({
    name: 'training.requests.v1',
    description: 'Requests to fit a featureset and train on a range of the clean stream.',
    key: 'dataset',
    compacted: false,
    partitions: 1,
    producers: ['drift-monitor'],
    consumers: ['feature'],
  }),
  trainingDatasets: topic({
    name: 'training.datasets.v1',
    description: 'Materialised training matrices (artifact references), ready to train on.',
    key: 'dataset',
    compacted: false,
    partitions: 1,
    producers: ['feature'],
    consumers: ['trainer'],
  }),
  trainingJobs: topic({
    name: 'training.jobs.v1',
    description:
      "Training jobs' state (queued, running, succeeded, failed, cancelled), the latest per job: the trainer's persisted queue, and the end of every job as an event.",
    // Compacted by job id: the latest state of every job survives.
    key: 'job',
    compacted: true,
    partitions: 1,
    producers: ['trainer'],
    consumers: ['trainer'],
  }),
  modelsTrained: topic({
    name: 'models.trained.v1',
    description: 'A training job finished: artifact reference, metrics and lineage.',
    key: 'model',
    compacted: false,
    partitions: 1,
    producers: ['trainer'],
    consumers: ['compressor', 'model-registry'],
  }),
  modelsCompressed: topic({
    name: 'models.compressed.v1',
    description: 'Compressed variants of a trained model with their gate results.',
    key: 'model',
    compacted: false,
    partitions: 1,
    producers: ['compressor'],
    consumers: ['model-registry'],
  }),
  modelsDecisions: topic({
    name: 'models.decisions.v1',
    description: 'Promote, canary or roll back decisions taken by the drift monitor or a person.',
    key: 'model',
    compacted: false,
    partitions: 1,
    producers: ['drift-monitor'],
    consumers: ['model-registry'],
  }),
  modelsLifecycle: topic({
    name: 'models.lifecycle.v1',
    description: 'The full current alias map of each model; the latest record per model wins.',
    key: 'model',
    compacted: true,
    partitions: 1,
    producers: ['model-registry'],
    consumers: ['inference', 'drift-monitor'],
  }),
  pipelineSpecs: topic({
    name: 'pipeline.specs.v1',
    description: 'Dataset specs, the latest version per dataset.',
    key: 'dataset',
    compacted: true,
    partitions: 1,
    producers: ['model-registry'],
    consumers: ['ingestion', 'data-quality', 'feature', 'trainer', 'inference', 'drift-monitor'],
  }),
  predictions: topic({
    name: 'predictions.v1',
    description: 'Every prediction served or stream-scored, logged asynchronously.',
    key: 'model',
    compacted: false,
    partitions: 3,
    producers: ['inference'],
    consumers: ['drift-monitor'],
  }),
  dataQualityState: topic({
    name: 'data-quality.state.changelog.v1',
    description:
      'Internal snapshots of the data-quality state (windows, running statistics) per input partition, written to the same partition in the same transaction as the outputs they follow; read back when a partition is assigned, then the input is replayed from the snapshot offset.',
    key: 'input-partition',
    compacted: true,
    // Co-partitioned with events.validated.v1: one writer (that partition's transactional id)
    // per changelog partition.
    partitions: 3,
    producers: ['data-quality'],
    consumers: ['data-quality'],
    configs: {
      // A snapshot is a few chunks of up to 1 MiB, written in one record batch.
      'max.message.bytes': String(64 * 1024 * 1024),
      // Old snapshots are compacted away once their segment rolls: keep segments small.
      'segment.bytes': String(64 * 1024 * 1024),
      'segment.ms': String(10 * 60 * 1000),
      'min.cleanable.dirty.ratio': '0.1',
    },
  }),
  driftMonitorState: topic({
    name: 'drift-monitor.state.changelog.v1',
    description:
      "Internal snapshots of the drift monitor's state (open windows, pending joins, canary judgements, alias history) with the input offsets they reflect; read back at start, then predictions.v1 and feedback.v1 are replayed from those offsets.",
    key: 'snapshot-part',
    compacted: true,
    partitions: 1,
    producers: ['drift-monitor'],
    consumers: ['drift-monitor'],
    configs: {
      // A snapshot is a few chunks of up to 1 MiB, written in one record batch.
      'max.message.bytes': String(64 * 1024 * 1024),
      'segment.bytes': String(64 * 1024 * 1024),
      'segment.ms': String(10 * 60 * 1000),
      'min.cleanable.dirty.ratio': '0.1',
    },
  }),
  driftAlerts: topic({
    name: 'drift.alerts.v1',
    description: 'Drift detected on features, predictions or performance.',
    key: 'model',
    compacted: false,
    partitions: 1,
    producers: ['drift-monitor'],
    consumers: [],
  }),
} as const satisfies Record<string, TopicDefinition>;

export type TopicKey = keyof typeof TOPICS;
export const TOPIC_KEYS = Object.keys(TOPICS) as TopicKey[];

/** Validates a deployment prefix: it becomes part of topic and group names. */
export function assertTopicPrefix(prefix: string): string {
  if (prefix !== '' && !/^[a-zA-Z0-9._-]{1,60}$/.test(prefix)) {
    throw new Error(
      `topic prefix "${prefix}" may only hold letters, digits, ".", "_" and "-" (60 at most)`,
    );
  }
  return prefix;
}

/** The physical name of a topic in a deployment whose topics carry `prefix`. */
export function topicName(key: TopicKey, prefix = ''): string {
  return `${prefix}${TOPICS[key].name}`;
}

/** The dead-letter topic of a topic that is not on the data path (`<topic>.dlq`). */
export function deadLetterTopicName(physicalTopic: string): string {
  return `${physicalTopic}.dlq`;
}

/** The record key of an entity-keyed topic: ordering holds per dataset and entity. */
export function entityKey(dataset: string, entityId: string): string {
  return `${dataset}:${entityId}`;
}
