import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { adjustSamplingShares, ClassSampler, epochPermutation, naturalShares } from './sampling';

function expectClose(actual: readonly number[], expected: readonly number[], tol = 1e-15): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(tol));
}

/** 98 rows of class 0 and 2 of class 1, the minority rows at positions 17 and 60. */
function skewedLabels(): Uint8Array {
  const labels = new Uint8Array(100);
  labels[17] = 1;
  labels[60] = 1;
  return labels;
}

describe('naturalShares', () => {
  it('is counts over their total', () => {
    expectClose(naturalShares([98, 2]), [0.98, 0.02]);
    expectClose(naturalShares([0, 3, 1]), [0, 0.75, 0.25]);
  });

  it('rejects empty or negative counts', () => {
    expect(() => naturalShares([0, 0])).toThrow(RangeError);
    expect(() => naturalShares([])).toThrow(RangeError);
    expect(() => naturalShares([1, -1, 2])).toThrow(RangeError);
  });
});

describe('adjustSamplingShares', () => {
  it('boosts classes by 1 + strength·(1 − recall), then renormalises', () => {
    // Hand computation: target [0.5, 0.3, 0.2], strength 2, recall [0.9, 0.5, 0]:
    // factors 1.2, 2, 3 → 0.6, 0.6, 0.6 → 1/3 each.
    const s = adjustSamplingShares({ target: [5, 3, 2], recall: [0.9, 0.5, 0], strength: 2 });
    expectClose(s, [1 / 3, 1 / 3, 1 / 3]);
  });

  it('normalises the target and returns it unchanged at strength 0 or perfect recall', () => {
    expectClose(
      adjustSamplingShares({ target: [1, 3], recall: [0.2, 0.7], strength: 0 }),
      [0.25, 0.75],
    );
    expectClose(
      adjustSamplingShares({ target: [1, 3], recall: [1, 1], strength: 5 }),
      [0.25, 0.75],
    );
  });

  it('treats a NaN recall as unknown: factor 1, not recall 0', () => {
    // target [0.5, 0.5], strength 1, recall [0.5, NaN]: factors 1.5 and 1 → 0.6, 0.4.
    const s = adjustSamplingShares({ target: [1, 1], recall: [0.5, NaN], strength: 1 });
    expectClose(s, [0.6, 0.4]);
    // Not what recall 0 would give (factors 1.5 and 2 → 3/7, 4/7).
    const zero = adjustSamplingShares({ target: [1, 1], recall: [0.5, 0], strength: 1 });
    expectClose(zero, [3 / 7, 4 / 7]);
  });

  it('keeps a zero-target class at zero', () => {
    const s = adjustSamplingShares({ target: [1, 0, 1], recall: [1, 0, 0], strength: 3 });
    expectClose(s, [0.2, 0, 0.8]);
  });

  it('rejects a bad target, recall or strength', () => {
    expect(() => adjustSamplingShares({ target: [0, 0], recall: [1, 1], strength: 1 })).toThrow(
      RangeError,
    );
    expect(() => adjustSamplingShares({ target: [1, -1], recall: [1, 1], strength: 1 })).toThrow(
      RangeError,
    );
    expect(() => adjustSamplingShares({ target: [1, 1], recall: [1], strength: 1 })).toThrow(
      RangeError,
    );
    expect(() => adjustSamplingShares({ target: [1, 1], recall: [1.5, 1], strength: 1 })).toThrow(
      RangeError,
    );
    expect(() => adjustSamplingShares({ target: [1, 1], recall: [1, 1], strength: -1 })).toThrow(
      RangeError,
    );
  });
});

