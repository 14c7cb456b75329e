/**
 * Prediction drift of one window of model outputs against the prediction reference stored with
 * the model version. The reference keeps no raw predictions — only summaries (count, mean, std,
 * quantiles), a histogram and, for classifiers, the positive rate or class shares — so every
 * comparison here is against those: PSI and χ² on the stored bins, a Wasserstein distance to
 * the histogram, and the shift of the summaries. No KS test: it would need raw values.
 *
 * Report shape ({@link PredictionDriftReport}), binary (the std-shift case of the spec):
 *
 * ```
 * {
 *   task: 'binary', status: 'tested', count: 1000, missing: 0,
 *   scores: {                              // P(class 1)
 *     reference: { count: 5000, mean: 0.4986, std: 0.1377 },
 *     current: { count: 1000, mean: 0.4961, std: 0.3496 },
 *     meanShift: -0.0025, stdShift: 0.2119,  // current − reference
 *     psi: 4.04, wasserstein: 1.47,        // Wasserstein to the histogram ÷ reference std
 *     quantiles: [{ q: 0, reference: 0.1024, current: 0.0001 }, …],
 *     histogram: { edges: [0, 0.05, …, 1], reference: […], current: […] },
 *   },
 *   test: { test: 'chi2', kind: 'pvalue', statistic: 3020.9, pvalue: 0, dof: 19, bins: 20,
 *           threshold: 0.05, drift: true, sizes: { reference: 5000, current: 1000 } },
 *   positiveRate: { reference: 0.4924, current: 0.491, shift: -0.0014 },
 *   alerts: ['distribution', 'std'], alert: true,
 * }
 * ```
 *
 * multiclass: `classes` ({ reference, current, shift } shares per class, maxShift), `test` on
 * the class counts, `confidence` (the largest probability, shaped like `scores`). regression:
 * `outputs` (like `scores`) and `test`. A window or reference with nothing to compare is
 * `{ task, status: 'skipped', reason, count, missing, alerts: [], alert: false }`.
 */

import type {
  MulticlassPredictionReference,
  NumericReference,
  PredictionReference,
} from '../training/reference';
import { quantileSorted } from '../robust';
import { countOnReferenceBins, histogramWasserstein, mergeSparseBins } from './binned';
import { testCategoryCounts } from './categorical';
import { chiSquareTwoSample } from './chi2';
import { psi, PSI_EPSILON } from './divergence';
import { moments } from './moments';
import {
  DEFAULT_DRIFT_POLICY,
  type DriftPolicyOptions,
  type DriftScoreKind,
  isDrift,
} from './policy';

export interface PredictionDriftOptions extends DriftPolicyOptions {
  /**
   * Alert when |current std − reference std| of the binary score or the multiclass confidence
   * exceeds this (probability units). Default 0.15.
   */
  readonly maxStdShift?: number;
  /**
   * Alert when the binary positive rate, or any multiclass class share, moves by more than
   * this (absolute; 0.05 = five percentage points). Default 0.05.
   */
  readonly maxShareShift?: number;
  /** Bins are merged until each expected χ² count reaches this. Default 5 (Cochran). */
  readonly minExpected?: number;
  /** The floor of PSI's bin shares; default {@link PSI_EPSILON}. */
  readonly psiEpsilon?: number;
}

/** Why a prediction alert was raised. */
export type PredictionAlert =
  /** The distribution test or distance crossed its threshold. */
  | 'distribution'
  /** The score's (binary) or confidence's (multiclass) std moved by more than maxStdShift. */
  | 'std'
  /** The positive rate (binary) or a class share (multiclass) moved by more than maxShareShift. */
  | 'share';

/** The drift decision on a distribution. */
export interface DistributionTest {
  /**
   * 'chi2' / 'fisher' on counts (p-value), 'jensenshannon' on class counts or 'wasserstein'
   * (÷ the reference std) against the reference histogram (distances). A test while
   * min(reference count, window count) ≤ sizeThreshold, a distance above: featureDrift's rule.
   */
  readonly test: 'chi2' | 'fisher' | 'jensenshannon' | 'wasserstein';
  readonly kind: DriftScoreKind;
  /** χ² statistic, the distance, or null for Fisher. */
  readonly statistic: number | null;
  readonly pvalue: number | null;
  /** χ² degrees of freedom; null otherwise. */
  readonly dof: number | null;
  /** Bins or categories compared (after merging sparse score bins). */
  readonly bins: number;
  readonly threshold: number;
  readonly drift: boolean;
  readonly sizes: { readonly reference: number; readonly current: number };
}

