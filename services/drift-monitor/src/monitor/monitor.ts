import {
  featureDrift,
  performanceDrop,
  predictionDrift,
  type FeatureDriftReport,
  type FeatureReference,
  type PredictionDriftReport,
  type PredictionReference,
} from '@mlops/ml';
import type {
  DriftAlertEvent,
  DriftSection,
  FeedbackEvent,
  ModelDecisionEvent,
  PredictionEvent,
  TrafficSummary,
} from '@mlops/contracts';
import { columnSource } from '@mlops/features';
import {
  addLabelled,
  countPrediction,
  emptySide,
  judgeCanary,
  labelledCap,
  percentile,
  type CanaryVerdict,
  type SideStats,
} from './canary-judge';
import { Joiner, type JoinerState, type PendingPrediction } from './joiner';
import {
  higherIsBetter,
  labelValue,
  liveMetric,
  resolveLiveMetric,
  type LiveMetric,
  type Task,
} from './live-metric';
import {
  TrafficWindow,
  type ClosedWindow,
  type WindowSpec,
  type WindowState,
} from './traffic-window';

/** What the monitor knows of a model version: from the registry and its training report. */
export interface VersionProfile {
  model: string;
  version: number;
  dataset: string | null;
  task: Task | null;
  /** Class names in output order (classifiers), when the report has them. */
  classes: string[] | null;
  /** Output width: 2 for binary, K for multiclass, 1 for regression. */
  classCount: number;
  /** The training reference; null when the version has no training report. */
  reference: { features: FeatureReference; predictions: PredictionReference } | null;
  /** The version's own metrics on held-out data (test split, else validation). */
  trainingMetrics: Partial<Record<LiveMetric, number>>;
  /** The featureset its inputs come from (features.v1 vectors of another one are not its). */
  featuresetVersion: string | null;
  /** The training request it was trained for (tag `mlops.request`); null if unknown. */
  request: string | null;
  /** Set for a compressed variant: the version it was made from. */
  parentVersion: number | null;
}

/** The prefix of the training requests the monitor makes (`drift:<report id>`). */
export const DRIFT_REQUEST_PREFIX = 'drift:';

/** One window's traffic of one version. */
interface Entry {
  at: number;
  features: number[] | null;
  /** P(1), the probability row, or the prediction; null for a failed one. */
  output: number | number[] | null;
  failed: boolean;
  latencyMs: number;
}

interface LabelledEntry {
  at: number;
  label: number;
  score: number | number[];
}

export type { TrafficSummary };

export interface PerformanceSummary {
  metric: LiveMetric;
  labelled: number;
  live: number | null;
  training: number | null;
  dropPct: number | null;
  maxDropPct: number;
  alert: boolean;
}

/** A window's findings: what `GET /v1/drift/reports/:id` serves and alerts point at. */
export interface DriftReport {
  id: string;
  model: string;
  version: number;
  alias: string | null;
  dataset: string | null;
  /**
   * window: features, predictions and traffic of the version's predictions; features: a window
   * of features.v1 vectors (when the monitor reads them); performance: labelled predictions.
   */
  kind: 'window' | 'features' | 'performance';
  window: { kind: 'count' | 'time'; index: number; events: number; from: string; to: string };
  traffic: TrafficSummary | null;
  features: FeatureDriftReport | { status: 'skipped'; reason: string } | null;
  predictions: PredictionDriftReport | { status: 'skipped'; reason: string } | null;
  performance: PerformanceSummary | null;
  /** The kinds of alert the window raised. */
  alerts: DriftAlertEvent['kind'][];
  at: string;
}

export type MonitorAction =
  | { kind: 'alert'; id: string; alert: DriftAlertEvent }
  | { kind: 'decision'; id: string; decision: ModelDecisionEvent }
  | {
      kind: 'retrain';
      /** The training request's id (idempotent downstream). */
      requestId: string;
      dataset: string;
      model: string;
      version: number;
      reason: string;
      /** Learn from the clean stream since this time (ms) up to now. */
      from: number;
    }
  | { kind: 'report'; report: DriftReport };

interface FeatureEntry {
  at: number;
  features: number[];
}

interface VersionState {
  key: string;
  model: string;
  version: number;
  windowSpec: string;
  window: TrafficWindow<Entry>;
  /** features.v1 vectors attributed to the version (same window spec), when read. */
  features: TrafficWindow<FeatureEntry> | null;
  labelled: TrafficWindow<LabelledEntry>;
  labelledSpec: string;
  predictions: number;
  errors: number;
  labelledTotal: number;
  unlabellable: number;
  /** The latest performance window's metric (what a rollback compares against). */
  lastLive: { metric: LiveMetric; value: number; at: number } | null;
  lastAlias: string | null;
}

