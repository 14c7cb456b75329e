/**
 * Reference statistics of a training split, stored with the model so that the drift monitor can
 * compare serving traffic with what the model was trained on (KS, Wasserstein, PSI, chi-square).
 *
 * Everything returned is plain JSON: numbers, strings, arrays and null (for a statistic of no
 * values and for a missing value in the raw sample), never NaN, ±Infinity or typed arrays.
 */

import { Rng } from '../rng';
import { quantileSorted } from '../robust';
import { accurateSum } from '../tabular/column';

/** Histogram bins when none are given. */
export const DEFAULT_REFERENCE_BINS = 20;
/** Quantile levels recorded when none are given. */
export const DEFAULT_REFERENCE_QUANTILES: readonly number[] = [
  0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1,
];
/** Raw rows kept for the KS test when no sample size is given. */
export const DEFAULT_REFERENCE_SAMPLE_SIZE = 1000;
/**
 * Distinct values are counted up to this many; beyond it `distinct` is null. Enough to tell a
 * 0/1 flag or a small code list (which the monitor compares as categories) from a measurement.
 */
export const REFERENCE_DISTINCT_CAP = 64;

/** One quantile: level q in [0, 1] and its value (numpy's 'linear' method); null for no values. */
export interface ReferenceQuantile {
  q: number;
  value: number | null;
}

/**
 * Counts between `edges`: bin i is [edges[i], edges[i+1]), the last bin closed on the right
 * (numpy.histogram's convention). `edges.length === counts.length + 1`, except for a constant
 * column (edges [v, v], one count) and a column with no values (no edges, no counts).
 */
export interface ReferenceHistogram {
  edges: number[];
  counts: number[];
}

/** Summary of one numeric variable. Statistics of no values are null. */
export interface NumericReference {
  /** Finite values, the only ones the statistics below are computed from. */
  count: number;
  /** Non-finite values (NaN, ±Infinity): missing. */
  missing: number;
  mean: number | null;
  /** Population standard deviation (ddof 0, numpy's default). */
  std: number | null;
  min: number | null;
  max: number | null;
  quantiles: ReferenceQuantile[];
  histogram: ReferenceHistogram;
}

/** {@link NumericReference} of one input column, with its name and distinct-value count. */
export interface FeatureColumnReference extends NumericReference {
  name: string;
  /** Distinct finite values, or null when there are more than {@link REFERENCE_DISTINCT_CAP}. */
  distinct: number | null;
}

/** Reference of a training matrix: one summary per column plus a raw sample of rows. */
export interface FeatureReference {
  rows: number;
  features: FeatureColumnReference[];
  sample: {
    /** The sampled row numbers, ascending. */
    indices: number[];
    /** The sampled rows, in the order of `indices`; a non-finite value is null. */
    rows: (number | null)[][];
  };
}

export interface FeatureReferenceOptions {
  /** Equal-width histogram bins between each column's min and max; default 20. */
  bins?: number;
  /** Quantile levels in [0, 1]; default {@link DEFAULT_REFERENCE_QUANTILES}. */
  quantiles?: readonly number[];
  /** Rows kept raw, sampled without replacement; default 1000 (all rows when fewer). */
  sampleSize?: number;
  /** Seed of the sample's generator; default 0. */
  seed?: number;
}

export type PredictionTask = 'binary' | 'multiclass' | 'regression';

/**
 * Binary classifier outputs: the summary of P(class 1), its histogram on the fixed edges
 * numpy.linspace(0, 1, bins + 1) (0, 0.05, …, 1 by default), and the share predicted positive
 * at threshold 0.5 (p ≥ 0.5).
 */
export interface BinaryPredictionReference extends NumericReference {
  task: 'binary';
  positiveRate: number | null;
}

/**
 * Multiclass outputs: the share of rows whose argmax is each class (the first on ties, as
 * `argmaxRows`), and the summary of the confidence (the largest probability) with its
 * histogram on fixed edges over [0, 1].
 */
export interface MulticlassPredictionReference {
  task: 'multiclass';
  count: number;
  classShares: number[];
  confidence: NumericReference;
}

/** Regression outputs, summarised like a numeric feature (non-finite outputs are missing). */
export interface RegressionPredictionReference extends NumericReference {
  task: 'regression';
}

export type PredictionReference =
  BinaryPredictionReference | MulticlassPredictionReference | RegressionPredictionReference;

export interface PredictionReferenceOptions {
  /** Histogram bins; default 20 (edges 0, 0.05, …, 1 for probabilities). */
  bins?: number;
  /** Quantile levels in [0, 1]; default {@link DEFAULT_REFERENCE_QUANTILES}. */
  quantiles?: readonly number[];
}

/**
 * `bins + 1` equal-width edges from lo to hi, computed as numpy.linspace does (lo + i·step,
 * the last edge set to hi exactly), so that they equal numpy.histogram's edges bit for bit.
 */
function linspaceEdges(lo: number, hi: number, bins: number): number[] {
  const delta = hi - lo;
  const step = delta / bins;
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i <= bins; i += 1) {
    // numpy's branch for a step that underflows to 0 (denormal ranges).
    edges[i] = (step === 0 ? (i / bins) * delta : i * step) + lo;
  }
  edges[bins] = hi;
  return edges;
}