describe('ClassSampler', () => {
  it('realises shares [0.5, 0.5] on 98/2 data within 4 standard errors over 200k draws', () => {
    const labels = skewedLabels();
    const sampler = new ClassSampler(labels, 2, new Rng(11));
    sampler.setShares([0.5, 0.5]);
    const n = 200_000;
    const idx = sampler.draw(n);
    const perClass = [0, 0];
    const perRow = new Map<number, number>();
    for (const i of idx) {
      perClass[labels[i]] += 1;
      if (labels[i] === 1) perRow.set(i, (perRow.get(i) ?? 0) + 1);
    }
    const se = Math.sqrt((0.5 * 0.5) / n);
    for (const k of perClass) expect(Math.abs(k / n - 0.5)).toBeLessThan(4 * se);
    // Within the minority class each of its two rows is drawn about half the time.
    const minority = perClass[1];
    const seRow = Math.sqrt((0.5 * 0.5) / minority);
    expect([...perRow.keys()].sort((a, b) => a - b)).toEqual([17, 60]);
    for (const k of perRow.values()) expect(Math.abs(k / minority - 0.5)).toBeLessThan(4 * seRow);
  });

  it('draws the class by inverse CDF on rng.next(), then a row of it by rng.int', () => {
    // Independent re-computation of each draw from a twin generator.
    const rng = new Rng(5);
    const labels = Array.from({ length: 500 }, () => rng.choice([0, 1, 2, 3], [60, 25, 0, 15]));
    const byClass = [0, 1, 2, 3].map((c) => labels.flatMap((y, i) => (y === c ? [i] : [])));
    const shares = [0.1, 0.2, 0.3, 0.4]; // class 2 has no rows: renormalised to 1/7, 2/7, 4/7
    const sampler = new ClassSampler(labels, 4, new Rng(42));
    sampler.setShares(shares);
    expectClose(sampler.shares, [1 / 7, 2 / 7, 0, 4 / 7]);
    const drawn = sampler.draw(2000);

    const twin = new Rng(42);
    const cum = [1 / 7, 3 / 7, 3 / 7, 1];
    for (const i of drawn) {
      const u = twin.next();
      const c = cum.findIndex((p) => u < p);
      const row = byClass[c][twin.int(0, byClass[c].length)];
      expect(i).toBe(row);
      expect(labels[i]).toBe(c);
    }
  });

  it('starts with the natural shares', () => {
    const sampler = new ClassSampler([0, 0, 0, 1], 3, new Rng(1));
    expect(sampler.classCounts).toEqual([3, 1, 0]);
    expectClose(sampler.shares, [0.75, 0.25, 0]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const labels = skewedLabels();
    const draw = (seed: number): number[] => {
      const s = new ClassSampler(labels, 2, new Rng(seed));
      s.setShares([0.7, 0.3]);
      return Array.from(s.draw(1000));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });

  it('never draws a class whose share is 0', () => {
    const labels = skewedLabels();
    const s = new ClassSampler(labels, 2, new Rng(9));
    s.setShares([0, 1]);
    for (const i of s.draw(5000)) expect(labels[i]).toBe(1);
    s.setShares([1, 0]);
    for (const i of s.draw(5000)) expect(labels[i]).toBe(0);
  });

  it('rejects bad labels, shares and sizes', () => {
    expect(() => new ClassSampler([], 2, new Rng(1))).toThrow(RangeError);
    expect(() => new ClassSampler([0, 2], 2, new Rng(1))).toThrow(RangeError);
    expect(() => new ClassSampler([0, 0.5], 2, new Rng(1))).toThrow(RangeError);
    const s = new ClassSampler([0, 0, 1], 3, new Rng(1));
    expect(() => s.setShares([1, 1])).toThrow(RangeError);
    expect(() => s.setShares([0, 0, 1])).toThrow(RangeError); // only the empty class
    expect(() => s.setShares([1, NaN, 1])).toThrow(RangeError);
    expect(() => s.draw(-1)).toThrow(RangeError);
    expect(s.draw(0)).toHaveLength(0);
  });
});

describe('epochPermutation', () => {
  it('is a permutation of 0..n−1', () => {
    for (const n of [0, 1, 2, 7, 1000]) {
      const p = epochPermutation(n, new Rng(n));
      expect(p).toHaveLength(n);
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('equals Rng.shuffle of 0..n−1 with the same seed, and depends on the seed', () => {
    const n = 257;
    const expected = new Rng(77).shuffle(Array.from({ length: n }, (_, i) => i));
    expect(Array.from(epochPermutation(n, new Rng(77)))).toEqual(expected);
    expect(Array.from(epochPermutation(n, new Rng(77)))).toEqual(
      Array.from(epochPermutation(n, new Rng(77))),
    );
    expect(Array.from(epochPermutation(n, new Rng(78)))).not.toEqual(expected);
  });

  it('puts every element everywhere about equally often', () => {
    // 3 elements, 60k permutations: each of the 6 orders has probability 1/6.
    const rng = new Rng(123);
    const seen = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i += 1) {
      const key = Array.from(epochPermutation(3, rng)).join('');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(seen.size).toBe(6);
    const se = Math.sqrt(((1 / 6) * (5 / 6)) / n);
    for (const k of seen.values()) expect(Math.abs(k / n - 1 / 6)).toBeLessThan(4 * se);
  });
});
