import { describe, expect, it } from 'vitest';
import { err, fixture } from './fixture';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from './regression';

// |ours − sklearn| ≤ 1e-12 · max(1, |sklearn|): relative for errors measured in dollars.
const TOL = 1e-12;

describe('regression metrics against scikit-learn', () => {
  for (const c of fixture.regression) {
    it(`${c.name}: MAE, RMSE, R²`, () => {
      expect(err(meanAbsoluteError(c.yTrue, c.yPred), c.sklearn.mae)).toBeLessThanOrEqual(TOL);
      expect(err(rootMeanSquaredError(c.yTrue, c.yPred), c.sklearn.rmse)).toBeLessThanOrEqual(TOL);
      const constant = c.yTrue.every((y) => y === c.yTrue[0]);
      if (constant) {
        // sklearn: 1 or 0 by default, NaN or -inf with force_finite=False; we say undefined.
        expect([0, 1]).toContain(c.sklearn.r2);
        expect([null, '-inf']).toContain(c.sklearn.r2NotForcedFinite);
        expect(r2Score(c.yTrue, c.yPred)).toBeNaN();
      } else {
        expect(err(r2Score(c.yTrue, c.yPred), c.sklearn.r2)).toBeLessThanOrEqual(TOL);
      }
    });
  }

  it('treats one sample as a constant target', () => {
    expect(r2Score([3], [2])).toBeNaN();
    expect(meanAbsoluteError([3], [2])).toBe(1);
  });

  it('throws on bad input', () => {
    expect(() => r2Score([1, 2], [1])).toThrow(/2 values, yPred 1/);
    expect(() => meanAbsoluteError([1, Infinity], [1, 2])).toThrow(/yTrue\[1\] is Infinity/);
  });
});
