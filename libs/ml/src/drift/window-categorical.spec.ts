import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { type FeatureReference, featureReference } from '../training/reference';
import {
  type CategoricalColumnDrift,
  type ColumnDrift,
  featureDrift,
  type FeatureDriftReport,
  type NumericColumnDrift,
} from './window';

// Expected values below come from scipy 1.17.1 / statsmodels 0.15.0 on the same numbers, in
// /tmp/driftv (the venv of fixtures/make_drift_fixtures.py); each literal names its call.

/** |actual − expected| ≤ rel·|expected|. */
function close(actual: number | null, expected: number, rel = 1e-12): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

function column(report: FeatureDriftReport, name: string): ColumnDrift {
  const c = report.columns.find((col) => col.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
}

function categorical(report: FeatureDriftReport, name: string): CategoricalColumnDrift {
  const c = column(report, name);
  if (c.status !== 'tested' || c.type !== 'categorical')
    throw new Error(`${name}: not categorical`);
  return c;
}

function numeric(report: FeatureDriftReport, name: string): NumericColumnDrift {
  const c = column(report, name);
  if (c.status !== 'tested' || c.type !== 'numeric') throw new Error(`${name}: not numeric`);
  return c;
}

/** Row-major rows × generators.length matrix, column c at row r = generators[c](r). */
function table(rows: number, generators: readonly ((r: number) => number)[]): Float64Array {
  const width = generators.length;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < width; c += 1) out[r * width + c] = generators[c](r);
  }
  return out;
}

const columns = (rows: number, generators: readonly ((i: number) => number)[]) => ({
  columns: generators.map((g) => Float64Array.from({ length: rows }, (_, i) => g(i))),
});

// Codes 0, 1, 2 with shares 50 / 30 / 20 % (r mod 10 in 0–4, 5–7, 8–9).
const code = (r: number): number => (r % 10 < 5 ? 0 : r % 10 < 8 ? 1 : 2);
// An indicator with share 30 % of 1s.
const indicator = (r: number): number => (r % 10 < 3 ? 1 : 0);

// 1,000 training rows, all of them kept as the raw sample (sampleSize 1,000 ≥ rows), so the
// reference sample counts are exact: x uniform on 0–99.9, ind 700 × 0 / 300 × 1, code
// 500 / 300 / 200.
const NAMES = ['x', 'ind', 'code'];
const REFERENCE = featureReference(table(1000, [(r) => r * 0.1, indicator, code]), 1000, 3, NAMES);
// code has three distinct values: a count for the automatic rule, so it is named.
const OPTIONS = { categoricalColumns: ['code'] };

