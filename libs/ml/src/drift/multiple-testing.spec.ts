import { describe, expect, it } from 'vitest';
import { close, fixture } from './fixture';
import { benjaminiHochberg, bonferroni } from './multiple-testing';

describe("adjusted p-values against statsmodels' multipletests", () => {
  for (const c of fixture.multipleTesting) {
    it(`${c.pvalues.length} p-values`, () => {
      const bonf = bonferroni(c.pvalues);
      const bh = benjaminiHochberg(c.pvalues);
      expect(bonf.filter((v, i) => !close(v, c.bonferroni[i]))).toEqual([]);
      expect(bh.filter((v, i) => !close(v, c.fdr_bh[i]))).toEqual([]);
    });
  }

  it('returns nothing for nothing and rejects values outside [0, 1]', () => {
    expect(bonferroni([])).toEqual([]);
    expect(benjaminiHochberg([])).toEqual([]);
    expect(() => benjaminiHochberg([0.1, 1.2])).toThrow(/p-value 1 is 1.2/);
    expect(() => bonferroni([NaN])).toThrow(/p-value 0 is NaN/);
  });
});
