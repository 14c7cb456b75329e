/**
 * Distances between category distributions (Jensen–Shannon, PSI), and the quantile bins that
 * turn a numeric feature into one.
 */

import { quantileSorted, sortedCopy } from '../robust';
import { accurateSum } from '../tabular/column';

/**
 * scipy.spatial.distance.jensenshannon(p, q, base): √(JS divergence), p and q first divided by
 * their sums (so counts work as they are). With base 2 it lies in [0, 1]: 0 for the same
 * distribution, 1 for disjoint supports. Evidently flags drift above 0.1.
 *
 * Computed without scipy's cancellation. scipy sums p·ln(p/m) + q·ln(q/m), m = (p + q)/2,
 * whose first-order parts cancel between the two sides, so for close distributions it keeps
 * ~1e-16/distance absolute accuracy: 1e-10 relative at distance 3e-4, 1e-4 at 1e-6, and a NaN
 * when the sum rounds below 0. Here each category adds m·h(t), t = (p − q)/(p + q) taken from
 * the raw counts, h(t) = (1 + t)ln(1 + t) + (1 − t)ln(1 − t) = Σ t²ᵏ/(k(2k − 1)) ≥ 0, summed as a
 * series for |t| < 1/2: full relative precision at any distance. Where scipy is itself accurate
 * the two agree to ~1e-15; the fixture holds 50-digit values to show which one is off otherwise.
 */
export function jensenShannonDistance(
  p: readonly number[],
  q: readonly number[],
  base = 2,
): number {
  if (p.length !== q.length) {
    throw new RangeError(`jensenShannonDistance: p has ${p.length} values, q ${q.length}`);
  }
  if (!(base > 0) || base === 1 || !Number.isFinite(base)) {
    throw new RangeError(`jensenShannonDistance: bad base ${base}`);
  }
  const pn = normalise('jensenShannonDistance', 'p', p);
  const qn = normalise('jensenShannonDistance', 'q', q);
  const pTotal = accurateSum(p);
  const qTotal = accurateSum(q);
  const terms = new Float64Array(p.length);
  for (let i = 0; i < p.length; i += 1) {
    // (p/Σp − q/Σq) / (p/Σp + q/Σq) from cross products, exact while they stay below 2^53.
    const a = p[i] * qTotal;
    const b = q[i] * pTotal;
    if (a + b === 0) continue;
    terms[i] = ((pn[i] + qn[i]) / 2) * symmetricEntropyGap((a - b) / (a + b));
  }
  const js = accurateSum(terms) / Math.log(base);
  return Math.sqrt(js / 2);
}

/** (1 + t)ln(1 + t) + (1 − t)ln(1 − t) for |t| ≤ 1, by its series Σ t²ᵏ/(k(2k − 1)) near 0. */
function symmetricEntropyGap(t: number): number {
  const at = Math.abs(t);
  if (at === 1) return 2 * Math.LN2;
  if (at >= 0.5) return (1 + at) * Math.log1p(at) + (1 - at) * Math.log1p(-at);
  const t2 = t * t;
  let power = t2;
  let sum = t2;
  for (let k = 2; ; k += 1) {
    power *= t2;
    const term = power / (k * (2 * k - 1));
    sum += term;
    if (term <= sum * Number.EPSILON * 0.5) return sum;
  }
}

function normalise(fn: string, name: string, values: readonly number[]): Float64Array {
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: ${name}[${i}] is ${v}; need non-negative finite values`);
    }
  }
  const total = accurateSum(values);
  if (!(total > 0)) throw new RangeError(`${fn}: ${name} sums to 0`);
  return Float64Array.from(values, (v) => v / total);
}

/** The floor applied to bin proportions by {@link psi}; Evidently's 0.0001. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index of two histograms over the same bins:
 *
 *   PSI = Σᵢ (cᵢ − rᵢ) · ln(cᵢ / rᵢ),  rᵢ = max(refᵢ / Σref, ε),  cᵢ = max(curᵢ / Σcur, ε).
 *
 * The floor ε (default 1e-4) keeps an empty bin finite; it equals Evidently's rule (an empty
 * bin's share replaced by 0.0001) unless a non-empty bin's share is itself below ε, where the
 * floor is what keeps the index monotone in that share. Bins empty on both sides add 0. Usual
 * reading: < 0.1 stable, 0.1–0.25 some shift, > 0.25 a major shift. Counts are validated like
 * {@link jensenShannonDistance}'s.
 */
export function psi(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError(
      `psi: ${referenceCounts.length} reference bins, ${currentCounts.length} current bins`,
    );
  }
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`psi: epsilon must be in (0, 1)`);
  const r = normalise('psi', 'referenceCounts', referenceCounts);
  const c = normalise('psi', 'currentCounts', currentCounts);
  const terms = new Float64Array(r.length);
  for (let i = 0; i < r.length; i += 1) {
    const ri = Math.max(r[i], epsilon);
    const ci = Math.max(c[i], epsilon);
    terms[i] = (ci - ri) * Math.log(ci / ri);
  }
  return accurateSum(terms);
}

/**
 * Interior cut points of `bins` quantile bins of the reference: the i/bins quantiles
 * (i = 1 … bins − 1, NumPy's linear method, as np.quantile) with repeats removed, so heavily
 * tied data gets fewer, non-empty bins. The outer bins are open: with {@link histogram} every
 * current value lands in a bin, however far outside the reference's range.
 */
export function binEdges(reference: ArrayLike<number>, bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`binEdges: bins must be a positive integer, got ${bins}`);
  }
  if (reference.length === 0) throw new RangeError('binEdges: no reference values');
  const sorted = sortedCopy(reference);
  const edges: number[] = [];
  for (let i = 1; i < bins; i += 1) {
    const q = quantileSorted(sorted, i / bins);
    if (edges.length === 0 || q !== edges[edges.length - 1]) edges.push(q);
  }
  return edges;
}

/**
 * Counts of `values` in the edges.length + 1 bins (−∞, e₀), [e₀, e₁), …, [e_last, +∞) — bin
 * index = number of edges ≤ value (np.searchsorted(edges, v, side='right')). Edges must be
 * strictly increasing, as {@link binEdges} returns them. O(n log k).
 */
export function histogram(values: ArrayLike<number>, edges: readonly number[]): number[] {
  for (let i = 1; i < edges.length; i += 1) {
    if (!(edges[i] > edges[i - 1])) {
      throw new RangeError(`histogram: edges must be strictly increasing (index ${i})`);
    }
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`histogram: value ${i} is ${v}`);
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] += 1;
  }
  return counts;
}
