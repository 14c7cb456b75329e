/** Mean and standard deviation as the training reference computes them. */

import { accurateSum } from '../tabular/column';

export interface Moments {
  mean: number;
  /** Population standard deviation (ddof 0), as NumericReference.std. */
  std: number;
}

/**
 * Mean (compensated sum) and population std in two passes, the formulas of the training
 * reference's `summarise`, so that a window drawn from the training data reads as no shift.
 * `values` must be finite and non-empty.
 */
export function moments(values: Float64Array): Moments {
  const n = values.length;
  const mean = accurateSum(values) / n;
  const squares = new Float64Array(n);
  for (let i = 0; i < n; i += 1) squares[i] = (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(accurateSum(squares) / n) };
}
