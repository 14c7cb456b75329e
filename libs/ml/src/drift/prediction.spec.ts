import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { type BinaryPredictionReference, predictionReference } from '../training/reference';
import { histogramWasserstein, mergeSparseBins } from './binned';
import { chiSquareTwoSample } from './chi2';
import { histogram, jensenShannonDistance, psi } from './divergence';
import { fisherExact2x2 } from './fisher';
import {
  type BinaryPredictionDrift,
  type MulticlassPredictionDrift,
  predictionDrift,
  type RegressionPredictionDrift,
} from './prediction';

/** P(class 1) = sigmoid(centre + s·z): mean ≈ 0.5 and positive rate ≈ 0.5 for centre 0. */
function scores(seed: number, n: number, s: number, centre = 0): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => 1 / (1 + Math.exp(-(centre + s * rng.normal()))));
}

function binary(report: ReturnType<typeof predictionDrift>): BinaryPredictionDrift {
  if (report.task !== 'binary' || report.status !== 'tested') throw new Error('not a binary test');
  return report;
}

// The reference as the trainer stores it: 5,000 validation scores with std ≈ 0.14.
const BINARY = ((): BinaryPredictionReference => {
  const r = predictionReference('binary', scores(1, 5000, 0.6));
  if (r.task !== 'binary') throw new Error('not binary');
  return r;
})();