/** A score (or output) distribution against its reference summary. */
export interface ScoreShift {
  readonly reference: { readonly count: number; readonly mean: number; readonly std: number };
  readonly current: { readonly count: number; readonly mean: number; readonly std: number };
  /** current − reference. */
  readonly meanShift: number;
  /** current − reference. */
  readonly stdShift: number;
  /** On the reference histogram's bins, outer bins open. */
  readonly psi: number;
  /** {@link histogramWasserstein} ÷ the reference std (the distance itself for std 0). */
  readonly wasserstein: number;
  /** The window's quantiles at the reference's levels. */
  readonly quantiles: {
    readonly q: number;
    readonly reference: number;
    readonly current: number;
  }[];
  readonly histogram: {
    readonly edges: number[];
    readonly reference: number[];
    readonly current: number[];
  };
}

interface Alerting {
  readonly status: 'tested';
  /** Valid outputs in the window. */
  readonly count: number;
  /** Non-finite outputs, probabilities outside [0, 1], multiclass rows of the wrong width. */
  readonly missing: number;
  readonly test: DistributionTest;
  readonly alerts: PredictionAlert[];
  readonly alert: boolean;
}

export interface BinaryPredictionDrift extends Alerting {
  readonly task: 'binary';
  readonly scores: ScoreShift;
  /** Share with P(class 1) ≥ 0.5, as the reference counts it. */
  readonly positiveRate: {
    readonly reference: number;
    readonly current: number;
    readonly shift: number;
  };
}

export interface MulticlassPredictionDrift extends Alerting {
  readonly task: 'multiclass';
  /** Share of rows whose argmax (first on ties) is each class. */
  readonly classes: {
    readonly reference: number[];
    readonly current: number[];
    /** current − reference per class. */
    readonly shift: number[];
    readonly maxShift: number;
  };
  readonly confidence: ScoreShift;
}

export interface RegressionPredictionDrift extends Alerting {
  readonly task: 'regression';
  readonly outputs: ScoreShift;
}

export interface SkippedPredictionDrift {
  readonly task: PredictionReference['task'];
  readonly status: 'skipped';
  readonly reason: 'reference-empty' | 'reference-constant' | 'window-empty';
  readonly count: number;
  readonly missing: number;
  readonly alerts: [];
  readonly alert: false;
}

export type PredictionDriftReport =
  | BinaryPredictionDrift
  | MulticlassPredictionDrift
  | RegressionPredictionDrift
  | SkippedPredictionDrift;

/**
 * Window outputs: P(class 1) per event (binary), one value per event (regression), or one
 * probability row per event (multiclass). null and non-finite entries are missing.
 */
export type PredictionWindow = ArrayLike<number | null> | readonly (ArrayLike<number> | null)[];

interface Resolved extends Required<DriftPolicyOptions> {
  maxStdShift: number;
  maxShareShift: number;
  minExpected: number;
  psiEpsilon: number;
}

/**
 * Drift of a window of predictions against the model version's prediction reference:
 *
 * - binary: the score distribution on the reference's fixed bins over [0, 1] — χ² on the
 *   counts (sparse bins merged, see {@link mergeSparseBins}) while min(reference count, window
 *   count) ≤ sizeThreshold, else the normalised Wasserstein distance to the histogram; PSI;
 *   the std shift (alert above maxStdShift, the seed's 0.15) and the positive-rate shift
 *   (alert above maxShareShift);
 * - multiclass: the argmax class counts — χ² (Fisher on two classes with an expected count
 *   below 5) or Jensen–Shannon, as {@link testCategoryCounts} with the same size rule —
 *   with class-share shifts, and the confidence's shift (std alert as for binary);
 * - regression: the outputs against the reference histogram: χ² on merged bins or the
 *   normalised Wasserstein distance, PSI, mean and std shift. No std alert: the unit is the
 *   target's.
 *
 * Reference counts of classes are recovered as round(share · count). O(n log n).
 */
