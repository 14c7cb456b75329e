import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { countOnReferenceBins, histogramWasserstein, mergeSparseBins } from './binned';

/** ∫ |F_ref − F_cur| by the midpoint rule on a fine grid: slow, but shares no code. */
function wassersteinByGrid(
  edges: number[],
  counts: number[],
  values: number[],
  lo: number,
  hi: number,
  steps = 400_000,
): number {
  const total = counts.reduce((s, c) => s + c, 0);
  const fRef = (x: number): number => {
    let acc = 0;
    for (let k = 0; k < counts.length; k += 1) {
      const t = Math.min(1, Math.max(0, (x - edges[k]) / (edges[k + 1] - edges[k])));
      acc += counts[k] * t;
    }
    return acc / total;
  };
  const sorted = [...values].sort((a, b) => a - b);
  const h = (hi - lo) / steps;
  let sum = 0;
  let j = 0;
  for (let i = 0; i < steps; i += 1) {
    const x = lo + (i + 0.5) * h;
    while (j < sorted.length && sorted[j] <= x) j += 1;
    sum += Math.abs(fRef(x) - j / sorted.length) * h;
  }
  return sum;
}

describe('histogramWasserstein', () => {
  it('matches closed forms for one uniform bin on [0, 1]', () => {
    // Against a point at 0.5: ∫₀^½ x dx + ∫_½^1 (1 − x) dx = 1/4.
    expect(histogramWasserstein([0, 1], [10], [0.5])).toBeCloseTo(0.25, 15);
    // Against a point at 2: ∫₀¹ x dx + (2 − 1) = 3/2 (the reference CDF is 1 beyond its range).
    expect(histogramWasserstein([0, 1], [10], [2])).toBeCloseTo(1.5, 15);
    // Against a point at −1: 1 + ∫₀¹ (1 − x) dx.
    expect(histogramWasserstein([0, 1], [3], [-1])).toBeCloseTo(1.5, 15);
    // Two points at 0 and 1: ∫₀¹ |x − ½| dx = 1/4.
    expect(histogramWasserstein([0, 1], [1], [0, 1])).toBeCloseTo(0.25, 15);
  });

  it('equals a fine numerical integration on uneven bins and a sample reaching beyond them', () => {
    const rng = new Rng(3);
    const edges = [-2, -1, -0.25, 0, 0.5, 1.5, 3];
    const counts = [5, 40, 0, 80, 60, 15];
    const values = Array.from({ length: 300 }, () => rng.normal(0.3, 1.2));
    values.push(0, 0, 0.5); // ties, and values on edges
    const sorted = Float64Array.from(values).sort();
    const lo = Math.min(-2, sorted[0]);
    const hi = Math.max(3, sorted[sorted.length - 1]);
    const exact = histogramWasserstein(edges, counts, sorted);
    expect(exact).toBeCloseTo(wassersteinByGrid(edges, counts, values, lo, hi), 5);
    expect(exact).toBeGreaterThan(0.05);
  });

  it('is near 0 for a sample of the histogram’s own piecewise-uniform distribution', () => {
    const rng = new Rng(4);
    const edges = [0, 1, 2, 4];
    const counts = [1, 2, 1];
    const values = Float64Array.from({ length: 200_000 }, () => {
      const k = rng.choice([0, 1, 2], counts);
      return rng.uniform(edges[k], edges[k + 1]);
    }).sort();
    expect(histogramWasserstein(edges, counts, values)).toBeLessThan(0.01);
  });

  it('rejects bad histograms', () => {
    expect(() => histogramWasserstein([0, 1], [1, 2], [0])).toThrow(/2 edges for 2 bins/);
    expect(() => histogramWasserstein([0, 0, 1], [1, 2], [0])).toThrow(/strictly increasing/);
    expect(() => histogramWasserstein([0, 1], [0], [0])).toThrow(/sum to 0/);
    expect(() => histogramWasserstein([0, 1], [1], [])).toThrow(/no current values/);
  });
});

describe('mergeSparseBins', () => {
  it('merges left to right until each expected count reaches 5; the remainder joins the last', () => {
    // Totals 100 and 100: the smaller expected count of a bin holding k values is k/2.
    const ref = [1, 2, 30, 30, 33, 2, 2];
    const cur = [0, 5, 35, 25, 33, 1, 1];
    expect(mergeSparseBins(ref, cur)).toEqual({
      reference: [33, 30, 37],
      current: [40, 25, 35],
    });
    expect(mergeSparseBins(ref, cur, 0)).toEqual({ reference: ref, current: cur });
  });

  it('keeps everything in one bin when the totals are too small to split', () => {
    expect(mergeSparseBins([1, 1, 1], [1, 0, 2])).toEqual({ reference: [3], current: [3] });
  });
});

describe('countOnReferenceBins', () => {
  it('bins as numpy.histogram inside the range and opens the outer bins', () => {
    const edges = [0, 0.25, 0.5, 0.75, 1];
    expect(countOnReferenceBins([0, 0.25, 0.3, 0.75, 1, 1, -5, 7], edges)).toEqual([2, 2, 0, 4]);
  });
});
