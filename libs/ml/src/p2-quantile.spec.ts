import { describe, expect, it } from 'vitest';
import reference from '../fixtures/p2.json';
import { P2_ERROR_BOUNDS, P2Quantile, p2ErrorBound, StreamingQuartiles } from './p2-quantile';
import { Rng } from './rng';
import { quantile, quantileRankError, quantileSorted, sortedCopy } from './robust';

/** The distributions the documented bound is measured on. */
const DISTRIBUTIONS = {
  uniform: (r: Rng) => r.uniform(0, 1),
  normal: (r: Rng) => r.normal(0, 1),
  lognormal: (r: Rng) => r.lognormal(0, 1),
  exponential: (r: Rng) => -Math.log(1 - r.next()),
  // Two unit normals 4σ apart: the median sits in a shallow trough.
  bimodal: (r: Rng) => (r.bernoulli(0.5) ? r.normal(-2, 1) : r.normal(2, 1)),
  // 6σ apart: the trough is nearly empty, the median ill-conditioned.
  bimodalWide: (r: Rng) => (r.bernoulli(0.5) ? r.normal(-3, 1) : r.normal(3, 1)),
  // Unequal modes: Q1 falls at the edge of the gap.
  mixtureGap: (r: Rng) => (r.bernoulli(0.3) ? r.normal(-5, 1) : r.normal(5, 2)),
  // Infinite variance.
  pareto: (r: Rng) => Math.pow(1 - r.next(), -1 / 1.5),
} satisfies Record<string, (r: Rng) => number>;
type Dist = keyof typeof DISTRIBUTIONS;

const UNIMODAL: readonly Dist[] = ['uniform', 'normal', 'lognormal', 'exponential'];
const SEEDS = 10;

interface Worst {
  rank: number;
  iqr: number;
}

/** Worst rank error and worst |estimate − exact| / IQR of Q1, median and Q3 over the seeds. */
function measure(dist: Dist, n: number): Worst {
  const worst: Worst = { rank: 0, iqr: 0 };
  for (let seed = 1; seed <= SEEDS; seed += 1) {
    const rng = new Rng(seed * 7919 + n);
    const xs = new Float64Array(n);
    const est = new StreamingQuartiles();
    for (let i = 0; i < n; i += 1) {
      const x = DISTRIBUTIONS[dist](rng);
      xs[i] = x;
      est.push(x);
    }
    const sorted = sortedCopy(xs);
    const iqr = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
    const estimates: [number, number][] = [
      [0.25, est.q1],
      [0.5, est.median],
      [0.75, est.q3],
    ];
    for (const [p, v] of estimates) {
      worst.rank = Math.max(worst.rank, quantileRankError(sorted, v, p));
      worst.iqr = Math.max(worst.iqr, Math.abs(v - quantileSorted(sorted, p)) / iqr);
    }
  }
  return worst;
}

describe('P2Quantile against the paper and an independent implementation', () => {
  it('reproduces the worked example of Jain & Chlamtac (1985, Table I)', () => {
    const xs = [
      0.02, 0.15, 0.74, 3.39, 0.83, 22.37, 10.15, 15.43, 38.62, 15.92, 34.6, 10.28, 1.47, 0.4, 0.05,
      11.39, 0.27, 0.42, 0.09, 11.37,
    ];
    const est = new P2Quantile(0.5);
    est.pushAll(xs);
    const state = est.toJSON();
    // The paper prints two decimals: 0.02, 0.49, 4.44, 17.20, 38.62 at positions 1, 6, 10, 16, 20.
    [0.02, 0.49, 4.44, 17.2, 38.62].forEach((h, i) => expect(state.heights[i]).toBeCloseTo(h, 2));
    expect(state.positions).toEqual([0, 5, 9, 15, 19]);
    expect(est.value).toBeCloseTo(4.44, 2);
  });

  for (const c of reference.cases) {
    it(`p = ${c.p}: markers match the paper-literal Python version at every checkpoint`, () => {
      const rng = new Rng(c.seed);
      const est = new P2Quantile(c.p);
      let i = 0;
      for (const cp of c.checkpoints) {
        while (i < cp.count) {
          const u = rng.next();
          est.push(u * u * u * 100);
          i += 1;
        }
        const state = est.toJSON();
        expect(state.count).toBe(cp.count);
        expect(state.positions).toEqual(cp.positions);
        state.heights.forEach((h, j) => {
          expect(Math.abs(h - cp.heights[j])).toBeLessThanOrEqual(1e-9 * Math.abs(cp.heights[j]));
        });
      }
    });
  }

  it('is exact (numpy linear) for the first five values', () => {
    const xs = [7, -2, 3.5, 10, 0];
    for (const p of [0.1, 0.25, 0.5, 0.75, 0.9]) {
      const est = new P2Quantile(p);
      expect(est.value).toBeNaN();
      xs.forEach((x, i) => {
        est.push(x);
        expect(est.value).toBe(quantile(xs.slice(0, i + 1), p));
      });
    }
  });
});

