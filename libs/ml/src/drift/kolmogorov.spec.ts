import { describe, expect, it } from 'vitest';
import { close, fixture } from './fixture';
import { kstwoCdf, kstwoSurvival } from './kolmogorov';

describe('kstwoSurvival against scipy.stats.kstwo.sf', () => {
  it(`matches on ${fixture.kstwo.length} points across every branch of _kolmogn`, () => {
    const failures = fixture.kstwo
      .map(([n, d, sf]) => ({ n, d, scipy: sf, ours: kstwoSurvival(d, n) }))
      .filter((r) => !close(r.ours, r.scipy));
    expect(failures).toEqual([]);
  });

  it('is 1 at and below 1/(2n), 0 from 1 up, NaN for a non-integer n', () => {
    expect(kstwoSurvival(0.05, 10)).toBe(1);
    expect(kstwoSurvival(0, 10)).toBe(1);
    expect(kstwoSurvival(1, 10)).toBe(0);
    expect(kstwoSurvival(0.3, 10.5)).toBeNaN();
    expect(kstwoSurvival(0.3, 0)).toBeNaN();
    expect(kstwoSurvival(NaN, 10)).toBeNaN();
  });

  it('has a CDF that complements it', () => {
    for (const [n, d] of [
      [10, 0.2],
      [100, 0.05],
      [100, 0.3],
      [5000, 0.01],
      [5000, 0.6],
    ]) {
      expect(kstwoCdf(d, n) + kstwoSurvival(d, n)).toBeCloseTo(1, 14);
    }
  });
});
