import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  Bus,
  type BusEvent,
  type CompactedTable,
  type Outgoing,
  type Subscription,
} from '@mlops/bus';
import {
  EVENTS,
  resolveDriftSpec,
  topicName,
  type DriftSection,
  type FeatureVectorEvent,
  type FeedbackEvent,
  type PredictionEvent,
  type TrainingRequestEvent,
} from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { HealthRegistry, LOGGER, METRICS_REGISTRY } from '@mlops/observability';
import { DRIFT_CONFIG, type DriftMonitorConfig } from '../config';
import type { SideStats } from '../monitor/canary-judge';
import { DriftMonitor, type DriftReport, type MonitorAction } from '../monitor/monitor';
import { ProfileStore } from './profiles';
import { StateStore } from './state-store';

const summary = (s: SideStats) => ({
  version: s.version,
  predictions: s.total,
  errors: s.errors,
  labelled: s.labels.length,
});

export const PREDICTIONS_GROUP = 'drift-monitor.predictions';
export const FEEDBACK_GROUP = 'drift-monitor.feedback';
export const FEATURES_GROUP = 'drift-monitor.features';

/**
 * The drift monitor's I/O around its pure core ({@link DriftMonitor}): predictions.v1 and
 * feedback.v1 in, models.lifecycle.v1 followed as a table, dataset specs for the policy,
 * version profiles from the registry; alerts, decisions and training requests out.
 *
 * State survives restarts: every few seconds (and at shutdown) the whole monitor is written to
 * its compacted changelog with the input offsets it reflects. At start the snapshot is read
 * back, and the consumer groups are moved to those offsets before they join, so the events
 * since the snapshot are handled again on the restored state — the same windows close, and the
 * actions they cause carry the same ids (the registry and the feature service apply an id once).
 * One instance runs (a singleton Deployment): the monitor is an aggregate of every partition.
 */
