import { describe, expect, it } from 'vitest';
import { chooseCategoricalTest, chooseNumericTest, isDrift } from './policy';

describe('chooseNumericTest', () => {
  it('uses KS up to 1,000 reference rows and normalised Wasserstein above', () => {
    expect(chooseNumericTest(1000)).toEqual({
      test: 'ks',
      kind: 'pvalue',
      threshold: 0.05,
      referenceSize: 1000,
      sizeThreshold: 1000,
    });
    expect(chooseNumericTest(1001)).toMatchObject({ test: 'wasserstein', threshold: 0.1 });
    expect(chooseNumericTest(5000, { sizeThreshold: 10_000 }).test).toBe('ks');
  });
});

describe('chooseCategoricalTest', () => {
  it('uses χ² normally', () => {
    expect(chooseCategoricalTest([30, 40, 30], [35, 35, 30])).toMatchObject({
      test: 'chi2',
      kind: 'pvalue',
      categories: 3,
      referenceSize: 100,
    });
  });

  it("uses Fisher's exact test on two categories with an expected count below 5", () => {
    const choice = chooseCategoricalTest([18, 2, 0], [17, 3, 0]);
    expect(choice).toMatchObject({ test: 'fisher', categories: 2 });
    // Column 2 holds 5 of 40 values; each row holds 20: expected 20 · 5 / 40 = 2.5.
    expect(choice.minExpected).toBe(2.5);
    expect(chooseCategoricalTest([50, 50], [45, 55]).test).toBe('chi2');
    expect(chooseCategoricalTest([10, 2, 3], [9, 1, 4]).test).toBe('chi2');
  });

  it('uses Jensen–Shannon above the size threshold', () => {
    expect(chooseCategoricalTest([600, 401], [10, 3])).toMatchObject({
      test: 'jensenshannon',
      kind: 'distance',
      threshold: 0.1,
    });
  });
});

describe('isDrift', () => {
  it('reads p-values downwards and distances upwards', () => {
    const ks = chooseNumericTest(100);
    const ws = chooseNumericTest(10_000);
    expect([isDrift(ks, 0.01), isDrift(ks, 0.05), isDrift(ks, 0.2)]).toEqual([true, false, false]);
    expect([isDrift(ws, 0.2), isDrift(ws, 0.1), isDrift(ws, 0.05)]).toEqual([true, false, false]);
  });
});