/**
 * Counts of `values` (all within [edges[0], edges[bins]]) in equal-width bins, by
 * numpy.histogram's own index computation: the bin is ⌊(x − lo)/(hi − lo) · bins⌋, then moved
 * by one where rounding put x on the wrong side of an edge (x < edges[i] or x ≥ edges[i+1]);
 * x = hi belongs to the last bin.
 */
function equalWidthCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const lo = edges[0];
  const hi = edges[bins];
  const denom = hi - lo;
  const counts = new Array<number>(bins).fill(0);
  for (let k = 0; k < values.length; k += 1) {
    const x = values[k];
    let i = Math.trunc(((x - lo) / denom) * bins);
    if (i === bins) i -= 1;
    if (x < edges[i]) i -= 1;
    else if (x >= edges[i + 1] && i !== bins - 1) i += 1;
    counts[i] += 1;
  }
  return counts;
}

function checkBins(fn: string, bins: number): void {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`${fn}: bins must be an integer ≥ 1, got ${bins}`);
  }
}

function checkLevels(fn: string, levels: readonly number[]): void {
  for (const q of levels) {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`${fn}: quantile level ${q} is not in [0, 1]`);
  }
}

/**
 * Summary of the finite values in `sorted` (ascending, all finite):
 *
 * - mean = Σx / n (compensated sum), std = √(Σ(x − mean)² / n) in two passes;
 * - quantiles by numpy's default 'linear' method, from the sorted values;
 * - histogram on `range` when given (fixed edges, values outside it are not expected), else on
 *   `bins` equal-width bins between min and max as numpy.histogram(x, bins). A constant column
 *   gets the single bin [v, v] holding every value (numpy would widen it to [v − 0.5, v + 0.5]
 *   and split that into `bins` bins, inventing a spread the data does not have).
 */
function summarise(
  sorted: Float64Array,
  missing: number,
  bins: number,
  levels: readonly number[],
  range?: readonly [number, number],
): NumericReference {
  const n = sorted.length;
  const quantiles = levels.map((q) => ({ q, value: n === 0 ? null : quantileSorted(sorted, q) }));
  if (n === 0) {
    const histogram = range
      ? { edges: linspaceEdges(range[0], range[1], bins), counts: new Array<number>(bins).fill(0) }
      : { edges: [], counts: [] };
    return { count: 0, missing, mean: null, std: null, min: null, max: null, quantiles, histogram };
  }
  const mean = accurateSum(sorted) / n;
  const squares = new Float64Array(n);
  for (let i = 0; i < n; i += 1) squares[i] = (sorted[i] - mean) ** 2;
  const std = Math.sqrt(accurateSum(squares) / n);
  const min = sorted[0];
  const max = sorted[n - 1];
  let histogram: ReferenceHistogram;
  if (range) {
    const edges = linspaceEdges(range[0], range[1], bins);
    histogram = { edges, counts: equalWidthCounts(sorted, edges) };
  } else if (min === max) {
    histogram = { edges: [min, max], counts: [n] };
  } else {
    const edges = linspaceEdges(min, max, bins);
    histogram = { edges, counts: equalWidthCounts(sorted, edges) };
  }
  return { count: n, missing, mean, std, min, max, quantiles, histogram };
}

/** Distinct values of an ascending array, or null past the cap. */
function distinctCount(sorted: Float64Array): number | null {
  let distinct = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct += 1;
      if (distinct > REFERENCE_DISTINCT_CAP) return null;
    }
  }
  return distinct;
}

/** The finite entries of `values`, sorted ascending, and how many were not finite. */
function finiteSorted(values: ArrayLike<number>): { sorted: Float64Array; missing: number } {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (Number.isFinite(v)) out[n++] = v;
  }
  const sorted = out.subarray(0, n).sort();
  return { sorted, missing: values.length - n };
}

/**
 * Reference statistics of a row-major matrix (`values[r · columns + c]`), one
 * {@link FeatureColumnReference} per column, plus `sampleSize` rows drawn without replacement
 * (partial Fisher–Yates with {@link Rng} seeded by `seed`) and kept raw, so the monitor can run
 * a two-sample KS test against real reference values rather than against a histogram.
 *
 * Per column, non-finite values are counted as `missing` and excluded from every other
 * statistic; see {@link NumericReference} for the formulas.
 */