describe('predictionDrift, binary', () => {
  it('alerts when the score std moves by 0.2', () => {
    // sigmoid(2.5·z) has std ≈ 0.346 against ≈ 0.139 for sigmoid(0.6·z); both centred on 0.5.
    const r = binary(predictionDrift(BINARY, scores(2, 1000, 2.5)));
    expect(r.scores.stdShift).toBeGreaterThan(0.18);
    expect(r.scores.stdShift).toBeLessThan(0.22);
    expect(Math.abs(r.positiveRate.shift)).toBeLessThan(0.05);
    expect(r.alerts).toEqual(['distribution', 'std']);
    expect(r.alert).toBe(true);
    // A threshold above the shift silences the std rule only.
    const lax = binary(predictionDrift(BINARY, scores(2, 1000, 2.5), { maxStdShift: 0.25 }));
    expect(lax.alerts).toEqual(['distribution']);
  });

  it('does not alert on a stream that does not move', () => {
    const r = binary(predictionDrift(BINARY, scores(3, 1000, 0.6)));
    expect(Math.abs(r.scores.stdShift)).toBeLessThan(0.02);
    expect(r.alerts).toEqual([]);
    expect(r.alert).toBe(false);
    // Over 100 stationary windows the shift rules never fire and the χ² test at α = 0.05
    // about 5 times in 100.
    let distribution = 0;
    let rules = 0;
    for (let k = 0; k < 100; k += 1) {
      const s = binary(predictionDrift(BINARY, scores(3000 + k, 1000, 0.6)));
      if (s.alerts.includes('distribution')) distribution += 1;
      if (s.alerts.includes('std') || s.alerts.includes('share')) rules += 1;
    }
    console.log(
      `stationary binary windows: χ² alerts ${distribution}/100, shift rules ${rules}/100`,
    );
    expect(rules).toBe(0);
    expect(distribution).toBeLessThanOrEqual(10);
  });

  it('alerts on a positive-rate move beyond maxShareShift', () => {
    const r = binary(predictionDrift(BINARY, scores(4, 1000, 0.6, 0.4)));
    expect(r.positiveRate.shift).toBeGreaterThan(0.1);
    expect(r.alerts).toContain('share');
    expect(r.positiveRate.reference).toBe(BINARY.positiveRate);
  });

  it('equals psi, χ² and the histogram distance computed directly', () => {
    const window = scores(5, 800, 0.9);
    const r = binary(predictionDrift(BINARY, window));
    const { edges, counts } = BINARY.histogram;
    const current = histogram(window, edges.slice(1, -1));
    expect(r.scores.histogram).toEqual({ edges, reference: counts, current });
    expect(current.reduce((s, c) => s + c, 0)).toBe(800);
    expect(r.scores.psi).toBe(psi(counts, current));
    const merged = mergeSparseBins(counts, current);
    const chi = chiSquareTwoSample(merged.reference, merged.current);
    expect(r.test).toMatchObject({
      test: 'chi2',
      statistic: chi.statistic,
      pvalue: chi.pvalue,
      dof: chi.dof,
      bins: merged.reference.length,
      sizes: { reference: 5000, current: 800 },
    });
    const sorted = Float64Array.from(window).sort();
    expect(r.scores.wasserstein).toBe(
      histogramWasserstein(edges, counts, sorted) / (BINARY.std as number),
    );
    const mean = window.reduce((s, v) => s + v, 0) / window.length;
    expect(r.scores.current.mean).toBeCloseTo(mean, 12);
    expect(r.scores.quantiles.map((q) => q.q)).toEqual(BINARY.quantiles.map((q) => q.q));
    expect(r.scores.quantiles.at(-1)?.current).toBe(sorted[sorted.length - 1]);
  });

  it('uses the Wasserstein distance when both sides exceed the size threshold', () => {
    const still = binary(predictionDrift(BINARY, scores(6, 3000, 0.6)));
    expect(still.test).toMatchObject({ test: 'wasserstein', kind: 'distance', drift: false });
    const moved = binary(predictionDrift(BINARY, scores(6, 3000, 1.2)));
    expect(moved.test).toMatchObject({ test: 'wasserstein', drift: true });
    expect(moved.test.statistic).toBe(moved.scores.wasserstein);
  });

  it('counts non-finite and out-of-range scores as missing', () => {
    const window = [...scores(7, 200, 0.6), NaN, -0.1, 1.5, null, Infinity];
    const r = binary(predictionDrift(BINARY, window));
    expect([r.count, r.missing]).toEqual([200, 5]);
    expect(r).toEqual({ ...binary(predictionDrift(BINARY, scores(7, 200, 0.6))), missing: 5 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('skips an empty window or reference', () => {
    expect(predictionDrift(BINARY, [NaN])).toEqual({
      task: 'binary',
      status: 'skipped',
      reason: 'window-empty',
      count: 0,
      missing: 1,
      alerts: [],
      alert: false,
    });
    const empty = predictionReference('binary', []);
    expect(predictionDrift(empty, [0.5])).toMatchObject({ reason: 'reference-empty' });
    expect(() => predictionDrift(BINARY, [[0.2, 0.8]])).toThrow(/take numbers/);
  });
});

function multiclass(report: ReturnType<typeof predictionDrift>): MulticlassPredictionDrift {
  if (report.task !== 'multiclass' || report.status !== 'tested') throw new Error('not tested');
  return report;
}

/** Softmax rows of 3 classes with logits shifted by `bias`. */
function rows(seed: number, n: number, bias: readonly number[], scale = 1): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const e = bias.map((b) => Math.exp(b + scale * rng.normal()));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  });
}

describe('predictionDrift, multiclass', () => {
  const reference = predictionReference('multiclass', rows(1, 5000, [0, 0, 0]));

  it('tests the class counts by χ² and reports the share and confidence shifts', () => {
    const still = multiclass(predictionDrift(reference, rows(2, 1000, [0, 0, 0])));
    expect(still.alerts).toEqual([]);
    const window = rows(3, 1000, [0.6, 0, 0]);
    const moved = multiclass(predictionDrift(reference, window));
    expect(moved.alerts).toContain('distribution');
    expect(moved.alerts).toContain('share');
    expect(moved.classes.shift[0]).toBeGreaterThan(0.1);
    expect(moved.classes.maxShift).toBe(Math.max(...moved.classes.shift.map(Math.abs)));
    const refCounts =
      reference.task === 'multiclass' ? reference.classShares.map((s) => Math.round(s * 5000)) : [];
    const counts = [0, 0, 0];
    for (const row of window) counts[row.indexOf(Math.max(...row))] += 1;
    const chi = chiSquareTwoSample(refCounts, counts);
    expect(moved.test).toMatchObject({
      test: 'chi2',
      statistic: chi.statistic,
      pvalue: chi.pvalue,
    });
    expect(moved.classes.current).toEqual(counts.map((c) => c / 1000));
  });

  it('alerts on a confidence std shift', () => {
    // Half the rows near certain, half near uniform: the confidence spreads out.
    const window = [...rows(4, 500, [0, 0, 0], 8), ...rows(5, 500, [0, 0, 0], 0.05)];
    const r = multiclass(predictionDrift(reference, window));
    expect(r.confidence.stdShift).toBeGreaterThan(0.15);
    expect(r.alerts).toContain('std');
  });

  it("uses Fisher's test on two classes with a small expected count, JS on large samples", () => {
    const two = predictionReference('multiclass', [
      ...Array.from({ length: 990 }, () => [0.9, 0.1]),
      ...Array.from({ length: 10 }, () => [0.2, 0.8]),
    ]);
    const window = [
      ...Array.from({ length: 17 }, () => [0.7, 0.3]),
      ...Array.from({ length: 3 }, () => [0.4, 0.6]),
    ];
    const r = multiclass(predictionDrift(two, window));
    expect(r.test).toMatchObject({
      test: 'fisher',
      pvalue: fisherExact2x2([
        [990, 10],
        [17, 3],
      ]),
    });
    expect(r.test.drift).toBe(true);
    const big = multiclass(predictionDrift(reference, rows(5, 3000, [0.6, 0, 0])));
    const refCounts =
      reference.task === 'multiclass' ? reference.classShares.map((s) => Math.round(s * 5000)) : [];
    const counts = big.classes.current.map((s) => Math.round(s * 3000));
    expect(big.test).toMatchObject({
      test: 'jensenshannon',
      statistic: jensenShannonDistance(refCounts, counts),
      drift: true,
    });
  });

  it('counts rows of the wrong width or with bad probabilities as missing', () => {
    const window = [...rows(6, 50, [0, 0, 0]), [0.5, 0.5], [NaN, 0.5, 0.5], [2, -1, 0], null];
    const r = multiclass(predictionDrift(reference, window));
    expect([r.count, r.missing]).toEqual([50, 4]);
    expect(() => predictionDrift(reference, [0.3, 0.7])).toThrow(/must be rows/);
  });
});

describe('predictionDrift, regression', () => {
  const outputs = (seed: number, n: number, mean: number, sd = 2): number[] => {
    const rng = new Rng(seed);
    return Array.from({ length: n }, () => rng.normal(mean, sd));
  };
  const reference = predictionReference('regression', outputs(1, 5000, 10));
  const regression = (r: ReturnType<typeof predictionDrift>): RegressionPredictionDrift => {
    if (r.task !== 'regression' || r.status !== 'tested') throw new Error('not tested');
    return r;
  };

  it('flags a 0.5σ shift of the outputs, not a stationary window', () => {
    const still = regression(predictionDrift(reference, outputs(2, 1000, 10)));
    expect(still.alert).toBe(false);
    expect(still.outputs.wasserstein).toBeLessThan(0.1);
    const moved = regression(predictionDrift(reference, outputs(3, 1000, 11)));
    expect(moved.alerts).toEqual(['distribution']);
    expect(moved.outputs.meanShift).toBeCloseTo(1, 0);
    // A 0.5σ mean shift of a normal moves it by 0.5σ in Wasserstein distance.
    expect(moved.outputs.wasserstein).toBeGreaterThan(0.4);
    expect(moved.outputs.wasserstein).toBeLessThan(0.6);
  });

  it('judges large windows by the normalised distance to the histogram', () => {
    const still = regression(predictionDrift(reference, outputs(4, 5000, 10)));
    expect(still.test).toMatchObject({ test: 'wasserstein', drift: false });
    const moved = regression(predictionDrift(reference, outputs(5, 5000, 10.5)));
    expect(moved.test).toMatchObject({ test: 'wasserstein', drift: true });
  });

  it('skips a constant reference', () => {
    const constant = predictionReference('regression', [3, 3, 3]);
    expect(predictionDrift(constant, [3, 4])).toMatchObject({
      status: 'skipped',
      reason: 'reference-constant',
    });
  });
});
