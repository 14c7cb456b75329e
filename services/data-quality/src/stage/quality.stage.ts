import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  Bus,
  readPartition,
  type BatchResult,
  type BusEvent,
  type Outgoing,
  type Rejection,
  type RestoreContext,
  type Subscription,
} from '@mlops/bus';
import { EVENTS, topicName, type CleanEvent, type ValidatedEvent } from '@mlops/contracts';
import { HealthRegistry, LOGGER } from '@mlops/observability';
import { SpecCatalog } from '@mlops/nest-kit';
import { DQ_CONFIG, type DataQualityConfig } from '../config';
import {
  parseQualityConfig,
  QualityConfigError,
  type QualityConfig,
} from '../rules/quality-config';
import { PartitionState, type ConfigLookup, type QualityInput } from './partition-state';
import {
  decodeSnapshot,
  encodeSnapshot,
  snapshotHeaderOf,
  type ChangelogRows,
} from './snapshot-codec';

/** The consumer group of the stage (the bus adds the deployment prefix). */
export const STAGE_GROUP = 'data-quality.stage';

type Resolved = ReturnType<ConfigLookup>;

/**
 * `events.validated.v1` → `events.clean.v1` (judged, repaired, flagged) and
 * `events.rejected.v1` (duplicates dropped, records rejected by a rule, each with its reason
 * codes), plus `quality.reports.v1` when a window closes — exactly once: the outputs, the
 * input offsets and, every so often, a snapshot of the partition's state go in one Kafka
 * transaction per batch.
 *
 * State is per input partition (records are keyed `dataset:entityId`, so an entity's events,
 * and therefore its duplicates, share a partition). When a partition is assigned — at start,
 * after a rebalance, after a failed batch — the bus fences its transactional id and calls
 * `restore`: the last snapshot is read from the changelog partition of the same number, and
 * the input between the snapshot and the committed offset is replayed through the rules
 * without producing anything. The state is then exactly what it was after the last committed
 * batch, wherever that batch ran.
 */
