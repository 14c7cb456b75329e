import { describe, expect, it } from 'vitest';
import fixture from '../../fixtures/reference.json';
import {
  DEFAULT_REFERENCE_QUANTILES,
  featureReference,
  type NumericReference,
  predictionReference,
} from './reference';

/** |a − b| ≤ tol·max(|b|, tiny): relative comparison that still works around zero. */
function expectRel(actual: number | null, expected: number, tol = 1e-9): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(
    tol * Math.max(Math.abs(expected), 1e-300),
  );
}

/** A JSON input value back to a number: null is NaN, "inf" / "-inf" are infinities. */
function dec(v: number | string | null): number {
  if (v === null) return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v as number;
}

interface NumpySummary {
  count: number;
  missing: number;
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
  quantiles?: number[];
  histogram?: { edges: number[]; counts: number[] };
}

/** Our summary against numpy's: statistics to 1e-9 relative, histogram edges and counts exactly. */
function expectNumpy(ours: NumericReference, ref: NumpySummary, histogram = true): void {
  expect(ours.count).toBe(ref.count);
  expect(ours.missing).toBe(ref.missing);
  expectRel(ours.mean, ref.mean as number);
  expectRel(ours.std, ref.std as number);
  expect(ours.min).toBe(ref.min);
  expect(ours.max).toBe(ref.max);
  expect(ours.quantiles.map((q) => q.q)).toEqual(fixture.levels);
  ours.quantiles.forEach((q, i) => expectRel(q.value, (ref.quantiles as number[])[i]));
  if (histogram) expect(ours.histogram).toEqual(ref.histogram);
}

const F = fixture.features;
const matrix = Float64Array.from(F.values, dec);

describe('featureReference against numpy (fixtures/reference.json)', () => {
  const ref = featureReference(matrix, F.rows, F.columns, F.names);
  const ref7 = featureReference(matrix, F.rows, F.columns, F.names, { bins: 7 });

  it('uses the documented default quantile levels', () => {
    expect(fixture.levels).toEqual([...DEFAULT_REFERENCE_QUANTILES]);
  });

  F.summaries.forEach((numpy, c) => {
    it(`${numpy.name}: count, missing, mean, std, min, max, quantiles, histograms, distinct`, () => {
      const ours = ref.features[c];
      expect(ours.name).toBe(numpy.name);
      expect(ours.distinct).toBe(numpy.distinct);
      if (numpy.name === 'constant') {
        // numpy widens a zero range to [v − 0.5, v + 0.5] with 20 bins; we keep one bin [v, v].
        expectNumpy(ours, numpy, false);
        expect(numpy.histogram.edges[0]).toBe(6.75);
        expect(ours.histogram).toEqual({ edges: [7.25, 7.25], counts: [F.rows] });
        expect(ref7.features[c].histogram).toEqual({ edges: [7.25, 7.25], counts: [F.rows] });
        expect(ours.std).toBe(0);
        return;
      }
      expectNumpy(ours, numpy);
      expect(ref7.features[c].histogram).toEqual(numpy.histogram7);
    });
  });

  it('excludes non-finite values from every statistic (the NaN/±inf column)', () => {
    const c = F.names.indexOf('with_missing');
    const column = Array.from({ length: F.rows }, (_, r) => matrix[r * F.columns + c]);
    expect(column.filter(Number.isNaN)).toHaveLength(4);
    expect(column.filter((v) => v === Infinity || v === -Infinity)).toHaveLength(2);
    const ours = ref.features[c];
    expect(ours.missing).toBe(6);
    expect(ours.count).toBe(F.rows - 6);
    expect(ours.histogram.counts.reduce((a, b) => a + b, 0)).toBe(F.rows - 6);
    expect(Number.isFinite(ours.min) && Number.isFinite(ours.max)).toBe(true);
  });

  it('gives the same statistics for a Float32Array of float32-exact values', () => {
    // The float32 path widens each value to a double exactly, so it must match a Float64Array
    // holding the same float32-rounded values.
    const keep = ['flag', 'count', 'grid', 'constant'].map((n) => F.names.indexOf(n));
    const m32 = new Float32Array(F.rows * keep.length);
    const m64 = new Float64Array(F.rows * keep.length);
    for (let r = 0; r < F.rows; r += 1) {
      keep.forEach((c, k) => {
        m32[r * keep.length + k] = matrix[r * F.columns + c] * 256;
        m64[r * keep.length + k] = Math.fround(matrix[r * F.columns + c] * 256);
      });
    }
    const names = keep.map((c) => F.names[c]);
    expect(featureReference(m32, F.rows, keep.length, names)).toEqual(
      featureReference(m64, F.rows, keep.length, names),
    );
  });

  it('is plain JSON: survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(ref))).toEqual(ref);
    expect(JSON.stringify(ref)).not.toMatch(/NaN|Infinity/);
  });
});

