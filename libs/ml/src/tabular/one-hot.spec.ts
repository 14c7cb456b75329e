import { describe, expect, it } from 'vitest';
import reference from '../../fixtures/tabular.json';
import type { Category } from '../robust';
import { applyOneHot, type CategoricalValue, fitOneHot, oneHotIndex } from './one-hot';

interface OneHotCase {
  column: string;
  values: CategoricalValue[];
  options: { topK?: number; minCount?: number };
  /** An independent Python computation of the documented rule (count desc, value asc). */
  expected: string[];
  /** scikit-learn's OneHotEncoder(handle_unknown='infrequent_if_exist', ...), or null. */
  sklearn: {
    frequent: (string | number)[];
    infrequent: (string | number)[];
    probes: Category[];
    transform: number[][];
  } | null;
}
const cases = reference.oneHot.cases as OneHotCase[];

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

describe('fitOneHot against an independent computation of the documented rule', () => {
  for (const c of cases) {
    it(`${c.column} ${JSON.stringify(c.options)} → ${c.expected.join(', ')}`, () => {
      expect(fitOneHot(c.values, c.options).categories).toEqual(c.expected);
    });
  }
});

describe('fitOneHot against scikit-learn', () => {
  for (const c of cases.filter((x) => x.sklearn !== null)) {
    const sk = c.sklearn!;
    const frequent = sk.frequent.map(String);
    // The cut falls inside a tie: scikit-learn keeps the larger values, we keep the smaller.
    const tieAtCut = !sameSet(frequent, c.expected);

    it(`${c.column} ${JSON.stringify(c.options)}: ${tieAtCut ? 'differs only by the tie rule' : 'same categories and vectors'}`, () => {
      const state = fitOneHot(c.values, c.options);
      if (tieAtCut) {
        // Same counts kept; only which of the tied values differs.
        const counts = new Map<string, number>();
        for (const v of c.values)
          if (v !== null) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
        const ours = state.categories.map((k) => counts.get(k)).sort();
        const theirs = frequent.map((k) => counts.get(k)).sort();
        expect(ours).toEqual(theirs);
        return;
      }
      expect(sameSet(state.categories, frequent)).toBe(true);
      // scikit-learn's columns: frequent categories sorted by value, then the infrequent one if
      // any. Ours: rank order, then the out-of-vocabulary slot, always.
      sk.probes.forEach((probe, p) => {
        const ours = applyOneHot(probe, state);
        expect(ours).toHaveLength(state.categories.length + 1);
        const theirs = sk.transform[p];
        frequent.forEach((cat, col) => {
          expect(ours[state.categories.indexOf(cat)]).toBe(theirs[col]);
        });
        const oov = ours[state.categories.length];
        if (sk.infrequent.length > 0) expect(oov).toBe(theirs[frequent.length]);
        else expect(oov).toBe(state.categories.includes(String(probe)) ? 0 : 1);
      });
    });
  }
});

describe('ties at the cut', () => {
  it('scikit-learn keeps the larger tied values, we keep the smaller', () => {
    const at = (column: string, topK: number): OneHotCase =>
      cases.find((c) => c.column === column && c.options.topK === topK && !c.options.minCount)!;
    // Strings: a 5, d 4, b 3, c 3 — the third place is a tie between b and c.
    expect(fitOneHot(at('strings', 3).values, { topK: 3 }).categories).toEqual(['a', 'd', 'b']);
    expect(at('strings', 3).sklearn!.frequent).toEqual(['a', 'c', 'd']);
    // Numbers: 10 × 4, then 2, 9 and 33 × 3 each.
    expect(fitOneHot(at('numbers', 2).values, { topK: 2 }).categories).toEqual(['10', '2']);
    expect(at('numbers', 2).sklearn!.frequent).toEqual([10, 33]);
  });
});

describe('one-hot vectors', () => {
  const state = fitOneHot(['b', 'a', 'b', 'c', null, 'a', 'b'], { topK: 2 });

  it('ranks by count, ties by value, and ends with the out-of-vocabulary slot', () => {
    expect(state).toEqual({ categories: ['b', 'a'] });
    expect(applyOneHot('b', state)).toEqual([1, 0, 0]);
    expect(applyOneHot('a', state)).toEqual([0, 1, 0]);
    expect(applyOneHot('c', state)).toEqual([0, 0, 1]);
    expect(applyOneHot('never seen', state)).toEqual([0, 0, 1]);
  });

  it('encodes a missing value as all zeros', () => {
    expect(applyOneHot(null, state)).toEqual([0, 0, 0]);
    expect(applyOneHot(undefined, state)).toEqual([0, 0, 0]);
    expect(applyOneHot(NaN, fitOneHot([1, 2]))).toEqual([0, 0, 0]);
    expect(oneHotIndex(null, state)).toBe(-1);
  });

  it('orders numeric ties numerically and identifies values by their string form', () => {
    expect(fitOneHot([10, 9, 10, 9, 2]).categories).toEqual(['9', '10', '2']);
    expect(fitOneHot([1, '1', 2]).categories).toEqual(['1', '2']);
    const s = fitOneHot([true, false, true]);
    expect(applyOneHot(true, s)).toEqual([1, 0, 0]);
    expect(applyOneHot('true', s)).toEqual([1, 0, 0]);
  });

  it('keeps the prefix property and works from parsed JSON', () => {
    const values = ['x', 'y', 'y', 'z', 'z', 'z', 'w'];
    const all = fitOneHot(values).categories;
    for (let k = 0; k <= all.length; k += 1) {
      expect(fitOneHot(values, { topK: k }).categories).toEqual(all.slice(0, k));
    }
    const parsed = JSON.parse(JSON.stringify(fitOneHot(values, { topK: 2 }))) as typeof state;
    expect(applyOneHot('y', parsed)).toEqual([0, 1, 0]);
    expect(fitOneHot(values, { topK: 0 })).toEqual({ categories: [] });
    expect(applyOneHot('z', { categories: [] })).toEqual([1]);
  });

  it('rejects bad options', () => {
    expect(() => fitOneHot(['a'], { topK: -1 })).toThrow(RangeError);
    expect(() => fitOneHot(['a'], { topK: 1.5 })).toThrow(RangeError);
    expect(() => fitOneHot(['a'], { minCount: 0 })).toThrow(RangeError);
  });
});
