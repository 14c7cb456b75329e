import { describe, expect, it } from 'vitest';
import { Rng } from './rng';
import { quantileRankError, quantileSorted } from './robust';
import { type FieldSummary, mergeSummaries } from './summary-merge';

/** Neumaier-compensated sum, so the reference moments are accurate to about one rounding. */
function exactSum(values: ArrayLike<number>, f: (x: number) => number): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = f(values[i]);
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** The exact summary of some values: two-pass moments, numpy 'linear' quartiles. */
function summarize(values: ArrayLike<number>): FieldSummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const mean = exactSum(sorted, (x) => x) / n;
  const std = Math.sqrt(exactSum(sorted, (x) => (x - mean) ** 2) / n);
  return {
    count: n,
    mean,
    std,
    min: sorted[0],
    max: sorted[n - 1],
    q1: quantileSorted(sorted, 0.25),
    median: quantileSorted(sorted, 0.5),
    q3: quantileSorted(sorted, 0.75),
  };
}

function draw(n: number, f: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 1) out[i] = f();
  return out;
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function expectRel(actual: number, expected: number, tol: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.abs(expected));
}

describe('mergeSummaries: count, mean, std, min, max', () => {
  const rng = new Rng(7);
  const cases: Record<string, Float64Array[]> = {
    // Uneven partitions, one with a single value (std 0).
    'lognormal amounts, counts 1, 2, 1000, 20000': [1, 2, 1000, 20_000].map((n) =>
      draw(n, () => rng.lognormal(3, 1.2)),
    ),
    // Part means a few σ apart, so the between-part term carries most of the variance.
    'normal parts with means 0, 5, −3': [0, 5, -3].map((mu) => draw(5000, () => rng.normal(mu, 1))),
    // Values far from zero: the merge works on differences of means, not on the means themselves.
    'around 1e6, spread 1': [0, 1, 2].map((mu) => draw(5000, () => 1e6 + rng.normal(mu, 1))),
  };

  for (const [name, parts] of Object.entries(cases)) {
    it(`${name}: equal to a direct computation on the pooled values`, () => {
      const pooled = summarize(concat(parts));
      const merged = mergeSummaries(parts.map(summarize));
      expect(merged.count).toBe(pooled.count);
      expectRel(merged.mean, pooled.mean, 1e-9);
      expectRel(merged.std, pooled.std, 1e-9);
      expect(merged.min).toBe(pooled.min);
      expect(merged.max).toBe(pooled.max);
      // The order of the parts does not matter.
      const reversed = mergeSummaries(parts.map(summarize).reverse());
      expectRel(reversed.mean, merged.mean, 1e-12);
      expectRel(reversed.std, merged.std, 1e-12);
    });
  }
});

/**
 * Worst rank error and worst |merged − exact| / IQR of the merged quartiles against the exact
 * quartiles of the pooled values, over `seeds` runs of 3 parts × 20,000 values, each part's
 * quartiles exact. `part(rng, i)` draws one value of part i.
 */
function quartileError(
  seeds: number,
  part: (rng: Rng, i: number) => number,
): { rank: number; iqr: number } {
  let rank = 0;
  let iqr = 0;
  for (let seed = 1; seed <= seeds; seed += 1) {
    const rng = new Rng(seed);
    const parts = [0, 1, 2].map((i) => draw(20_000, () => part(rng, i)));
    const sorted = concat(parts).sort();
    const m = mergeSummaries(parts.map(summarize));
    expect(m.q1).toBeLessThanOrEqual(m.median);
    expect(m.median).toBeLessThanOrEqual(m.q3);
    expect(m.iqr).toBe(m.q3 - m.q1);
    const exact = [0.25, 0.5, 0.75].map((p) => quantileSorted(sorted, p));
    const spread = exact[2] - exact[0];
    [m.q1, m.median, m.q3].forEach((estimate, k) => {
      rank = Math.max(rank, quantileRankError(sorted, estimate, [0.25, 0.5, 0.75][k]));
      iqr = Math.max(iqr, Math.abs(estimate - exact[k]) / spread);
    });
  }
  return { rank, iqr };
}

