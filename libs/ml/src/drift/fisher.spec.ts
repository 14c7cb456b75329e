import { describe, expect, it } from 'vitest';
import { fisherExact2x2 } from './fisher';
import { close, fixture } from './fixture';

describe('fisherExact2x2 against scipy.stats.fisher_exact (two-sided)', () => {
  it(`matches on ${fixture.fisher.length} tables`, () => {
    const failures = fixture.fisher
      .map((c) => ({ table: c.table, scipy: c.pvalue, ours: fisherExact2x2(c.table) }))
      .filter((r) => !close(r.ours, r.scipy));
    expect(failures).toEqual([]);
  });

  it("reproduces scipy's documented example", () => {
    expect(
      fisherExact2x2([
        [6, 2],
        [1, 4],
      ]),
    ).toBeCloseTo(0.10256410256410257, 15);
  });

  it('counts tables as probable as the observed one on both sides', () => {
    // Symmetric margins: [[3, 1], [1, 3]] and [[1, 3], [3, 1]] are equally probable.
    expect(
      fisherExact2x2([
        [3, 1],
        [1, 3],
      ]),
    ).toBe(
      fisherExact2x2([
        [1, 3],
        [3, 1],
      ]),
    );
  });

  it('rejects negative or fractional counts', () => {
    expect(() =>
      fisherExact2x2([
        [1, -1],
        [2, 3],
      ]),
    ).toThrow(/non-negative integers/);
    expect(() =>
      fisherExact2x2([
        [1, 0.5],
        [2, 3],
      ]),
    ).toThrow(/non-negative integers/);
  });
});
