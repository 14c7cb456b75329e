import { describe, expect, it } from 'vitest';
import reference from '../../fixtures/tabular.json';
import { chi2Survival, lnGamma, regularizedGammaP, regularizedGammaQ } from './gamma';

const { chi2Survival: grid, lgamma } = reference.selection;

describe('lnGamma', () => {
  it('matches Python math.lgamma within 1e-14 absolute', () => {
    for (const { x, lgamma: expected } of lgamma) {
      expect(Math.abs(lnGamma(x) - expected)).toBeLessThan(1e-14 * Math.max(1, Math.abs(expected)));
    }
  });

  it('is exact enough at the integers: ln((n − 1)!)', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 30; n += 1) {
      if (n > 1) logFactorial += Math.log(n - 1);
      expect(Math.abs(lnGamma(n) - logFactorial)).toBeLessThan(1e-13 * Math.max(1, logFactorial));
    }
    expect(lnGamma(0)).toBeNaN();
    expect(lnGamma(-1)).toBeNaN();
  });
});

describe('chi2Survival (regularised upper incomplete gamma)', () => {
  it(`matches scipy.special.chdtrc within 1e-10 relative on ${grid.length} points`, () => {
    let worst = 0;
    for (const { dof, x, sf } of grid) {
      const ours = chi2Survival(x, dof);
      const e = sf === 0 ? ours : Math.abs(ours - sf) / sf;
      worst = Math.max(worst, e);
    }
    expect(worst).toBeLessThanOrEqual(1e-10);
  });

  it('has closed forms at 1 and 2 degrees of freedom', () => {
    // dof 2: e^(−x/2). dof 1 at the 5 % critical value 3.841458820694124.
    for (const x of [0.01, 1, 10, 100, 1000]) {
      expect(Math.abs(chi2Survival(x, 2) / Math.exp(-x / 2) - 1)).toBeLessThan(1e-13);
    }
    expect(Math.abs(chi2Survival(3.841458820694124, 1) - 0.05)).toBeLessThan(1e-15);
  });

  it('P + Q = 1, and the edges', () => {
    for (const a of [0.5, 1, 3.5, 40, 600]) {
      for (const x of [0.1, a / 2, a, a + 1, 2 * a + 5]) {
        expect(Math.abs(regularizedGammaP(a, x) + regularizedGammaQ(a, x) - 1)).toBeLessThan(1e-14);
      }
    }
    expect(chi2Survival(0, 3)).toBe(1);
    expect(chi2Survival(NaN, 3)).toBeNaN();
    expect(regularizedGammaQ(2, Infinity)).toBe(0);
    expect(regularizedGammaQ(-1, 1)).toBeNaN();
  });
});