// Bounds documented in summary-merge.ts and libs/ml/README.md; worst seen over 20 seeds in the
// comments. Independently reproduced with numpy (pooled quartiles and the mixture model).
describe('mergeSummaries: merged quartiles against the pooled values (3 × 20,000, 10 seeds)', () => {
  it('parts from the same lognormal amounts: rank error ≤ 0.004, ≤ 0.6 % of the IQR', () => {
    // Worst seen: 0.0023 and 0.35 %.
    const err = quartileError(10, (rng) => rng.lognormal(0, 1));
    expect(err.rank).toBeLessThanOrEqual(0.004);
    expect(err.iqr).toBeLessThanOrEqual(0.006);
  });

  it('normal parts with means 0, 1σ, 2σ: rank error ≤ 0.005, ≤ 1.2 % of the IQR', () => {
    // Worst seen: 0.0030 and 0.78 %.
    const err = quartileError(10, (rng, i) => rng.normal(i, 1));
    expect(err.rank).toBeLessThanOrEqual(0.005);
    expect(err.iqr).toBeLessThanOrEqual(0.012);
  });

  it('lognormal(0, 1), lognormal(1, 1), lognormal(2, 0.5): rank error ≤ 0.04, ≤ 10 % of the IQR', () => {
    // Worst seen: 0.026 and 6.6 %, both on Q3 and the median.
    const params: [number, number][] = [
      [0, 1],
      [1, 1],
      [2, 0.5],
    ];
    const err = quartileError(10, (rng, i) => rng.lognormal(...params[i]));
    expect(err.rank).toBeLessThanOrEqual(0.04);
    expect(err.iqr).toBeLessThanOrEqual(0.1);
  });
});

describe('mergeSummaries: degenerate inputs', () => {
  const constant = (value: number, count: number): FieldSummary => ({
    count,
    mean: value,
    std: 0,
    min: value,
    max: value,
    q1: value,
    median: value,
    q3: value,
  });
  const empty = constant(NaN, 0);

  it('no parts, or only empty ones: count 0 and NaN elsewhere', () => {
    for (const parts of [[], [empty], [empty, { ...constant(0, 0) }]]) {
      const m = mergeSummaries(parts);
      expect(m.count).toBe(0);
      for (const key of ['mean', 'std', 'min', 'max', 'q1', 'median', 'q3', 'iqr'] as const) {
        expect(m[key]).toBeNaN();
      }
    }
  });

  it('one part, alone or among empty parts, comes back exactly', () => {
    const rng = new Rng(3);
    const part = summarize(draw(999, () => rng.lognormal(0, 1)));
    const expected = { ...part, iqr: part.q3 - part.q1 };
    expect(mergeSummaries([part])).toEqual(expected);
    expect(mergeSummaries([empty, part, empty])).toEqual(expected);
  });

  it('identical parts give that part’s quartiles exactly', () => {
    const rng = new Rng(4);
    const part = summarize(draw(5000, () => rng.normal(10, 2)));
    const m = mergeSummaries([part, part, part]);
    expect([m.q1, m.median, m.q3]).toEqual([part.q1, part.median, part.q3]);
    expectRel(m.std, part.std, 1e-12);
  });

  it('constant parts at one value (min = max): that value, std 0', () => {
    const m = mergeSummaries([constant(7.5, 5), constant(7.5, 3), empty]);
    expect(m).toEqual({ ...constant(7.5, 8), iqr: 0 });
  });

  it('constant parts at two values: quartiles as numpy places them in the gap', () => {
    // Pooled values [0 × 10, 10 × 10]: numpy gives Q1 0, median 5, Q3 10; mean 5, std 5.
    const even = mergeSummaries([constant(0, 10), constant(10, 10)]);
    expect(even).toEqual({
      count: 20,
      mean: 5,
      std: 5,
      min: 0,
      max: 10,
      q1: 0,
      median: 5,
      q3: 10,
      iqr: 10,
    });
    // [0, 0, 0, 10]: Q3 at position 2.25, a quarter of the way across the gap.
    const skewed = mergeSummaries([constant(0, 3), constant(10, 1)]);
    expect([skewed.q1, skewed.median, skewed.q3]).toEqual([0, 0, 2.5]);
  });

  it('a constant part next to a spread one: the point mass and the gap are kept', () => {
    // 50 zeros (say, refunds of nothing) and 50 amounts evenly spread over [1, 2].
    const spread = Float64Array.from({ length: 50 }, (_, i) => 1 + i / 49);
    const sorted = concat([new Float64Array(50), spread]).sort();
    const m = mergeSummaries([constant(0, 50), summarize(spread)]);
    expect(m.q1).toBe(0);
    // Exactly half the values are 0: numpy's median is halfway to the first amount.
    expect(m.median).toBe(quantileSorted(sorted, 0.5));
    expect(m.median).toBe(0.5);
    // Inside the spread part its CDF is linear; the pooled Q3 differs by the discreteness of 50
    // values (a quarter of a step).
    expect(Math.abs(m.q3 - quantileSorted(sorted, 0.75))).toBeLessThanOrEqual(0.25 / 49 + 1e-12);
  });

  it('refuses parts that cannot be summaries', () => {
    const ok = constant(1, 1);
    const bad: FieldSummary[] = [
      { ...ok, count: -1 },
      { ...ok, count: 1.5 },
      { ...ok, mean: NaN },
      { ...ok, max: Infinity },
      { ...ok, std: -1 },
      { ...ok, q1: 2, q3: 1.5, max: 2 },
      { ...ok, min: 2 },
    ];
    for (const part of bad) expect(() => mergeSummaries([ok, part])).toThrow(RangeError);
  });
});
