/**
 * Input checks shared by the metrics. scikit-learn raises on mismatched lengths, empty input,
 * NaN or infinite values and unknown labels; so do these, with the function's name in the
 * message, because every one of them is a caller's bug rather than a property of a model.
 */

/** Labels of a binary task: 0 (negative) or 1 (positive). */
export type BinaryLabels = readonly number[];

/** Class probabilities (or scores), one row of K values per sample. */
export type ProbabilityRows = readonly (readonly number[])[];

export function checkPair(fn: string, yTrue: readonly unknown[], yPred: readonly unknown[]): void {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`${fn}: yTrue has ${yTrue.length} values, yPred ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new RangeError(`${fn}: no samples`);
}

export function checkFinite(fn: string, what: string, values: readonly number[]): void {
  for (let i = 0; i < values.length; i += 1) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${fn}: ${what}[${i}] is ${values[i]}`);
  }
}

export function checkBinaryLabels(fn: string, yTrue: BinaryLabels): void {
  for (let i = 0; i < yTrue.length; i += 1) {
    const y = yTrue[i];
    if (y !== 0 && y !== 1) throw new RangeError(`${fn}: yTrue[${i}] is ${y}, expected 0 or 1`);
  }
}

/** Number of classes K of a probability matrix; every row must have K ≥ 2 finite values. */
export function classCount(fn: string, rows: ProbabilityRows): number {
  const k = rows.length === 0 ? 0 : rows[0].length;
  if (k < 2) throw new RangeError(`${fn}: rows need at least 2 classes, got ${k}`);
  rows.forEach((row, i) => {
    if (row.length !== k)
      throw new RangeError(`${fn}: row ${i} has ${row.length} values, not ${k}`);
    checkFinite(fn, `yPred[${i}]`, row);
  });
  return k;
}

export function checkClassLabels(fn: string, yTrue: readonly number[], k: number): void {
  for (let i = 0; i < yTrue.length; i += 1) {
    const y = yTrue[i];
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new RangeError(`${fn}: yTrue[${i}] is ${y}, expected an integer in [0, ${k})`);
    }
  }
}

export function isProbability(p: number): boolean {
  return p >= 0 && p <= 1;
}

/** NaN as null, for the JSON reports (JSON.stringify would write null anyway). */
export function orNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
