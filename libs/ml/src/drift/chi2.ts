/**
 * Pearson's χ² test of independence on a contingency table, as scipy.stats.chi2_contingency
 * with correction=False (scipy 1.17), and its two-sample form for category counts.
 */

import { chiSquareSurvival } from './gamma';
import { accurateSum } from '../tabular/column';

export interface ChiSquareResult {
  /** Σ (observed − expected)² / expected over every cell. */
  readonly statistic: number;
  /** P(χ²(dof) ≥ statistic); 1 when dof is 0. */
  readonly pvalue: number;
  /** (rows − 1)(columns − 1). */
  readonly dof: number;
}

/**
 * scipy.stats.chi2_contingency(table, correction=False) for an r×c table of non-negative
 * counts: expected counts from the margins, no Yates correction. Like scipy it throws when an
 * expected count is 0 (a row or column summing to 0), and returns statistic 0 and p-value 1
 * when dof = 0 (a single row or column).
 */
export function chiSquareContingency(table: readonly (readonly number[])[]): ChiSquareResult {
  const rows = table.length;
  const cols = rows > 0 ? table[0].length : 0;
  if (rows === 0 || cols === 0) throw new RangeError('chiSquareContingency: empty table');
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  for (let i = 0; i < rows; i += 1) {
    if (table[i].length !== cols) {
      throw new RangeError(
        `chiSquareContingency: row ${i} has ${table[i].length} cells, row 0 has ${cols}`,
      );
    }
    for (let j = 0; j < cols; j += 1) {
      const v = table[i][j];
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new RangeError(`chiSquareContingency: table[${i}][${j}] is ${v}, not a count`);
      }
      rowSums[i] += v;
      colSums[j] += v;
    }
  }
  let total = 0;
  for (const r of rowSums) total += r;
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < cols; j += 1) {
      if (rowSums[i] * colSums[j] === 0) {
        throw new RangeError(
          `chiSquareContingency: expected count of cell [${i}][${j}] is 0 (an empty row or column)`,
        );
      }
    }
  }
  const dof = (rows - 1) * (cols - 1);
  if (dof === 0) return { statistic: 0, pvalue: 1, dof };
  const terms = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < cols; j += 1) {
      const expected = (rowSums[i] * colSums[j]) / total;
      const diff = table[i][j] - expected;
      terms[i * cols + j] = (diff * diff) / expected;
    }
  }
  const statistic = accurateSum(terms);
  return { statistic, pvalue: chiSquareSurvival(statistic, dof), dof };
}

/**
 * The χ² test of "same category distribution" for two samples' counts over the same categories:
 * chi2_contingency([reference, current], correction=False) after dropping the categories
 * absent from both (scipy would reject their zero expected counts). dof = categories kept − 1;
 * with one category kept, statistic 0 and p-value 1. Throws when either sample has no counts.
 */
export function chiSquareTwoSample(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
): ChiSquareResult {
  const [ref, cur] = presentCategories('chiSquareTwoSample', referenceCounts, currentCounts);
  return chiSquareContingency([ref, cur]);
}

/** The two count vectors without the categories that are 0 in both; validated. */
export function presentCategories(
  fn: string,
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
): [number[], number[]] {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError(
      `${fn}: ${referenceCounts.length} reference categories, ${currentCounts.length} current`,
    );
  }
  const ref: number[] = [];
  const cur: number[] = [];
  let refTotal = 0;
  let curTotal = 0;
  for (let i = 0; i < referenceCounts.length; i += 1) {
    const r = referenceCounts[i];
    const c = currentCounts[i];
    for (const [name, v] of [
      ['reference', r],
      ['current', c],
    ] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new RangeError(`${fn}: ${name} count ${i} is ${v}, not a count`);
      }
    }
    refTotal += r;
    curTotal += c;
    if (r + c > 0) {
      ref.push(r);
      cur.push(c);
    }
  }
  if (refTotal === 0 || curTotal === 0) {
    throw new RangeError(`${fn}: the ${refTotal === 0 ? 'reference' : 'current'} counts are all 0`);
  }
  return [ref, cur];
}
