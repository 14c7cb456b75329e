import { describe, expect, it } from 'vitest';
import reference from '../fixtures/welford.json';
import { Rng } from './rng';
import { RunningStats } from './welford';

/** |a − b| ≤ tol·max(|b|, tiny): relative comparison that still works around zero. */
function expectRel(actual: number, expected: number, tol = 1e-9): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(
    tol * Math.max(Math.abs(expected), 1e-300),
  );
}

function statsOf(values: readonly number[]): RunningStats {
  const s = new RunningStats();
  s.pushAll(values);
  return s;
}

/** Neumaier-compensated sum: the reference sums are accurate to about one rounding. */
function exactSum(values: Float64Array, f: (x: number) => number): number {
  let s = 0;
  let c = 0;
  for (const x of values) {
    const v = f(x);
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

describe('RunningStats against numpy (fixtures/welford.json)', () => {
  for (const [name, ref] of Object.entries(reference.sets)) {
    it(`${name}: count, mean, var/std (ddof 0 and 1), min, max, z-scores`, () => {
      const s = statsOf(ref.values);
      expect(s.count).toBe(ref.count);
      expectRel(s.mean, ref.mean);
      expectRel(s.populationVariance, ref.var0);
      expectRel(s.populationStd, ref.std0);
      expect(s.min).toBe(ref.min);
      expect(s.max).toBe(ref.max);
      if ('var1' in ref) {
        expectRel(s.sampleVariance, ref.var1);
        expectRel(s.sampleStd, ref.std1);
        ref.zprobe.forEach((x, i) => {
          expectRel(s.zScore(x), ref.z0[i]);
          expectRel(s.zScore(x, 1), ref.z1[i]);
        });
        // scipy.stats.zscore of the array's own first values.
        ref.zscore_first5_ddof0.forEach((z, i) => expectRel(s.zScore(ref.values[i]), z));
      } else {
        // One value: the population std is 0 (a constant so far), the sample std undefined.
        expect(s.sampleVariance).toBeNaN();
        expect(s.zScore(ref.values[0])).toBe(0);
        expect(s.zScore(ref.values[0] - 1)).toBe(-Infinity);
        expect(s.zScore(1, 1)).toBeNaN();
      }
    });
  }
});

describe('RunningStats', () => {
  it('answers NaN, not 0, for statistics of nothing', () => {
    const s = new RunningStats();
    expect(s.count).toBe(0);
    expect(s.mean).toBeNaN();
    expect(s.min).toBeNaN();
    expect(s.max).toBeNaN();
    expect(s.populationVariance).toBeNaN();
    expect(s.zScore(0)).toBeNaN();
  });

  it('scores a constant field: 0 for the same value, ±Infinity for any other', () => {
    const s = statsOf([4, 4, 4, 4]);
    expect(s.populationStd).toBe(0);
    expect(s.zScore(4)).toBe(0);
    expect(s.zScore(4.5)).toBe(Infinity);
    expect(s.zScore(3)).toBe(-Infinity);
  });

  it('refuses non-finite values instead of poisoning the state', () => {
    const s = statsOf([1, 2]);
    expect(() => s.push(NaN)).toThrow(RangeError);
    expect(() => s.push(Infinity)).toThrow(RangeError);
    expect(s.count).toBe(2);
    expect(s.mean).toBe(1.5);
  });

  it('keeps full precision on 1e6 values offset by 1e9, where Σx² fails', () => {
    const rng = new Rng(2024);
    const n = 1_000_000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i += 1) xs[i] = 1e9 + rng.normal(0, 1);
    const s = new RunningStats();
    for (const x of xs) s.push(x);

    // Two-pass reference with compensated sums.
    const mean = exactSum(xs, (x) => x) / n;
    const var0 = exactSum(xs, (x) => (x - mean) ** 2) / n;
    expect(Math.abs(s.mean - mean)).toBeLessThanOrEqual(2.4e-7); // two ulps of 1e9
    expectRel(s.populationVariance, var0, 1e-12);
    expectRel(s.sampleVariance, (var0 * n) / (n - 1), 1e-12);

    // The textbook one-pass formula on the same data is not even the right order of magnitude:
    // this data is hard enough to tell a stable algorithm from an unstable one.
    let sum = 0;
    let sum2 = 0;
    for (const x of xs) {
      sum += x;
      sum2 += x * x;
    }
    const naive = sum2 / n - (sum / n) ** 2;
    expect(Math.abs(naive - var0) / var0).toBeGreaterThan(1);
  });

  it('merge equals pushing everything into one accumulator', () => {
    const rng = new Rng(7);
    const values = Array.from({ length: 5000 }, () => 1e4 + rng.lognormal(0, 1.5));
    const whole = statsOf(values);
    // Uneven partitions, one of them empty, merged left to right.
    const cuts = [0, 1, 1, 17, 900, 2500, 4999, 5000];
    let merged = new RunningStats();
    for (let i = 0; i + 1 < cuts.length; i += 1) {
      merged = merged.merge(statsOf(values.slice(cuts[i], cuts[i + 1])));
    }
    expect(merged.count).toBe(whole.count);
    expectRel(merged.mean, whole.mean, 1e-13);
    expectRel(merged.populationVariance, whole.populationVariance, 1e-11);
    expectRel(merged.sampleVariance, whole.sampleVariance, 1e-11);
    expect(merged.min).toBe(whole.min);
    expect(merged.max).toBe(whole.max);

    // Merging is symmetric up to rounding, and leaves its inputs alone.
    const a = statsOf(values.slice(0, 1234));
    const b = statsOf(values.slice(1234));
    const before = JSON.stringify(a.toJSON());
    const ab = a.merge(b);
    const ba = b.merge(a);
    expectRel(ab.mean, ba.mean, 1e-13);
    expectRel(ab.sampleVariance, ba.sampleVariance, 1e-11);
    expect(JSON.stringify(a.toJSON())).toBe(before);
    expect(a.count).toBe(1234);
  });

  it('merges partitions with very different shifts (first values) exactly enough', () => {
    const a = statsOf([1e9, 1e9 + 2]);
    const b = statsOf([-5, -3]);
    const m = a.merge(b);
    const all = statsOf([1e9, 1e9 + 2, -5, -3]);
    expectRel(m.mean, all.mean, 1e-15);
    expectRel(m.populationVariance, all.populationVariance, 1e-12);
  });

  it('continues identically after a JSON round trip of its state', () => {
    const rng = new Rng(99);
    const a = new RunningStats();
    for (let i = 0; i < 1000; i += 1) a.push(rng.normal(3, 2));
    const b = RunningStats.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (let i = 0; i < 1000; i += 1) {
      const x = rng.normal(3, 2);
      a.push(x);
      b.push(x);
    }
    // Bit-identical, not merely close.
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(b.sampleVariance).toBe(a.sampleVariance);
    // The empty state round-trips too (it holds no NaN, which JSON would turn into null).
    const empty = RunningStats.fromJSON(JSON.parse(JSON.stringify(new RunningStats().toJSON())));
    expect(empty.count).toBe(0);
    empty.push(5);
    expect(empty.mean).toBe(5);
  });

  it('rejects impossible states', () => {
    const good = statsOf([1, 2, 3]).toJSON();
    expect(() => RunningStats.fromJSON({ ...good, count: -1 })).toThrow(RangeError);
    expect(() => RunningStats.fromJSON({ ...good, count: 1.5 })).toThrow(RangeError);
    expect(() => RunningStats.fromJSON({ ...good, m2: -1 })).toThrow(RangeError);
    expect(() => RunningStats.fromJSON({ ...good, min: 5, max: 1 })).toThrow(RangeError);
    expect(() =>
      RunningStats.fromJSON({ ...good, shiftedMean: null as unknown as number }),
    ).toThrow(RangeError);
  });
});
