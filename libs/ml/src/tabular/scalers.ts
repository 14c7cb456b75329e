/**
 * Numeric column transforms with plain-JSON fitted states, matching scikit-learn 1.x:
 * `StandardScaler`, `RobustScaler` and `MinMaxScaler` (one column each), plus `log1p` and
 * clipping at fitted quantiles.
 *
 * Missing values (null, NaN) are ignored when fitting, as scikit-learn does. When applying, the
 * scalers map a missing value to 0 where scikit-learn passes NaN through, because a feature
 * vector for a model has to hold a number: 0 is the fitted center (mean, median) for the
 * standard and robust scalers; for min-max it is the image of the data minimum with the
 * default range [0, 1]. Impute first if another value is wanted. `log1p` and `applyClip` come
 * before a scaler, so they pass a missing value on as null.
 */

import { sortedCopy, quantileSorted } from '../robust';
import { accurateSum, isMissing, type NumericValue, presentValues } from './column';

/**
 * scikit-learn's `_handle_zeros_in_scale`: a scale this close to 0 is a constant feature, and
 * dividing by it would blow rounding noise up into values; scale 1 leaves it centered.
 */
const ZERO_SCALE = 10 * Number.EPSILON;

/** Fitted `StandardScaler`: `mean_` and `scale_` (population standard deviation). */
export interface StandardState {
  readonly mean: number;
  readonly scale: number;
}

/**
 * StandardScaler: mean and population std of the present values; std 1 for a feature that is
 * constant up to rounding (scikit-learn's `_is_constant_feature` bound on the variance: three
 * times 0.7 has a mean of 0.6999999999999998 and so a variance of 1e-32, not 0).
 */
export function fitStandard(column: readonly NumericValue[]): StandardState {
  const xs = presentValues(column, 'fitStandard');
  const n = xs.length;
  const mean = accurateSum(xs) / n;
  // scikit-learn's corrected two-pass variance (Chan, Golub & LeVeque): the correction term
  // removes most of the error left in the mean.
  let correction = 0;
  let squares = 0;
  for (const x of xs) {
    const d = x - mean;
    correction += d;
    squares += d * d;
  }
  const variance = (squares - (correction * correction) / n) / n;
  const eps = Number.EPSILON;
  const constant = variance <= n * eps * variance + (n * mean * eps) ** 2;
  return { mean, scale: constant ? 1 : Math.sqrt(variance) };
}

/** (x − mean) / scale; missing → 0 (the mean). */
export function applyStandard(value: NumericValue, state: StandardState): number {
  if (isMissing(value)) return 0;
  return (value - state.mean) / state.scale;
}

/** Fitted `RobustScaler`: `center_` (median) and `scale_` (inter-quantile range). */
export interface RobustState {
  readonly center: number;
  readonly scale: number;
}

export interface RobustOptions {
  /** Percentiles, 0 ≤ lo ≤ hi ≤ 100, as scikit-learn's `quantile_range`. Default [25, 75]. */
  readonly quantileRange?: readonly [number, number];
}

/**
 * RobustScaler with `with_centering` and `with_scaling`: center = median, scale = the
 * difference of two percentiles (numpy's linear interpolation), 1 when that is 0.
 */
export function fitRobust(
  column: readonly NumericValue[],
  options: RobustOptions = {},
): RobustState {
  const [qLo, qHi] = options.quantileRange ?? [25, 75];
  if (!(qLo >= 0 && qLo <= qHi && qHi <= 100)) {
    throw new RangeError(`fitRobust: invalid quantileRange [${qLo}, ${qHi}]`);
  }
  const sorted = sortedCopy(presentValues(column, 'fitRobust'));
  const n = sorted.length;
  const mid = n >> 1;
  // numpy's median: the mean of the two middle values, (a + b) / 2, not an interpolation.
  const center = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  // Divided by 100 like numpy's percentile, so both reach the same quantile level.
  const scale = quantileSorted(sorted, qHi / 100) - quantileSorted(sorted, qLo / 100);
  return { center, scale: scale < ZERO_SCALE ? 1 : scale };
}

/** (x − center) / scale; missing → 0 (the median). */
export function applyRobust(value: NumericValue, state: RobustState): number {
  if (isMissing(value)) return 0;
  return (value - state.center) / state.scale;
}

