import { Rng } from '@mlops/ml';
import { describe, expect, it } from 'vitest';
import { MERCHANT_CATEGORIES } from './cards-spec';
import {
  MAX_NEAR_DUPLICATE_DISTANCE,
  MEMO_EDITS,
  editDistance,
  isRiskyMemo,
  makeMemo,
  nearDuplicateMemo,
} from './memo';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'ab', 2],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['same', 'same', 0],
    ['ab', 'ba', 2],
  ])('%j → %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('makeMemo', () => {
  it('writes 40–200 characters naming the city, risky only when asked', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 2000; i += 1) {
      const category = MERCHANT_CATEGORIES[i % MERCHANT_CATEGORIES.length];
      const risky = i % 7 === 0;
      const memo = makeMemo(rng, category, 'Lyon', risky);
      expect(memo.length).toBeGreaterThanOrEqual(40);
      expect(memo.length).toBeLessThanOrEqual(200);
      expect(memo).toContain('Lyon');
      expect(isRiskyMemo(memo)).toBe(risky);
    }
  });
});

describe('nearDuplicateMemo', () => {
  it('makes a different memo within the stated distance, keeps riskiness, uses every edit', () => {
    const rng = new Rng(11);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      const memo = makeMemo(rng, MERCHANT_CATEGORIES[i % 5], 'Porto', i % 3 === 0);
      const near = nearDuplicateMemo(rng, memo);
      seen.add(near.edit);
      expect(near.memo).not.toBe(memo);
      expect(editDistance(memo, near.memo)).toBe(near.distance);
      expect(near.distance).toBeGreaterThan(0);
      expect(near.distance).toBeLessThanOrEqual(MAX_NEAR_DUPLICATE_DISTANCE);
      expect(isRiskyMemo(near.memo)).toBe(isRiskyMemo(memo));
    }
    expect([...seen].sort()).toEqual([...MEMO_EDITS].sort());
  });

  it('keeps case and punctuation edits small: the text differs only there', () => {
    const rng = new Rng(5);
    let checked = 0;
    for (let i = 0; i < 2000; i += 1) {
      const memo = makeMemo(rng, 'grocery', 'Oslo', false);
      const near = nearDuplicateMemo(rng, memo);
      if (near.edit === 'case') {
        expect(near.memo.toLowerCase()).toBe(memo.toLowerCase());
        checked += 1;
      }
      if (near.edit === 'punctuation') {
        const strip = (s: string) => s.replace(/[,.!;:]/g, '');
        expect(strip(near.memo)).toBe(strip(memo));
        expect(near.distance).toBe(1);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
