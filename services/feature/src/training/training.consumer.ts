import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  Bus,
  PermanentError,
  readPartitions,
  type BatchResult,
  type BusEvent,
  type Outgoing,
} from '@mlops/bus';
import {
  EVENTS,
  topicName,
  type CleanEvent,
  type DatasetSpec,
  type OffsetRange,
  type TrainingDatasetEvent,
  type TrainingRequestEvent,
} from '@mlops/contracts';
import {
  encodeMatrix,
  featuresetArtifact,
  fitFeatureset,
  recordLabel,
  SPLITS,
  splitOf,
  transform,
  type Featureset,
} from '@mlops/features';
import { SpecCatalog } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';
import { FEATURE_CONFIG, type FeatureConfig } from '../config';
import { FeaturesetCatalog } from '../featuresets/featureset.catalog';

interface Fitted {
  featureset: Featureset;
  training: TrainingDatasetEvent;
}

/**
 * `training.requests.v1` → a featureset fitted on exactly the requested records of
 * events.clean.v1 (offset ranges, or a time range resolved to offsets), stored in the registry
 * and announced on featuresets.v1, and the training matrix (deterministic split by entity)
 * stored and announced on training.datasets.v1 — once per request id: the announcements and the
 * request's offset commit share a transaction, a repeated request id is skipped, and a request
 * handled again after a crash produces byte-identical artifacts (content-addressed uploads are
 * idempotent).
 */
@Injectable()
export class TrainingConsumer implements OnApplicationBootstrap {
  private readonly done = new Set<string>();

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(FEATURE_CONFIG) private readonly config: FeatureConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly featuresets: FeaturesetCatalog,
    private readonly registry: RegistryClient,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Requests already answered, from the answers themselves.
    const answered = this.bus.table({
      name: 'training-datasets',
      event: EVENTS.trainingDataset,
      onChange: (_key, value) => {
        if (value) this.done.add(value.requestId);
      },
    });
    await answered.start(60_000);
    const sub = this.bus.subscribe({
      name: 'training-requests',
      groupId: 'feature.training',
      event: EVENTS.trainingRequest,
      delivery: 'exactly-once',
      deadLetter: 'dlq',
      maxBatchSize: 1,
      handler: (events, ctx) => this.handle(events, () => ctx.heartbeat()),
    });
    await sub.start();
  }

  private async handle(
    events: BusEvent<TrainingRequestEvent>[],
    heartbeat: () => Promise<void>,
  ): Promise<BatchResult> {
    const outputs: Outgoing[] = [];
    const fitted: Fitted[] = [];
    for (const e of events) {
      const req = e.data;
      if (this.done.has(req.requestId)) {
        this.logger.info({ requestId: req.requestId }, 'training request already answered');
        continue;
      }
      const result = await this.fit(req, heartbeat);
      fitted.push(result);
      const fs = result.featureset;
      outputs.push(
        {
          event: EVENTS.featureset,
          key: req.dataset,
          data: {
            dataset: req.dataset,
            version: fs.version,
            specVersion: fs.specVersion,
            artifact: result.training.featureset,
            names: fs.names,
            fittedOn: result.training.trainedOn,
            records: fs.records,
            createdAt: new Date().toISOString(),
          },
          attrs: { id: `featureset:${req.requestId}:${fs.version}`, subject: req.dataset },
        },
        {
          event: EVENTS.trainingDataset,
          key: req.dataset,
          data: result.training,
          attrs: {
            id: `training-dataset:${req.requestId}`,
            subject: req.dataset,
            traceparent: e.attrs.traceparent,
          },
        },
      );
    }
    return {
      outputs,
      onCommitted: () => {
        for (const f of fitted) {
          this.done.add(f.training.requestId);
          this.featuresets.remember(f.featureset);
          this.logger.info(
            {
              requestId: f.training.requestId,
              dataset: f.training.dataset,
              featureset: f.featureset.version,
              rows: f.training.rows,
            },
            'featureset fitted and training dataset announced',
          );
        }
      },
    };
  }

  private async fit(req: TrainingRequestEvent, heartbeat: () => Promise<void>): Promise<Fitted> {
    const spec = await this.specs.resolve(req.dataset);
    if (!spec) {
      throw new PermanentError('unknown_dataset', `no dataset spec named "${req.dataset}"`);
    }
    const ranges = await this.resolveRange(req);
    const records = await this.read(req.dataset, ranges, heartbeat);
    let featureset: Featureset;
    try {
      featureset = fitFeatureset(
        spec,
        records.map((r) => r.record),
      );
    } catch (err) {
      throw new PermanentError('featureset_invalid', (err as Error).message);
    }
    const fsRef = await this.registry.upload(featuresetArtifact(featureset), 'json');
    const matrix = buildMatrix(spec, featureset, records);
    const matrixRef = await this.registry.upload(encodeMatrix(matrix.matrix), 'other');
    return {
      featureset,
      training: {
        requestId: req.requestId,
        dataset: req.dataset,
        specVersion: spec.version,
        featuresetVersion: featureset.version,
        featureset: fsRef,
        matrix: matrixRef,
        trainedOn: ranges,
        columns: featureset.names.length,
        rows: matrix.rows,
        classCounts: matrix.classCounts,
        labelField: featureset.spec.labelField,
      },
    };
  }

  /** The request's range as offset ranges of events.clean.v1, checked against the topic. */
  private async resolveRange(req: TrainingRequestEvent): Promise<OffsetRange[]> {
    const topic = topicName('eventsClean', this.bus.prefix);
    const offsets = await this.bus.admin.fetchTopicOffsets(topic);
    if (req.range.kind === 'offsets') {
      return req.range.partitions.map((p) => {
        const have = offsets.find((o) => o.partition === p.partition);
        if (!have) {
          throw new PermanentError('bad_range', `${topic} has no partition ${p.partition}`);
        }
        if (BigInt(p.from) > BigInt(p.to) || BigInt(p.to) > BigInt(have.high)) {
          throw new PermanentError(
            'bad_range',
            `partition ${p.partition}: ${p.from}..${p.to} is not within 0..${have.high}`,
          );
        }
        return { topic, partition: p.partition, from: p.from, to: p.to };
      });
    }
    const from = Date.parse(req.range.from);
    const to = Date.parse(req.range.to);
    if (!(from < to)) throw new PermanentError('bad_range', 'the time range is empty');
    const starts = await this.bus.admin.fetchTopicOffsetsByTimestamp(topic, from);
    const ends = await this.bus.admin.fetchTopicOffsetsByTimestamp(topic, to);
    return offsets.map((o) => {
      const start = starts.find((s) => s.partition === o.partition)?.offset ?? o.high;
      const end = ends.find((s) => s.partition === o.partition)?.offset ?? o.high;
      // An offset of -1: no record at or after the time; the range ends at the partition's end.
      const fix = (x: string) => (x === '-1' ? o.high : x);
      return { topic, partition: o.partition, from: fix(start), to: fix(end) };
    });
  }

  private async read(
    dataset: string,
    ranges: OffsetRange[],
    heartbeat: () => Promise<void>,
  ): Promise<CleanEvent[]> {
    // One consumer for every partition; the records are then put in (partition, offset) order,
    // the order the featureset is fitted in.
    const byPartition = new Map<number, CleanEvent[]>(ranges.map((r) => [r.partition, []]));
    let total = 0;
    const topic = ranges[0]?.topic;
    if (topic === undefined) return [];
    await readPartitions(
      this.bus.kafka,
      this.bus.admin,
      {
        topic,
        partitions: ranges.map((r) => ({ partition: r.partition, from: r.from, to: r.to })),
      },
      async (partition, messages) => {
        const out = byPartition.get(partition)!;
        for (const m of messages) {
          total += 1;
          if (total > this.config.FEATURE_MAX_FIT_RECORDS) {
            throw new PermanentError(
              'range_too_large',
              `more than FEATURE_MAX_FIT_RECORDS (${this.config.FEATURE_MAX_FIT_RECORDS}) records`,
            );
          }
          if (!m.value) continue;
          const parsed = EVENTS.cleanEvent.schema.safeParse(JSON.parse(m.value.toString('utf8')));
          if (parsed.success && parsed.data.dataset === dataset) out.push(parsed.data);
        }
        await heartbeat();
      },
    );
    return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
  }
}