interface CanaryState {
  production: SideStats;
  canary: SideStats;
  since: number;
  /** Events counted since the last judgement (the judge runs every JUDGE_EVERY). */
  sinceJudged: number;
  verdict: CanaryVerdict | null;
  decided: 'promote' | 'rollback' | null;
}

interface ModelState {
  aliases: Record<string, number>;
  /** The version production pointed at before its current one. */
  previousProduction: number | null;
  canary: CanaryState | null;
  /** Production versions a rollback was decided for (one decision per version). */
  rolledBack: number[];
}

/** Everything a snapshot holds (plain JSON). */
export interface MonitorSnapshot {
  versions: {
    key: string;
    model: string;
    version: number;
    windowSpec: string;
    window: WindowState<Entry>;
    features: WindowState<FeatureEntry> | null;
    labelledSpec: string;
    labelled: WindowState<LabelledEntry>;
    predictions: number;
    errors: number;
    labelledTotal: number;
    unlabellable: number;
    lastLive: VersionState['lastLive'];
    lastAlias: string | null;
  }[];
  models: Record<string, ModelState>;
  lastRetrainAt: Record<string, number>;
  joiner: JoinerState;
  recentIds: string[];
  counters: MonitorCounters;
}

export interface MonitorCounters {
  predictions: number;
  duplicates: number;
  unknownVersion: number;
  disabled: number;
  feedback: number;
  joined: number;
}

export interface MonitorOptions {
  /** The dataset's drift policy (null: drift disabled for it); null dataset → the defaults. */
  policyOf(dataset: string | null): DriftSection | null;
  profileOf(model: string, version: number): VersionProfile | undefined;
  maxPending: number;
  /**
   * Feature drift is judged on features.v1 (fed through {@link DriftMonitor.featureVector}) rather
   * than on the features the predictions carry.
   */
  featuresFromStream?: boolean;
  /** Prediction ids remembered to drop a redelivered one. */
  recentIds?: number;
}

const JUDGE_EVERY = 10;
const versionKey = (model: string, version: number) => `${model}@${version}`;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The drift monitor's pure core: predictions, labels and alias changes in; reports, alerts,
 * retraining requests and alias decisions out — deterministic for a given order of inputs, and
 * serialisable whole (`snapshot`), so the service can persist it and replay after a restart.
 * Time is always the events' own.
 */
export class DriftMonitor {
  private readonly versions = new Map<string, VersionState>();
  private readonly models = new Map<string, ModelState>();
  private readonly lastRetrainAt = new Map<string, number>();
  private readonly joiner: Joiner;
  private readonly recent = new Set<string>();
  private readonly recentCap: number;
  readonly counters: MonitorCounters = {
    predictions: 0,
    duplicates: 0,
    unknownVersion: 0,
    disabled: 0,
    feedback: 0,
    joined: 0,
  };
  /** Bumped on every change: the service snapshots when it moved. */
  changes = 0;

  constructor(
    private readonly options: MonitorOptions,
    snapshot?: MonitorSnapshot,
  ) {
    this.recentCap = options.recentIds ?? 20_000;
    this.joiner = new Joiner(options.maxPending, snapshot?.joiner);
    if (!snapshot) return;
    for (const v of snapshot.versions) {
      this.versions.set(v.key, {
        ...v,
        window: new TrafficWindow(JSON.parse(v.windowSpec) as WindowSpec, v.window),
        features: v.features
          ? new TrafficWindow(JSON.parse(v.windowSpec) as WindowSpec, v.features)
          : null,
        labelled: new TrafficWindow(JSON.parse(v.labelledSpec) as WindowSpec, v.labelled),
      });
    }
    for (const [name, m] of Object.entries(snapshot.models)) this.models.set(name, m);
    for (const [d, at] of Object.entries(snapshot.lastRetrainAt)) this.lastRetrainAt.set(d, at);
    for (const id of snapshot.recentIds) this.recent.add(id);
    Object.assign(this.counters, snapshot.counters);
  }

  /** The models, versions and canaries being watched (for the REST API). */
  describe() {
    return {
      versions: [...this.versions.values()].map((v) => ({
        model: v.model,
        version: v.version,
        alias: v.lastAlias,
        predictions: v.predictions,
        errors: v.errors,
        labelled: v.labelledTotal,
        windowsClosed: v.window.closed,
        openWindow: v.window.size,
        lastLive: v.lastLive,
      })),
      models: Object.fromEntries(
        [...this.models.entries()].map(([name, m]) => [
          name,
          {
            aliases: m.aliases,
            previousProduction: m.previousProduction,
            canary: m.canary
              ? {
                  production: m.canary.production.version,
                  canary: m.canary.canary.version,
                  since: iso(m.canary.since),
                  decided: m.canary.decided,
                  verdict: m.canary.verdict,
                }
              : null,
          },
        ]),
      ),
      pending: { predictions: this.joiner.pendingPredictions, labels: this.joiner.pendingLabels },
      counters: { ...this.counters },
    };
  }