describe('featureReference edge cases', () => {
  it('a column of only missing values has nulls, no histogram and 0 distinct', () => {
    const ref = featureReference(Float64Array.from([NaN, 1, Infinity, 2, NaN, 3]), 3, 2, [
      'gone',
      'x',
    ]);
    const gone = ref.features[0];
    expect(gone).toMatchObject({ count: 0, missing: 3, mean: null, std: null, min: null });
    expect(gone.max).toBeNull();
    expect(gone.distinct).toBe(0);
    expect(gone.histogram).toEqual({ edges: [], counts: [] });
    expect(gone.quantiles.every((q) => q.value === null)).toBe(true);
    expect(ref.sample.rows).toEqual([
      [null, 1],
      [null, 2],
      [null, 3],
    ]);
  });

  it('counts distinct values up to 64 and answers null beyond', () => {
    const values = (k: number): Float64Array =>
      Float64Array.from({ length: 200 }, (_, i) => (i * 7) % k);
    expect(featureReference(values(64), 200, 1, ['a']).features[0].distinct).toBe(64);
    expect(featureReference(values(65), 200, 1, ['a']).features[0].distinct).toBeNull();
  });

  it('a hand-checked small column: 1, 2, 3, 4 with 2 bins', () => {
    const [f] = featureReference(Float64Array.from([4, 1, 3, 2]), 4, 1, ['x'], {
      bins: 2,
      quantiles: [0.5, 0.25],
    }).features;
    expect(f.mean).toBe(2.5);
    expect(f.std).toBe(Math.sqrt(1.25));
    expect(f.quantiles).toEqual([
      { q: 0.5, value: 2.5 },
      { q: 0.25, value: 1.75 },
    ]);
    expect(f.histogram).toEqual({ edges: [1, 2.5, 4], counts: [2, 2] });
  });

  it('samples rows without replacement, deterministically for a seed', () => {
    const a = featureReference(matrix, F.rows, F.columns, F.names, { sampleSize: 50, seed: 7 });
    const b = featureReference(matrix, F.rows, F.columns, F.names, { sampleSize: 50, seed: 7 });
    const c = featureReference(matrix, F.rows, F.columns, F.names, { sampleSize: 50, seed: 8 });
    expect(a.sample).toEqual(b.sample);
    expect(c.sample.indices).not.toEqual(a.sample.indices);
    expect(a.sample.indices).toHaveLength(50);
    expect(new Set(a.sample.indices).size).toBe(50);
    expect([...a.sample.indices].sort((x, y) => x - y)).toEqual(a.sample.indices);
    a.sample.indices.forEach((r, k) => {
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(F.rows);
      const row = Array.from(matrix.subarray(r * F.columns, (r + 1) * F.columns), (v) =>
        Number.isFinite(v) ? v : null,
      );
      expect(a.sample.rows[k]).toEqual(row);
    });
  });

  it('keeps every row when there are fewer than sampleSize, and none for sampleSize 0', () => {
    const all = featureReference(matrix, F.rows, F.columns, F.names); // default 1000 > 200 rows
    expect(all.sample.indices).toEqual(Array.from({ length: F.rows }, (_, i) => i));
    const none = featureReference(matrix, F.rows, F.columns, F.names, { sampleSize: 0 });
    expect(none.sample).toEqual({ indices: [], rows: [] });
  });

  it('picks every row about equally often across seeds', () => {
    // 10 rows, samples of 3, 20k seeds: each row is in a sample with probability 0.3.
    const values = Float64Array.from({ length: 10 }, (_, i) => i);
    const hits = new Array<number>(10).fill(0);
    const n = 20_000;
    for (let seed = 0; seed < n; seed += 1) {
      for (const r of featureReference(values, 10, 1, ['x'], { sampleSize: 3, seed }).sample
        .indices) {
        hits[r] += 1;
      }
    }
    const se = Math.sqrt((0.3 * 0.7) / n);
    for (const h of hits) expect(Math.abs(h / n - 0.3)).toBeLessThan(4 * se);
  });

  it('rejects inconsistent shapes and options', () => {
    const v = new Float64Array(6);
    expect(() => featureReference(v, 2, 2, ['a', 'b'])).toThrow(RangeError);
    expect(() => featureReference(v, 3, 2, ['a'])).toThrow(RangeError);
    expect(() => featureReference(v, 3, 2, ['a', 'b'], { bins: 0 })).toThrow(RangeError);
    expect(() => featureReference(v, 3, 2, ['a', 'b'], { quantiles: [1.5] })).toThrow(RangeError);
    expect(() => featureReference(v, 3, 2, ['a', 'b'], { sampleSize: -1 })).toThrow(RangeError);
  });
});

