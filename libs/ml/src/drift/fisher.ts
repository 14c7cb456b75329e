/**
 * Fisher's exact test on a 2×2 table, two-sided, as scipy.stats.fisher_exact (scipy 1.17).
 */

/** [[a, b], [c, d]]: rows are the two samples (reference, current), columns two categories. */
export type Table2x2 = readonly [readonly [number, number], readonly [number, number]];

// scipy's relative tolerance for "as probable as the observed table".
const TIE_EPSILON = 1e-14;
const GAMMA = 1 + TIE_EPSILON;

/**
 * The two-sided p-value of scipy.stats.fisher_exact(table, alternative='two-sided'): the
 * probability, under the hypergeometric law of table[0][0] given the margins, of every table
 * no more probable than the observed one (scipy's rule: pmf below pmf(observed)·(1 + 1e-14), the
 * tail on the far side of the mode found from scipy's mode ⌊(n + 1)(n₁ + 1)/(N + 2)⌋). 1 when a
 * row or a column sums to 0.
 *
 * The pmf is not formed from log-gamma values: every probability is a product of the ratios
 * pmf(k + 1)/pmf(k) = (n₁ − k)(n − k) / ((k + 1)(n₂ − n + k + 1)) outward from the mode, divided
 * by their sum over the support. Each ratio is one division of exact integers, so relative
 * error grows with the distance from the mode only (≤ 1e-13 below ~500 steps), where ln Γ of
 * totals around 10⁶ alone would carry ~1e-9 (its rounding times 1.4·10⁷). Mirror-image tables
 * get bitwise equal weights, so exact ties fall inside scipy's 1e-14 tolerance. O(support).
 * Weights below 1e-308 of the mode's underflow to 0: p-values under ~1e-300 come out as 0.
 */
export function fisherExact2x2(table: Table2x2): number {
  const cells = [table[0][0], table[0][1], table[1][0], table[1][1]];
  for (const c of cells) {
    if (!Number.isSafeInteger(c) || c < 0) {
      throw new RangeError(`fisherExact2x2: counts must be non-negative integers, got ${c}`);
    }
  }
  const [a, b, c, d] = cells;
  const n1 = a + b;
  const n2 = c + d;
  const n = a + c;
  if (n1 === 0 || n2 === 0 || n === 0 || b + d === 0) return 1;
  const total = n1 + n2;
  const lo = Math.max(0, n - n2);
  const hi = Math.min(n, n1);
  const mode = Math.trunc(((n + 1) * (n1 + 1)) / (total + 2));

  // w[k − lo] = pmf(k) / pmf(mode).
  const w = new Float64Array(hi - lo + 1);
  w[mode - lo] = 1;
  for (let k = mode; k < hi; k += 1) {
    w[k + 1 - lo] = (w[k - lo] * ((n1 - k) * (n - k))) / ((k + 1) * (n2 - n + k + 1));
  }
  for (let k = mode; k > lo; k -= 1) {
    w[k - 1 - lo] = (w[k - lo] * (k * (n2 - n + k))) / ((n1 - k + 1) * (n - k + 1));
  }
  let sum = 0;
  for (let i = w.length - 1; i >= 0; i -= 1) sum += w[i];

  const pExact = w[a - lo];
  if (Math.abs(pExact - 1) / Math.max(pExact, 1) <= TIE_EPSILON) return 1;
  const threshold = pExact * GAMMA;
  // Tails are summed from their far ends inwards, smallest terms first. The far tail is
  // pmf < threshold above the mode but pmf ≤ threshold below it: scipy's two binary searches.
  let tail = 0;
  if (a < mode) {
    for (let k = lo; k <= a; k += 1) tail += w[k - lo];
    for (let k = hi; k > mode && w[k - lo] < threshold; k -= 1) tail += w[k - lo];
  } else {
    for (let k = hi; k >= a; k -= 1) tail += w[k - lo];
    for (let k = lo; k < mode && w[k - lo] <= threshold; k += 1) tail += w[k - lo];
  }
  return Math.min(1, tail / sum);
}
