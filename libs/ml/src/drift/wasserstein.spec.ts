import { describe, expect, it } from 'vitest';
import { close, fixture } from './fixture';
import { normalisedWasserstein, wassersteinDistance } from './wasserstein';

describe('wassersteinDistance against scipy.stats.wasserstein_distance', () => {
  for (const c of fixture.samples) {
    it(`${c.name} (${c.a.length} vs ${c.b.length})`, () => {
      const d = wassersteinDistance(c.a, c.b);
      const nd = normalisedWasserstein(c.a, c.b);
      expect({ d, nd, ok: close(d, c.wasserstein) && close(nd, c.normalisedWasserstein) }).toEqual({
        d,
        nd,
        ok: true,
      });
    });
  }

  it('is symmetric, 0 for equal samples, and a shift for shifted copies', () => {
    const a = [0.3, -1.2, 2.5, 0.7, 0.7];
    expect(wassersteinDistance(a, a)).toBe(0);
    expect(wassersteinDistance(a, [1, 2])).toBe(wassersteinDistance([1, 2], a));
    expect(
      wassersteinDistance(
        a,
        a.map((v) => v + 0.25),
      ),
    ).toBeCloseTo(0.25, 14);
  });

  it('divides by the population std of the reference', () => {
    // std([0, 2]) = 1 with ddof 0; the distance from {0, 2} to {1} is 1.
    expect(normalisedWasserstein([0, 2], [1])).toBe(1);
    expect(normalisedWasserstein([5, 5, 5], [6])).toBe(1);
  });

  it('throws on an empty sample', () => {
    expect(() => wassersteinDistance([], [1])).toThrow(/at least one value/);
  });
});
