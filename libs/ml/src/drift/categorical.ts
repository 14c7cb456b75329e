/**
 * The categorical drift test on two count vectors over the same categories, shared by
 * `featureDrift` (categorical feature columns) and `predictionDrift` (multiclass class counts).
 */

import { chiSquareTwoSample, presentCategories } from './chi2';
import { jensenShannonDistance } from './divergence';
import { fisherExact2x2 } from './fisher';
import {
  type CategoricalTestChoice,
  chooseCategoricalTest,
  type DriftPolicyOptions,
  type DriftScoreKind,
} from './policy';

/** One categorical comparison: a test (p-value) or a distance, before any correction. */
export interface CategoricalTestResult {
  readonly test: CategoricalTestChoice['test'];
  readonly kind: DriftScoreKind;
  readonly threshold: number;
  /** χ² statistic or the Jensen–Shannon distance (base 2); null for Fisher's exact test. */
  readonly statistic: number | null;
  /** χ² or Fisher p-value; null for Jensen–Shannon. */
  readonly pvalue: number | null;
  /** χ² degrees of freedom (categories present − 1); null otherwise. */
  readonly dof: number | null;
  /** Categories present in either sample. */
  readonly categories: number;
  /** What `threshold` applies to: the p-value, or the distance. */
  readonly score: number;
}

/**
 * Jensen–Shannon distance when `distance` (the caller's size rule says the samples are large),
 * otherwise χ² ({@link chiSquareTwoSample}), or Fisher's exact test when exactly two categories
 * are present and an expected count is below 5 — {@link chooseCategoricalTest} with the size
 * rule left to the caller. Categories empty in both samples are ignored; with one category
 * present χ² gives statistic 0 and p-value 1 (dof 0) and Jensen–Shannon 0. Throws when either
 * vector sums to 0.
 */
export function testCategoryCounts(
  fn: string,
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  distance: boolean,
  options: DriftPolicyOptions = {},
): CategoricalTestResult {
  // chooseCategoricalTest decides on the reference size; the size rule is applied by the
  // caller and the policy is left to pick between χ² and Fisher, or to give the JS threshold.
  const choice = chooseCategoricalTest(referenceCounts, currentCounts, {
    ...options,
    sizeThreshold: distance ? 0 : Infinity,
  });
  const common = {
    test: choice.test,
    kind: choice.kind,
    threshold: choice.threshold,
    categories: choice.categories,
  };
  switch (choice.test) {
    case 'jensenshannon': {
      const d = jensenShannonDistance(referenceCounts, currentCounts);
      return { ...common, statistic: d, pvalue: null, dof: null, score: d };
    }
    case 'fisher': {
      const [r, c] = presentCategories(fn, referenceCounts, currentCounts);
      const p = fisherExact2x2([
        [r[0], r[1]],
        [c[0], c[1]],
      ]);
      return { ...common, statistic: null, pvalue: p, dof: null, score: p };
    }
    case 'chi2': {
      const chi = chiSquareTwoSample(referenceCounts, currentCounts);
      return {
        ...common,
        statistic: chi.statistic,
        pvalue: chi.pvalue,
        dof: chi.dof,
        score: chi.pvalue,
      };
    }
  }
}
