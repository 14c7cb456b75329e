import { describe, expect, it } from 'vitest';
import { performanceDrop } from './performance';

describe('performanceDrop', () => {
  it('0.90 → 0.87 is a 3.33 % drop and alerts at 3 %', () => {
    const r = performanceDrop(0.9, 0.87);
    expect(r.dropPct).toBeCloseTo(100 / 30, 12);
    expect(r.alert).toBe(true);
  });

  it('0.90 → 0.885 is a 1.67 % drop and does not alert', () => {
    const r = performanceDrop(0.9, 0.885);
    expect(r.dropPct).toBeCloseTo(5 / 3, 12);
    expect(r.alert).toBe(false);
  });

  it('counts a rise as the drop when lower is better: RMSE up 3 % alerts', () => {
    for (const [ref, cur] of [
      [1, 1.03],
      [0.1, 0.103], // (0.103 − 0.1)/0.1 · 100 rounds to 2.999999999999989
      [250, 257.5],
    ]) {
      const r = performanceDrop(ref, cur, { higherIsBetter: false });
      expect(r.dropPct).toBeCloseTo(3, 12);
      expect(r.alert).toBe(true);
    }
    expect(performanceDrop(1, 1.029, { higherIsBetter: false }).alert).toBe(false);
    const better = performanceDrop(1, 0.9, { higherIsBetter: false });
    expect(better.dropPct).toBeCloseTo(-10, 12);
    expect(better.alert).toBe(false);
  });

  it('takes its threshold from maxDropPct and rejects metrics with no relative change', () => {
    expect(performanceDrop(0.9, 0.87, { maxDropPct: 5 }).alert).toBe(false);
    expect(performanceDrop(-2, -2.1).dropPct).toBeCloseTo(5, 12);
    expect(() => performanceDrop(0, 0.1)).toThrow(RangeError);
    expect(() => performanceDrop(0.9, NaN)).toThrow(RangeError);
  });
});