describe('predictionReference against numpy (fixtures/reference.json)', () => {
  const P = fixture.predictions;

  it('binary: P(class 1) summary, histogram on numpy.linspace(0, 1, 21), positive rate', () => {
    const ours = predictionReference('binary', P.binary.outputs);
    expect(ours.task).toBe('binary');
    if (ours.task !== 'binary') return;
    expectNumpy(ours, P.binary);
    expect(ours.positiveRate).toBe(P.binary.positive_rate);
    // Rows [P(0), P(1)] give the same reference.
    const rows = P.binary.outputs.map((p) => [1 - p, p]);
    expect(predictionReference('binary', rows)).toEqual(ours);
  });

  it('multiclass: argmax shares (first on ties) and the confidence on [0, 1]', () => {
    const ours = predictionReference('multiclass', P.multiclass.outputs);
    expect(ours.task).toBe('multiclass');
    if (ours.task !== 'multiclass') return;
    expect(ours.count).toBe(P.multiclass.outputs.length);
    ours.classShares.forEach((s, k) => expectRel(s, P.multiclass.class_shares[k], 1e-15));
    expectNumpy(ours.confidence, P.multiclass.confidence);
  });

  it('regression: a numeric summary, NaN outputs missing', () => {
    const ours = predictionReference('regression', P.regression.outputs.map(dec));
    expect(ours.task).toBe('regression');
    expectNumpy(ours as NumericReference, P.regression);
    expect(JSON.parse(JSON.stringify(ours))).toEqual(ours);
  });
});

describe('predictionReference edge cases', () => {
  it('rejects probabilities outside [0, 1] and malformed rows', () => {
    expect(() => predictionReference('binary', [0.2, 1.01])).toThrow(RangeError);
    expect(() => predictionReference('binary', [0.2, NaN])).toThrow(RangeError);
    expect(() => predictionReference('binary', [[0.2, 0.3, 0.5]])).toThrow(RangeError);
    expect(() => predictionReference('multiclass', [0.2, 0.8])).toThrow(RangeError);
    expect(() => predictionReference('multiclass', [[1], [1]])).toThrow(RangeError);
    expect(() =>
      predictionReference('multiclass', [
        [0.5, 0.5],
        [0.2, 0.3, 0.5],
      ]),
    ).toThrow(RangeError);
    expect(() =>
      predictionReference('multiclass', [
        [0.5, 0.5],
        [-0.1, 1.1],
      ]),
    ).toThrow(RangeError);
    expect(() => predictionReference('regression', [[1, 2]])).toThrow(RangeError);
  });

  it('takes bins: 4 bins on [0, 1] by hand', () => {
    const ours = predictionReference('binary', [0, 0.25, 0.3, 0.5, 0.75, 1], { bins: 4 });
    expect(ours).toMatchObject({
      histogram: { edges: [0, 0.25, 0.5, 0.75, 1], counts: [1, 2, 1, 2] },
      positiveRate: 0.5,
    });
  });

  it('no outputs: zero counts and null statistics', () => {
    const b = predictionReference('binary', []);
    expect(b).toMatchObject({ count: 0, mean: null, positiveRate: null });
    expect(b.task === 'binary' && b.histogram.counts).toEqual(new Array(20).fill(0));
    expect(predictionReference('multiclass', [])).toMatchObject({ count: 0, classShares: [] });
  });
});
