/**
 * Univariate feature selection over a dense matrix (rows of equal length) and class labels,
 * matching scikit-learn 1.x: `VarianceThreshold`, `feature_selection.chi2`,
 * `mutual_info_classif(discrete_features=True)` and `SelectKBest`'s choice of columns.
 */

import type { Category } from '../robust';
import { accurateSum, type NumericMatrix, shapeOf } from './column';
import { chi2Survival } from './gamma';

/**
 * Population variance of each column, NaN cells ignored (numpy's `nanvar`); NaN for a column
 * with no values.
 */
export function columnVariances(X: NumericMatrix): number[] {
  const { rows, cols } = shapeOf(X, 'columnVariances');
  const out: number[] = [];
  const column = new Float64Array(rows);
  for (let j = 0; j < cols; j += 1) {
    let n = 0;
    for (let i = 0; i < rows; i += 1) {
      const v = X[i][j];
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v)) throw new RangeError(`columnVariances: X[${i}][${j}] is ${v}`);
      column[n] = v;
      n += 1;
    }
    const values = column.subarray(0, n);
    const mean = accurateSum(values) / n;
    let squares = 0;
    for (const v of values) squares += (v - mean) * (v - mean);
    out.push(squares / n);
  }
  return out;
}

/**
 * Indices of the columns whose population variance is above `threshold`, as
 * `VarianceThreshold(threshold).fit(X).get_support(indices=True)`. With threshold 0 a column's
 * variance is taken as min(variance, max − min), scikit-learn's guard that makes a constant
 * column read exactly 0 despite rounding. Where scikit-learn raises because nothing passes,
 * this returns [] and leaves the decision to the caller.
 */