@Injectable()
export class MonitorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private monitor!: DriftMonitor;
  private readonly reports = new Map<string, DriftReport>();
  private readonly byVersion = new Map<string, string[]>();
  private readonly positions = new Map<string, string>();
  private readonly policies = new Map<string, { version: number; policy: DriftSection | null }>();
  private readonly defaults = resolveDriftSpec(undefined);
  /** Datasets without a spec, until when they are not waited for again. */
  private readonly noSpec = new Map<string, number>();
  private lifecycle: CompactedTable<typeof EVENTS.modelLifecycle> | undefined;
  private subscriptions: Pick<Subscription<typeof EVENTS.prediction>, 'start' | 'stop'>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private savedChanges = -1;
  private saving: Promise<void> | undefined;
  private ready = false;
  private readonly actionsOut: Counter<'kind'>;
  private readonly eventsIn: Counter<'topic'>;
  private readonly pending: Gauge<'kind'>;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(DRIFT_CONFIG) private readonly config: DriftMonitorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly specs: SpecCatalog,
    private readonly health: HealthRegistry,
    private readonly profiles: ProfileStore,
    private readonly store: StateStore,
  ) {
    this.actionsOut = new Counter({
      name: 'drift_monitor_actions_total',
      help: 'Alerts, decisions, training requests and reports the monitor produced.',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.eventsIn = new Counter({
      name: 'drift_monitor_events_total',
      help: 'Predictions and labels handled.',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.pending = new Gauge({
      name: 'drift_monitor_pending',
      help: 'Predictions waiting for a label, and labels waiting for a prediction.',
      labelNames: ['kind'],
      registers: [registry],
      collect: () => {
        if (!this.monitor) return;
        const d = this.monitor.describe().pending;
        this.pending.set({ kind: 'predictions' }, d.predictions);
        this.pending.set({ kind: 'labels' }, d.labels);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.addReadiness('drift-monitor', () => ({
      ok: this.ready,
      details: { versions: this.profiles.size, reports: this.reports.size },
    }));
    const stored = await this.store.load();
    this.monitor = new DriftMonitor(
      {
        policyOf: (dataset) => this.policyOf(dataset),
        profileOf: (model, version) => this.profiles.get(model, version),
        maxPending: this.config.DRIFT_MAX_PENDING,
        featuresFromStream: this.config.DRIFT_CONSUME_FEATURES,
      },
      stored?.monitor,
    );
    if (stored) {
      for (const [k, v] of Object.entries(stored.positions)) this.positions.set(k, v);
      for (const r of stored.reports ?? []) this.keep(r);
      await this.seekGroups(stored.positions);
      this.logger.info(
        { writtenAt: stored.writtenAt, positions: stored.positions },
        'drift monitor state restored',
      );
    }
    this.lifecycle = this.bus.table({
      name: 'lifecycle',
      event: EVENTS.modelLifecycle,
      onChange: (model, record) => {
        if (!record || !this.ready) return;
        this.applyLifecycle(model, record);
      },
    });
    await this.lifecycle.start(60_000);
    for (const [model, record] of this.lifecycle.entries()) this.applyLifecycle(model, record);
    await this.profiles
      .ensure(this.monitor.wantedVersions())
      .catch((err: unknown) => this.logger.warn({ err }, 'could not load the served versions yet'));
    this.ready = true;
    const predictions = this.bus.subscribe({
      name: 'predictions',
      groupId: PREDICTIONS_GROUP,
      event: EVENTS.prediction,
      delivery: 'at-least-once',
      deadLetter: 'dlq',
      maxBatchSize: this.config.DRIFT_MAX_BATCH,
      partitionsConsumedConcurrently: 1,
      handler: (events) => this.onPredictions(events),
    });
    const feedback = this.bus.subscribe({
      name: 'feedback',
      groupId: FEEDBACK_GROUP,
      event: EVENTS.feedback,
      delivery: 'at-least-once',
      deadLetter: 'dlq',
      maxBatchSize: this.config.DRIFT_MAX_BATCH,
      partitionsConsumedConcurrently: 1,
      handler: (events) => this.onFeedback(events),
    });
    this.subscriptions = [predictions, feedback];
    if (this.config.DRIFT_CONSUME_FEATURES)
      this.subscriptions.push(
        this.bus.subscribe({
          name: 'features',
          groupId: FEATURES_GROUP,
          event: EVENTS.featureVector,
          delivery: 'at-least-once',
          deadLetter: 'dlq',
          maxBatchSize: this.config.DRIFT_MAX_BATCH,
          partitionsConsumedConcurrently: 1,
          handler: (events) => this.onFeatures(events),
        }),
      );
    await Promise.all(this.subscriptions.map((s) => s.start()));
    this.timer = setInterval(() => void this.snapshot(), this.config.DRIFT_SNAPSHOT_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.subscriptions.map((s) => s.stop()));
    await this.snapshot();
  }

  // ---------------------------------------------------------------- REST views

  describe() {
    return this.monitor.describe();
  }

  canaryOf(model: string) {
    const c = this.monitor.canaryOf(model);
    if (!c) return null;
    return {
      model,
      production: summary(c.production),
      canary: summary(c.canary),
      since: new Date(c.since).toISOString(),
      decided: c.decided,
      verdict: c.verdict,
    };
  }

  report(id: string): DriftReport | undefined {
    return this.reports.get(id);
  }

  reportsOf(model: string, version: number): DriftReport[] {
    return (this.byVersion.get(`${model}@${version}`) ?? [])
      .map((id) => this.reports.get(id))
      .filter((r): r is DriftReport => r !== undefined);
  }

  // ---------------------------------------------------------------- handlers

  private policyOf(dataset: string | null): DriftSection | null {
    if (dataset === null) return this.defaults;
    const spec = this.specs.get(dataset);
    if (!spec) return this.defaults;
    const cached = this.policies.get(dataset);
    if (cached && cached.version === spec.version) return cached.policy;
    let policy: DriftSection | null;
    try {
      policy = resolveDriftSpec(spec);
    } catch (err) {
      this.logger.error(
        { dataset, version: spec.version, err: (err as Error).message },
        'invalid drift section: the dataset is not monitored until the spec is fixed',
      );
      policy = null;
    }
    this.policies.set(dataset, { version: spec.version, policy });
    return policy;
  }

  private applyLifecycle(
    model: string,
    record: {
      aliases: Record<string, number>;
      change: {
        kind: string;
        alias: string | null;
        from: number | null;
        to: number | null;
        at: string;
      };
    },
  ): void {
    const actions = this.monitor.lifecycle(
      model,
      record.aliases,
      record.change,
      Date.parse(record.change.at),
    );
    const created = record.change.kind === 'version_created' ? record.change.to : null;
    void this.profiles
      .ensure([
        ...this.monitor.wantedVersions(),
        ...(created !== null ? [{ model, version: created }] : []),
      ])
      .then(() => {
        const more = created !== null ? this.monitor.versionCreated(model, created) : [];
        const all = [...actions, ...more];
        return all.length > 0 ? this.emit(all) : undefined;
      })
      .catch((err: unknown) =>
        this.logger.warn({ err, model }, 'could not act on a lifecycle change'),
      );
  }

  private async onPredictions(events: BusEvent<PredictionEvent>[]): Promise<void> {
    const versions = new Map<string, { model: string; version: number }>();
    for (const e of events)
      versions.set(`${e.data.model}@${e.data.version}`, {
        model: e.data.model,
        version: e.data.version,
      });
    await this.profiles.ensure(versions.values());
    await this.awaitSpecs(events.map((e) => e.data.dataset));
    const actions: MonitorAction[] = [];
    for (const e of events) {
      actions.push(...this.monitor.prediction(e.attrs.id, e.data));
      this.positions.set(`${e.topic}/${e.partition}`, (BigInt(e.offset) + 1n).toString());
    }
    this.eventsIn.inc({ topic: 'predictions' }, events.length);
    await this.emit(actions);
  }

  /**
   * Waits (briefly, once) for the specs of a batch's datasets, so that a spec registered a
   * moment ago is found. A dataset found to have none is not waited for again for a minute:
   * its events would otherwise stall every batch by the wait.
   */
  private async awaitSpecs(datasets: (string | null)[]): Promise<void> {
    const now = Date.now();
    const wanted = [...new Set(datasets)].filter(
      (d): d is string => d !== null && !this.specs.get(d) && (this.noSpec.get(d) ?? 0) <= now,
    );
    await Promise.all(
      wanted.map(async (d) => {
        if (!(await this.specs.resolve(d, 2000))) this.noSpec.set(d, Date.now() + 60_000);
      }),
    );
  }

  private async onFeedback(events: BusEvent<FeedbackEvent>[]): Promise<void> {
    await this.awaitSpecs(events.map((e) => e.data.dataset));
    const actions: MonitorAction[] = [];
    for (const e of events) {
      actions.push(...this.monitor.feedback(e.data, Date.parse(e.attrs.time)));
      this.positions.set(`${e.topic}/${e.partition}`, (BigInt(e.offset) + 1n).toString());
    }
    this.eventsIn.inc({ topic: 'feedback' }, events.length);
    await this.emit(actions);
  }

  private async onFeatures(events: BusEvent<FeatureVectorEvent>[]): Promise<void> {
    await this.awaitSpecs(events.map((e) => e.data.dataset));
    const actions: MonitorAction[] = [];
    for (const e of events) {
      const at = e.data.eventTime ? Date.parse(e.data.eventTime) : Date.parse(e.attrs.time);
      actions.push(...this.monitor.featureVector(e.data, at));
      this.positions.set(`${e.topic}/${e.partition}`, (BigInt(e.offset) + 1n).toString());
    }
    this.eventsIn.inc({ topic: 'features' }, events.length);
    await this.emit(actions);
  }

  private async emit(actions: MonitorAction[]): Promise<void> {
    const out: Outgoing[] = [];
    for (const a of actions) {
      this.actionsOut.inc({ kind: a.kind });
      switch (a.kind) {
        case 'report':
          this.keep(a.report);
          break;
        case 'alert':
          this.logger.info(
            {
              model: a.alert.model,
              version: a.alert.version,
              kind: a.alert.kind,
              severity: a.alert.severity,
            },
            a.alert.summary,
          );
          out.push({
            event: EVENTS.driftAlert,
            key: a.alert.model,
            data: a.alert,
            attrs: { id: a.id, subject: a.alert.model, time: a.alert.at },
          });
          break;
        case 'decision':
          this.logger.warn(
            { model: a.decision.model, action: a.decision.action, alias: a.decision.alias },
            a.decision.reason,
          );
          out.push({
            event: EVENTS.modelDecision,
            key: a.decision.model,
            data: a.decision,
            attrs: { id: a.id, subject: a.decision.model },
          });
          break;
        case 'retrain': {
          out.push({
            event: EVENTS.trainingRequest,
            key: a.dataset,
            data: await this.trainingRequest(a),
            attrs: { id: a.requestId, subject: a.dataset },
          });
          break;
        }
      }
    }
    if (out.length > 0) await this.bus.producer.send(out);
  }

  /**
   * The training request of a retrain action: the exact offsets of events.clean.v1 from the
   * lookback's start to the current end, so the request names the data it means; a time range
   * when the clean stream holds nothing in the lookback yet.
   */
  private async trainingRequest(
    a: Extract<MonitorAction, { kind: 'retrain' }>,
  ): Promise<TrainingRequestEvent> {
    const topic = topicName('eventsClean', this.bus.prefix);
    const [from, to] = await Promise.all([
      this.bus.admin.fetchTopicOffsetsByTimestamp(topic, a.from),
      this.bus.admin.fetchTopicOffsets(topic),
    ]);
    const partitions = to
      .map((t) => {
        const f = from.find((x) => x.partition === t.partition);
        const start = f && Number(f.offset) >= 0 ? f.offset : t.high;
        return { partition: t.partition, from: start, to: t.high };
      })
      .filter((p) => BigInt(p.from) < BigInt(p.to));
    // Nothing there yet: ask by time, which the feature service resolves when it builds the
    // dataset — the cooldown has started either way, so the request must go out.
    const range: TrainingRequestEvent['range'] =
      partitions.length > 0
        ? { kind: 'offsets', partitions }
        : { kind: 'time', from: new Date(a.from).toISOString(), to: new Date().toISOString() };
    this.logger.warn(
      { dataset: a.dataset, requestId: a.requestId, range },
      `retraining: ${a.reason}`,
    );
    return {
      requestId: a.requestId,
      dataset: a.dataset,
      range,
      reason: `${a.model} v${a.version}: ${a.reason}`.slice(0, 2000),
      requestedBy: 'drift-monitor',
    };
  }

  /** The newest report of each kind of every version. */
  private latestReports(): DriftReport[] {
    const out: DriftReport[] = [];
    for (const ids of this.byVersion.values()) {
      for (const kind of ['window', 'performance'] as const) {
        const id = [...ids].reverse().find((i) => this.reports.get(i)?.kind === kind);
        if (id) out.push(this.reports.get(id)!);
      }
    }
    return out;
  }

  private keep(report: DriftReport): void {
    this.reports.set(report.id, report);
    const key = `${report.model}@${report.version}`;
    const ids = this.byVersion.get(key) ?? [];
    // A replay after a restart makes the reports of the replayed windows again, same ids.
    if (!ids.includes(report.id)) ids.push(report.id);
    while (ids.length > this.config.DRIFT_REPORTS_KEPT) this.reports.delete(ids.shift()!);
    this.byVersion.set(key, ids);
  }

  /** Writes the state when it changed since the last write (one write at a time). */
  async snapshot(): Promise<void> {
    if (!this.monitor) return;
    if (this.saving) return this.saving;
    const changes = this.monitor.changes;
    if (changes === this.savedChanges) return;
    const state = {
      monitor: this.monitor.snapshot(),
      positions: Object.fromEntries(this.positions),
      reports: this.latestReports(),
      writtenAt: new Date().toISOString(),
    };
    this.saving = this.store
      .save(state)
      .then(({ bytes, chunks }) => {
        this.savedChanges = changes;
        this.logger.debug({ bytes, chunks }, 'drift monitor state saved');
      })
      .catch((err: unknown) => this.logger.error({ err }, 'could not save the drift monitor state'))
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }

  /**
   * Moves the consumer groups to the snapshot's offsets before they join. A group still holding
   * a crashed predecessor's member refuses until its session times out: retried meanwhile.
   */
  private async seekGroups(positions: Record<string, string>): Promise<void> {
    const groups = [
      {
        group: `${this.bus.prefix}${PREDICTIONS_GROUP}`,
        topic: topicName('predictions', this.bus.prefix),
      },
      {
        group: `${this.bus.prefix}${FEEDBACK_GROUP}`,
        topic: topicName('feedback', this.bus.prefix),
      },
      {
        group: `${this.bus.prefix}${FEATURES_GROUP}`,
        topic: topicName('features', this.bus.prefix),
      },
    ];
    for (const { group, topic } of groups) {
      const partitions = Object.entries(positions)
        .filter(([k]) => k.slice(0, k.lastIndexOf('/')) === topic)
        .map(([k, offset]) => ({ partition: Number(k.slice(k.lastIndexOf('/') + 1)), offset }));
      if (partitions.length === 0) continue;
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await this.bus.admin.setOffsets({ groupId: group, topic, partitions });
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          this.logger.info(
            { group, err: (err as Error).message },
            'waiting for the group to empty',
          );
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  }
}