  /** The canary judge's latest view of a model, if a canary is being judged. */
  canaryOf(model: string): CanaryState | null {
    return this.models.get(model)?.canary ?? null;
  }

  /**
   * The latest alias map of a model (models.lifecycle.v1). Remembers where production was
   * before, and starts judging a new canary against production from now on.
   */
  lifecycle(
    model: string,
    aliases: Record<string, number>,
    change: { kind: string; alias: string | null; from: number | null; to: number | null },
    at: number,
  ): MonitorAction[] {
    this.changes += 1;
    const m = this.model(model);
    if (
      change.kind === 'alias_set' &&
      change.alias === 'production' &&
      change.from !== null &&
      change.from !== change.to
    )
      m.previousProduction = change.from;
    m.aliases = { ...aliases };
    const p = aliases.production;
    const c = aliases.canary;
    if (p === undefined || c === undefined || p === c) {
      m.canary = null;
      return [];
    }
    if (m.canary && m.canary.production.version === p && m.canary.canary.version === c) return [];
    m.canary = {
      production: emptySide(p),
      canary: emptySide(c),
      since: at,
      sinceJudged: 0,
      verdict: null,
      decided: null,
    };
    return [];
  }

  /**
   * A version was registered: it becomes the canary when the spec's `drift.canary.auto` says
   * so — trained (not a compressed variant) on the monitor's own request (`retrained`) or any
   * (`all`) — while production serves another version and no canary is set.
   */
  versionCreated(model: string, version: number): MonitorAction[] {
    const profile = this.options.profileOf(model, version);
    const m = this.models.get(model);
    if (!profile || !m || profile.parentVersion !== null) return [];
    const policy = this.options.policyOf(profile.dataset);
    if (!policy || !policy.enabled || !policy.canary.enabled || policy.canary.auto === 'off')
      return [];
    const retrained = profile.request?.startsWith(DRIFT_REQUEST_PREFIX) ?? false;
    if (policy.canary.auto === 'retrained' && !retrained) return [];
    const production = m.aliases.production;
    const judging = m.aliases.canary !== undefined && m.aliases.canary !== production;
    if (production === undefined || production === version || judging) return [];
    this.changes += 1;
    return [
      {
        kind: 'decision',
        id: `drift-monitor:auto-canary:${model}:${version}`,
        decision: {
          model,
          action: 'set_alias',
          alias: 'canary',
          version,
          reason: `v${version} ${retrained ? `was retrained on drift (${profile.request})` : 'was registered'}: canary against production v${production}`,
          decidedBy: 'drift-monitor',
        },
      },
    ];
  }

  /** Versions the monitor will need profiles for (aliased ones, and production's predecessor). */
  wantedVersions(): { model: string; version: number }[] {
    const out: { model: string; version: number }[] = [];
    for (const [model, m] of this.models) {
      for (const v of new Set([
        ...Object.values(m.aliases),
        ...(m.previousProduction ? [m.previousProduction] : []),
      ]))
        out.push({ model, version: v });
    }
    return out;
  }

  prediction(id: string, e: PredictionEvent): MonitorAction[] {
    if (this.recent.has(id)) {
      this.counters.duplicates += 1;
      return [];
    }
    this.remember(id);
    this.counters.predictions += 1;
    this.changes += 1;
    const profile = this.options.profileOf(e.model, e.version);
    if (!profile) {
      this.counters.unknownVersion += 1;
      return [];
    }
    const policy = this.options.policyOf(e.dataset);
    if (!policy || !policy.enabled) {
      this.counters.disabled += 1;
      return [];
    }
    const at = Date.parse(e.at);
    const failed = e.error !== undefined;
    const output = failed ? null : outputOf(profile, e);
    const v = this.version(e.model, e.version, policy);
    v.predictions += 1;
    if (failed) v.errors += 1;
    v.lastAlias = e.alias;
    const actions: MonitorAction[] = [];
    const closed = v.window.add({
      at,
      features: e.features ?? null,
      output,
      failed,
      latencyMs: e.latencyMs,
    });
    for (const w of closed) actions.push(...this.closeWindow(v, w, profile, policy));

    const canary = this.canarySide(e.model, e.version, e.mode);
    if (canary) {
      countPrediction(canary.side, e.latencyMs, failed, e.mode === 'shadow');
      actions.push(...this.maybeJudge(e.model, canary.state, profile, policy, at));
    }
    if (!failed && output !== null) {
      const joined = this.joiner.addPrediction({
        version: versionKey(e.model, e.version),
        dataset: e.dataset,
        requestId: e.requestId,
        row: e.row,
        entityId: e.entityId,
        at,
        until: at + policy.performance.joinWindowSeconds * 1000,
        score: output,
      });
      for (const j of joined) actions.push(...this.labelled(j.prediction, j.label));
    }
    return actions;
  }

