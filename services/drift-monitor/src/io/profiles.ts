import type { Logger } from 'pino';
import type { FeatureReference, PredictionReference } from '@mlops/ml';
import { RegistryClient, RegistryError, type RegisteredVersion } from '@mlops/registry-client';
import type { LiveMetric, Task } from '../monitor/live-metric';
import type { VersionProfile } from '../monitor/monitor';

/** The parts of the trainer's report (format 1) the monitor reads. */
interface TrainingReport {
  task?: Task;
  classes?: string[] | null;
  reference?: { features: FeatureReference; predictions: PredictionReference };
}

/** Registry metric names of a live metric, per task (the trainer's and compressor's `flatMetrics`). */
const METRIC_NAMES: Record<Task, Partial<Record<LiveMetric, string>>> = {
  binary: { accuracy: 'accuracy', f1: 'f1', roc_auc: 'roc_auc', pr_auc: 'pr_auc' },
  multiclass: { accuracy: 'accuracy', f1: 'f1_macro', roc_auc: 'roc_auc_ovr' },
  regression: { rmse: 'rmse', r2: 'r2' },
};

/** A version's metrics on held-out data as the registry has them: test split first, else validation. */
export function trainingMetricsOf(
  task: Task,
  metrics: Record<string, number>,
): Partial<Record<LiveMetric, number>> {
  const out: Partial<Record<LiveMetric, number>> = {};
  for (const [live, name] of Object.entries(METRIC_NAMES[task]) as [LiveMetric, string][]) {
    // A compressed variant's metrics are the test split's, unprefixed (the compressor's).
    const v = metrics[`test_${name}`] ?? metrics[`val_${name}`] ?? metrics[name];
    if (v !== undefined && Number.isFinite(v)) out[live] = v;
  }
  return out;
}

function isTask(t: unknown): t is Task {
  return t === 'binary' || t === 'multiclass' || t === 'regression';
}

/**
 * Version profiles from the registry: the version's metrics and the training report its tags
 * name (a compressed variant has none of its own: its parent's reference describes the same
 * inputs and outputs). Loaded once per version and kept; a version the registry does not know
 * is remembered as missing for a minute, so a stream of its predictions does not hammer the
 * registry. Registry outages throw: the batch is retried.
 */
export class ProfileStore {
  private readonly profiles = new Map<string, VersionProfile>();
  private readonly missing = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly registry: RegistryClient,
    private readonly logger: Logger,
  ) {}

  get(model: string, version: number): VersionProfile | undefined {
    return this.profiles.get(`${model}@${version}`);
  }

  get size(): number {
    return this.profiles.size;
  }

  /** Loads the profiles not loaded yet. */
  async ensure(versions: Iterable<{ model: string; version: number }>): Promise<void> {
    const loads: Promise<void>[] = [];
    for (const { model, version } of versions) {
      const key = `${model}@${version}`;
      if (this.profiles.has(key)) continue;
      const missingUntil = this.missing.get(key);
      if (missingUntil !== undefined && missingUntil > Date.now()) continue;
      let load = this.inflight.get(key);
      if (!load) {
        load = this.load(model, version).finally(() => this.inflight.delete(key));
        this.inflight.set(key, load);
      }
      loads.push(load);
    }
    await Promise.all(loads);
  }

  private async load(model: string, version: number): Promise<void> {
    const key = `${model}@${version}`;
    let v: RegisteredVersion;
    try {
      v = await this.registry.getVersion(model, version);
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) {
        this.logger.warn({ model, version }, 'predictions of a version the registry does not know');
        this.missing.set(key, Date.now() + 60_000);
        return;
      }
      throw err;
    }
    let tags = v.tags;
    if (!tags['mlops.report.uri'] && v.parentVersion !== null) {
      tags = (await this.registry.getVersion(model, v.parentVersion)).tags;
    }
    let report: TrainingReport | null = null;
    const uri = tags['mlops.report.uri'];
    if (uri) {
      const bytes = await this.registry.download({
        uri,
        sha256: tags['mlops.report.sha256'],
        size: Number(tags['mlops.report.size']),
      });
      report = JSON.parse(bytes.toString('utf8')) as TrainingReport;
    }
    const taskTag = v.tags['mlops.task'] ?? tags['mlops.task'] ?? report?.task;
    const task = isTask(taskTag) ? taskTag : isTask(report?.task) ? report.task : null;
    const classes = report?.classes ?? null;
    const predictions = report?.reference?.predictions;
    const classCount =
      task === 'binary'
        ? 2
        : task === 'multiclass'
          ? (classes?.length ??
            (predictions?.task === 'multiclass' ? predictions.classShares.length : 0))
          : 1;
    const profile: VersionProfile = {
      model,
      version,
      dataset: v.lineage.dataset,
      task,
      classes,
      classCount,
      reference: report?.reference ?? null,
      trainingMetrics: task ? trainingMetricsOf(task, v.metrics) : {},
      featuresetVersion: v.lineage.featuresetVersion,
      request: v.tags['mlops.request'] ?? null,
      parentVersion: v.parentVersion,
    };
    this.profiles.set(key, profile);
    this.logger.info(
      {
        model,
        version,
        task,
        reference: profile.reference !== null,
        trainingMetrics: profile.trainingMetrics,
      },
      'version profile loaded',
    );
  }
}
