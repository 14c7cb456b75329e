import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { featureReference } from '../training/reference';
import { histogram, psi } from './divergence';
import { ksTwoSample } from './ks';
import { normalisedWasserstein } from './wasserstein';
import {
  featureDrift,
  type FeatureDriftReport,
  type NumericColumnDrift,
  type TestedColumnDrift,
} from './window';

// Eight normal features on different scales; shifts below are in units of each one's σ.
const MEANS = [0, 5, -3, 100, 0.5, 10, -20, 1];
const SDS = [1, 2, 0.5, 15, 0.1, 3, 4, 1];
const NAMES = MEANS.map((_, c) => `f${c}`);
const F = MEANS.length;

/** rows × 8 row-major normals from `seed`, column c shifted by shift[c]·σ_c. */
function matrix(seed: number, rows: number, shift: readonly number[] = []): Float64Array {
  const rng = new Rng(seed);
  const values = new Float64Array(rows * F);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < F; c += 1) {
      values[r * F + c] = rng.normal(MEANS[c] + (shift[c] ?? 0) * SDS[c], SDS[c]);
    }
  }
  return values;
}

function columnsOf(values: Float64Array, rows: number): { columns: Float64Array[] } {
  return {
    columns: Array.from({ length: F }, (_, c) =>
      Float64Array.from({ length: rows }, (_, r) => values[r * F + c]),
    ),
  };
}

const window = (seed: number, rows: number, shift: readonly number[] = []) =>
  columnsOf(matrix(seed, rows, shift), rows);

const tested = (report: FeatureDriftReport, name: string): NumericColumnDrift => {
  const c = report.columns.find((col) => col.name === name);
  if (c?.status !== 'tested' || c.type !== 'numeric') throw new Error(`${name} was not tested`);
  return c;
};

const sampleColumn = (ref: ReturnType<typeof featureReference>, c: number): number[] =>
  ref.sample.rows.map((row) => row[c]).filter((v): v is number => v !== null);

// The training reference as the trainer stores it: 5,000 rows, a raw sample of 1,000.
const REFERENCE = featureReference(matrix(1, 5000), 5000, F, NAMES);

