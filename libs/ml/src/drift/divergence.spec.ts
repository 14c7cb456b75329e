import { describe, expect, it } from 'vitest';
import { binEdges, histogram, jensenShannonDistance, psi } from './divergence';
import { close, fixture, REL } from './fixture';

describe('jensenShannonDistance against scipy.spatial.distance.jensenshannon', () => {
  for (const c of fixture.jensenShannon) {
    const scipyError = Math.abs(c.base2 - c.exactBase2) / Math.max(c.exactBase2, 1e-300);
    it(`${c.p.length} categories, distance ${c.exactBase2.toPrecision(3)}`, () => {
      const base2 = jensenShannonDistance(c.p, c.q);
      const natural = jensenShannonDistance(c.p, c.q, Math.E);
      // Always: the 50-digit value to 1e-13.
      expect({ base2, ok: close(base2, c.exactBase2, 1e-13, 0) }).toEqual({ base2, ok: true });
      if (scipyError <= REL / 2) {
        expect({ natural, ok: close(base2, c.base2) && close(natural, c.natural) }).toEqual({
          natural,
          ok: true,
        });
      } else {
        // scipy's cancellation: counts of 10⁶ ± 1 put it 3e-4 and 7e-5 off (see the docs).
        expect(scipyError).toBeGreaterThan(REL);
      }
    });
  }

  it('is 0 for proportional counts and 1 for disjoint ones (base 2)', () => {
    expect(jensenShannonDistance([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(jensenShannonDistance([1, 0], [0, 5])).toBe(1);
  });

  it('throws on bad input', () => {
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow(/p has 1 values, q 2/);
    expect(() => jensenShannonDistance([0, 0], [1, 2])).toThrow(/p sums to 0/);
    expect(() => jensenShannonDistance([1, -1], [1, 2])).toThrow(/p\[1\] is -1/);
  });
});

describe('psi (formula computed with numpy)', () => {
  for (const c of fixture.psi) {
    it(`[${c.reference.join(', ')}] vs [${c.current.join(', ')}]`, () => {
      for (const [eps, expected] of Object.entries(c.psi)) {
        const value = psi(c.reference, c.current, Number(eps));
        expect({ eps, value, ok: close(value, expected) }).toEqual({ eps, value, ok: true });
      }
    });
  }

  it('is 0 for identical shares and symmetric', () => {
    expect(psi([1, 2, 3], [10, 20, 30])).toBe(0);
    expect(psi([1, 2, 3], [3, 2, 1])).toBeCloseTo(psi([3, 2, 1], [1, 2, 3]), 15);
  });
});

describe('binEdges and histogram (np.quantile, np.searchsorted)', () => {
  for (const c of fixture.binned) {
    it(c.name, () => {
      const edges = binEdges(c.reference, c.bins);
      expect(edges).toEqual(c.edges);
      const referenceCounts = histogram(c.reference, edges);
      const currentCounts = histogram(c.current, edges);
      expect(referenceCounts).toEqual(c.referenceCounts);
      expect(currentCounts).toEqual(c.currentCounts);
      expect(currentCounts.reduce((s, v) => s + v, 0)).toBe(c.current.length);
      expect(close(psi(referenceCounts, currentCounts), c.psi)).toBe(true);
    });
  }

  it('puts values equal to an edge in the bin to its right', () => {
    expect(histogram([0, 1, 1.5, 2, 3], [1, 2])).toEqual([1, 2, 2]);
  });

  it('throws on bad bins and edges', () => {
    expect(() => binEdges([1, 2], 0)).toThrow(/positive integer/);
    expect(() => binEdges([], 3)).toThrow(/no reference values/);
    expect(() => histogram([1], [2, 2])).toThrow(/strictly increasing/);
  });
});