export function featureReference(
  values: Float32Array | Float64Array,
  rows: number,
  columns: number,
  names: readonly string[],
  options: FeatureReferenceOptions = {},
): FeatureReference {
  const fn = 'featureReference';
  const {
    bins = DEFAULT_REFERENCE_BINS,
    quantiles: levels = DEFAULT_REFERENCE_QUANTILES,
    sampleSize = DEFAULT_REFERENCE_SAMPLE_SIZE,
    seed = 0,
  } = options;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(columns) || columns < 0) {
    throw new RangeError(`${fn}: rows and columns must be integers ≥ 0, got ${rows}×${columns}`);
  }
  if (values.length !== rows * columns) {
    throw new RangeError(`${fn}: ${values.length} values for ${rows}×${columns}`);
  }
  if (names.length !== columns) {
    throw new RangeError(`${fn}: ${names.length} names for ${columns} columns`);
  }
  checkBins(fn, bins);
  checkLevels(fn, levels);
  if (!Number.isInteger(sampleSize) || sampleSize < 0) {
    throw new RangeError(`${fn}: sampleSize must be an integer ≥ 0, got ${sampleSize}`);
  }

  const column = new Float64Array(rows);
  const features = names.map((name, c) => {
    for (let r = 0; r < rows; r += 1) column[r] = values[r * columns + c];
    const { sorted, missing } = finiteSorted(column);
    return { name, ...summarise(sorted, missing, bins, levels), distinct: distinctCount(sorted) };
  });

  const k = Math.min(sampleSize, rows);
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i += 1) order[i] = i;
  const rng = new Rng(seed);
  for (let i = 0; i < k; i += 1) {
    const j = rng.int(i, rows);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  const indices = Array.from(order.subarray(0, k)).sort((a, b) => a - b);
  const sampleRows = indices.map((r) =>
    Array.from({ length: columns }, (_, c) => {
      const v = values[r * columns + c];
      return Number.isFinite(v) ? v : null;
    }),
  );
  return { rows, features, sample: { indices, rows: sampleRows } };
}

/** Probability outputs as numbers (binary) or rows: validated to be finite and in [0, 1]. */
function checkProbability(fn: string, p: number, where: string): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn}: ${where} = ${p} is not a probability`);
  return p;
}

/**
 * Reference statistics of a model's outputs on the reference data:
 *
 * - `'binary'`: `outputs` are P(class 1), or rows [P(0), P(1)] (column 1 is used) or [P(1)];
 *   summary of P(class 1) with its histogram on fixed edges over [0, 1] (numpy's
 *   `histogram(p, bins, range=(0, 1))`: last bin closed), and the positive rate at p ≥ 0.5;
 * - `'multiclass'`: `outputs` are probability rows of equal length ≥ 2; the share of rows
 *   predicted as each class (argmax, first on ties) and the summary of the confidence
 *   max_k p_k, its histogram on fixed edges over [0, 1];
 * - `'regression'`: `outputs` are values (or rows of one value); summarised as a numeric
 *   feature, histogram between min and max, non-finite outputs counted as missing.
 *
 * Probabilities must lie in [0, 1] (a NaN or out-of-range output throws a RangeError: it is a
 * model bug, not drift).
 */
export function predictionReference(
  task: PredictionTask,
  outputs: readonly number[] | readonly (readonly number[])[],
  options: PredictionReferenceOptions = {},
): PredictionReference {
  const fn = 'predictionReference';
  const { bins = DEFAULT_REFERENCE_BINS, quantiles: levels = DEFAULT_REFERENCE_QUANTILES } =
    options;
  checkBins(fn, bins);
  checkLevels(fn, levels);
  const n = outputs.length;

  if (task === 'multiclass') {
    const width = n > 0 ? widthOf(fn, outputs[0]) : 0;
    if (n > 0 && width < 2) throw new RangeError(`${fn}: multiclass rows need ≥ 2 columns`);
    const predicted = new Array<number>(width).fill(0);
    const confidence = new Float64Array(n);
    for (let i = 0; i < n; i += 1) {
      const row = outputs[i];
      if (typeof row === 'number' || row.length !== width) {
        throw new RangeError(`${fn}: row ${i} is not a row of ${width} probabilities`);
      }
      let best = 0;
      for (let j = 0; j < width; j += 1) {
        checkProbability(fn, row[j], `outputs[${i}][${j}]`);
        if (row[j] > row[best]) best = j;
      }
      predicted[best] += 1;
      confidence[i] = row[best];
    }
    return {
      task,
      count: n,
      classShares: predicted.map((c) => c / n),
      confidence: summarise(confidence.sort(), 0, bins, levels, [0, 1]),
    };
  }

  const scalars = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const o = outputs[i];
    if (typeof o === 'number') scalars[i] = o;
    else if (o.length === 1) scalars[i] = o[0];
    else if (task === 'binary' && o.length === 2) scalars[i] = o[1];
    else throw new RangeError(`${fn}: output ${i} has ${o.length} values for task ${task}`);
  }

  if (task === 'binary') {
    let positives = 0;
    for (let i = 0; i < n; i += 1) {
      if (checkProbability(fn, scalars[i], `P(class 1) of output ${i}`) >= 0.5) positives += 1;
    }
    return {
      task,
      ...summarise(scalars.sort(), 0, bins, levels, [0, 1]),
      positiveRate: n === 0 ? null : positives / n,
    };
  }
  if (task === 'regression') {
    const { sorted, missing } = finiteSorted(scalars);
    return { task, ...summarise(sorted, missing, bins, levels) };
  }
  throw new RangeError(`${fn}: unknown task ${String(task)}`);
}

function widthOf(fn: string, first: number | readonly number[]): number {
  if (typeof first === 'number') throw new RangeError(`${fn}: multiclass outputs must be rows`);
  return first.length;
}
