/**
 * Exact order statistics on arrays: quantiles, median, IQR, MAD, and the mode of categorical
 * values. These are the reference the streaming estimators are measured against, and what a
 * batch (a window, a fitted transform) uses when it holds all its values anyway.
 *
 * Conventions follow numpy / scipy so results can be checked against them: quantiles use
 * numpy's default `method='linear'` (Hyndman & Fan type 7), MAD is
 * scipy.stats.median_abs_deviation. Empty input gives NaN (numpy's answer) rather than a throw,
 * so a window with no values yet reads as "unknown"; non-finite values throw, because a NaN
 * sorts nowhere and a missing value must be filtered or imputed before it is measured.
 */

/**
 * Φ⁻¹(3/4): the MAD of a normal distribution in units of its standard deviation. Dividing a MAD
 * by it gives a consistent estimate of σ (scipy's `scale='normal'`).
 */
export const NORMAL_MAD_SCALE = 0.6744897501960817;

/** A sorted copy as a Float64Array (numeric sort, unlike Array.prototype.sort's default). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i += 1) {
    const v = out[i];
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number at index ${i}: ${v}`);
  }
  return out.sort();
}

function checkP(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], got ${p}`);
}

/**
 * Quantile of already sorted values, numpy's 'linear' method: position (n − 1)·p, linear
 * interpolation between its two neighbours. The caller guarantees the order.
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  checkP(p);
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const i = Math.floor(h);
  const a = sorted[i];
  if (i >= n - 1) return a;
  const b = sorted[i + 1];
  const t = h - i;
  // numpy's _lerp: interpolate from the nearer end, so the result is exact at both ends and
  // never leaves [a, b] through rounding.
  return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t);
}

/** The p-quantile (0 ≤ p ≤ 1) with numpy's default linear method; NaN for no values. */
export function quantile(values: ArrayLike<number>, p: number): number {
  checkP(p);
  return quantileSorted(sortedCopy(values), p);
}

/** Several quantiles with one sort. */
export function quantiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  for (const p of ps) checkP(p);
  const sorted = sortedCopy(values);
  return ps.map((p) => quantileSorted(sorted, p));
}

/** The median (mean of the two middle values when the count is even); NaN for no values. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Interquartile range Q3 − Q1 (linear quantiles); NaN for no values. */
export function iqr(values: ArrayLike<number>): number {
  const sorted = sortedCopy(values);
  return quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
}

/**
 * How far `estimate` is from being the p-quantile of `sorted`, in quantile levels: the inverse
 * of {@link quantileSorted} maps the estimate back to the level (or range of levels, across ties)
 * at which the linear quantile equals it, and the answer is the distance from p to that range.
 * 0 means exact; 0.01 means the estimate is the 0.49- or 0.51-quantile when the 0.5-quantile
 * was asked for. Unlike a difference of values it needs no scale, so one bound serves every
 * distribution; it is how the streaming estimators' error is documented. NaN for no values.
 */
export function quantileRankError(sorted: ArrayLike<number>, estimate: number, p: number): number {
  checkP(p);
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return estimate === sorted[0] ? 0 : 1;
  // i: first index with sorted[i] ≥ estimate; j: first index with sorted[j] > estimate.
  const i = lowerBound(sorted, estimate, false);
  const j = lowerBound(sorted, estimate, true);
  let lo: number;
  let hi: number;
  if (j > i) {
    // The estimate equals sorted[i..j-1]: every level whose position falls in [i, j−1].
    lo = i;
    hi = j - 1;
  } else if (i === 0) {
    lo = hi = 0;
  } else if (i === n) {
    lo = hi = n - 1;
  } else {
    const a = sorted[i - 1];
    const b = sorted[i];
    lo = hi = i - 1 + (estimate - a) / (b - a);
  }
  const h = (n - 1) * p;
  return Math.max(0, lo - h, h - hi) / (n - 1);
}

/** First index whose value is ≥ x (or > x when `strict`), by binary search. */
function lowerBound(sorted: ArrayLike<number>, x: number, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (strict ? v <= x : v < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Options of {@link mad}. */
export interface MadOptions {
  /**
   * The MAD is divided by this. 1 (default) gives the raw median absolute deviation; 'normal'
   * divides by {@link NORMAL_MAD_SCALE} so that the result estimates σ for normal data.
   */
  readonly scale?: number | 'normal';
}

/** Median absolute deviation median(|x − median(x)|), as scipy.stats.median_abs_deviation. */
export function mad(values: ArrayLike<number>, options: MadOptions = {}): number {
  const scale = options.scale === 'normal' ? NORMAL_MAD_SCALE : (options.scale ?? 1);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`mad: bad scale ${scale}`);
  const sorted = sortedCopy(values);
  const m = quantileSorted(sorted, 0.5);
  const dev = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i += 1) dev[i] = Math.abs(sorted[i] - m);
  return quantileSorted(dev.sort(), 0.5) / scale;
}

/** A value a categorical field can hold. */
export type Category = string | number | boolean;

const TYPE_RANK: Record<'boolean' | 'number' | 'string', number> = {
  boolean: 0,
  number: 1,
  string: 2,
};

/**
 * A fixed total order on categories, used to break ties: booleans (false first), then numbers
 * ascending (NaN last), then strings by UTF-16 code units. Code-unit order rather than
 * localeCompare so that every machine and Node version agrees.
 */
export function compareCategories(a: Category, b: Category): number {
  const ta = TYPE_RANK[typeof a as 'boolean' | 'number' | 'string'];
  const tb = TYPE_RANK[typeof b as 'boolean' | 'number' | 'string'];
  if (ta !== tb) return ta - tb;
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The most frequent value, or undefined for no values. Ties go to the smallest value under
 * {@link compareCategories} (as scipy.stats.mode does for numbers), not to whichever came first,
 * so that the answer does not depend on arrival order: two replicas that saw the same values in
 * different orders impute the same.
 */
export function mode<T extends Category>(values: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | undefined;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && compareCategories(v, best as T) < 0)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}
