import { Rng } from '@mlops/ml';
import { describe, expect, it } from 'vitest';
import { MERCHANT_CATEGORIES } from './cards-spec';
import {
  AMOUNT_LOGNORMAL,
  AMOUNT_STATS,
  AMOUNT_TRUNCATION,
  expectedFraudRate,
  fraudIntercept,
} from './model';

describe('fraudIntercept', () => {
  it.each([0.005, 0.02, 0.1, 0.5])('gives the base population a fraud rate of %f', (rate) => {
    expect(expectedFraudRate(fraudIntercept(rate))).toBeCloseTo(rate, 10);
  });

  it('refuses rates outside (0, 1)', () => {
    expect(() => fraudIntercept(0)).toThrow(RangeError);
    expect(() => fraudIntercept(1)).toThrow(RangeError);
  });
});

describe('AMOUNT_STATS', () => {
  it('matches a Monte Carlo estimate of the truncated lognormal per category', () => {
    const rng = new Rng(42);
    for (const c of MERCHANT_CATEGORIES) {
      const { median, sigma } = AMOUNT_LOGNORMAL[c];
      let sum = 0;
      let sumSq = 0;
      const n = 200_000;
      for (let i = 0; i < n; i += 1) {
        let z = rng.normal();
        while (Math.abs(z) > AMOUNT_TRUNCATION) z = rng.normal();
        const x = median * Math.exp(sigma * z);
        sum += x;
        sumSq += x * x;
      }
      const mean = sum / n;
      const sd = Math.sqrt(sumSq / n - mean * mean);
      expect(Math.abs(mean - AMOUNT_STATS[c].mean) / AMOUNT_STATS[c].mean).toBeLessThan(0.01);
      expect(Math.abs(sd - AMOUNT_STATS[c].sd) / AMOUNT_STATS[c].sd).toBeLessThan(0.02);
      expect(AMOUNT_STATS[c].max).toBeCloseTo(median * Math.exp(AMOUNT_TRUNCATION * sigma), 9);
    }
  });
});
