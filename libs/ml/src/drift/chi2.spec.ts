import { describe, expect, it } from 'vitest';
import { chiSquareContingency, chiSquareTwoSample } from './chi2';
import { close, fixture } from './fixture';
import { chiSquareSurvival } from './gamma';

describe('chiSquareSurvival against scipy.special.chdtrc', () => {
  it(`matches on ${fixture.chi2.length} points, dof 1 … 3·10⁶, p down to 1e-300`, () => {
    const failures = fixture.chi2
      .map(([dof, x, sf]) => ({ dof, x, scipy: sf, ours: chiSquareSurvival(x, dof) }))
      .filter((r) => !close(r.ours, r.scipy));
    expect(failures).toEqual([]);
  });

  it('handles the ends of its domain', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(chiSquareSurvival(-1, 3)).toBe(1);
    expect(chiSquareSurvival(Infinity, 3)).toBe(0);
    expect(chiSquareSurvival(NaN, 3)).toBeNaN();
    expect(chiSquareSurvival(1, 0)).toBeNaN();
  });
});

describe('chi-square tests against scipy.stats.chi2_contingency(correction=False)', () => {
  for (const c of fixture.chi2TwoSample) {
    it(`two samples over ${c.reference.length} categories (p = ${c.pvalue.toPrecision(3)})`, () => {
      const r = chiSquareTwoSample(c.reference, c.current);
      expect(r.dof).toBe(c.dof);
      expect({ ...r, ok: close(r.statistic, c.statistic) && close(r.pvalue, c.pvalue) }).toEqual({
        ...r,
        ok: true,
      });
    });
  }

  for (const c of fixture.contingency) {
    it(`${c.table.length}×${c.table[0].length} table`, () => {
      const r = chiSquareContingency(c.table);
      expect(r.dof).toBe(c.dof);
      expect(close(r.statistic, c.statistic) && close(r.pvalue, c.pvalue)).toBe(true);
    });
  }

  it('throws where scipy does, and on bad counts', () => {
    expect(() =>
      chiSquareContingency([
        [1, 0],
        [2, 0],
      ]),
    ).toThrow(/expected count/);
    expect(() => chiSquareTwoSample([0, 0], [1, 2])).toThrow(/reference counts are all 0/);
    expect(() => chiSquareTwoSample([1, 2], [1])).toThrow(/2 reference categories, 1 current/);
    expect(() => chiSquareTwoSample([1, -2], [1, 2])).toThrow(/reference count 1 is -2/);
  });
});