describe('featureDrift acceptance: generated streams against a 5,000 × 8 training reference', () => {
  it('detects a 0.5σ mean shift in one feature after the correction within 1,000 events', () => {
    const shift = [0, 0, 0, 0.5];
    let smallest: number | null = null;
    const hitsBySize: Record<number, number> = {};
    for (const size of [100, 200, 500, 1000]) {
      let hits = 0;
      for (let seed = 1; seed <= 10; seed += 1) {
        if (featureDrift(REFERENCE, window(100 + seed, size, shift)).drifted.includes('f3')) {
          hits += 1;
        }
      }
      hitsBySize[size] = hits;
      if (hits >= 9) smallest ??= size;
    }
    console.log(`0.5σ shift of one feature: detected for ≥ 9/10 seeds from ${smallest} events`, {
      hitsBySize,
    });
    expect(smallest).not.toBeNull();
    expect(smallest).toBeLessThanOrEqual(1000);
  });

  it('flags any column in at most 5 of 100 stationary windows of 1,000, the dataset in none', () => {
    let anyColumn = 0;
    let dataset = 0;
    let uncorrected = 0;
    for (let k = 0; k < 100; k += 1) {
      const w = window(1000 + k, 1000);
      const report = featureDrift(REFERENCE, w);
      expect(report.tested).toBe(F);
      if (report.driftedCount > 0) anyColumn += 1;
      if (report.datasetDrift) dataset += 1;
      if (featureDrift(REFERENCE, w, { correction: 'none' }).driftedCount > 0) uncorrected += 1;
    }
    console.log(
      `stationary windows flagging any column: ${anyColumn}/100 after BH, ${uncorrected}/100 uncorrected; dataset drift ${dataset}/100`,
    );
    expect(anyColumn).toBeLessThanOrEqual(5);
    expect(dataset).toBe(0);
    // Without the correction eight tests at 5 % each flag far more windows.
    expect(uncorrected).toBeGreaterThan(anyColumn);
  });

  it('counts the dataset share in source fields when told which field each column encodes', () => {
    // f0–f4 spread one field, "wide", over five columns (as one-hot encoding does); f5, f6 and
    // f7 are fields of their own. "wide" moves in one of its columns, f5 moves too.
    const fieldOf = (c: string) => (['f0', 'f1', 'f2', 'f3', 'f4'].includes(c) ? 'wide' : c);
    const shifted = window(8, 1000, [1.5, 0, 0, 0, 0, 1.5]);
    const byColumn = featureDrift(REFERENCE, shifted);
    const byField = featureDrift(REFERENCE, shifted, { fieldOf });
    expect([...byColumn.drifted].sort()).toEqual(['f0', 'f5']);
    // The same tests: 2 of 8 columns, but 2 of 4 fields.
    expect(byField.drifted).toEqual(byColumn.drifted);
    expect(byColumn.fields).toEqual({ tested: 8, drifted: byColumn.drifted });
    expect(byColumn.driftShare).toBe(2 / 8);
    expect(byColumn.datasetDrift).toBe(false);
    expect(byField.fields.tested).toBe(4);
    expect([...byField.fields.drifted].sort()).toEqual(['f5', 'wide']);
    expect(byField.driftShare).toBe(2 / 4);
    expect(byField.datasetDrift).toBe(true);
    // Strongest first, a field ranked by its strongest column.
    expect(byField.fields.drifted[0]).toBe(fieldOf(byField.drifted[0]));
  });

  it('flags dataset drift when 5 of 8 features shift by 1σ, and names those five', () => {
    const report = featureDrift(REFERENCE, window(7, 1000, [1, 1, 1, 1, 1]));
    expect(report.datasetDrift).toBe(true);
    expect(report.driftedCount).toBe(5);
    expect(report.driftShare).toBe(5 / 8);
    expect([...report.drifted].sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    // Strongest first: adjusted p-values ascending, then the KS statistic.
    const cols = report.drifted.map((name) => tested(report, name));
    for (let i = 1; i < cols.length; i += 1) {
      const [a, b] = [cols[i - 1], cols[i]];
      expect(a.score < b.score || (a.score === b.score && a.statistic >= b.statistic)).toBe(true);
    }
    for (const c of cols) expect(c.meanShift).toBeGreaterThan(0.85);
  });
});

describe('featureDrift against direct computations', () => {
  const w = window(11, 1000, [0, 0, 0.3]);
  const report = featureDrift(REFERENCE, w);

  it("equals ksTwoSample on the reference sample's column and the window's column", () => {
    expect(report.test).toBe('ks');
    expect(report.sizes).toEqual({ referenceSample: 1000, window: 1000, decidedOn: 1000 });
    for (const c of [0, 2, 5]) {
      const direct = ksTwoSample(sampleColumn(REFERENCE, c), w.columns[c]);
      const col = tested(report, NAMES[c]);
      expect([col.statistic, col.pvalue, col.ksMethod]).toEqual([
        direct.statistic,
        direct.pvalue,
        direct.method,
      ]);
    }
    expect(tested(report, 'f2').drift).toBe(true);
  });

  it('equals psi on the reference histogram with the window counted on its edges', () => {
    for (let c = 0; c < F; c += 1) {
      const ref = REFERENCE.features[c].histogram;
      const direct = psi(ref.counts, histogram(w.columns[c], ref.edges.slice(1, -1)));
      const col = tested(report, NAMES[c]);
      expect(col.psi).toBe(direct);
      // Counted by hand: bin i is [e_i, e_{i+1}), the outer bins open.
      const byHand = new Array<number>(ref.counts.length).fill(0);
      for (const v of w.columns[c]) {
        let i = 0;
        while (i < ref.counts.length - 1 && v >= ref.edges[i + 1]) i += 1;
        byHand[i] += 1;
      }
      expect(col.histogram).toEqual({ edges: ref.edges, reference: ref.counts, current: byHand });
    }
  });

  it('corrects by Benjamini–Hochberg as the textbook formula, and by Bonferroni', () => {
    const cols = report.columns.map((c) => c as TestedColumnDrift);
    const p = cols.map((c) => c.pvalue as number);
    const m = p.length;
    // adjusted p_i = min over p_j ≥ p_i of p_j · m / rank(p_j), capped at 1.
    const bh = p.map((pi) =>
      Math.min(
        1,
        ...p.filter((pj) => pj >= pi).map((pj) => (pj * m) / p.filter((q) => q <= pj).length),
      ),
    );
    cols.forEach((c, i) => expect(c.adjustedPvalue).toBeCloseTo(bh[i], 14));
    const bonf = featureDrift(REFERENCE, w, { correction: 'bonferroni' });
    bonf.columns.forEach((c, i) => {
      expect((c as TestedColumnDrift).adjustedPvalue).toBe(Math.min(1, p[i] * m));
    });
    const none = featureDrift(REFERENCE, w, { correction: 'none' });
    none.columns.forEach((c, i) => expect((c as TestedColumnDrift).score).toBe(p[i]));
  });

  it("reports the window's mean and std against the reference's", () => {
    for (let c = 0; c < F; c += 1) {
      const xs = Array.from(w.columns[c]);
      const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
      const std = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length);
      const f = REFERENCE.features[c];
      const col = tested(report, NAMES[c]);
      expect(col.window.mean).toBeCloseTo(mean, 10);
      expect(col.window.std).toBeCloseTo(std, 10);
      expect(col.reference).toMatchObject({
        count: 5000,
        sampleCount: 1000,
        mean: f.mean,
        std: f.std,
      });
      expect(col.meanShift).toBeCloseTo((mean - (f.mean as number)) / (f.std as number), 10);
      expect(col.stdRatio).toBeCloseTo(std / (f.std as number), 10);
    }
    expect(tested(report, 'f2').meanShift).toBeGreaterThan(0.2);
  });

  it('is plain JSON, and the same for rows as for columns', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const values = matrix(11, 1000, [0, 0, 0.3]);
    const rows = Array.from({ length: 1000 }, (_, r) => values.subarray(r * F, (r + 1) * F));
    expect(featureDrift(REFERENCE, rows)).toEqual(report);
  });
});