/** Fitted `MinMaxScaler`: `min_` and `scale_`, applied as x · scale + min. */
export interface MinMaxState {
  readonly min: number;
  readonly scale: number;
}

export interface MinMaxOptions {
  /** Image of [data min, data max]; lo < hi. Default [0, 1]. */
  readonly featureRange?: readonly [number, number];
}

/**
 * MinMaxScaler: scale = (hi − lo) / (max − min), min = lo − dataMin · scale. A constant column
 * (range < 10 ε) gets range 1, so it maps to `lo`, as in scikit-learn.
 */
export function fitMinMax(
  column: readonly NumericValue[],
  options: MinMaxOptions = {},
): MinMaxState {
  const [lo, hi] = options.featureRange ?? [0, 1];
  if (!(lo < hi)) throw new RangeError(`fitMinMax: invalid featureRange [${lo}, ${hi}]`);
  const xs = presentValues(column, 'fitMinMax');
  let dataMin = Infinity;
  let dataMax = -Infinity;
  for (const x of xs) {
    if (x < dataMin) dataMin = x;
    if (x > dataMax) dataMax = x;
  }
  const range = dataMax - dataMin;
  const scale = (hi - lo) / (range < ZERO_SCALE ? 1 : range);
  return { min: lo - dataMin * scale, scale };
}

/**
 * x · scale + min (scikit-learn's order of operations); missing → 0, which is the image of the
 * data minimum with the default range [0, 1] and the middle of the data range with [−1, 1].
 * Values outside the fitted range map outside the feature range (scikit-learn's `clip=False`).
 */
export function applyMinMax(value: NumericValue, state: MinMaxState): number {
  if (isMissing(value)) return 0;
  return value * state.scale + state.min;
}

/**
 * ln(1 + x), accurate near 0. Values ≤ −1 are missing (null) rather than numpy's −Infinity / NaN:
 * neither is JSON, and clamping to −1 + ε would invent a huge negative feature value out of
 * what is almost always a data error (a negative amount).
 */
export function log1p(value: NumericValue): number | null {
  if (value === null || !(value > -1)) return null;
  return Math.log1p(value);
}

/** Clip bounds; null means unbounded on that side (JSON has no Infinity). */
export interface ClipState {
  readonly lo: number | null;
  readonly hi: number | null;
}

/**
 * Either quantile levels in [0, 1] (numpy's linear `nanquantile` of the present values) or fixed
 * bounds; null leaves that side open. Fixed bounds go through `fitClip` too so that a
 * configuration-driven pipeline fits every column the same way.
 */
export type ClipOptions =
  | { readonly quantiles: readonly [number | null, number | null] }
  | { readonly bounds: readonly [number | null, number | null] };

/** `np.clip(x, *np.nanquantile(x, quantiles))` as a state, or fixed bounds. */
export function fitClip(column: readonly NumericValue[], options: ClipOptions): ClipState {
  let lo: number | null;
  let hi: number | null;
  if ('quantiles' in options) {
    const [qLo, qHi] = options.quantiles;
    for (const q of [qLo, qHi]) {
      if (q !== null && !(q >= 0 && q <= 1)) {
        throw new RangeError(`fitClip: quantile level must be in [0, 1], got ${q}`);
      }
    }
    const sorted = sortedCopy(presentValues(column, 'fitClip'));
    lo = qLo === null ? null : quantileSorted(sorted, qLo);
    hi = qHi === null ? null : quantileSorted(sorted, qHi);
  } else {
    [lo, hi] = options.bounds;
    for (const b of [lo, hi]) {
      if (b !== null && !Number.isFinite(b)) {
        throw new RangeError(`fitClip: a bound must be finite or null, got ${b}`);
      }
    }
  }
  if (lo !== null && hi !== null && lo > hi) {
    throw new RangeError(`fitClip: lower bound ${lo} is above upper bound ${hi}`);
  }
  return { lo, hi };
}

/** The value clipped to [lo, hi]; missing stays missing (null). */
export function applyClip(value: NumericValue, state: ClipState): number | null {
  if (isMissing(value)) return null;
  let v = value;
  if (state.lo !== null && v < state.lo) v = state.lo;
  if (state.hi !== null && v > state.hi) v = state.hi;
  return v;
}
