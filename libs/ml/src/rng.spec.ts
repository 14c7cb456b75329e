import { describe, expect, it } from 'vitest';
import reference from '../fixtures/rng.json';
import { Rng } from './rng';

// Chi-square critical values at p = 0.001 (scipy.stats.chi2.ppf(0.999, df)): a correct
// generator exceeds them one time in a thousand, and the seeds are fixed, so these never flake.
const CHI2_999: Record<number, number> = { 4: 18.467, 9: 27.877, 19: 43.82 };

function chiSquare(observed: number[], expected: number[]): number {
  return observed.reduce((acc, o, i) => acc + (o - expected[i]) ** 2 / expected[i], 0);
}

describe('Rng against the independent Python implementation (fixtures/make_fixtures.py)', () => {
  for (const c of reference.cases) {
    it(`seed ${c.seed}: uint32, doubles, ints and normals`, () => {
      let rng = new Rng(c.seed);
      expect(Array.from({ length: 8 }, () => rng.nextUint32())).toEqual(c.uint32);
      rng = new Rng(c.seed);
      expect(Array.from({ length: 4 }, () => rng.next())).toEqual(c.next);
      rng = new Rng(c.seed);
      expect(Array.from({ length: 10 }, () => rng.int(0, 10))).toEqual(c.int0to10);
      rng = new Rng(c.seed);
      // log/sin/cos may differ in the last ulp between V8 and libm.
      for (const z of c.normal) expect(rng.normal()).toBeCloseTo(z, 12);
    });
  }
});

