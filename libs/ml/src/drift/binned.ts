/**
 * Comparisons of a window with a stored reference histogram (edges + counts), for the parts of
 * the training reference that keep no raw values: the prediction summaries.
 */

import { accurateSum } from '../tabular/column';
import { histogram } from './divergence';

/**
 * Counts of `values` in the bins of a reference histogram with edges e₀ < … < e_B: the interior
 * edges e₁ … e_{B−1} go to {@link histogram}, so the outer bins are open — a value beyond the
 * reference's range counts in the first or last bin, as {@link binEdges}' bins do. On values
 * within [e₀, e_B] this is numpy.histogram's binning (last bin closed), so the counts line up
 * with the stored ones. O(n log B).
 */
export function countOnReferenceBins(
  values: ArrayLike<number>,
  edges: readonly number[],
): number[] {
  if (edges.length < 2) throw new RangeError('countOnReferenceBins: need at least two edges');
  return histogram(values, edges.slice(1, -1));
}

/**
 * Merges adjacent bins, left to right, until every merged bin's expected count is at least
 * `minExpected` on both sides of a two-sample χ² table (Cochran's rule, which policy.ts applies
 * to pick Fisher's test): with totals R and C the smaller expected count of a bin holding k
 * values is k·min(R, C)/(R + C). A remainder too small to stand alone joins the last merged
 * bin. The tails of a score histogram are sparse, and χ² on expected counts below 5 gives
 * p-values that are too small. O(bins).
 */
export function mergeSparseBins(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  minExpected = 5,
): { reference: number[]; current: number[] } {
  if (referenceCounts.length !== currentCounts.length) {
    throw new RangeError(
      `mergeSparseBins: ${referenceCounts.length} reference bins, ${currentCounts.length} current`,
    );
  }
  const R = accurateSum(referenceCounts);
  const C = accurateSum(currentCounts);
  const scale = R + C > 0 ? Math.min(R, C) / (R + C) : 0;
  const reference: number[] = [];
  const current: number[] = [];
  let r = 0;
  let c = 0;
  for (let i = 0; i < referenceCounts.length; i += 1) {
    r += referenceCounts[i];
    c += currentCounts[i];
    if ((r + c) * scale >= minExpected) {
      reference.push(r);
      current.push(c);
      r = 0;
      c = 0;
    }
  }
  if (r + c > 0) {
    if (reference.length > 0) {
      reference[reference.length - 1] += r;
      current[current.length - 1] += c;
    } else {
      reference.push(r);
      current.push(c);
    }
  }
  return { reference, current };
}

/**
 * The 1-Wasserstein distance ∫ |F_ref − F_cur| dx between a reference known only by its
 * histogram and a sample: F_ref spreads each bin's count uniformly over the bin (0 below e₀,
 * 1 above e_B), F_cur is the sample's empirical CDF. Exact for that F_ref: between consecutive
 * points of the merged edges and values F_cur is constant and F_ref linear, so each piece is a
 * trapezoid, or two triangles where the two cross. `sorted` ascending and finite; edges strictly
 * increasing; counts non-negative with a positive sum. O(n log B + B) after the caller's sort.
 *
 * The uniform spread is the only assumption: against the reference's own raw values it leaves
 * a bias of a fraction of a bin width (about 0.01σ for a normal on 20 bins between min and max).
 */
export function histogramWasserstein(
  edges: readonly number[],
  counts: readonly number[],
  sorted: ArrayLike<number>,
): number {
  const fn = 'histogramWasserstein';
  const bins = counts.length;
  if (edges.length !== bins + 1 || bins < 1) {
    throw new RangeError(`${fn}: ${edges.length} edges for ${bins} bins`);
  }
  for (let i = 1; i < edges.length; i += 1) {
    if (!(edges[i] > edges[i - 1])) {
      throw new RangeError(`${fn}: edges must be strictly increasing (index ${i})`);
    }
  }
  const total = accurateSum(counts);
  if (!(total > 0)) throw new RangeError(`${fn}: the reference counts sum to ${total}`);
  const n = sorted.length;
  if (n === 0) throw new RangeError(`${fn}: no current values`);

  // cdf[k] = F_ref(e_k).
  const cdf = new Float64Array(bins + 1);
  let running = 0;
  for (let k = 0; k < bins; k += 1) {
    running += counts[k];
    cdf[k + 1] = running / total;
  }
  cdf[bins] = 1;
  let bin = 0;
  // F_ref at x, for x visited in ascending order (the bin pointer only moves forward).
  const fRef = (x: number): number => {
    if (x <= edges[0]) return 0;
    if (x >= edges[bins]) return 1;
    while (x >= edges[bin + 1]) bin += 1;
    const t = (x - edges[bin]) / (edges[bin + 1] - edges[bin]);
    return cdf[bin] + (cdf[bin + 1] - cdf[bin]) * t;
  };

  const terms = new Float64Array(n + bins + 1);
  let pieces = 0;
  let i = 0; // next edge
  let j = 0; // next value; j/n is F_cur just right of the last point
  let prev = Math.min(edges[0], sorted[0]);
  let fPrev = 0;
  while (i <= bins || j < n) {
    const x = j >= n || (i <= bins && edges[i] <= sorted[j]) ? edges[i] : sorted[j];
    if (x > prev) {
      const fx = fRef(x);
      const level = j / n;
      const ga = fPrev - level;
      const gb = fx - level;
      const width = x - prev;
      terms[pieces++] =
        ga * gb >= 0
          ? ((Math.abs(ga) + Math.abs(gb)) / 2) * width
          : ((ga * ga + gb * gb) / (2 * (Math.abs(ga) + Math.abs(gb)))) * width;
      prev = x;
      fPrev = fx;
    }
    if (j < n && sorted[j] === x) {
      while (j < n && sorted[j] === x) j += 1;
    } else {
      i += 1;
    }
    while (i <= bins && edges[i] === prev) i += 1;
  }
  return accurateSum(terms.subarray(0, pieces));
}
