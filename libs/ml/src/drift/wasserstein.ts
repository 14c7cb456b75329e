/**
 * The 1-Wasserstein (earth mover's) distance between two samples, as
 * scipy.stats.wasserstein_distance, and its scale-free form used for drift.
 */

import { sortedCopy } from '../robust';
import { accurateSum } from '../tabular/column';

/**
 * scipy.stats.wasserstein_distance(a, b) without weights: ∫ |F_a − F_b|, the area between the
 * two empirical CDFs, in the units of the values. O((m + n) log(m + n)). Throws on an empty
 * sample or a non-finite value.
 */
export function wassersteinDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check('wassersteinDistance', a, b);
  return wassersteinSorted(sortedCopy(a), sortedCopy(b));
}

/**
 * wassersteinDistance(reference, current) divided by the population standard deviation
 * (ddof 0, NumPy's np.std default) of the reference: a shift of 0.1 is a tenth of the
 * reference's spread whatever the feature's unit — Evidently's "normed" Wasserstein, whose
 * default drift threshold is 0.1. When every reference value is the same (std 0) the distance
 * itself is returned: it is then the mean distance of the current values to that constant.
 * Decided on min = max rather than on the computed std, which rounding leaves at ~1e-17 for a
 * constant 0.1 and would turn into a ratio of 10¹⁶.
 */
export function normalisedWasserstein(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): number {
  check('normalisedWasserstein', reference, current);
  const ref = sortedCopy(reference);
  const distance = wassersteinSorted(ref, sortedCopy(current));
  if (ref[0] === ref[ref.length - 1]) return distance;
  const mean = accurateSum(ref) / ref.length;
  const squares = new Float64Array(ref.length);
  for (let i = 0; i < ref.length; i += 1) squares[i] = (ref[i] - mean) ** 2;
  return distance / Math.sqrt(accurateSum(squares) / ref.length);
}

/** ∫ |F_u − F_v| for sorted samples: a walk over the pooled values, one step per value. */
export function wassersteinSorted(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  // The pooled sorted values, consumed one at a time; between two consecutive ones both CDFs
  // are constant (counts of values ≤ the left one, as scipy's searchsorted(…, 'right')).
  let prev = nu > 0 && (nv === 0 || u[0] <= v[0]) ? u[0] : v[0];
  let sum = 0;
  let c = 0;
  while (i < nu || j < nv) {
    const takeU = j >= nv || (i < nu && u[i] <= v[j]);
    const x = takeU ? u[i] : v[j];
    if (x !== prev) {
      // Counts of values ≤ prev: everything consumed so far.
      const term = Math.abs(i / nu - j / nv) * (x - prev);
      const t = sum + term;
      c += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
      sum = t;
      prev = x;
    }
    if (takeU) i += 1;
    else j += 1;
  }
  return sum + c;
}

function check(fn: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length === 0 || b.length === 0) {
    throw new RangeError(`${fn}: both samples need at least one value`);
  }
}
