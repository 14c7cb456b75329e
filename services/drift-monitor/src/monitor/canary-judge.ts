import { performanceDrop } from '@mlops/ml';
import { higherIsBetter, liveMetric, type LiveMetric, type Task } from './live-metric';

/** The spec's `drift.canary` section. */
export interface CanaryPolicy {
  minSamples: number;
  promoteMarginPct: number;
  rollbackDropPct: number;
  maxErrorRateIncrease: number;
  maxLatencyRatio: number;
  minLatencyDeltaMs: number;
}

/** One side of the comparison: every prediction counted, the labelled ones kept for the metric. */
export interface SideStats {
  version: number;
  total: number;
  /** Predictions scored in shadow (beside production, not answered). */
  shadow?: number;
  errors: number;
  /** Latencies of the latest successful predictions, ms (at most LATENCY_KEPT). */
  latencies: number[];
  labels: number[];
  scores: (number | number[])[];
}

export interface CanaryVerdict {
  action: 'promote' | 'rollback' | 'wait';
  reason: string;
  evidence: {
    metric: LiveMetric;
    production: SideSummary;
    canary: SideSummary;
    /** Relative drop of the canary's metric below production's, percent (negative: better). */
    dropPct: number | null;
  };
}

export interface SideSummary {
  version: number;
  predictions: number;
  labelled: number;
  errorRate: number;
  p95LatencyMs: number | null;
  metric: number | null;
}

const LATENCY_KEPT = 5000;

export function emptySide(version: number): SideStats {
  return { version, total: 0, errors: 0, latencies: [], labels: [], scores: [] };
}

/** Counts one prediction of a side (labelled or not yet). */
export function countPrediction(
  side: SideStats,
  latencyMs: number,
  failed: boolean,
  shadow = false,
): void {
  side.total += 1;
  if (shadow) side.shadow = (side.shadow ?? 0) + 1;
  if (failed) {
    side.errors += 1;
    return;
  }
  side.latencies.push(latencyMs);
  if (side.latencies.length > LATENCY_KEPT)
    side.latencies.splice(0, side.latencies.length - LATENCY_KEPT);
}

/** Adds a labelled prediction; keeps the latest `cap`. */
export function addLabelled(
  side: SideStats,
  label: number,
  score: number | number[],
  cap: number,
): void {
  side.labels.push(label);
  side.scores.push(score);
  if (side.labels.length > cap) {
    side.labels.splice(0, side.labels.length - cap);
    side.scores.splice(0, side.scores.length - cap);
  }
}

/** Labelled predictions kept per side: enough for the longest judgement (4 × minSamples). */
export function labelledCap(policy: CanaryPolicy): number {
  return 4 * policy.minSamples;
}

/** p-th percentile (linear between closest ranks, numpy's default). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarise(side: SideStats, task: Task, metric: LiveMetric): SideSummary {
  return {
    version: side.version,
    predictions: side.total,
    labelled: side.labels.length,
    errorRate: side.total === 0 ? 0 : side.errors / side.total,
    p95LatencyMs: percentile(side.latencies, 95),
    metric:
      side.labels.length === 0
        ? null
        : liveMetric(task, metric, side.labels, side.scores as number[] | number[][]),
  };
}

/**
 * Canary against production on the same window (the traffic since the canary was set):
 *
 * 1. As soon as both sides have served `max(20, minSamples / 5)` predictions, the canary is
 *    rolled back when its error rate exceeds production's by more than `maxErrorRateIncrease`,
 *    or its p95 latency is above `maxLatencyRatio` × production's and `minLatencyDeltaMs` more
 *    (not for a shadow canary, whose latency users never see) — no labels needed.
 * 2. Once both sides have `minSamples` labelled predictions, the metric decides: a relative drop
 *    of at least `rollbackDropPct` rolls back; within `promoteMarginPct` (or better) promotes.
 * 3. In between the judge waits for more labels, up to 4 × minSamples on the canary; a canary
 *    that has not shown it is within the margin by then is rolled back (not proven safe is not
 *    safe).
 */
