/**
 * The two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp computes it
 * (scipy 1.17, scipy/stats/_stats_py.py and _stats_pythran.py), including its choice of method
 * and its fall-backs.
 */

import { sortedCopy } from '../robust';
import { kstwoSurvival } from './kolmogorov';

/** How the p-value is computed; 'auto' as scipy: exact when both samples have ≤ 10,000 values. */
export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsOptions {
  /** Default 'auto'. */
  readonly method?: KsMethod;
}

export interface KsResult {
  /** sup |F_a − F_b| over the pooled values; ties are steps of both empirical CDFs at once. */
  readonly statistic: number;
  readonly pvalue: number;
  /** The method that produced the p-value (scipy falls back from 'exact' to 'asymp'). */
  readonly method: 'exact' | 'asymp';
}

/** scipy's MAX_AUTO_N: 'auto' attempts the exact distribution up to this many values per sample. */
export const KS_MAX_AUTO_N = 10_000;
const INT32_MAX = 2147483647;

/**
 * scipy.stats.ks_2samp(a, b, alternative='two-sided', method=…). O((m + n) log(m + n)) for the
 * statistic; the exact p-value costs O(n) for equal sizes and O(m·w) otherwise, w being the
 * width of the band |x/m − y/n| < d (up to n when the samples are far apart: 10⁸ steps at
 * 10,000 × 9,999, a few hundred milliseconds, as in scipy).
 *
 * The statistic is scipy's too: in the exact method it is h / lcm(m, n), the rounded lattice
 * distance the p-value is computed for; in the asymptotic one, the difference of the two CDFs
 * as floating point gives it. Quirks kept: when the exact probability leaves [0, 1] by rounding
 * (e.g. 2·P = 1 + 2⁻⁵² for a one-step difference), scipy warns and uses the asymptotic p-value
 * at the rounded statistic; the asymptotic p-value is kstwo.sf(d, round(mn/(m + n))), with
 * NumPy's round-half-to-even, so one value against one value has n = 0 and a NaN p-value.
 *
 * Throws on an empty sample or a non-finite value (scipy would propagate NaN).
 */
export function ksTwoSample(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: KsOptions = {},
): KsResult {
  const requested = options.method ?? 'auto';
  if (requested !== 'auto' && requested !== 'exact' && requested !== 'asymp') {
    throw new RangeError(`ksTwoSample: unknown method ${String(requested)}`);
  }
  if (a.length === 0 || b.length === 0) {
    throw new RangeError('ksTwoSample: both samples need at least one value');
  }
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n1 = x.length;
  const n2 = y.length;
  let d = ksStatisticSorted(x, y);

  const g = gcd(n1, n2);
  const n1g = n1 / g;
  const n2g = n2 / g;
  let method: 'exact' | 'asymp';
  if (requested === 'auto') method = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  else if (requested === 'exact' && n1g >= INT32_MAX / n2g) method = 'asymp';
  else method = requested;

  let prob = NaN;
  if (method === 'exact') {
    const lcm = n1g * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    if (h === 0) prob = 1;
    else prob = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
    if (!(prob >= 0 && prob <= 1)) method = 'asymp';
  }
  if (method === 'asymp') {
    const m = Math.max(n1, n2);
    const n = Math.min(n1, n2);
    prob = kstwoSurvival(d, roundHalfEven((m * n) / (m + n)));
  }
  return { statistic: d, pvalue: Math.min(1, Math.max(0, prob)), method };
}

/**
 * max |F_x − F_y| over the pooled values of two sorted samples, as scipy: each CDF is
 * (number of values ≤ v) / size, evaluated after all values equal to v.
 */
export function ksStatisticSorted(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n1 = x.length;
  const n2 = y.length;
  let i = 0;
  let j = 0;
  let maxDiff = 0;
  let minDiff = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
    while (i < n1 && x[i] <= v) i += 1;
    while (j < n2 && y[j] <= v) j += 1;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(1, -minDiff);
  return minS > maxDiff ? minS : maxDiff;
}

function gcd(a: number, b: number): number {
  let p = a;
  let q = b;
  while (q !== 0) [p, q] = [q, p % q];
  return p;
}

/** NumPy's np.round: halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * P(D_{n,n} ≥ h/n) = 2 Σ_k (−1)^(k−1) C(2n, n − kh) / C(2n, n), scipy's
 * `_compute_prob_outside_square`: each ratio of binomials as h simple factors, nested
 * Horner-like to avoid the alternating sum's cancellation.
 */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k -= 1) {
    let p1 = 1;
    for (let j = 0; j < h; j += 1) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm,
 * scipy's `_compute_outer_prob_inside_method` (Hodges 1958; Viehmann 2021's recursion for
 * 1 − p): one sliding column of the path counts, scaled so that every entry stays in [0, 1].
 */
function probOutsideBand(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i += 1) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj += 1) {
      const j = jj + minj;
      val = (A[jj + shift] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1];
}
