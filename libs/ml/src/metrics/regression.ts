/**
 * Regression metrics matching scikit-learn 1.x (`mean_absolute_error`,
 * `root_mean_squared_error`, `r2_score`). Sums are compensated (Neumaier), so values around 1e6
 * keep the accuracy of numpy's pairwise sums.
 */

import { accurateSum } from '../tabular/column';
import { checkFinite, checkPair } from './input';

export function meanAbsoluteError(yTrue: readonly number[], yPred: readonly number[]): number {
  check('meanAbsoluteError', yTrue, yPred);
  return accurateSum(yTrue.map((y, i) => Math.abs(y - yPred[i]))) / yTrue.length;
}

export function rootMeanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  check('rootMeanSquaredError', yTrue, yPred);
  return Math.sqrt(squaredErrorSum(yTrue, yPred) / yTrue.length);
}

/**
 * 1 − Σ(y − ŷ)² / Σ(y − ȳ)². NaN when y is constant (every value equal, one sample included):
 * the ratio is then 0/0 or x/0. sklearn's default `force_finite=True` returns 1 (perfect) or 0
 * there, and `force_finite=False` NaN or −Infinity; neither says how good the model is, and a
 * 1.0 would let a degenerate evaluation set pass any R² gate.
 */
export function r2Score(yTrue: readonly number[], yPred: readonly number[]): number {
  check('r2Score', yTrue, yPred);
  let lo = Infinity;
  let hi = -Infinity;
  for (const y of yTrue) {
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  if (lo === hi) return NaN;
  const mean = accurateSum(yTrue) / yTrue.length;
  const total = accurateSum(yTrue.map((y) => (y - mean) * (y - mean)));
  return 1 - squaredErrorSum(yTrue, yPred) / total;
}

function squaredErrorSum(yTrue: readonly number[], yPred: readonly number[]): number {
  return accurateSum(yTrue.map((y, i) => (y - yPred[i]) * (y - yPred[i])));
}

function check(fn: string, yTrue: readonly number[], yPred: readonly number[]): void {
  checkPair(fn, yTrue, yPred);
  checkFinite(fn, 'yTrue', yTrue);
  checkFinite(fn, 'yPred', yPred);
}