export function judgeCanary(
  production: SideStats,
  canary: SideStats,
  policy: CanaryPolicy,
  task: Task,
  metric: LiveMetric,
): CanaryVerdict {
  const p = summarise(production, task, metric);
  const c = summarise(canary, task, metric);
  const evidence = (dropPct: number | null) => ({ metric, production: p, canary: c, dropPct });
  const early = Math.max(20, Math.ceil(policy.minSamples / 5));
  if (c.predictions >= early && p.predictions >= early) {
    const increase = c.errorRate - p.errorRate;
    if (increase > policy.maxErrorRateIncrease)
      return {
        action: 'rollback',
        reason: `canary v${c.version} fails ${pct(c.errorRate)} of predictions against production's ${pct(p.errorRate)} (allowed +${pct(policy.maxErrorRateIncrease)})`,
        evidence: evidence(null),
      };
    // A shadow's latency is timed from its own submission, queued behind production's batch in
    // the same workers: it says nothing of what users would wait, so only a canary that answers
    // its share of the traffic is judged on latency.
    const shadowed = (canary.shadow ?? 0) * 2 > canary.total;
    if (
      !shadowed &&
      c.p95LatencyMs !== null &&
      p.p95LatencyMs !== null &&
      p.p95LatencyMs > 0 &&
      c.p95LatencyMs > policy.maxLatencyRatio * p.p95LatencyMs &&
      c.p95LatencyMs - p.p95LatencyMs >= policy.minLatencyDeltaMs
    )
      return {
        action: 'rollback',
        reason: `canary v${c.version} p95 latency ${c.p95LatencyMs.toFixed(1)} ms is over ${policy.maxLatencyRatio}× production's ${p.p95LatencyMs.toFixed(1)} ms (and ${policy.minLatencyDeltaMs} ms more)`,
        evidence: evidence(null),
      };
  }
  if (c.labelled < policy.minSamples || p.labelled < policy.minSamples)
    return {
      action: 'wait',
      reason: `labelled predictions: canary ${c.labelled}, production ${p.labelled}, ${policy.minSamples} needed on each`,
      evidence: evidence(null),
    };
  if (c.metric === null || p.metric === null)
    return {
      action: 'wait',
      reason: `${metric} is undefined on the labels so far (one class only?)`,
      evidence: evidence(null),
    };
  const better = higherIsBetter(metric);
  const dropPct =
    p.metric === 0
      ? (better ? p.metric - c.metric : c.metric - p.metric) * 100
      : // + 0: an equal metric is a 0 % drop, not −0 %.
        performanceDrop(p.metric, c.metric, { higherIsBetter: better }).dropPct + 0;
  const on = `${metric} ${fmt(c.metric)} against production v${p.version}'s ${fmt(p.metric)} on ${c.labelled} / ${p.labelled} labelled predictions`;
  if (dropPct >= policy.rollbackDropPct * (1 - 1e-9))
    return {
      action: 'rollback',
      reason: `canary v${c.version} is ${dropPct.toFixed(2)} % worse (≥ ${policy.rollbackDropPct} %): ${on}`,
      evidence: evidence(dropPct),
    };
  if (dropPct <= policy.promoteMarginPct)
    return {
      action: 'promote',
      reason: `canary v${c.version} is within ${policy.promoteMarginPct} % of production (${dropPct <= 0 ? `${(-dropPct).toFixed(2)} % better` : `${dropPct.toFixed(2)} % worse`}): ${on}`,
      evidence: evidence(dropPct),
    };
  if (c.labelled >= labelledCap(policy))
    return {
      action: 'rollback',
      reason: `canary v${c.version} stayed ${dropPct.toFixed(2)} % worse, outside the ${policy.promoteMarginPct} % margin, after ${c.labelled} labelled predictions: ${on}`,
      evidence: evidence(dropPct),
    };
  return {
    action: 'wait',
    reason: `canary v${c.version} is ${dropPct.toFixed(2)} % worse: between the promote margin and the rollback drop, waiting for more labels`,
    evidence: evidence(dropPct),
  };
}

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
const fmt = (v: number) => v.toFixed(4);