  feedback(e: FeedbackEvent, at: number): MonitorAction[] {
    this.counters.feedback += 1;
    this.changes += 1;
    const policy = this.options.policyOf(e.dataset);
    if (!policy || !policy.enabled) {
      this.counters.disabled += 1;
      return [];
    }
    const joined = this.joiner.addLabel({
      dataset: e.dataset,
      entityId: e.entityId,
      requestId: e.requestId,
      label: e.label,
      at,
      until: at + policy.performance.joinWindowSeconds * 1000,
    });
    const actions: MonitorAction[] = [];
    for (const j of joined) actions.push(...this.labelled(j.prediction, j.label));
    return actions;
  }

  /**
   * A features.v1 vector (when the monitor reads them): it joins the feature window of each
   * model's production version trained on the vector's dataset and featureset — the traffic
   * that version scores, whether or not its predictions carry their features.
   */
  featureVector(
    e: { dataset: string; featuresetVersion: string; vector: number[] },
    at: number,
  ): MonitorAction[] {
    this.changes += 1;
    const policy = this.options.policyOf(e.dataset);
    if (!policy || !policy.enabled) {
      this.counters.disabled += 1;
      return [];
    }
    const actions: MonitorAction[] = [];
    for (const [model, m] of this.models) {
      const version = m.aliases.production;
      if (version === undefined) continue;
      const profile = this.options.profileOf(model, version);
      if (!profile || profile.dataset !== e.dataset) continue;
      if (profile.featuresetVersion !== null && profile.featuresetVersion !== e.featuresetVersion)
        continue;
      const v = this.version(model, version, policy);
      v.features ??= new TrafficWindow<FeatureEntry>(policy.window);
      for (const w of v.features.add({ at, features: e.vector }))
        actions.push(...this.closeFeatureWindow(v, w, profile, policy));
    }
    return actions;
  }

  snapshot(): MonitorSnapshot {
    return {
      versions: [...this.versions.values()].map((v) => ({
        key: v.key,
        model: v.model,
        version: v.version,
        windowSpec: v.windowSpec,
        window: v.window.state(),
        features: v.features?.state() ?? null,
        labelledSpec: v.labelledSpec,
        labelled: v.labelled.state(),
        predictions: v.predictions,
        errors: v.errors,
        labelledTotal: v.labelledTotal,
        unlabellable: v.unlabellable,
        lastLive: v.lastLive,
        lastAlias: v.lastAlias,
      })),
      models: Object.fromEntries(this.models),
      lastRetrainAt: Object.fromEntries(this.lastRetrainAt),
      joiner: this.joiner.state(),
      recentIds: [...this.recent],
      counters: { ...this.counters },
    };
  }