export function predictionDrift(
  reference: PredictionReference,
  outputs: PredictionWindow,
  options: PredictionDriftOptions = {},
): PredictionDriftReport {
  const fn = 'predictionDrift';
  const o: Resolved = {
    ...DEFAULT_DRIFT_POLICY,
    maxStdShift: 0.15,
    maxShareShift: 0.05,
    minExpected: 5,
    psiEpsilon: PSI_EPSILON,
    ...options,
  };
  for (const key of ['maxStdShift', 'maxShareShift', 'minExpected'] as const) {
    if (!(o[key] >= 0)) throw new RangeError(`${fn}: bad ${key} ${o[key]}`);
  }
  switch (reference.task) {
    case 'binary': {
      const { values, missing } = scalars(fn, outputs, true);
      const skip = skipReason(reference, values.length);
      if (skip) return skipped('binary', skip, values.length, missing);
      const scores = scoreShift(reference, values, o);
      const test = binnedTest(reference, scores, o);
      let positives = 0;
      for (const p of values) if (p >= 0.5) positives += 1;
      const refRate = reference.positiveRate ?? 0;
      const rate = positives / values.length;
      const alerts: PredictionAlert[] = [];
      if (test.drift) alerts.push('distribution');
      if (Math.abs(scores.stdShift) > o.maxStdShift) alerts.push('std');
      if (Math.abs(rate - refRate) > o.maxShareShift) alerts.push('share');
      return {
        task: 'binary',
        status: 'tested',
        count: values.length,
        missing,
        scores,
        test,
        positiveRate: { reference: refRate, current: rate, shift: rate - refRate },
        alerts,
        alert: alerts.length > 0,
      };
    }
    case 'regression': {
      const { values, missing } = scalars(fn, outputs, false);
      const skip = skipReason(reference, values.length);
      if (skip) return skipped('regression', skip, values.length, missing);
      const shift = scoreShift(reference, values, o);
      const test = binnedTest(reference, shift, o);
      const alerts: PredictionAlert[] = test.drift ? ['distribution'] : [];
      return {
        task: 'regression',
        status: 'tested',
        count: values.length,
        missing,
        outputs: shift,
        test,
        alerts,
        alert: alerts.length > 0,
      };
    }
    case 'multiclass':
      return multiclassDrift(fn, reference, outputs, o);
  }
}

function multiclassDrift(
  fn: string,
  reference: MulticlassPredictionReference,
  outputs: PredictionWindow,
  o: Resolved,
): PredictionDriftReport {
  const k = reference.classShares.length;
  const counts = new Array<number>(k).fill(0);
  const confidence = new Float64Array(outputs.length);
  let n = 0;
  for (let i = 0; i < outputs.length; i += 1) {
    const row = outputs[i];
    if (typeof row === 'number') throw new RangeError(`${fn}: multiclass outputs must be rows`);
    if (row === null || row.length !== k) continue;
    let best = 0;
    let valid = true;
    for (let j = 0; j < k; j += 1) {
      if (!(row[j] >= 0 && row[j] <= 1)) valid = false;
      if (row[j] > row[best]) best = j;
    }
    if (!valid) continue;
    counts[best] += 1;
    confidence[n++] = row[best];
  }
  const missing = outputs.length - n;
  const skip = skipReason(reference.confidence, n);
  if (skip) return skipped('multiclass', skip, n, missing);
  const conf = scoreShift(reference.confidence, confidence.subarray(0, n), o);
  const refCounts = reference.classShares.map((s) => Math.round(s * reference.count));
  const current = counts.map((c) => c / n);
  const shift = current.map((c, j) => c - reference.classShares[j]);
  const maxShift = shift.reduce((m, d) => Math.max(m, Math.abs(d)), 0);
  const test = categoricalTest(refCounts, counts, o);
  const alerts: PredictionAlert[] = [];
  if (test.drift) alerts.push('distribution');
  if (Math.abs(conf.stdShift) > o.maxStdShift) alerts.push('std');
  if (maxShift > o.maxShareShift) alerts.push('share');
  return {
    task: 'multiclass',
    status: 'tested',
    count: n,
    missing,
    classes: { reference: [...reference.classShares], current, shift, maxShift },
    test,
    confidence: conf,
    alerts,
    alert: alerts.length > 0,
  };
}