describe('featureDrift on categorical columns, against scipy', () => {
  // 200 rows: ind 50 / 50, code 90 / 60 / 40 and 10 of a code (3) the reference never holds.
  const w = columns(200, [
    (i) => 20 + i * 0.45,
    (i) => i % 2,
    (i) => (i < 90 ? 0 : i < 150 ? 1 : i < 190 ? 2 : 3),
  ]);
  const report = featureDrift(REFERENCE, w, OPTIONS);

  it('tests a 0/1 column by χ²: reference sample 70 / 30 against a window 50 / 50', () => {
    const ind = categorical(report, 'ind');
    expect([ind.type, ind.test, ind.kind, ind.threshold, ind.dof]).toEqual([
      'categorical',
      'chi2',
      'pvalue',
      0.05,
      1,
    ]);
    // scipy.stats.chi2_contingency([[700, 300], [100, 100]], correction=False)
    close(ind.statistic, 30.0);
    close(ind.pvalue, 4.3204630578274955e-8);
    // PSI on the shares: sum((c − r)·ln(c / r)), r = [0.7, 0.3], c = [0.5, 0.5] (numpy).
    close(ind.psi, 0.16945957207744072);
    expect(ind.histogram).toEqual({
      categories: [0, 1],
      reference: [700, 300],
      current: [100, 100],
    });
    expect(ind.shares.reference).toEqual([0.7, 0.3]);
    expect(ind.shares.current).toEqual([0.5, 0.5]);
    expect(ind.shares.maxShift).toBeCloseTo(0.2, 15);
    expect(ind.reference).toMatchObject({ count: 1000, sampleCount: 1000, distinct: 2 });
    expect(ind.window).toEqual({ count: 200, missing: 0, unseen: 0, mean: 0.5, std: 0.5 });
    expect(ind.drift).toBe(true);
  });

  it('counts a code the reference never holds as a category of its own (drift evidence)', () => {
    const c = categorical(report, 'code');
    // scipy.stats.chi2_contingency([[500, 300, 200, 0], [90, 60, 40, 10]], correction=False)
    expect([c.test, c.dof]).toEqual(['chi2', 3]);
    close(c.statistic, 50.84745762711865);
    close(c.pvalue, 5.272200093801925e-11);
    // numpy PSI with ε = 1e-4: the unseen code's reference share is floored at ε.
    close(c.psi, 0.31537696989415864);
    expect(c.histogram).toEqual({
      categories: [0, 1, 2, 3],
      reference: [500, 300, 200, 0],
      current: [90, 60, 40, 10],
    });
    expect(c.window.unseen).toBe(10);
    expect(c.reference.distinct).toBe(3);
  });

  it("keeps the numeric column on KS, and the report's top-level test is the numeric one", () => {
    const x = numeric(report, 'x');
    // scipy.stats.ks_2samp(0.1·arange(1000), 20 + 0.45·arange(200)) (exact method)
    expect([x.test, x.kind, x.ksMethod]).toEqual(['ks', 'pvalue', 'exact']);
    close(x.statistic, 0.2);
    close(x.pvalue, 2.721169037017432e-6, 1e-10);
    expect([report.test, report.kind, report.threshold]).toEqual(['ks', 'pvalue', 0.05]);
    expect(report.tested).toBe(3);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("uses Fisher's exact test on a tiny window (an expected count below 5)", () => {
    const tiny = featureDrift(
      REFERENCE,
      columns(6, [(i) => 10 * (i + 1), (i) => (i < 5 ? 1 : 0), (i) => i % 3]),
      OPTIONS,
    );
    const ind = categorical(tiny, 'ind');
    // scipy.stats.fisher_exact([[700, 300], [1, 5]]).pvalue
    expect([ind.test, ind.kind, ind.statistic, ind.dof]).toEqual(['fisher', 'pvalue', null, null]);
    close(ind.pvalue, 0.011268865362447528);
    expect(ind.histogram).toEqual({ categories: [0, 1], reference: [700, 300], current: [1, 5] });
    // Three codes: χ² whatever the expected counts (Fisher is for 2 × 2 tables).
    // scipy.stats.chi2_contingency([[500, 300, 200], [2, 2, 2]], correction=False)
    const c = categorical(tiny, 'code');
    expect([c.test, c.dof]).toEqual(['chi2', 2]);
    close(c.statistic, 0.8821331725531592);
    close(c.pvalue, 0.643349866874531);
    expect(JSON.parse(JSON.stringify(tiny))).toEqual(tiny);
  });

  it('corrects numeric and categorical p-values together (BH and Bonferroni)', () => {
    // ind 123 / 77, code 84 / 60 / 56, x a mild shift: three p-values where BH's step-up
    // minimum matters (ind's p·3/1 is above code's p·3/2).
    const mild = columns(200, [
      (i) => 6 + i * 0.5,
      (i) => (i < 77 ? 1 : 0),
      (i) => (i < 84 ? 0 : i < 144 ? 1 : 2),
    ]);
    const bh = featureDrift(REFERENCE, mild, OPTIONS);
    const [x, ind, c] = [numeric(bh, 'x'), categorical(bh, 'ind'), categorical(bh, 'code')];
    // scipy.stats.ks_2samp(0.1·arange(1000), 6 + 0.5·arange(200)).pvalue
    close(x.pvalue, 0.5723778431330566, 1e-10);
    // scipy.stats.chi2_contingency([[700, 300], [123, 77]], correction=False)
    close(ind.statistic, 5.588662814120556);
    close(ind.pvalue, 0.018077090924743012);
    // scipy.stats.chi2_contingency([[500, 300, 200], [84, 60, 56]], correction=False)
    close(c.statistic, 7.191780821917808);
    close(c.pvalue, 0.02743624276539667);
    // statsmodels multipletests([p_x, p_ind, p_code], method='fdr_bh')[1]
    close(x.adjustedPvalue, 0.5723778431330566, 1e-10);
    close(ind.adjustedPvalue, 0.04115436414809501);
    close(c.adjustedPvalue, 0.04115436414809501);
    // By hand: sorted p₁ ≤ p₂ ≤ p₃, adjusted pᵢ = min over j ≥ i of pⱼ·3/j.
    const p = [ind.pvalue, c.pvalue, x.pvalue] as number[];
    expect(ind.adjustedPvalue).toBe(Math.min((p[0] * 3) / 1, (p[1] * 3) / 2, p[2]));
    expect(c.adjustedPvalue).toBe(Math.min((p[1] * 3) / 2, p[2]));
    expect([ind.score, c.score, x.score]).toEqual([
      ind.adjustedPvalue,
      c.adjustedPvalue,
      x.adjustedPvalue,
    ]);
    // Tied adjusted p-values: the smaller raw p-value first.
    expect(bh.drifted).toEqual(['ind', 'code']);

    // statsmodels multipletests([p_x, p_ind, p_code], method='bonferroni')[1]
    const bonf = featureDrift(REFERENCE, mild, { ...OPTIONS, correction: 'bonferroni' });
    expect(numeric(bonf, 'x').adjustedPvalue).toBe(1);
    close(categorical(bonf, 'ind').adjustedPvalue, 0.05423127277422904);
    close(categorical(bonf, 'code').adjustedPvalue, 0.08230872829619001);
    expect(bonf.drifted).toEqual([]);
    // Uncorrected, both categorical columns drift on their raw p-values.
    expect(featureDrift(REFERENCE, mild, { ...OPTIONS, correction: 'none' }).drifted).toEqual([
      'ind',
      'code',
    ]);
  });
});

describe('featureDrift on categorical columns: large samples get Jensen–Shannon', () => {
  // 3,000 training rows, all kept (sampleSize 3,000), and a window of 2,000: both above the
  // 1,000-row size threshold, so Wasserstein for x and Jensen–Shannon for ind and code.
  const ref = featureReference(table(3000, [(r) => r * 0.03, indicator, code]), 3000, 3, NAMES, {
    sampleSize: 3000,
  });
  const w = columns(2000, [
    (i) => 10 + i * 0.045,
    (i) => i % 2,
    (i) => (i % 10 < 4 ? 0 : i % 10 < 7 ? 1 : 2),
  ]);

  it('equals scipy.spatial.distance.jensenshannon(p, q, base=2) on the category counts', () => {
    const report = featureDrift(ref, w, OPTIONS);
    expect([report.test, report.sizes.decidedOn]).toEqual(['wasserstein', 2000]);
    const ind = categorical(report, 'ind');
    const c = categorical(report, 'code');
    expect([ind.test, ind.kind, ind.threshold, ind.pvalue, ind.adjustedPvalue]).toEqual([
      'jensenshannon',
      'distance',
      0.1,
      null,
      null,
    ]);
    // jensenshannon([2100, 900], [1000, 1000], base=2)
    close(ind.statistic, 0.17408372939284789);
    expect(ind.score).toBe(ind.statistic);
    // jensenshannon([1500, 900, 600], [800, 600, 600], base=2)
    close(c.statistic, 0.10619851439230617);
    // numpy PSI of [1500, 900, 600] against [800, 600, 600]
    close(c.psi, 0.06286086594223739);
    // wasserstein_distance(0.03·arange(3000), 10 + 0.045·arange(2000)) / np.std(reference)
    close(numeric(report, 'x').statistic, 0.3846115256924633, 1e-10);
    // Distances rank by distance ÷ threshold: 3.85 (x), 1.74 (ind), 1.06 (code).
    expect(report.drifted).toEqual(['x', 'ind', 'code']);
  });

  it('ranks distances of different thresholds by how far past their threshold they are', () => {
    // x 0.385 is below 0.5 and code 0.106 below 0.11; ind 0.174 is above.
    const report = featureDrift(ref, w, {
      ...OPTIONS,
      wassersteinThreshold: 0.5,
      jensenShannonThreshold: 0.11,
    });
    expect(report.drifted).toEqual(['ind']);
    const lower = featureDrift(ref, w, {
      ...OPTIONS,
      wassersteinThreshold: 0.3,
      jensenShannonThreshold: 0.1,
    });
    // x: 0.385 / 0.3 = 1.28, ind 0.174 / 0.1 = 1.74, code 1.06: ind first, though x's
    // distance is the larger.
    expect(lower.drifted).toEqual(['ind', 'x', 'code']);
  });
});

describe('which columns are categorical', () => {
  const w = columns(200, [(i) => 20 + i * 0.45, (i) => i % 2, (i) => i % 3]);

  it('takes integer columns of at most categoricalMaxDistinct (2) training values', () => {
    const report = featureDrift(REFERENCE, w);
    expect(report.columns.map((c) => (c.status === 'tested' ? c.type : null))).toEqual([
      'numeric',
      'categorical',
      'numeric',
    ]);
    const three = featureDrift(REFERENCE, w, { categoricalMaxDistinct: 3 });
    expect(categorical(three, 'code').test).toBe('chi2');
  });

  it('runs KS on a 0/1 column when the rule is off (categoricalMaxDistinct 0)', () => {
    const report = featureDrift(REFERENCE, w, { categoricalMaxDistinct: 0 });
    const ind = numeric(report, 'ind');
    // scipy.stats.ks_2samp([0]·700 + [1]·300, [0, 1]·100): D = |0.3 − 0.5|, p exact.
    expect(ind.test).toBe('ks');
    close(ind.statistic, 0.2);
    close(ind.pvalue, 2.721169037017432e-6, 1e-10);
    // Named columns stay categorical with the rule off.
    const named = featureDrift(REFERENCE, w, {
      categoricalMaxDistinct: 0,
      categoricalColumns: ['ind'],
    });
    expect(categorical(named, 'ind').test).toBe('chi2');
  });

  it('leaves two-valued columns with a non-integer value numeric', () => {
    const ref = featureReference(
      table(500, [(r) => (r % 3 === 0 ? 0.5 : 1.5), (r) => (r % 3 === 0 ? 2 : 7)]),
      500,
      2,
      ['half', 'twoseven'],
    );
    const report = featureDrift(ref, columns(100, [() => 1.5, (i) => (i % 2 ? 2 : 7)]));
    expect(numeric(report, 'half').test).toBe('ks');
    expect(categorical(report, 'twoseven').histogram.categories).toEqual([2, 7]);
  });

  it('rejects unknown categorical column names and a bad categoricalMaxDistinct', () => {
    expect(() => featureDrift(REFERENCE, w, { categoricalColumns: ['nope'] })).toThrow(
      /categorical column nope is not a reference column/,
    );
    expect(() => featureDrift(REFERENCE, w, { categoricalMaxDistinct: -1 })).toThrow(RangeError);
    expect(() => featureDrift(REFERENCE, w, { categoricalMaxDistinct: NaN })).toThrow(RangeError);
  });
});

describe('categorical edge cases', () => {
  // 'rare' has a single 1 in 1,000 training rows, and the sample keeps rows 0–499 only (a
  // hand-made sample, as a seeded one would miss a value that rare half the time).
  const full = featureReference(
    table(1000, [(r) => r * 0.1, (r) => (r === 999 ? 1 : 0), () => 4]),
    1000,
    3,
    ['x', 'rare', 'constant'],
  );
  const ref: FeatureReference = {
    ...full,
    sample: { indices: full.sample.indices.slice(0, 500), rows: full.sample.rows.slice(0, 500) },
  };
  const opts = { categoricalColumns: ['constant'] };

  it('tests a column whose sample and window hold one and the same category: χ², p = 1', () => {
    const report = featureDrift(ref, columns(100, [(i) => i, () => 0, () => 4]), opts);
    const rare = categorical(report, 'rare');
    // chi2_contingency([[500], [100]]): dof 0, statistic 0, p-value 1.
    expect([rare.test, rare.statistic, rare.pvalue, rare.dof, rare.drift]).toEqual([
      'chi2',
      0,
      1,
      0,
      false,
    ]);
    expect(rare.reference.distinct).toBe(2);
    expect(rare.histogram).toEqual({ categories: [0], reference: [500], current: [100] });
    expect(rare.psi).toBe(0);
    // A constant training column is skipped, categorical or not.
    expect(column(report, 'constant')).toMatchObject({
      status: 'skipped',
      reason: 'reference-constant',
    });
  });

  it('counts the category the sample lacks as evidence when the window holds it', () => {
    const report = featureDrift(
      ref,
      columns(100, [(i) => i, (i) => (i < 5 ? 1 : 0), (i) => (i < 5 ? 5 : 4)]),
      opts,
    );
    const rare = categorical(report, 'rare');
    // Two categories and an expected count of 5·500/600 < 5: scipy.stats.fisher_exact(
    // [[500, 0], [95, 5]]).pvalue
    expect(rare.test).toBe('fisher');
    close(rare.pvalue, 0.00011814201939721256);
    expect(rare.window.unseen).toBe(5);
    expect(rare.drift).toBe(true);
    // The new value in a constant training column is not tested (skipped, as numeric ones).
    expect(column(report, 'constant')).toMatchObject({
      status: 'skipped',
      reason: 'reference-constant',
      window: { count: 100, mean: 4.05 },
    });
    expect(report.tested).toBe(2);
  });

  it('counts non-finite values as missing', () => {
    const clean = columns(100, [(i) => i, (i) => (i < 5 ? 1 : 0), () => 4]);
    const dirty = {
      columns: clean.columns.map((c) => [NaN, ...Array.from(c), null, Infinity]),
    };
    const a = categorical(featureDrift(ref, clean, opts), 'rare');
    const b = categorical(featureDrift(ref, dirty, opts), 'rare');
    expect(b).toEqual({ ...a, window: { ...a.window, missing: 3 } });
  });
});

describe('categorical drift on generated indicator streams', () => {
  const bernoulli = (rng: Rng, rows: number, p: number) =>
    Float64Array.from({ length: rows }, () => (rng.bernoulli(p) ? 1 : 0));
  // A 5,000-row training column with P(1) = 0.3; the default 1,000-row sample.
  const ref = featureReference(bernoulli(new Rng(1), 5000, 0.3), 5000, 1, ['flag']);

  it('flags at most ~5 % of 200 stationary windows of 1,000 at α = 0.05', () => {
    let chi = 0;
    let ks = 0;
    for (let seed = 0; seed < 200; seed += 1) {
      const w = { columns: [bernoulli(new Rng(10_000 + seed), 1000, 0.3)] };
      const report = featureDrift(ref, w);
      expect(categorical(report, 'flag').test).toBe('chi2');
      if (report.driftedCount > 0) chi += 1;
      if (featureDrift(ref, w, { categoricalMaxDistinct: 0 }).driftedCount > 0) ks += 1;
    }
    console.log(`stationary Bernoulli(0.3) windows flagged: χ² ${chi}/200, KS ${ks}/200`);
    // 10 expected; the binomial's 99.9 % bound is 20. The reference sample is one fixed draw,
    // which shifts every window's test the same way, so the rate is only ~5 %.
    expect(chi).toBeLessThanOrEqual(20);
    // KS on a 0/1 column is far more conservative than its α.
    expect(ks).toBeLessThanOrEqual(chi);
  });

  it('flags a 0.3 → 0.45 shift on windows of 1,000 in at least 19 of 20 seeds', () => {
    let hits = 0;
    for (let seed = 0; seed < 20; seed += 1) {
      const w = { columns: [bernoulli(new Rng(20_000 + seed), 1000, 0.45)] };
      if (featureDrift(ref, w).drifted.includes('flag')) hits += 1;
    }
    console.log(`0.3 → 0.45 shift flagged in ${hits}/20 windows of 1,000`);
    expect(hits).toBeGreaterThanOrEqual(19);
  });

  it('finds a 0.3 → 0.35 shift more often than KS on the same windows', () => {
    let chi = 0;
    let ks = 0;
    for (let seed = 0; seed < 50; seed += 1) {
      const w = { columns: [bernoulli(new Rng(30_000 + seed), 1000, 0.35)] };
      if (featureDrift(ref, w).driftedCount > 0) chi += 1;
      if (featureDrift(ref, w, { categoricalMaxDistinct: 0 }).driftedCount > 0) ks += 1;
    }
    console.log(`0.3 → 0.35 shift flagged in 50 windows of 1,000: χ² ${chi}, KS ${ks}`);
    expect(chi).toBeGreaterThan(ks);
  });
});