  // ---------------------------------------------------------------------------------------

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > this.recentCap) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private model(name: string): ModelState {
    let m = this.models.get(name);
    if (!m) {
      m = { aliases: {}, previousProduction: null, canary: null, rolledBack: [] };
      this.models.set(name, m);
    }
    return m;
  }

  /** The version's state; its windows start again when the spec's window changed. */
  private version(model: string, version: number, policy: DriftSection): VersionState {
    const key = versionKey(model, version);
    const windowSpec = JSON.stringify(policy.window);
    const labelledSpec = JSON.stringify({ kind: 'count', size: policy.performance.minLabelled });
    let v = this.versions.get(key);
    if (!v) {
      v = {
        key,
        model,
        version,
        windowSpec,
        window: new TrafficWindow<Entry>(policy.window),
        features: null,
        labelledSpec,
        labelled: new TrafficWindow<LabelledEntry>(JSON.parse(labelledSpec) as WindowSpec),
        predictions: 0,
        errors: 0,
        labelledTotal: 0,
        unlabellable: 0,
        lastLive: null,
        lastAlias: null,
      };
      this.versions.set(key, v);
    }
    if (v.windowSpec !== windowSpec) {
      v.windowSpec = windowSpec;
      v.window = new TrafficWindow<Entry>(policy.window);
      if (v.features) v.features = new TrafficWindow<FeatureEntry>(policy.window);
    }
    if (v.labelledSpec !== labelledSpec) {
      v.labelledSpec = labelledSpec;
      v.labelled = new TrafficWindow<LabelledEntry>(JSON.parse(labelledSpec) as WindowSpec);
    }
    return v;
  }

  /** Which side of a judged canary a prediction counts for, if any. */
  private canarySide(
    model: string,
    version: number,
    mode: PredictionEvent['mode'],
  ): { state: CanaryState; side: SideStats } | null {
    const c = this.models.get(model)?.canary;
    if (!c || c.decided) return null;
    if (version === c.canary.version) return { state: c, side: c.canary };
    if (version === c.production.version && mode !== 'shadow')
      return { state: c, side: c.production };
    return null;
  }

  private labelled(p: PendingPrediction, label: number | string): MonitorAction[] {
    const [model, versionText] = splitKey(p.version);
    const version = Number(versionText);
    const profile = this.options.profileOf(model, version);
    const v = this.versions.get(p.version);
    if (!profile || !v || profile.task === null || p.score === null) return [];
    const policy = this.options.policyOf(p.dataset);
    if (!policy || !policy.enabled) return [];
    const value = labelValue(label, profile.task, profile.classes, profile.classCount);
    if (value === null) {
      v.unlabellable += 1;
      return [];
    }
    this.counters.joined += 1;
    v.labelledTotal += 1;
    const actions: MonitorAction[] = [];
    const canary = this.canarySide(model, version, 'online');
    if (canary) {
      addLabelled(canary.side, value, p.score, labelledCap(policy.canary));
      actions.push(...this.maybeJudge(model, canary.state, profile, policy, p.at));
    }
    for (const w of v.labelled.add({ at: p.at, label: value, score: p.score }))
      actions.push(...this.closePerformance(v, w, profile, policy));
    return actions;
  }

  private metricFor(profile: VersionProfile, policy: DriftSection): LiveMetric | null {
    if (profile.task === null) return null;
    try {
      return resolveLiveMetric(policy.performance.metric, profile.task);
    } catch {
      return null;
    }
  }

  private maybeJudge(
    model: string,
    c: CanaryState,
    profile: VersionProfile,
    policy: DriftSection,
    at: number,
  ): MonitorAction[] {
    if (!policy.canary.enabled || c.decided) return [];
    c.sinceJudged += 1;
    const early = Math.max(20, Math.ceil(policy.canary.minSamples / 5));
    const ready =
      c.canary.labels.length >= policy.canary.minSamples ||
      (c.canary.total >= early && c.production.total >= early);
    if (!ready || c.sinceJudged < JUDGE_EVERY) return [];
    c.sinceJudged = 0;
    const metric = this.metricFor(profile, policy);
    if (!metric || profile.task === null) return [];
    const verdict = judgeCanary(c.production, c.canary, policy.canary, profile.task, metric);
    c.verdict = verdict;
    if (verdict.action === 'wait') return [];
    c.decided = verdict.action;
    const canaryVersion = c.canary.version;
    const id = `drift-monitor:canary:${model}:${canaryVersion}:${c.production.version}:${verdict.action}`;
    const decision: ModelDecisionEvent =
      verdict.action === 'promote'
        ? {
            model,
            action: 'promote',
            alias: 'canary',
            version: canaryVersion,
            reason: verdict.reason,
            decidedBy: 'drift-monitor',
          }
        : {
            model,
            action: 'rollback',
            alias: 'canary',
            reason: verdict.reason,
            decidedBy: 'drift-monitor',
          };
    const alert: DriftAlertEvent = {
      model,
      version: canaryVersion,
      alias: 'canary',
      dataset: profile.dataset,
      kind: 'canary',
      severity: verdict.action === 'promote' ? 'info' : 'warning',
      window: {
        kind: 'count',
        events: c.canary.total,
        from: iso(c.since),
        to: iso(Math.max(at, c.since)),
      },
      summary: `${verdict.action === 'promote' ? 'Promote' : 'Roll back'} canary: ${verdict.reason}`,
      drifted: [],
      evidence: { verdict: verdict.evidence, policy: policy.canary },
      reportId: `${model}:${canaryVersion}:canary`,
      at: iso(Math.max(at, c.since)),
    };
    const actions: MonitorAction[] = [
      { kind: 'alert', id: `${id}:alert`, alert },
      { kind: 'decision', id, decision },
    ];
    // A promoted canary is production now: the alias is cleared (in order, on the model's
    // partition), so inference stops scoring production twice and the next canary can come.
    if (verdict.action === 'promote')
      actions.push({
        kind: 'decision',
        id: `${id}:clear`,
        decision: {
          model,
          action: 'delete_alias',
          alias: 'canary',
          reason: `v${canaryVersion} was promoted to production`,
          decidedBy: 'drift-monitor',
        },
      });
    return actions;
  }

  /** The feature section of a report: featureDrift of the rows, or why it was skipped. */
  private featureSection(
    rows: number[][],
    profile: VersionProfile,
    policy: DriftSection,
    none: string,
  ): NonNullable<DriftReport['features']> {
    const ref = profile.reference;
    if (!ref) return { status: 'skipped', reason: 'the version has no training reference' };
    const width = ref.features.features.length;
    const fitting = rows.filter((r) => r.length === width);
    if (fitting.length === 0)
      return {
        status: 'skipped',
        reason:
          rows.length === 0
            ? none
            : `the features have ${rows[0].length} columns, the reference ${width}`,
      };
    return featureDrift(ref.features, fitting, {
      ...testPolicy(policy),
      correction: policy.features.correction,
      datasetShare: policy.features.datasetShare,
      // The share is of source fields: one-hot indicators, hash buckets and text terms of one
      // record field count once.
      fieldOf: columnSource,
    });
  }

  /** The feature alert of a report, if a feature drifted; and whether the dataset did. */
  private featureAlert(
    features: DriftReport['features'],
    base: Omit<DriftAlertEvent, 'kind' | 'severity' | 'summary' | 'drifted' | 'evidence'>,
    reportId: string,
  ): { action: MonitorAction; datasetDrift: string | null } | null {
    if (!features || !('columns' in features) || features.driftedCount === 0) return null;
    const share = features.driftShare;
    const severity = features.datasetDrift
      ? share >= Math.min(1, 2 * features.datasetShare)
        ? 'critical'
        : 'warning'
      : 'info';
    const fields = features.fields.drifted;
    const summary = `${fields.length} of ${features.fields.tested} fields drifted (${(share * 100).toFixed(0)} %${features.datasetDrift ? ', dataset drift' : ''}; ${features.driftedCount} of ${features.tested} columns): ${fields.slice(0, 5).join(', ')}${fields.length > 5 ? ', …' : ''}`;
    return {
      datasetDrift: features.datasetDrift ? `dataset drift: ${summary}` : null,
      action: {
        kind: 'alert',
        id: `drift-monitor:${reportId}:feature`,
        alert: {
          ...base,
          kind: 'feature',
          severity,
          summary,
          drifted: features.drifted,
          evidence: {
            test: features.test,
            correction: features.correction,
            driftShare: share,
            datasetShare: features.datasetShare,
            datasetDrift: features.datasetDrift,
            // The drifted columns' statistics; histograms are in the report.
            columns: features.columns
              .filter((c) => c.drift)
              .map((c) => {
                const { histogram: _h, ...rest } = c as typeof c & { histogram?: unknown };
                return rest;
              }),
          },
        },
      },
    };
  }

  private closeWindow(
    v: VersionState,
    w: ClosedWindow<Entry>,
    profile: VersionProfile,
    policy: DriftSection,
  ): MonitorAction[] {
    const rows = w.entries.filter((e) => e.features !== null).map((e) => e.features!);
    const outputs = w.entries.filter((e) => e.output !== null).map((e) => e.output!);
    const latencies = w.entries.filter((e) => !e.failed).map((e) => e.latencyMs);
    const errors = w.entries.length - latencies.length;
    const traffic: TrafficSummary = {
      predictions: w.entries.length,
      errors,
      errorRate: errors / w.entries.length,
      p95LatencyMs: percentile(latencies, 95),
      withFeatures: rows.length,
    };
    const features: DriftReport['features'] = this.options.featuresFromStream
      ? {
          status: 'skipped',
          reason: 'feature drift is judged on features.v1 windows (kind "features")',
        }
      : this.featureSection(
          rows,
          profile,
          policy,
          'no prediction in the window carried its features (serving.predictionLog.features is not full)',
        );
    const ref = profile.reference;
    const predictions: DriftReport['predictions'] = !ref
      ? { status: 'skipped', reason: 'the version has no training reference' }
      : outputs.length === 0
        ? { status: 'skipped', reason: 'no successful prediction in the window' }
        : predictionDrift(
            ref.predictions,
            ref.predictions.task === 'multiclass' ? (outputs as number[][]) : (outputs as number[]),
            {
              ...testPolicy(policy),
              maxStdShift: policy.predictions.maxStdShift,
              maxShareShift: policy.predictions.maxShareShift,
            },
          );
    const report: DriftReport = {
      id: `${v.model}:${v.version}:w${w.index}`,
      model: v.model,
      version: v.version,
      alias: v.lastAlias,
      dataset: profile.dataset,
      kind: 'window',
      window: {
        kind: w.kind,
        index: w.index,
        events: w.entries.length,
        from: iso(w.from),
        to: iso(w.to),
      },
      traffic,
      features,
      predictions,
      performance: null,
      alerts: [],
      at: iso(w.to),
    };
    const actions: MonitorAction[] = [];
    const base = this.alertBase(v, profile, report);
    let retrainReason: string | null = null;
    const feature = this.featureAlert(features, base, report.id);
    if (feature) {
      report.alerts.push('feature');
      actions.push(feature.action);
      retrainReason = feature.datasetDrift;
    }
    if (predictions && 'alert' in predictions && predictions.alert) {
      report.alerts.push('prediction');
      const summary = `prediction drift (${predictions.alerts.join(', ')}) of ${predictions.task} outputs: ${predictions.test.test} ${predictions.test.kind === 'pvalue' ? `p = ${predictions.test.pvalue?.toExponential(2)}` : `distance ${predictions.test.statistic?.toFixed(3)}`}`;
      actions.push({
        kind: 'alert',
        id: `drift-monitor:${report.id}:prediction`,
        alert: {
          ...base,
          kind: 'prediction',
          severity: 'warning',
          summary,
          drifted: [],
          evidence: { ...predictions },
        },
      });
      retrainReason ??= summary;
    }
    actions.push({ kind: 'report', report });
    if (retrainReason)
      actions.push(...this.retrain(v, profile, policy, w.to, retrainReason, report.id));
    return actions;
  }

  private alertBase(v: VersionState, profile: VersionProfile, report: DriftReport) {
    return {
      model: v.model,
      version: v.version,
      alias: v.lastAlias,
      dataset: profile.dataset,
      window: {
        kind: report.window.kind,
        events: report.window.events,
        from: report.window.from,
        to: report.window.to,
      },
      reportId: report.id,
      at: report.at,
    };
  }

  private closeFeatureWindow(
    v: VersionState,
    w: ClosedWindow<FeatureEntry>,
    profile: VersionProfile,
    policy: DriftSection,
  ): MonitorAction[] {
    const features = this.featureSection(
      w.entries.map((e) => e.features),
      profile,
      policy,
      'no vector in the window',
    );
    const report: DriftReport = {
      id: `${v.model}:${v.version}:f${w.index}`,
      model: v.model,
      version: v.version,
      alias: v.lastAlias,
      dataset: profile.dataset,
      kind: 'features',
      window: {
        kind: w.kind,
        index: w.index,
        events: w.entries.length,
        from: iso(w.from),
        to: iso(w.to),
      },
      traffic: null,
      features,
      predictions: null,
      performance: null,
      alerts: [],
      at: iso(w.to),
    };
    const actions: MonitorAction[] = [];
    const feature = this.featureAlert(features, this.alertBase(v, profile, report), report.id);
    if (feature) {
      report.alerts.push('feature');
      actions.push(feature.action);
    }
    actions.push({ kind: 'report', report });
    if (feature?.datasetDrift)
      actions.push(...this.retrain(v, profile, policy, w.to, feature.datasetDrift, report.id));
    return actions;
  }

  private closePerformance(
    v: VersionState,
    w: ClosedWindow<LabelledEntry>,
    profile: VersionProfile,
    policy: DriftSection,
  ): MonitorAction[] {
    const metric = this.metricFor(profile, policy);
    if (!metric || profile.task === null) return [];
    const labels = w.entries.map((e) => e.label);
    const scores = w.entries.map((e) => e.score);
    const live = liveMetric(profile.task, metric, labels, scores as number[] | number[][]);
    const training = profile.trainingMetrics[metric] ?? null;
    let dropPct: number | null = null;
    let alert = false;
    if (live !== null && training !== null && training !== 0) {
      const d = performanceDrop(training, live, {
        maxDropPct: policy.performance.maxDropPct,
        higherIsBetter: higherIsBetter(metric),
      });
      dropPct = d.dropPct;
      alert = d.alert;
    }
    if (live !== null) v.lastLive = { metric, value: live, at: w.to };
    const performance: PerformanceSummary = {
      metric,
      labelled: labels.length,
      live,
      training,
      dropPct,
      maxDropPct: policy.performance.maxDropPct,
      alert,
    };
    const report: DriftReport = {
      id: `${v.model}:${v.version}:p${w.index}`,
      model: v.model,
      version: v.version,
      alias: v.lastAlias,
      dataset: profile.dataset,
      kind: 'performance',
      window: {
        kind: 'count',
        index: w.index,
        events: labels.length,
        from: iso(w.from),
        to: iso(w.to),
      },
      traffic: null,
      features: null,
      predictions: null,
      performance,
      alerts: alert ? ['performance'] : [],
      at: iso(w.to),
    };
    const actions: MonitorAction[] = [{ kind: 'report', report }];
    if (!alert || live === null || training === null || dropPct === null) return actions;
    const summary = `${metric} fell ${dropPct.toFixed(2)} % (≥ ${policy.performance.maxDropPct} %): ${live.toFixed(4)} on ${labels.length} labelled predictions against ${training.toFixed(4)} in training`;
    actions.push({
      kind: 'alert',
      id: `drift-monitor:${report.id}:performance`,
      alert: {
        model: v.model,
        version: v.version,
        alias: v.lastAlias,
        dataset: profile.dataset,
        kind: 'performance',
        severity: dropPct >= 2 * policy.performance.maxDropPct ? 'critical' : 'warning',
        window: {
          kind: 'count',
          events: labels.length,
          from: report.window.from,
          to: report.window.to,
        },
        summary,
        drifted: [],
        evidence: { ...performance },
        reportId: report.id,
        at: report.at,
      },
    });
    actions.push(...this.rollbackProduction(v, profile, policy, metric, live, w.to));
    actions.push(
      ...this.retrain(v, profile, policy, w.to, `performance drop: ${summary}`, report.id),
    );
    return actions;
  }

  /**
   * Production degraded: roll back to the version it replaced when that one did better — its
   * own last live metric when it was watched, else its training metric.
   */
  private rollbackProduction(
    v: VersionState,
    profile: VersionProfile,
    policy: DriftSection,
    metric: LiveMetric,
    live: number,
    at: number,
  ): MonitorAction[] {
    const m = this.models.get(v.model);
    if (!policy.rollback.enabled || !m || m.aliases.production !== v.version) return [];
    const previous = m.previousProduction;
    if (previous === null || previous === v.version || m.rolledBack.includes(v.version)) return [];
    const before = this.versions.get(versionKey(v.model, previous));
    const own = before?.lastLive?.metric === metric ? before.lastLive.value : undefined;
    const trained = this.options.profileOf(v.model, previous)?.trainingMetrics[metric];
    const theirs = own ?? trained;
    if (theirs === undefined) return [];
    const better = higherIsBetter(metric) ? theirs > live : theirs < live;
    if (!better) return [];
    m.rolledBack.push(v.version);
    const reason = `production v${v.version} ${metric} ${live.toFixed(4)} dropped ≥ ${policy.performance.maxDropPct} % below training; v${previous} had ${theirs.toFixed(4)} (${own !== undefined ? 'live' : 'training'})`;
    const id = `drift-monitor:rollback:${v.model}:${v.version}:${previous}`;
    return [
      {
        kind: 'decision',
        id,
        decision: {
          model: v.model,
          action: 'rollback',
          alias: 'production',
          version: previous,
          reason,
          decidedBy: 'drift-monitor',
        },
      },
      {
        kind: 'alert',
        id: `${id}:alert`,
        alert: {
          model: v.model,
          version: v.version,
          alias: 'production',
          dataset: profile.dataset,
          kind: 'performance',
          severity: 'critical',
          window: { kind: 'count', events: 0, from: iso(at), to: iso(at) },
          summary: `Rolling production back to v${previous}: ${reason}`,
          drifted: [],
          evidence: {
            live,
            previous: {
              version: previous,
              metric: theirs,
              source: own !== undefined ? 'live' : 'training',
            },
          },
          reportId: `${v.model}:${v.version}:rollback`,
          at: iso(at),
        },
      },
    ];
  }

  /**
   * One training request per drift, then quiet for the cooldown (per dataset, event time), and
   * none while a canary of the model is being judged.
   */
  private retrain(
    v: VersionState,
    profile: VersionProfile,
    policy: DriftSection,
    at: number,
    reason: string,
    reportId: string,
  ): MonitorAction[] {
    const dataset = profile.dataset;
    if (!policy.retrain.enabled || dataset === null) return [];
    const m = this.models.get(v.model);
    if (m?.aliases.production !== v.version) return [];
    // A retrained version is being judged already: its verdict comes first.
    if (m.aliases.canary !== undefined && m.aliases.canary !== v.version) return [];
    const last = this.lastRetrainAt.get(dataset);
    if (last !== undefined && at - last < policy.retrain.cooldownSeconds * 1000) return [];
    this.lastRetrainAt.set(dataset, at);
    return [
      {
        kind: 'retrain',
        requestId: `${DRIFT_REQUEST_PREFIX}${reportId}`,
        dataset,
        model: v.model,
        version: v.version,
        reason,
        from: at - policy.retrain.lookbackSeconds * 1000,
      },
    ];
  }
}

function splitKey(key: string): [string, string] {
  const at = key.lastIndexOf('@');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** What the drift tests and the metric read from a prediction: P(1), the probabilities, the value. */
function outputOf(profile: VersionProfile, e: PredictionEvent): number | number[] | null {
  if (profile.task === 'multiclass') {
    const row = e.outputs.probabilities;
    return row && row.every((x) => typeof x === 'number') ? row : null;
  }
  return typeof e.score === 'number' && Number.isFinite(e.score) ? e.score : null;
}

/** The test choice and thresholds of the spec's `drift.features`. */
function testPolicy(policy: DriftSection) {
  return {
    sizeThreshold: policy.features.sizeThreshold,
    alpha: policy.features.alpha,
    wassersteinThreshold: policy.features.wassersteinThreshold,
    jensenShannonThreshold: policy.features.jensenShannonThreshold,
  };
}