describe('P2Quantile documented error (randomly ordered streams)', () => {
  // One row per size; each checks every distribution against the bound for that size.
  for (const n of [10_000, 50_000, 100_000]) {
    it(`after ${n} values stays within the documented bound`, () => {
      const bound = p2ErrorBound(n)!;
      for (const dist of Object.keys(DISTRIBUTIONS) as Dist[]) {
        const worst = measure(dist, n);
        expect(worst.rank, `${dist} rank error`).toBeLessThanOrEqual(bound.rank);
        if (UNIMODAL.includes(dist)) {
          expect(worst.iqr, `${dist} error / IQR`).toBeLessThanOrEqual(bound.iqrUnimodal);
        }
        if (dist === 'bimodal') {
          expect(worst.iqr, `${dist} error / IQR`).toBeLessThanOrEqual(bound.iqrBimodal);
        }
      }
    });
  }

  it('has no documented bound below 10,000 values, and tighter ones further on', () => {
    expect(p2ErrorBound(9_999)).toBeUndefined();
    expect(p2ErrorBound(10_000)).toBe(P2_ERROR_BOUNDS[0]);
    expect(p2ErrorBound(1e9)).toBe(P2_ERROR_BOUNDS[P2_ERROR_BOUNDS.length - 1]);
  });

  it('does not hold on sorted input (the documented limitation)', () => {
    const rng = new Rng(5);
    const xs = sortedCopy(Array.from({ length: 50_000 }, () => rng.normal(0, 1)));
    const est = new P2Quantile(0.25);
    est.pushAll(xs);
    expect(quantileRankError(xs, est.value, 0.25)).toBeGreaterThan(p2ErrorBound(50_000)!.rank);
  });
});

describe('P2Quantile state', () => {
  it('continues identically after a JSON round trip, before and after the fifth value', () => {
    for (const cut of [0, 3, 5, 6, 777]) {
      const rng = new Rng(cut + 1);
      const a = new P2Quantile(0.9);
      for (let i = 0; i < cut; i += 1) a.push(rng.lognormal());
      const b = P2Quantile.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
      for (let i = 0; i < 2000; i += 1) {
        const x = rng.lognormal();
        a.push(x);
        b.push(x);
      }
      expect(b.toJSON()).toEqual(a.toJSON());
      expect(b.value).toBe(a.value);
    }
  });

  it('tracks min and max exactly', () => {
    const rng = new Rng(8);
    const xs = Array.from({ length: 1000 }, () => rng.normal());
    const est = new P2Quantile();
    est.pushAll(xs);
    expect(est.min).toBe(Math.min(...xs));
    expect(est.max).toBe(Math.max(...xs));
    expect(est.count).toBe(1000);
  });

  it('rejects bad p, non-finite values and impossible states', () => {
    expect(() => new P2Quantile(0)).toThrow(RangeError);
    expect(() => new P2Quantile(1)).toThrow(RangeError);
    const est = new P2Quantile();
    expect(() => est.push(NaN)).toThrow(RangeError);
    est.pushAll([5, 1, 4, 2, 3, 9, 0]);
    const good = est.toJSON();
    const bad = [
      { ...good, count: -1 },
      { ...good, heights: [1, 2, 3, 4] },
      { ...good, heights: [5, 4, 3, 2, 1] },
      { ...good, positions: [0, 1, 2, 3] },
      { ...good, positions: [0, 2, 2, 3, 6] },
      { ...good, positions: [1, 2, 3, 4, 6] },
      { ...good, count: 3, heights: [1, 2, 3] },
    ];
    for (const state of bad) expect(() => P2Quantile.fromJSON(state)).toThrow(RangeError);
  });
});

describe('StreamingQuartiles', () => {
  it('equals three separate estimators, sorted, with IQR = Q3 − Q1', () => {
    const rng = new Rng(12);
    const q = new StreamingQuartiles();
    const singles = [new P2Quantile(0.25), new P2Quantile(0.5), new P2Quantile(0.75)];
    for (let i = 0; i < 5000; i += 1) {
      const x = rng.lognormal(2, 0.7);
      q.push(x);
      for (const s of singles) s.push(x);
    }
    expect(q.quartiles).toEqual(singles.map((s) => s.value));
    expect(q.iqr).toBe(singles[2].value - singles[0].value);
    expect(q.count).toBe(5000);
  });

  it('is exact on a handful of values and NaN on none', () => {
    const q = new StreamingQuartiles();
    expect(q.median).toBeNaN();
    q.pushAll([4, 1, 3, 2]);
    expect(q.quartiles).toEqual([1.75, 2.5, 3.25]);
    expect(q.iqr).toBe(1.5);
  });

  it('continues identically after a JSON round trip and rejects mixed-up states', () => {
    const rng = new Rng(21);
    const a = new StreamingQuartiles();
    for (let i = 0; i < 300; i += 1) a.push(rng.normal());
    const b = StreamingQuartiles.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (let i = 0; i < 300; i += 1) {
      const x = rng.normal();
      a.push(x);
      b.push(x);
    }
    expect(b.toJSON()).toEqual(a.toJSON());
    const s = a.toJSON();
    expect(() => StreamingQuartiles.fromJSON({ ...s, q1: s.q3, q3: s.q1 })).toThrow(RangeError);
    const fewer = new P2Quantile(0.25);
    fewer.push(1);
    expect(() => StreamingQuartiles.fromJSON({ ...s, q1: fewer.toJSON() })).toThrow(RangeError);
  });
});