/** Finite scalars of a binary or regression window (probabilities checked for binary). */
function scalars(
  fn: string,
  outputs: PredictionWindow,
  probability: boolean,
): { values: Float64Array; missing: number } {
  const values = new Float64Array(outputs.length);
  let n = 0;
  for (let i = 0; i < outputs.length; i += 1) {
    const v = outputs[i];
    if (v !== null && typeof v !== 'number') {
      throw new RangeError(`${fn}: output ${i} is a row; binary and regression take numbers`);
    }
    if (v === null || !Number.isFinite(v)) continue;
    if (probability && !(v >= 0 && v <= 1)) continue;
    values[n++] = v;
  }
  return { values: values.subarray(0, n), missing: outputs.length - n };
}

function skipReason(
  reference: NumericReference,
  count: number,
): SkippedPredictionDrift['reason'] | null {
  if (reference.count === 0 || reference.histogram.counts.length === 0) return 'reference-empty';
  const { edges } = reference.histogram;
  if (edges[0] === edges[edges.length - 1]) return 'reference-constant';
  if (count === 0) return 'window-empty';
  return null;
}

function skipped(
  task: PredictionReference['task'],
  reason: SkippedPredictionDrift['reason'],
  count: number,
  missing: number,
): SkippedPredictionDrift {
  return { task, status: 'skipped', reason, count, missing, alerts: [], alert: false };
}

/** The window's finite values against a non-empty, non-constant numeric reference. */
function scoreShift(reference: NumericReference, values: Float64Array, o: Resolved): ScoreShift {
  const sorted = Float64Array.from(values).sort();
  const { edges, counts } = reference.histogram;
  const current = countOnReferenceBins(sorted, edges);
  const refMean = reference.mean ?? 0;
  const refStd = reference.std ?? 0;
  const w = moments(sorted);
  const distance = histogramWasserstein(edges, counts, sorted);
  return {
    reference: { count: reference.count, mean: refMean, std: refStd },
    current: { count: sorted.length, mean: w.mean, std: w.std },
    meanShift: w.mean - refMean,
    stdShift: w.std - refStd,
    psi: psi(counts, current, o.psiEpsilon),
    wasserstein: refStd > 0 ? distance / refStd : distance,
    quantiles: reference.quantiles.map(({ q, value }) => ({
      q,
      reference: value ?? 0,
      current: quantileSorted(sorted, q),
    })),
    histogram: { edges: [...edges], reference: [...counts], current },
  };
}

/** χ² on the merged bins while the smaller side is within sizeThreshold, else Wasserstein. */
function binnedTest(reference: NumericReference, shift: ScoreShift, o: Resolved): DistributionTest {
  const sizes = { reference: reference.count, current: shift.current.count };
  if (Math.min(sizes.reference, sizes.current) > o.sizeThreshold) {
    const choice = { kind: 'distance' as const, threshold: o.wassersteinThreshold };
    return {
      test: 'wasserstein',
      ...choice,
      statistic: shift.wasserstein,
      pvalue: null,
      dof: null,
      bins: shift.histogram.current.length,
      drift: isDrift(choice, shift.wasserstein),
      sizes,
    };
  }
  const merged = mergeSparseBins(shift.histogram.reference, shift.histogram.current, o.minExpected);
  const chi = chiSquareTwoSample(merged.reference, merged.current);
  const choice = { kind: 'pvalue' as const, threshold: o.alpha };
  return {
    test: 'chi2',
    ...choice,
    statistic: chi.statistic,
    pvalue: chi.pvalue,
    dof: chi.dof,
    bins: merged.reference.length,
    drift: isDrift(choice, chi.pvalue),
    sizes,
  };
}

/** Class counts: χ² / Fisher while the smaller side is within sizeThreshold, else JS. */
function categoricalTest(
  referenceCounts: number[],
  currentCounts: number[],
  o: Resolved,
): DistributionTest {
  const refTotal = referenceCounts.reduce((s, v) => s + v, 0);
  const curTotal = currentCounts.reduce((s, v) => s + v, 0);
  const sizes = { reference: refTotal, current: curTotal };
  const small = Math.min(refTotal, curTotal) <= o.sizeThreshold;
  const t = testCategoryCounts('predictionDrift', referenceCounts, currentCounts, !small, o);
  return {
    test: t.test,
    kind: t.kind,
    threshold: t.threshold,
    bins: t.categories,
    sizes,
    statistic: t.statistic,
    pvalue: t.pvalue,
    dof: t.dof,
    drift: isDrift(t, t.score),
  };
}
