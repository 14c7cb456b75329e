/**
 * Shared input handling for the tabular transforms: what counts as missing, the present values
 * of a column, and an accurate sum.
 */

/** One cell of a numeric column. `null` (and NaN, which JSON cannot carry) means missing. */
export type NumericValue = number | null;

/** A dense matrix as rows of equal length. */
export type NumericMatrix = readonly (readonly number[])[];

/** Missing: null, undefined or NaN. */
export function isMissing(value: number | null | undefined): value is null | undefined {
  return value === null || value === undefined || Number.isNaN(value);
}

/**
 * The present values of a column, for fitting. Missing values are skipped, as scikit-learn's
 * nan-aware fits do; ±Infinity throws, as scikit-learn's input validation does, because one
 * infinite value would make every fitted parameter meaningless. A column with nothing present
 * throws too: there is no JSON state that means "fitted on nothing" (NaN is not JSON).
 */
export function presentValues(column: readonly NumericValue[], fn: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < column.length; i += 1) {
    const v = column[i];
    if (isMissing(v)) continue;
    if (!Number.isFinite(v)) throw new RangeError(`${fn}: infinite value at index ${i}`);
    out.push(v);
  }
  if (out.length === 0) throw new RangeError(`${fn}: no present values to fit on`);
  return out;
}

/**
 * Σ values with Neumaier's compensation: within an ulp or two of the exact sum, so a mean of
 * values around 1e6 stays as good as numpy's pairwise sum (plain summation drifts by n·ε·1e6).
 */
export function accurateSum(values: ArrayLike<number>): number {
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + c;
}

/** Rows × columns of a rectangular matrix with at least one row; throws on ragged rows. */
export function shapeOf(X: NumericMatrix, fn: string): { rows: number; cols: number } {
  if (X.length === 0) throw new RangeError(`${fn}: X has no rows`);
  const cols = X[0].length;
  for (let i = 1; i < X.length; i += 1) {
    if (X[i].length !== cols) {
      throw new RangeError(`${fn}: row ${i} has ${X[i].length} columns, row 0 has ${cols}`);
    }
  }
  return { rows: X.length, cols };
}
