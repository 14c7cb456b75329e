import { describe, expect, it } from 'vitest';
import reference from '../fixtures/robust.json';
import {
  compareCategories,
  iqr,
  mad,
  median,
  mode,
  NORMAL_MAD_SCALE,
  quantile,
  quantileRankError,
  quantiles,
  quantileSorted,
  sortedCopy,
} from './robust';

function expectRel(actual: number, expected: number, tol = 1e-9): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(
    tol * Math.max(Math.abs(expected), 1e-300),
  );
}

describe('order statistics against numpy / scipy (fixtures/robust.json)', () => {
  for (const [name, ref] of Object.entries(reference.sets)) {
    it(`${name}: linear quantiles, median, IQR, MAD`, () => {
      ref.ps.forEach((p, i) => expectRel(quantile(ref.values, p), ref.quantiles[i]));
      const many = quantiles(ref.values, ref.ps);
      many.forEach((q, i) => expectRel(q, ref.quantiles[i]));
      expectRel(median(ref.values), ref.median);
      expectRel(iqr(ref.values), ref.iqr);
      expectRel(mad(ref.values), ref.mad);
      expectRel(mad(ref.values, { scale: 'normal' }), ref.mad_normal);
    });
  }

  it('uses scipy’s normal consistency constant Φ⁻¹(3/4)', () => {
    expect(NORMAL_MAD_SCALE).toBe(reference.norm_ppf_075);
  });

  it('mode matches scipy.stats.mode (smallest value wins ties)', () => {
    expect(mode(reference.modes.ints.values)).toBe(reference.modes.ints.mode);
    expect(mode(reference.modes.tie_ints.values)).toBe(reference.modes.tie_ints.mode);
    expect(mode(reference.modes.tie_words.values)).toBe(reference.modes.tie_words.mode);
  });
});

describe('robust statistics', () => {
  it('does not use the default (string) sort order', () => {
    // Array.prototype.sort() without a comparator would put 10 before 9.
    expect(median([10, 9, 1])).toBe(9);
    expect(Array.from(sortedCopy([10, 9, 1, -2]))).toEqual([-2, 1, 9, 10]);
  });

  it('interpolates between neighbours at (n − 1)·p', () => {
    // Position 3·0.5 = 1.5 between 2 and 4; position 3·0.25 = 0.75 between 1 and 2.
    expect(quantile([4, 1, 8, 2], 0.5)).toBe(3);
    expect(quantile([4, 1, 8, 2], 0.25)).toBe(1.75);
    expect(quantile([4, 1, 8, 2], 0)).toBe(1);
    expect(quantile([4, 1, 8, 2], 1)).toBe(8);
  });

  it('answers NaN for no values and throws on non-finite values or p outside [0, 1]', () => {
    expect(median([])).toBeNaN();
    expect(iqr([])).toBeNaN();
    expect(mad([])).toBeNaN();
    expect(quantile([], 0.3)).toBeNaN();
    expect(() => median([1, NaN])).toThrow(RangeError);
    expect(() => median([1, Infinity])).toThrow(RangeError);
    expect(() => quantile([1, 2], 1.5)).toThrow(RangeError);
    expect(() => quantile([1, 2], -0.1)).toThrow(RangeError);
    expect(() => mad([1, 2], { scale: 0 })).toThrow(RangeError);
  });

  it('leaves its input alone', () => {
    const xs = [3, 1, 2];
    median(xs);
    mad(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('MAD ignores a single wild value where the std does not', () => {
    const clean = [1, 2, 3, 4, 5, 6, 7];
    const dirty = [1, 2, 3, 4, 5, 6, 7000];
    expect(mad(clean)).toBe(2);
    expect(mad(dirty)).toBe(2);
    expect(mad([5, 5, 5])).toBe(0);
  });
});

describe('quantileRankError', () => {
  const sorted = sortedCopy([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

  it('is 0 for the exact quantile, whatever p', () => {
    for (const p of [0, 0.1, 0.25, 0.5, 0.77, 1]) {
      expect(quantileRankError(sorted, quantileSorted(sorted, p), p)).toBeCloseTo(0, 12);
    }
  });

  it('measures the distance in quantile levels', () => {
    // 7 is at position 6 of 0..10: level 0.6; asked for the median (0.5).
    expect(quantileRankError(sorted, 7, 0.5)).toBeCloseTo(0.1, 12);
    // 5.5 sits halfway between positions 4 and 5: level 0.45.
    expect(quantileRankError(sorted, 5.5, 0.5)).toBeCloseTo(0.05, 12);
    // Beyond the extremes the level is clamped to 0 or 1.
    expect(quantileRankError(sorted, -100, 0.5)).toBe(0.5);
    expect(quantileRankError(sorted, 100, 0.25)).toBe(0.75);
  });

  it('gives a value repeated across ties every level it covers', () => {
    const ties = sortedCopy([1, 2, 2, 2, 2, 3]);
    // 2 occupies positions 1..4 of 0..5: levels 0.2..0.8.
    expect(quantileRankError(ties, 2, 0.5)).toBe(0);
    expect(quantileRankError(ties, 2, 0.8)).toBe(0);
    expect(quantileRankError(ties, 2, 0.9)).toBeCloseTo(0.1, 12);
    expect(quantileRankError(new Float64Array(0), 1, 0.5)).toBeNaN();
    expect(quantileRankError(sortedCopy([4]), 4, 0.3)).toBe(0);
  });
});

describe('mode', () => {
  it('finds the most frequent value and undefined for none', () => {
    expect(mode(['FR', 'DE', 'FR', 'US'])).toBe('FR');
    expect(mode([])).toBeUndefined();
    expect(mode([true, false, false])).toBe(false);
  });

  it('breaks ties by value, so the answer does not depend on arrival order', () => {
    const values = ['b', 'a', 'c', 'c', 'a', 'b'];
    const expected = 'a';
    for (let rot = 0; rot < values.length; rot += 1) {
      const rotated = [...values.slice(rot), ...values.slice(0, rot)];
      expect(mode(rotated)).toBe(expected);
      expect(mode([...rotated].reverse())).toBe(expected);
    }
    expect(mode([3, 1, 3, 1, 2])).toBe(1);
    // Code-unit order: upper case sorts before lower case ('Z' < 'a'), unlike localeCompare.
    expect(mode(['a', 'Z'])).toBe('Z');
  });

  it('orders categories of mixed types deterministically', () => {
    const mixed = ['1', 1, true, 'a', 0, false, NaN];
    const sorted = [...mixed].sort(compareCategories);
    expect(sorted).toEqual([false, true, 0, 1, NaN, '1', 'a']);
    expect(mode<string | number | boolean>(['1', 1])).toBe(1);
  });
});
