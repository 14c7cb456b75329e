/**
 * Which drift test a feature gets, after Evidently's defaults.
 *
 * Why the size switch: a hypothesis test answers "are these two samples from exactly the same
 * distribution?", and with enough rows the answer is almost always no — at 100,000 rows per
 * side KS flags a 0.02σ shift of a normal feature in 19 seeds of 20, far below anything that
 * hurts a model. Above a reference size (Evidently: 1,000 rows) a distance with a fixed
 * threshold measures how large the shift is instead: normalised Wasserstein (numeric) or
 * Jensen–Shannon (categorical), drift when above 0.1. Fisher's exact test replaces χ² on two
 * categories when an expected count is below 5, where χ²'s approximation of the p-value is poor
 * (Cochran's rule). Evidently flags p ≤ α and distance ≥ threshold; here both are strict, which
 * only matters at equality.
 */

import { presentCategories } from './chi2';

export interface DriftPolicyOptions {
  /** A reference larger than this gets a distance instead of a test. Default 1,000 (Evidently). */
  readonly sizeThreshold?: number;
  /** Significance level of the tests: drift when p < alpha. Default 0.05. */
  readonly alpha?: number;
  /** Drift when normalised Wasserstein > this. Default 0.1 (Evidently). */
  readonly wassersteinThreshold?: number;
  /** Drift when the Jensen–Shannon distance (base 2) > this. Default 0.1 (Evidently). */
  readonly jensenShannonThreshold?: number;
}

export const DEFAULT_DRIFT_POLICY: Required<DriftPolicyOptions> = {
  sizeThreshold: 1000,
  alpha: 0.05,
  wassersteinThreshold: 0.1,
  jensenShannonThreshold: 0.1,
};

/** 'pvalue': drift when the value is below the threshold; 'distance': when above it. */
export type DriftScoreKind = 'pvalue' | 'distance';

export interface NumericTestChoice {
  /** ksTwoSample or normalisedWasserstein. */
  readonly test: 'ks' | 'wasserstein';
  readonly kind: DriftScoreKind;
  readonly threshold: number;
  readonly referenceSize: number;
  readonly sizeThreshold: number;
}

export interface CategoricalTestChoice {
  /** chiSquareTwoSample, fisherExact2x2 or jensenShannonDistance. */
  readonly test: 'chi2' | 'fisher' | 'jensenshannon';
  readonly kind: DriftScoreKind;
  readonly threshold: number;
  readonly referenceSize: number;
  readonly sizeThreshold: number;
  /** Categories present in either sample. */
  readonly categories: number;
  /** Smallest expected count of the 2 × categories table (reference, current). */
  readonly minExpected: number;
}

function resolve(options: DriftPolicyOptions): Required<DriftPolicyOptions> {
  const o = { ...DEFAULT_DRIFT_POLICY, ...options };
  if (!(o.sizeThreshold >= 0)) throw new RangeError(`bad sizeThreshold ${o.sizeThreshold}`);
  if (!(o.alpha > 0 && o.alpha < 1)) throw new RangeError(`bad alpha ${o.alpha}`);
  return o;
}

/** KS while the reference has at most `sizeThreshold` rows, normalised Wasserstein above. */
export function chooseNumericTest(
  referenceSize: number,
  options: DriftPolicyOptions = {},
): NumericTestChoice {
  const o = resolve(options);
  const small = referenceSize <= o.sizeThreshold;
  return {
    test: small ? 'ks' : 'wasserstein',
    kind: small ? 'pvalue' : 'distance',
    threshold: small ? o.alpha : o.wassersteinThreshold,
    referenceSize,
    sizeThreshold: o.sizeThreshold,
  };
}

/**
 * Jensen–Shannon when the reference has more than `sizeThreshold` rows; otherwise χ², or
 * Fisher's exact test when exactly two categories are present and an expected count is below 5.
 */
export function chooseCategoricalTest(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  options: DriftPolicyOptions = {},
): CategoricalTestChoice {
  const o = resolve(options);
  const [ref, cur] = presentCategories('chooseCategoricalTest', referenceCounts, currentCounts);
  const refTotal = ref.reduce((s, v) => s + v, 0);
  const curTotal = cur.reduce((s, v) => s + v, 0);
  const total = refTotal + curTotal;
  let minExpected = Infinity;
  for (let j = 0; j < ref.length; j += 1) {
    const column = ref[j] + cur[j];
    minExpected = Math.min(minExpected, (refTotal * column) / total, (curTotal * column) / total);
  }
  const common = {
    referenceSize: refTotal,
    sizeThreshold: o.sizeThreshold,
    categories: ref.length,
    minExpected,
  };
  if (refTotal > o.sizeThreshold) {
    return {
      test: 'jensenshannon',
      kind: 'distance',
      threshold: o.jensenShannonThreshold,
      ...common,
    };
  }
  const test = ref.length === 2 && minExpected < 5 ? 'fisher' : 'chi2';
  return { test, kind: 'pvalue', threshold: o.alpha, ...common };
}

/** Whether a score crosses the chosen test's threshold (p < α, or distance > threshold). */
export function isDrift(
  choice: { kind: DriftScoreKind; threshold: number },
  score: number,
): boolean {
  return choice.kind === 'pvalue' ? score < choice.threshold : score > choice.threshold;
}
