import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { close, fixture } from './fixture';
import { ksTwoSample, roundHalfEven } from './ks';

const normals = (rng: Rng, n: number, mean = 0): Float64Array =>
  Float64Array.from({ length: n }, () => rng.normal(mean, 1));

describe('ksTwoSample against scipy.stats.ks_2samp', () => {
  for (const c of fixture.samples) {
    it(`${c.name} (${c.a.length} vs ${c.b.length})`, () => {
      const failures: unknown[] = [];
      for (const [method, ref] of Object.entries(c.ks)) {
        const r = ksTwoSample(c.a, c.b, { method: method as 'auto' | 'exact' | 'asymp' });
        if (!close(r.statistic, ref.statistic) || !close(r.pvalue, ref.pvalue)) {
          failures.push({ method, ours: r, scipy: ref });
        }
        if (r.method !== ref.method) failures.push({ method, used: r.method, scipy: ref.method });
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('ksTwoSample properties', () => {
  it('gives 0 and p = 1 for a sample against itself', () => {
    const x = normals(new Rng(1), 700);
    for (const method of ['auto', 'exact', 'asymp'] as const) {
      const r = ksTwoSample(x, x, { method });
      expect(r.statistic).toBe(0);
      expect(r.pvalue).toBe(1);
    }
  });

  it('is symmetric in its two samples', () => {
    const rng = new Rng(2);
    for (const [m, n] of [
      [30, 45],
      [400, 400],
      [1200, 900],
    ]) {
      const a = normals(rng, m);
      const b = normals(rng, n, 0.1);
      for (const method of ['auto', 'exact', 'asymp'] as const) {
        expect(ksTwoSample(a, b, { method })).toEqual(ksTwoSample(b, a, { method }));
      }
    }
  });

  it('detects a 0.5σ shift between 1,000 and 1,000 normal values', () => {
    let detected = 0;
    for (let seed = 0; seed < 10; seed += 1) {
      const rng = new Rng(100 + seed);
      if (ksTwoSample(normals(rng, 1000), normals(rng, 1000, 0.5)).pvalue < 0.05) detected += 1;
    }
    expect(detected).toBeGreaterThanOrEqual(9);
  });

  it('rejects about 5 % of null pairs (200 pairs of 500 vs 500) at 0.05', () => {
    let rejected = 0;
    for (let seed = 0; seed < 200; seed += 1) {
      const rng = new Rng(1000 + seed);
      if (ksTwoSample(normals(rng, 500), normals(rng, 500)).pvalue < 0.05) rejected += 1;
    }
    // The exact test of a discrete statistic is conservative: its real size is a bit below 5 %.
    expect(rejected / 200).toBeGreaterThanOrEqual(0.02);
    expect(rejected / 200).toBeLessThanOrEqual(0.09);
  });

  it('sorts its inputs itself and leaves them untouched', () => {
    const a = [3, 1, 2];
    const b = [2.5, 0.5, 1.5, 4];
    expect(ksTwoSample(a, b)).toEqual(ksTwoSample([1, 2, 3], [0.5, 1.5, 2.5, 4]));
    expect(a).toEqual([3, 1, 2]);
  });

  it('switches to the asymptotic distribution above 10,000 values in auto mode', () => {
    const rng = new Rng(3);
    expect(ksTwoSample(normals(rng, 10_000), normals(rng, 50)).method).toBe('exact');
    expect(ksTwoSample(normals(rng, 10_001), normals(rng, 50)).method).toBe('asymp');
  });

  it('throws on empty samples, non-finite values and unknown methods', () => {
    expect(() => ksTwoSample([], [1])).toThrow(/at least one value/);
    expect(() => ksTwoSample([1, NaN], [1])).toThrow(/not a finite number at index 1/);
    expect(() => ksTwoSample([1], [2], { method: 'approx' as never })).toThrow(/unknown method/);
  });

  it('rounds halves to even as NumPy does', () => {
    expect([0.5, 1.5, 2.5, 3.49, 3.51].map(roundHalfEven)).toEqual([0, 2, 2, 3, 4]);
  });
});
