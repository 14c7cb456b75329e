import { describe, expect, it } from 'vitest';
import reference from '../../fixtures/tabular.json';
import {
  chi2,
  columnVariances,
  mutualInfoDiscrete,
  selectTopK,
  varianceThreshold,
} from './selection';

const sel = reference.selection;
const X = sel.X;
const TOL = 1e-9;

/** Relative error; NaN (null in the fixture) must match NaN, 0 must match 0 exactly. */
function relErr(actual: number, expected: number | null): number {
  if (expected === null) return Number.isNaN(actual) ? 0 : Infinity;
  if (expected === 0) return actual === 0 ? 0 : Infinity;
  return Math.abs(actual - expected) / Math.abs(expected);
}

const worst = (actual: number[], expected: (number | null)[]): number =>
  Math.max(...actual.map((a, i) => relErr(a, expected[i])));

describe('chi2 against sklearn.feature_selection.chi2', () => {
  it('binary labels: scores and p-values within 1e-9 relative, NaN for the zero column', () => {
    const r = chi2(X, sel.y);
    expect(worst(r.scores, sel.chi2.scores)).toBeLessThanOrEqual(TOL);
    expect(worst(r.pValues, sel.chi2.pValues)).toBeLessThanOrEqual(TOL);
    expect(r.scores[2]).toBeNaN();
    // A statistic of ~7000 on 1 dof: the p-value underflows to 0 in both.
    expect(r.pValues[5]).toBe(0);
  });

  it('three classes, including a p-value of ~1e-90', () => {
    const r = chi2(X, sel.y3);
    expect(worst(r.scores, sel.chi2_3.scores)).toBeLessThanOrEqual(TOL);
    expect(worst(r.pValues, sel.chi2_3.pValues)).toBeLessThanOrEqual(TOL);
    expect(r.pValues[5]).toBeLessThan(1e-80);
  });

  it('one class: NaN everywhere, like scikit-learn', () => {
    const r = chi2(
      X.map((row) => [row[0], row[1]]),
      X.map(() => 0),
    );
    expect(r.scores.every(Number.isNaN)).toBe(true);
    expect(r.pValues.every(Number.isNaN)).toBe(true);
    expect(sel.chi2_oneClass.scores).toEqual([null, null]);
  });

  it('does not depend on how labels are spelled or ordered', () => {
    const names = sel.y.map((c) => (c === 1 ? 'fraud' : 'ok'));
    expect(chi2(X, names)).toEqual(chi2(X, sel.y));
    const flipped = sel.y.map((c) => 1 - c);
    const a = chi2(X, flipped);
    expect(worst(a.scores, sel.chi2.scores)).toBeLessThanOrEqual(TOL);
  });

  it('rejects negative, NaN and infinite values and mismatched labels', () => {
    expect(() => chi2([[1, -1]], [0])).toThrow(/non-negative/);
    expect(() => chi2([[NaN]], [0])).toThrow(RangeError);
    expect(() => chi2([[Infinity]], [0])).toThrow(RangeError);
    expect(() => chi2([[1], [2]], [0])).toThrow(/1 labels for 2 rows/);
    expect(() => chi2([[1, 2], [3]], [0, 1])).toThrow(/row 1 has 1 columns/);
  });
});

describe('mutualInfoDiscrete against mutual_info_classif(discrete_features=True)', () => {
  it('binary and three-class labels, within 1e-9 absolute (values are below 1 nat)', () => {
    const binary = mutualInfoDiscrete(X, sel.y);
    const three = mutualInfoDiscrete(X, sel.y3);
    binary.forEach((v, j) => expect(Math.abs(v - sel.mutualInfo[j])).toBeLessThanOrEqual(TOL));
    three.forEach((v, j) => expect(Math.abs(v - sel.mutualInfo_3[j])).toBeLessThanOrEqual(TOL));
    // Constant columns carry no information.
    expect(binary[2]).toBe(0);
    expect(binary[3]).toBe(0);
  });

  it('equals the label entropy when a column determines the label', () => {
    const y = [0, 0, 1, 1, 1, 2];
    const mi = mutualInfoDiscrete(
      y.map((c) => [c * 10]),
      y,
    );
    const h = -[2, 3, 1].reduce((s, n) => s + (n / 6) * Math.log(n / 6), 0);
    expect(Math.abs(mi[0] - h)).toBeLessThan(1e-15);
  });
});

describe('varianceThreshold against VarianceThreshold', () => {
  it('population variances like np.var', () => {
    columnVariances(X).forEach((v, j) => {
      expect(Math.abs(v - sel.variances[j])).toBeLessThanOrEqual(
        TOL * Math.max(1, sel.variances[j]),
      );
    });
  });

  for (const [t, support] of Object.entries(sel.varianceThreshold)) {
    it(`threshold ${t} keeps columns ${support.join(', ')}`, () => {
      expect(varianceThreshold(X, Number(t))).toEqual(support);
    });
  }

  it('drops a constant column even when rounding leaves a variance of ~1e-32', () => {
    // 0.7 · 3 / 3 rounds to 0.6999999999999998, so the computed variance is not 0.
    const rows = [
      [0.7, 0],
      [0.7, 1],
      [0.7, 0],
    ];
    expect(columnVariances(rows)[0]).toBeGreaterThan(0);
    expect(varianceThreshold(rows)).toEqual([1]);
  });

  it('ignores NaN cells and returns [] where scikit-learn raises', () => {
    expect(
      varianceThreshold([
        [1, NaN],
        [3, 5],
        [5, 5],
      ]),
    ).toEqual([0]);
    expect(varianceThreshold([[1], [1]])).toEqual([]);
    expect(() => varianceThreshold([[1]], -1)).toThrow(RangeError);
  });
});

describe('selectTopK', () => {
  it('agrees with SelectKBest(chi2, k) where no scores tie', () => {
    for (const [k, support] of Object.entries(sel.selectKBest.support)) {
      const scores = sel.selectKBest.scores.map((s) => s ?? NaN);
      expect(selectTopK(scores, Number(k))).toEqual(support);
    }
  });

  it('breaks ties by the lower index, ranks NaN last, returns ascending indices', () => {
    expect(selectTopK([1, 3, 3, 2], 1)).toEqual([1]);
    expect(selectTopK([1, 3, 3, 2], 2)).toEqual([1, 2]);
    expect(selectTopK([5, 5, 5], 2)).toEqual([0, 1]);
    expect(selectTopK([NaN, -Infinity, 0], 2)).toEqual([1, 2]);
    expect(selectTopK([NaN, 4, NaN, 7], 3)).toEqual([0, 1, 3]);
    expect(selectTopK([2, 1], 5)).toEqual([0, 1]);
    expect(selectTopK([2, 1], 0)).toEqual([]);
    expect(() => selectTopK([1], -1)).toThrow(RangeError);
  });
});