describe('Rng', () => {
  it('repeats a sequence for a seed and differs between seeds', () => {
    const draw = (seed: number): number[] => {
      const r = new Rng(seed);
      return Array.from({ length: 20 }, () => r.nextUint32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(new Set(draw(7)).size).toBe(20);
  });

  it('continues identically from a JSON snapshot, including a cached normal', () => {
    const a = new Rng(3);
    for (let i = 0; i < 11; i += 1) a.normal(); // odd count: the spare normal is cached
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())));
    const seqA = [a.normal(), a.next(), a.int(0, 1000), a.normal(), a.normal()];
    const seqB = [b.normal(), b.next(), b.int(0, 1000), b.normal(), b.normal()];
    expect(seqB).toEqual(seqA);
  });

  it('rejects impossible states and seeds', () => {
    expect(() => Rng.fromState({ s: [0, 0, 0, 0], spareNormal: null })).toThrow(RangeError);
    expect(() => Rng.fromState({ s: [1, 2, 3, 2 ** 32], spareNormal: null })).toThrow(RangeError);
    expect(() => new Rng(1.5)).toThrow(RangeError);
  });

  it('next() is uniform on [0, 1): mean, variance and decile counts', () => {
    const r = new Rng(11);
    const n = 200_000;
    const bins = new Array<number>(20).fill(0);
    let sum = 0;
    let sum2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i += 1) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      sum += u;
      sum2 += u * u;
      bins[Math.floor(u * 20)] += 1;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    const mean = sum / n;
    // SE of the mean of U(0,1) is sqrt(1/12/n) ≈ 6.5e-4.
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sum2 / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    expect(chiSquare(bins, new Array<number>(20).fill(n / 20))).toBeLessThan(CHI2_999[19]);
  });

  it('uniform(min, max) stays in range and scales', () => {
    const r = new Rng(5);
    const vs = Array.from({ length: 10_000 }, () => r.uniform(-3, 7));
    expect(Math.min(...vs)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...vs)).toBeLessThan(7);
    // Both ends of the range are reached (to within 0.01), so the scale is not too narrow.
    expect(Math.min(...vs)).toBeLessThan(-2.99);
    expect(Math.max(...vs)).toBeGreaterThan(6.99);
  });

  it('int() is unbiased over a range that is not a power of two', () => {
    const r = new Rng(13);
    const n = 100_000;
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i += 1) counts[r.int(0, 10)] += 1;
    expect(chiSquare(counts, new Array<number>(10).fill(n / 10))).toBeLessThan(CHI2_999[9]);
    expect(r.int(5, 6)).toBe(5);
    const big = r.int(0, 2 ** 32);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 32).toBe(true);
    expect(() => r.int(3, 3)).toThrow(RangeError);
    expect(() => r.int(0, 2 ** 32 + 1)).toThrow(RangeError);
  });

  it('normal() has the requested mean, sd and tail mass', () => {
    const r = new Rng(17);
    const n = 200_000;
    let sum = 0;
    let sum2 = 0;
    let within1 = 0;
    let above196 = 0;
    for (let i = 0; i < n; i += 1) {
      const z = r.normal(5, 2);
      sum += z;
      sum2 += z * z;
      const s = (z - 5) / 2;
      if (Math.abs(s) < 1) within1 += 1;
      if (s > 1.959963984540054) above196 += 1;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sum2 / n - mean * mean);
    expect(Math.abs(mean - 5)).toBeLessThan(4 * (2 / Math.sqrt(n)));
    // SE of the sd of a normal sample is σ/√(2n) ≈ 0.0032.
    expect(Math.abs(sd - 2)).toBeLessThan(4 * (2 / Math.sqrt(2 * n)));
    // Φ(1) − Φ(−1) = 0.682689492…; 1 − Φ(1.96) = 0.025.
    expect(Math.abs(within1 / n - 0.6826894921370859)).toBeLessThan(0.005);
    expect(Math.abs(above196 / n - 0.025)).toBeLessThan(0.002);
  });

  it('lognormal(mu, sigma) has median e^mu and mean e^(mu + sigma²/2)', () => {
    const r = new Rng(19);
    const n = 200_000;
    const xs = Array.from({ length: n }, () => r.lognormal(1, 0.5));
    xs.sort((a, b) => a - b);
    expect(xs[0]).toBeGreaterThan(0);
    expect(Math.abs(xs[n / 2] / Math.E - 1)).toBeLessThan(0.01);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(mean / Math.exp(1 + 0.125) - 1)).toBeLessThan(0.01);
  });

  it('bernoulli(p) hits p', () => {
    const r = new Rng(23);
    let hits = 0;
    for (let i = 0; i < 100_000; i += 1) if (r.bernoulli(0.02)) hits += 1;
    // SE = sqrt(0.02·0.98/1e5) ≈ 4.4e-4.
    expect(Math.abs(hits / 100_000 - 0.02)).toBeLessThan(0.002);
    expect(() => r.bernoulli(1.5)).toThrow(RangeError);
  });

  it('choice() follows the weights and never picks a zero weight', () => {
    const r = new Rng(29);
    const items = ['a', 'b', 'c', 'd', 'e'];
    const weights = [5, 0, 1, 3, 1];
    const n = 100_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i += 1) {
      const v = r.choice(items, weights);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(counts.has('b')).toBe(false);
    const observed = ['a', 'c', 'd', 'e'].map((k) => counts.get(k) ?? 0);
    const expected = [0.5, 0.1, 0.3, 0.1].map((w) => w * n);
    expect(chiSquare(observed, expected)).toBeLessThan(CHI2_999[4]);
    // Unweighted: all five appear about equally.
    const flat = new Array<number>(5).fill(0);
    for (let i = 0; i < n; i += 1) flat[items.indexOf(r.choice(items))] += 1;
    expect(chiSquare(flat, new Array<number>(5).fill(n / 5))).toBeLessThan(CHI2_999[4]);
    expect(() => r.choice([])).toThrow(RangeError);
    expect(() => r.choice(['x'], [1, 2])).toThrow(RangeError);
    expect(() => r.choice(['x', 'y'], [0, 0])).toThrow(RangeError);
    expect(() => r.choice(['x', 'y'], [1, -1])).toThrow(RangeError);
  });

  it('shuffle() permutes in place, every position equally likely', () => {
    const r = new Rng(31);
    const a = [0, 1, 2, 3, 4];
    expect(r.shuffle(a)).toBe(a);
    expect([...a].sort()).toEqual([0, 1, 2, 3, 4]);
    // Where element 0 lands over many shuffles of 5: uniform over 5 positions.
    const n = 50_000;
    const pos = new Array<number>(5).fill(0);
    for (let i = 0; i < n; i += 1) pos[r.shuffle([0, 1, 2, 3, 4]).indexOf(0)] += 1;
    expect(chiSquare(pos, new Array<number>(5).fill(n / 5))).toBeLessThan(CHI2_999[4]);
  });
});
