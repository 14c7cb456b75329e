import { evaluate, type Report } from '@mlops/ml';
import type { Task } from './network';

/** Names of the metrics early stopping can watch, and whether larger is better. */
export type WatchedMetric =
  'loss' | 'pr_auc' | 'roc_auc' | 'accuracy' | 'f1' | 'log_loss' | 'rmse' | 'mae' | 'r2';

export function resolveWatchedMetric(task: Task, metric: string): WatchedMetric {
  if (metric !== 'auto') return metric as WatchedMetric;
  return task === 'binary' ? 'pr_auc' : task === 'multiclass' ? 'log_loss' : 'rmse';
}

export function metricMode(metric: WatchedMetric): 'min' | 'max' {
  return metric === 'loss' || metric === 'log_loss' || metric === 'rmse' || metric === 'mae'
    ? 'min'
    : 'max';
}

/** Served outputs by row: P(1) (binary), K probabilities (multiclass), the value (regression). */
export interface Outputs {
  task: Task;
  rows: number;
  /** rows (binary, regression) or rows × K (multiclass), row-major. */
  values: Float32Array;
  classes: number;
}

export function outputRows(o: Outputs): number[] | number[][] {
  if (o.task !== 'multiclass') return Array.from(o.values);
  const rows: number[][] = [];
  for (let i = 0; i < o.rows; i++)
    rows.push(Array.from(o.values.subarray(i * o.classes, (i + 1) * o.classes)));
  return rows;
}

/** The libs/ml evaluation report of outputs against labels. */
export function evaluateOutputs(o: Outputs, labels: readonly number[], threshold = 0.5): Report {
  if (o.task === 'binary') return evaluate('binary', labels, Array.from(o.values), { threshold });
  if (o.task === 'multiclass') return evaluate('multiclass', labels, outputRows(o) as number[][]);
  return evaluate('regression', labels, Array.from(o.values));
}

/**
 * The unweighted loss the network minimises, from served outputs: binary and multiclass
 * cross-entropy (probabilities clipped to [1e-7, 1 − 1e-7], Keras's ε), regression mean squared
 * error.
 */
export function outputLoss(o: Outputs, labels: readonly number[]): number {
  const eps = 1e-7;
  let sum = 0;
  for (let i = 0; i < o.rows; i++) {
    if (o.task === 'binary') {
      const p = Math.min(1 - eps, Math.max(eps, o.values[i]));
      sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
    } else if (o.task === 'multiclass') {
      const p = Math.min(1 - eps, Math.max(eps, o.values[i * o.classes + labels[i]]));
      sum -= Math.log(p);
    } else {
      const d = o.values[i] - labels[i];
      sum += d * d;
    }
  }
  return sum / o.rows;
}

/** One watched metric from a report (NaN when undefined for the data). */
export function watchedValue(metric: WatchedMetric, report: Report, loss: number): number {
  const n = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
  switch (metric) {
    case 'loss':
      return loss;
    case 'pr_auc':
      return report.task === 'binary' ? n(report.averagePrecision) : NaN;
    case 'roc_auc':
      return report.task === 'binary'
        ? n(report.rocAuc)
        : report.task === 'multiclass'
          ? n(report.rocAucOvr.macro)
          : NaN;
    case 'accuracy':
      return report.task === 'regression' ? NaN : report.accuracy;
    case 'f1':
      return report.task === 'binary'
        ? n(report.f1)
        : report.task === 'multiclass'
          ? n(report.f1.macro)
          : NaN;
    case 'log_loss':
      return report.task === 'regression' ? NaN : n(report.logLoss);
    case 'rmse':
      return report.task === 'regression' ? report.rmse : NaN;
    case 'mae':
      return report.task === 'regression' ? report.mae : NaN;
    case 'r2':
      return report.task === 'regression' ? n(report.r2) : NaN;
  }
}

/**
 * A flat metric map for the registry (`name → number`, undefined metrics left out), with a
 * prefix such as `test_`.
 */
export function flatMetrics(report: Report, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (k: string, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isFinite(v)) out[`${prefix}${k}`] = v;
  };
  if (report.task === 'binary') {
    put('accuracy', report.accuracy);
    put('precision', report.precision);
    put('recall', report.recall);
    put('f1', report.f1);
    put('roc_auc', report.rocAuc);
    put('pr_auc', report.averagePrecision);
    put('log_loss', report.logLoss);
  } else if (report.task === 'multiclass') {
    put('accuracy', report.accuracy);
    put('precision_macro', report.precision.macro);
    put('recall_macro', report.recall.macro);
    put('f1_macro', report.f1.macro);
    put('f1_weighted', report.f1.weighted);
    put('roc_auc_ovr', report.rocAucOvr.macro);
    put('log_loss', report.logLoss);
  } else {
    put('mae', report.mae);
    put('rmse', report.rmse);
    put('r2', report.r2);
  }
  return out;
}