@Injectable()
export class QualityStage implements OnApplicationBootstrap {
  private readonly partitions = new Map<number, PartitionState>();
  /** Chunks of the last snapshot written per partition (the next one tombstones extras). */
  private readonly snapshotChunks = new Map<number, number>();
  private readonly lastSnapshotAt = new Map<number, number>();
  private readonly configs = new Map<string, { specVersion: number; resolved: Resolved }>();
  private subscription: Subscription<typeof EVENTS.validatedEvent> | undefined;
  private stateTopic = '';

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(DQ_CONFIG) private readonly config: DataQualityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly health: HealthRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.stateTopic = topicName('dataQualityState', this.bus.prefix);
    this.subscription = this.bus.subscribe({
      name: 'quality',
      groupId: STAGE_GROUP,
      event: EVENTS.validatedEvent,
      delivery: 'exactly-once',
      maxBatchSize: this.config.DQ_MAX_BATCH,
      handler: (events, ctx) => this.handle(events, ctx.partition),
      restore: (partition, ctx) => this.restore(partition, ctx),
    });
    this.health.addReadiness('quality-stage', () => ({
      ok: true,
      details: { partitions: [...this.partitions.keys()].sort() },
    }));
    await this.subscription.start();
  }

  /** The open windows of the partitions this instance holds, for the live view. */
  live() {
    return [...this.partitions.values()].flatMap((p) => p.live());
  }

  private async handle(
    events: BusEvent<ValidatedEvent>[],
    partition: number,
  ): Promise<BatchResult> {
    const state = this.partitions.get(partition);
    if (!state) throw new Error(`partition ${partition} has no state: restore did not run`);
    const lookup = await this.lookup(events);
    const inputs = events.map(toInput);
    const { decisions, reports, resets } = state.process(inputs, lookup);
    for (const dataset of resets) {
      this.logger.warn(
        { dataset, partition },
        'quality rules changed with the spec: the dataset starts again from empty state',
      );
    }
    const outputs: Outgoing[] = [];
    const rejects: Rejection[] = [];
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i];
      const e = events[i];
      if (d.kind === 'reject') {
        rejects.push({ event: e, dataset: e.data.dataset, reasons: d.reasons });
        continue;
      }
      const clean: CleanEvent = {
        ...e.data,
        record: d.result.record,
        quality: { flags: d.result.flags },
      };
      outputs.push({
        event: EVENTS.cleanEvent,
        key: e.key ?? `${e.data.dataset}:${e.data.entityId}`,
        data: clean,
        attrs: {
          id: e.attrs.id,
          traceparent: e.attrs.traceparent,
          subject: e.data.dataset,
          time: e.attrs.time,
        },
      });
    }
    for (const report of reports) {
      outputs.push({
        event: EVENTS.qualityReport,
        key: report.dataset,
        data: report,
        attrs: {
          id: `quality:${report.dataset}:${report.partition}:${report.window.index}`,
          subject: report.dataset,
          time: report.window.closedAt,
        },
      });
    }
    const snapshot = this.snapshotDue(state);
    if (snapshot) {
      const encoded = encodeSnapshot(
        this.stateTopic,
        state.snapshot(),
        this.snapshotChunks.get(partition) ?? 0,
      );
      outputs.push(...encoded.records);
      return {
        outputs,
        rejects,
        onCommitted: () => {
          state.sinceSnapshot = 0;
          this.snapshotChunks.set(partition, encoded.head.chunks);
          this.lastSnapshotAt.set(partition, Date.now());
        },
      };
    }
    return { outputs, rejects };
  }

  private snapshotDue(state: PartitionState): boolean {
    if (state.sinceSnapshot === 0) return false;
    if (state.sinceSnapshot >= this.config.DQ_SNAPSHOT_EVERY) return true;
    const last = this.lastSnapshotAt.get(state.partition) ?? 0;
    return Date.now() - last >= this.config.DQ_SNAPSHOT_INTERVAL_MS;
  }

  /** The rules of every dataset in the batch, from its current spec (parsed once per version). */
  private async lookup(events: BusEvent<ValidatedEvent>[]): Promise<ConfigLookup> {
    const datasets = new Set(events.map((e) => e.data.dataset));
    const found = new Map<string, Resolved>();
    for (const dataset of datasets) {
      const spec = await this.specs.resolve(dataset);
      if (!spec) {
        found.set(dataset, undefined);
        continue;
      }
      const cached = this.configs.get(dataset);
      if (cached && cached.specVersion === spec.version) {
        found.set(dataset, cached.resolved);
        continue;
      }
      let resolved: Resolved;
      try {
        const config: QualityConfig = parseQualityConfig(spec);
        resolved = { config, specVersion: spec.version };
      } catch (err) {
        if (!(err instanceof QualityConfigError)) throw err;
        this.logger.error(
          { dataset, version: spec.version, issues: err.issues },
          'the spec has an invalid quality section: its records are dead-lettered',
        );
        resolved = { error: { code: 'quality_config_invalid', message: err.message } };
      }
      this.configs.set(dataset, { specVersion: spec.version, resolved });
      found.set(dataset, resolved);
    }
    return (dataset) => found.get(dataset);
  }

  private async restore(partition: number, ctx: RestoreContext<ValidatedEvent>): Promise<void> {
    const rows: ChangelogRows = new Map();
    await readPartition(
      this.bus.kafka,
      this.bus.admin,
      { topic: this.stateTopic, partition, from: '0', maxBytes: 64 * 1024 * 1024 },
      async (messages) => {
        for (const m of messages) {
          if (!m.key) continue;
          rows.set(m.key.toString('utf8'), {
            value: m.value,
            snapshot: snapshotHeaderOf(m.headers),
          });
        }
        await ctx.heartbeat();
      },
    );
    const found = decodeSnapshot(rows, partition);
    const state = found
      ? PartitionState.restore(found.snapshot)
      : new PartitionState(partition, '0');
    this.snapshotChunks.set(partition, found?.head.chunks ?? 0);
    const from = state.nextOffset;
    let replayed = 0;
    await ctx.replay(from, async (events) => {
      const lookup = await this.lookup(events);
      state.process(events.map(toInput), lookup);
      replayed += events.length;
    });
    this.partitions.set(partition, state);
    this.lastSnapshotAt.set(partition, Date.now());
    this.logger.info(
      { partition, snapshotAt: found?.head.nextOffset ?? null, replayed, upTo: ctx.upTo },
      'quality state restored',
    );
  }
}

function toInput(e: BusEvent<ValidatedEvent>): QualityInput {
  return { offset: e.offset, id: e.attrs.id, data: e.data };
}