/** Labelled rows of the range as a float32 matrix, split by entity, with class counts. */
export function buildMatrix(spec: DatasetSpec, fs: Featureset, records: readonly CleanEvent[]) {
  const labelled = records.filter(
    (r) => fs.spec.labelField === null || recordLabel(fs, r.record) !== null,
  );
  const columns = fs.names.length;
  const values = new Float32Array(labelled.length * columns);
  const labels = new Float64Array(labelled.length);
  const split = new Uint8Array(labelled.length);
  const rows = { train: 0, validation: 0, test: 0 };
  const classCounts: Record<string, { train: number; validation: number; test: number }> = {};
  labelled.forEach((r, i) => {
    values.set(transform(fs, r.record), i * columns);
    const y = recordLabel(fs, r.record);
    labels[i] = y ?? NaN;
    const s = splitOf(r.entityId, fs.spec.split);
    split[i] = SPLITS.indexOf(s);
    rows[s] += 1;
    if (fs.classes && y !== null) {
      const c = fs.classes[y];
      classCounts[c] ??= { train: 0, validation: 0, test: 0 };
      classCounts[c][s] += 1;
    }
  });
  return {
    matrix: {
      header: {
        rows: labelled.length,
        columns,
        names: fs.names,
        classes: fs.classes,
        featuresetVersion: fs.version,
        dataset: spec.name,
      },
      values,
      labels,
      split,
    },
    rows,
    classCounts,
  };
}
