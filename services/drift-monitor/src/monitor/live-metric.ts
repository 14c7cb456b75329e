import { evaluate, type Report } from '@mlops/ml';

export type Task = 'binary' | 'multiclass' | 'regression';

/** The metrics the monitor judges live traffic on (a dataset spec's `drift.performance.metric`). */
export type LiveMetric = 'accuracy' | 'f1' | 'roc_auc' | 'pr_auc' | 'rmse' | 'r2';

/** `auto`: what the trainer's gate watches — PR-AUC (binary), accuracy (multiclass), R² (regression). */
export function resolveLiveMetric(setting: LiveMetric | 'auto', task: Task): LiveMetric {
  if (setting !== 'auto') return setting;
  return task === 'binary' ? 'pr_auc' : task === 'multiclass' ? 'accuracy' : 'r2';
}

export function higherIsBetter(metric: LiveMetric): boolean {
  return metric !== 'rmse';
}

/** A metric the task does not have (RMSE of a classifier, say). */
export class MetricMismatchError extends Error {
  override readonly name = 'MetricMismatchError';
}

/**
 * One metric out of an evaluation report as libs/ml's `evaluate` writes it (the trainer's report
 * holds the same shape); null when undefined for the data (AUC with one class present).
 */
export function metricOfReport(report: Report, metric: LiveMetric): number | null {
  const value = ((): number | null | undefined => {
    switch (report.task) {
      case 'binary':
        return {
          accuracy: report.accuracy,
          f1: report.f1,
          roc_auc: report.rocAuc,
          pr_auc: report.averagePrecision,
          rmse: undefined,
          r2: undefined,
        }[metric];
      case 'multiclass':
        return {
          accuracy: report.accuracy,
          f1: report.f1.macro,
          roc_auc: report.rocAucOvr.macro,
          pr_auc: undefined,
          rmse: undefined,
          r2: undefined,
        }[metric];
      case 'regression':
        return {
          accuracy: undefined,
          f1: undefined,
          roc_auc: undefined,
          pr_auc: undefined,
          rmse: report.rmse,
          r2: report.r2,
        }[metric];
    }
  })();
  if (value === undefined)
    throw new MetricMismatchError(`a ${report.task} model has no ${metric} metric`);
  return value === null || !Number.isFinite(value) ? null : value;
}

/**
 * The metric of labelled live predictions: `scores` are P(1) (binary), probability rows
 * (multiclass) or predictions (regression); `labels` class indices or targets.
 */
export function liveMetric(
  task: Task,
  metric: LiveMetric,
  labels: readonly number[],
  scores: readonly number[] | readonly (readonly number[])[],
): number | null {
  if (labels.length === 0) return null;
  const report: Report =
    task === 'multiclass'
      ? evaluate('multiclass', labels, scores as number[][])
      : task === 'binary'
        ? evaluate('binary', labels, scores as number[])
        : evaluate('regression', labels, scores as number[]);
  return metricOfReport(report, metric);
}

/**
 * A feedback label as the number the metric needs: a class index for classifiers (the label,
 * or its position among the version's class names), the value for regression. Null when the
 * label cannot belong to this model (an unknown class name, a fractional class).
 */
export function labelValue(
  label: number | string,
  task: Task,
  classes: readonly string[] | null,
  classCount: number,
): number | null {
  if (task === 'regression') {
    const v = typeof label === 'number' ? label : Number(label);
    return Number.isFinite(v) ? v : null;
  }
  if (classes) {
    const named = classes.indexOf(String(label));
    if (named >= 0) return named;
  }
  const v = typeof label === 'number' ? label : /^\d+$/.test(label) ? Number(label) : NaN;
  return Number.isInteger(v) && v >= 0 && v < classCount ? v : null;
}