describe('featureDrift edge cases', () => {
  it('counts non-finite and null values as missing and leaves them out', () => {
    const w = window(21, 300, [0, 0.4]);
    const dirty = w.columns.map((col) => [-Infinity, ...Array.from(col), NaN, null, Infinity]);
    const clean = featureDrift(REFERENCE, w);
    const report = featureDrift(REFERENCE, { columns: dirty });
    expect(report.rows).toBe(304);
    expect(report.columns).toEqual(
      clean.columns.map((c) => ({ ...c, window: { ...c.window, missing: 4 } })),
    );
    expect(report.drifted).toEqual(['f1']);
  });

  it('skips constant and empty reference columns and empty window columns, with the reason', () => {
    const rows = 400;
    const values = new Float64Array(rows * 3);
    const rng = new Rng(5);
    for (let r = 0; r < rows; r += 1) {
      values[r * 3] = 7; // constant
      values[r * 3 + 1] = NaN; // never present
      values[r * 3 + 2] = rng.normal();
    }
    const ref = featureReference(values, rows, 3, ['flag', 'gone', 'x']);
    const cur = {
      columns: [
        Float64Array.from({ length: 50 }, (_, i) => (i < 10 ? 8 : 7)),
        Float64Array.from({ length: 50 }, () => 1),
        Float64Array.from({ length: 50 }, () => rng.normal()),
      ],
    };
    const report = featureDrift(ref, cur);
    expect(report.columns.map((c) => [c.name, c.status, 'reason' in c ? c.reason : null])).toEqual([
      ['flag', 'skipped', 'reference-constant'],
      ['gone', 'skipped', 'reference-empty'],
      ['x', 'tested', null],
    ]);
    expect(report.columns[0]).toMatchObject({ drift: false, window: { count: 50, mean: 7.2 } });
    expect(report.tested).toBe(1);

    const none = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? NaN : null));
    const empty = featureDrift(ref, { columns: [cur.columns[0], cur.columns[1], none] });
    expect(empty.columns[2]).toEqual({
      name: 'x',
      status: 'skipped',
      reason: 'window-empty',
      drift: false,
      window: { count: 0, missing: 50, mean: null, std: null },
    });
    expect([empty.tested, empty.driftShare, empty.datasetDrift, empty.drifted]).toEqual([
      0,
      0,
      false,
      [],
    ]);
  });

  it('uses normalised Wasserstein when both the reference sample and the window are large', () => {
    const ref = featureReference(matrix(2, 5000), 5000, F, NAMES, { sampleSize: 3000 });
    const w = window(31, 2000, [0, 0.5]);
    const report = featureDrift(ref, w);
    expect([report.test, report.kind, report.threshold, report.sizes.decidedOn]).toEqual([
      'wasserstein',
      'distance',
      0.1,
      2000,
    ]);
    const f1 = tested(report, 'f1');
    expect(f1.statistic).toBe(normalisedWasserstein(sampleColumn(ref, 1), w.columns[1]));
    expect([f1.pvalue, f1.adjustedPvalue, f1.score]).toEqual([null, null, f1.statistic]);
    expect(report.drifted).toEqual(['f1']);
    // A small window against the same reference gets the test.
    expect(featureDrift(ref, window(32, 500)).test).toBe('ks');
  });

  it('keeps the exact KS p-value within its budget and the asymptotic one beyond', () => {
    const w = window(41, 2000, [0.1]);
    const sample = sampleColumn(REFERENCE, 0);
    const bounded = tested(featureDrift(REFERENCE, w), 'f0');
    const scipy = tested(featureDrift(REFERENCE, w, { ksExactBudget: Infinity }), 'f0');
    expect(bounded.ksMethod).toBe('asymp');
    expect(bounded.pvalue).toBe(ksTwoSample(sample, w.columns[0], { method: 'asymp' }).pvalue);
    expect(scipy.ksMethod).toBe('exact');
    expect(scipy.pvalue).toBe(ksTwoSample(sample, w.columns[0]).pvalue);
    expect(Math.abs((bounded.pvalue as number) / (scipy.pvalue as number) - 1)).toBeLessThan(0.1);
  });

  it('rejects inconsistent windows and options', () => {
    expect(() => featureDrift(REFERENCE, [[1, 2, 3]])).toThrow(/row 0 has 3 values for 8/);
    expect(() => featureDrift(REFERENCE, { columns: [[1]] })).toThrow(/1 window columns for 8/);
    const w = window(1, 10);
    w.columns[3] = new Float64Array(9);
    expect(() => featureDrift(REFERENCE, w)).toThrow(/column 3 has 9 values, column 0 10/);
    expect(() => featureDrift(REFERENCE, window(1, 10), { datasetShare: 0 })).toThrow(RangeError);
    expect(() => featureDrift(REFERENCE, window(1, 10), { correction: 'holm' as 'bh' })).toThrow(
      /unknown correction/,
    );
  });
});