export function varianceThreshold(X: NumericMatrix, threshold = 0): number[] {
  if (!(threshold >= 0)) throw new RangeError(`varianceThreshold: threshold ${threshold} < 0`);
  const variances = columnVariances(X);
  const selected: number[] = [];
  variances.forEach((variance, j) => {
    let v = variance;
    if (threshold === 0) {
      let lo = Infinity;
      let hi = -Infinity;
      let hasNaN = false;
      for (const row of X) {
        const x = row[j];
        if (Number.isNaN(x)) hasNaN = true;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      // numpy's ptp is NaN when a NaN is present, and nanmin then keeps the variance.
      if (!hasNaN && hi - lo < v) v = hi - lo;
    }
    if (v > threshold) selected.push(j);
  });
  return selected;
}

/** Class of each row as 0 … k − 1 (first-seen order; the statistics do not depend on it). */
function classIndex(y: readonly Category[], rows: number, fn: string): Int32Array {
  if (y.length !== rows) throw new RangeError(`${fn}: ${y.length} labels for ${rows} rows`);
  const classes = new Map<Category, number>();
  const out = new Int32Array(rows);
  y.forEach((label, i) => {
    if (typeof label === 'number' && Number.isNaN(label)) {
      throw new RangeError(`${fn}: label ${i} is NaN`);
    }
    let c = classes.get(label);
    if (c === undefined) {
      c = classes.size;
      classes.set(label, c);
    }
    out[i] = c;
  });
  return out;
}

function classCount(cls: Int32Array): number {
  let k = 0;
  for (const c of cls) if (c + 1 > k) k = c + 1;
  return k;
}

export interface Chi2Result {
  readonly scores: number[];
  readonly pValues: number[];
}

/**
 * scikit-learn's `chi2(X, y)`: for each column, Pearson's χ² between the per-class sums of its
 * (non-negative) values and the sums expected if the column ignored the class, with k − 1
 * degrees of freedom for k classes; p-values are χ² survival probabilities. A column of zeros
 * scores NaN (0/0), as does every column when y has a single class — scikit-learn's answers,
 * kept so that NaN means "no evidence either way" rather than a fake 0.
 */
export function chi2(X: NumericMatrix, y: readonly Category[]): Chi2Result {
  const { rows, cols } = shapeOf(X, 'chi2');
  const cls = classIndex(y, rows, 'chi2');
  // One class: scikit-learn's binariser adds an empty second class, whose expected counts are 0.
  const k = Math.max(2, classCount(cls));
  const observed = Array.from({ length: k }, () => new Float64Array(cols));
  const classRows = new Float64Array(k);
  const featureCount = new Float64Array(cols);
  for (let i = 0; i < rows; i += 1) {
    const row = X[i];
    const obs = observed[cls[i]];
    classRows[cls[i]] += 1;
    for (let j = 0; j < cols; j += 1) {
      const v = row[j];
      // Also rejects NaN; Infinity would make every statistic NaN.
      if (!(v >= 0 && v < Infinity)) {
        throw new RangeError(`chi2: X must be finite and non-negative, X[${i}][${j}] is ${v}`);
      }
      obs[j] += v;
      featureCount[j] += v;
    }
  }
  const scores: number[] = [];
  const pValues: number[] = [];
  for (let j = 0; j < cols; j += 1) {
    let stat = 0;
    for (let c = 0; c < k; c += 1) {
      const expected = (classRows[c] / rows) * featureCount[j];
      const d = observed[c][j] - expected;
      stat += (d * d) / expected;
    }
    scores.push(stat);
    pValues.push(chi2Survival(stat, k - 1));
  }
  return { scores, pValues };
}

/**
 * Mutual information (nats) between each column, read as discrete values, and the class:
 * `mutual_info_classif(X, y, discrete_features=True)`, i.e. `mutual_info_score` on the
 * contingency table — the exact plug-in estimate Σ p(x,y) ln(p(x,y) / (p(x) p(y))), no
 * neighbours and no noise. Same arithmetic as scikit-learn: cells below ε count 0 and the sum
 * is clipped at 0; a column or label with one value has MI 0.
 */
export function mutualInfoDiscrete(X: NumericMatrix, y: readonly Category[]): number[] {
  const { rows, cols } = shapeOf(X, 'mutualInfoDiscrete');
  const cls = classIndex(y, rows, 'mutualInfoDiscrete');
  const k = classCount(cls);
  const classTotals = new Float64Array(k);
  for (const c of cls) classTotals[c] += 1;
  const logN = Math.log(rows);
  const out: number[] = [];
  for (let j = 0; j < cols; j += 1) {
    // value → per-class counts
    const table = new Map<number, Float64Array>();
    for (let i = 0; i < rows; i += 1) {
      const v = X[i][j];
      if (!Number.isFinite(v)) {
        throw new RangeError(`mutualInfoDiscrete: X[${i}][${j}] is ${v}`);
      }
      let counts = table.get(v);
      if (counts === undefined) {
        counts = new Float64Array(k);
        table.set(v, counts);
      }
      counts[cls[i]] += 1;
    }
    if (table.size === 1 || k === 1) {
      out.push(0);
      continue;
    }
    let mi = 0;
    for (const counts of table.values()) {
      let rowTotal = 0;
      for (const n of counts) rowTotal += n;
      for (let c = 0; c < k; c += 1) {
        const nij = counts[c];
        if (nij === 0) continue;
        const p = nij / rows;
        const term =
          p * (Math.log(nij) - logN) + p * (-Math.log(rowTotal * classTotals[c]) + logN + logN);
        if (Math.abs(term) >= Number.EPSILON) mi += term;
      }
    }
    out.push(Math.max(0, mi));
  }
  return out;
}

/**
 * Indices of the k highest scores, returned in ascending index order (as
 * `SelectKBest.get_support(indices=True)`). NaN ranks below everything, −Infinity included;
 * ties go to the lower index. scikit-learn differs on ties (its stable ascending sort keeps
 * the higher index) and ranks NaN just above −Infinity. k ≥ the number of scores selects all.
 */
export function selectTopK(scores: readonly number[], k: number): number[] {
  if (!(Number.isInteger(k) && k >= 0)) {
    throw new RangeError(`selectTopK: k must be an integer ≥ 0, got ${k}`);
  }
  const order = scores.map((_, i) => i);
  order.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    const na = Number.isNaN(sa);
    const nb = Number.isNaN(sb);
    if (na !== nb) return na ? 1 : -1;
    if (sa > sb) return -1;
    if (sa < sb) return 1;
    return a - b;
  });
  return order.slice(0, k).sort((a, b) => a - b);
}
