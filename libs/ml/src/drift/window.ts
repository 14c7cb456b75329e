/**
 * Feature drift of one window of serving traffic against the training reference stored with the
 * model version: the pure core the drift monitor runs on every window. The report is plain JSON
 * (no NaN, ±Infinity or typed arrays) and is what the monitor serves and attaches to an alert.
 *
 * Report shape ({@link FeatureDriftReport}), values illustrative:
 *
 * ```
 * {
 *   rows: 1000,                       // window rows
 *   sizes: { referenceSample: 1000, window: 1000, decidedOn: 1000 },
 *   test: 'ks', kind: 'pvalue', threshold: 0.05,   // one choice for every column
 *   correction: 'bh',
 *   columns: [                        // in the reference's column order
 *     { name: 'amount', status: 'tested', test: 'ks', statistic: 0.21, pvalue: 3e-20,
 *       adjustedPvalue: 2.4e-19, ksMethod: 'exact', score: 2.4e-19, threshold: 0.05,
 *       drift: true, psi: 0.19,
 *       reference: { count: 5000, sampleCount: 1000, mean: 10, std: 2, min: 2.1, max: 17.9 },
 *       window: { count: 998, missing: 2, outOfRange: 0, mean: 11, std: 2.02 },
 *       meanShift: 0.5, stdRatio: 1.01,
 *       histogram: { edges: [2.1, …, 17.9], reference: [3, …], current: [0, …] } },
 *     { name: 'flag', status: 'skipped', reason: 'reference-constant', drift: false,
 *       window: { count: 1000, missing: 0, mean: 0, std: 0 } },
 *   ],
 *   tested: 7, driftedCount: 1, driftShare: 0.14, datasetShare: 0.5, datasetDrift: false,
 *   drifted: ['amount'],              // strongest first
 * }
 * ```
 */

import type { FeatureColumnReference, FeatureReference } from '../training/reference';
import { countOnReferenceBins } from './binned';
import { psi, PSI_EPSILON } from './divergence';
import { ksTwoSample } from './ks';
import { moments } from './moments';
import { benjaminiHochberg, bonferroni } from './multiple-testing';
import {
  chooseNumericTest,
  type DriftPolicyOptions,
  type DriftScoreKind,
  isDrift,
  type NumericTestChoice,
} from './policy';
import { normalisedWasserstein } from './wasserstein';

/** Multiple-testing correction across a window's p-value tests. */
export type DriftCorrection = 'bh' | 'bonferroni' | 'none';

export interface FeatureDriftOptions extends DriftPolicyOptions {
  /** 'bh' (Benjamini–Hochberg, default), 'bonferroni' or 'none'. Distances are not corrected. */
  readonly correction?: DriftCorrection;
  /** Dataset drift when drifted / tested columns ≥ this. Default 0.5 (Evidently's). */
  readonly datasetShare?: number;
  /**
   * KS gets scipy's exact p-value (method 'auto') when the two samples are the same size or
   * the product of their sizes is at most this; otherwise the asymptotic one. Default 10⁶.
   * For unequal sizes the exact recursion costs ~2·D·m·n steps (35 ms at 1,000 vs 10,000 rows
   * 1σ apart), the asymptotic p-value nothing beyond the sort. At 1,000 vs 1,500–10,000 rows
   * the asymptotic p-value is 0.4–4 % below the exact one for p between 3e-4 and 0.8, and
   * parts from it only far below any threshold. Infinity gives scipy's 'auto' everywhere.
   */
  readonly ksExactBudget?: number;
  /** The floor of PSI's bin shares; default {@link PSI_EPSILON}. */
  readonly psiEpsilon?: number;
}

/** A window as rows (one event's feature values each) or as columns. */
export type FeatureWindow =
  readonly ArrayLike<number | null>[] | { readonly columns: readonly ArrayLike<number | null>[] };

/** Why a column was not compared. */
export type ColumnSkipReason =
  /** The training column had no finite value. */
  | 'reference-empty'
  /** Every finite training value was the same (min = max): there is no spread to shift. */
  | 'reference-constant'
  /** The reference's raw sample holds no finite value of this column. */
  | 'reference-sample-empty'
  /** The window holds no finite value of this column. */
  | 'window-empty';

/** A column that was compared. */
export interface TestedColumnDrift {
  readonly name: string;
  readonly status: 'tested';
  readonly test: 'ks' | 'wasserstein';
  /** KS statistic D, or the Wasserstein distance ÷ the reference sample's std. */
  readonly statistic: number;
  /** KS p-value (reference sample vs window); null for Wasserstein. */
  readonly pvalue: number | null;
  /** The p-value after the report's correction; null for Wasserstein. */
  readonly adjustedPvalue: number | null;
  /** How the KS p-value was computed; null for Wasserstein. */
  readonly ksMethod: 'exact' | 'asymp' | null;
  /** The value compared with `threshold`: adjustedPvalue, or statistic for Wasserstein. */
  readonly score: number;
  readonly threshold: number;
  /** adjustedPvalue < threshold, or statistic > threshold. */
  readonly drift: boolean;
  /** PSI of the window on the reference histogram's bins (outer bins open). Never decides. */
  readonly psi: number;
  /** The training column: count, mean and std of every row; sampleCount, the rows tested. */
  readonly reference: {
    readonly count: number;
    readonly sampleCount: number;
    readonly mean: number;
    readonly std: number;
    readonly min: number;
    readonly max: number;
  };
  /** Finite values, non-finite ones (missing), values outside [reference min, max]. */
  readonly window: {
    readonly count: number;
    readonly missing: number;
    readonly outOfRange: number;
    readonly mean: number;
    readonly std: number;
  };
  /** (window mean − reference mean) / reference std. */
  readonly meanShift: number;
  /** window std / reference std. */
  readonly stdRatio: number;
  /** Plot-ready: the reference histogram's edges, its counts and the window's counts. */
  readonly histogram: {
    readonly edges: number[];
    readonly reference: number[];
    readonly current: number[];
  };
}

/** A column that could not be compared; it never counts as drifted nor as tested. */
export interface SkippedColumnDrift {
  readonly name: string;
  readonly status: 'skipped';
  readonly reason: ColumnSkipReason;
  readonly drift: false;
  /** mean and std are null when the window has no finite value. */
  readonly window: {
    readonly count: number;
    readonly missing: number;
    readonly mean: number | null;
    readonly std: number | null;
  };
}

export type ColumnDrift = TestedColumnDrift | SkippedColumnDrift;

/** One window's feature drift; see the module comment for an example. */
export interface FeatureDriftReport {
  /** Rows in the window. */
  readonly rows: number;
  /** Rows of the reference sample and of the window; the test was chosen for `decidedOn`. */
  readonly sizes: {
    readonly referenceSample: number;
    readonly window: number;
    readonly decidedOn: number;
  };
  readonly test: 'ks' | 'wasserstein';
  readonly kind: DriftScoreKind;
  readonly threshold: number;
  readonly correction: DriftCorrection;
  /** One entry per reference column, in the reference's order. */
  readonly columns: ColumnDrift[];
  /** Columns with status 'tested'. */
  readonly tested: number;
  readonly driftedCount: number;
  /** driftedCount / tested; 0 when nothing was tested. */
  readonly driftShare: number;
  readonly datasetShare: number;
  /** tested > 0 and driftShare ≥ datasetShare. */
  readonly datasetDrift: boolean;
  /**
   * Names of the drifted columns, strongest first: by adjusted p-value, then raw p-value, then
   * KS statistic (p-values underflow to 0 together); by distance for Wasserstein.
   */
  readonly drifted: string[];
}

const DEFAULT_KS_EXACT_BUDGET = 1e6;

/**
 * Drift of every feature of `window` against `reference` (the training reference of the model
 * version that served it).
 *
 * Per column, on the window's finite values (non-finite ones are counted as missing):
 * - a two-sample test against the column of the reference's raw sample: KS, or normalised
 *   Wasserstein, as {@link chooseNumericTest} picks for min(reference sample rows, window rows).
 *   The policy picks on the reference size alone because Evidently compares a reference with a
 *   current batch of similar size; the point of the switch is that a test on two large samples
 *   flags shifts too small to matter. A test's power grows with the effective size
 *   m·n/(m + n), which is below min(m, n) and within a factor of two of it, so the smaller
 *   sample is what makes a test too sensitive or not. The stored sample holds at most 1,000
 *   rows by default, so with the default threshold the choice is KS for every window, however
 *   large: 1,000 vs 10⁶ rows has the effective size of 2,000 vs 2,000, far from the regime the
 *   switch guards against. Picking Wasserstein for a small window because the training set was
 *   large would be wrong the other way: between 5,000 and 100 rows of one normal, the
 *   normalised distance averages 0.13 and exceeds the 0.1 threshold in 64 % of draws (0.5 %
 *   at 1,000 rows). Wasserstein is used when the reference keeps a larger sample and the
 *   window is as large. Chosen once per window from the row counts, so every column of a
 *   report is on one scale and can be ranked;
 * - PSI of the window's counts on the reference histogram's bins against the stored counts;
 * - the window's mean and std against the reference's, and both histograms for a plot.
 *
 * The p-values of the tested columns are corrected together (`correction`), and a column
 * drifts when its adjusted p-value is below alpha, or its distance above the Wasserstein
 * threshold. The dataset drifts when the share of drifted columns among the tested ones
 * reaches `datasetShare`.
 *
 * Cost per column: O(n log n) for the window's n values (sorts, binary searches into the
 * bins), O(s log s) for the reference sample's s, plus the exact KS recursion within
 * `ksExactBudget`.
 */
export function featureDrift(
  reference: FeatureReference,
  window: FeatureWindow,
  options: FeatureDriftOptions = {},
): FeatureDriftReport {
  const fn = 'featureDrift';
  const {
    correction = 'bh',
    datasetShare = 0.5,
    ksExactBudget = DEFAULT_KS_EXACT_BUDGET,
    psiEpsilon = PSI_EPSILON,
  } = options;
  if (correction !== 'bh' && correction !== 'bonferroni' && correction !== 'none') {
    throw new RangeError(`${fn}: unknown correction ${String(correction)}`);
  }
  if (!(datasetShare > 0 && datasetShare <= 1)) {
    throw new RangeError(`${fn}: datasetShare must be in (0, 1], got ${datasetShare}`);
  }
  if (!(ksExactBudget >= 0)) throw new RangeError(`${fn}: bad ksExactBudget ${ksExactBudget}`);

  const features = reference.features;
  const columns = windowColumns(fn, window, features.length);
  const rows = columns.length > 0 ? columns[0].length : 0;
  const sampleRows = reference.sample.rows;
  const decidedOn = Math.min(sampleRows.length, rows);
  const choice = chooseNumericTest(decidedOn, options);

  const measured = features.map((f, c) =>
    measureColumn(f, columns[c], sampleColumn(sampleRows, c), choice, ksExactBudget, psiEpsilon),
  );

  // The p-values of the tested columns are corrected together.
  const withP = measured.filter(
    (m): m is Measured & { pvalue: number } => m.status === 'tested' && m.pvalue !== null,
  );
  const raw = withP.map((m) => m.pvalue);
  const adjusted =
    correction === 'bh'
      ? benjaminiHochberg(raw)
      : correction === 'bonferroni'
        ? bonferroni(raw)
        : raw;
  const adjustedOf = new Map<Measured, number>(withP.map((m, k) => [m, adjusted[k]]));
  const out = measured.map((m): ColumnDrift => {
    if (m.status === 'skipped') return m;
    const adjustedPvalue = adjustedOf.get(m) ?? null;
    const score = adjustedPvalue ?? m.statistic;
    return { ...m, adjustedPvalue, score, drift: isDrift(choice, score) };
  });

  const tested = out.filter((c): c is TestedColumnDrift => c.status === 'tested');
  const drifted = tested.filter((c) => c.drift).sort(strongestFirst);
  const driftShare = tested.length > 0 ? drifted.length / tested.length : 0;
  return {
    rows,
    sizes: { referenceSample: sampleRows.length, window: rows, decidedOn },
    test: choice.test,
    kind: choice.kind,
    threshold: choice.threshold,
    correction,
    columns: out,
    tested: tested.length,
    driftedCount: drifted.length,
    driftShare,
    datasetShare,
    datasetDrift: tested.length > 0 && driftShare >= datasetShare,
    drifted: drifted.map((c) => c.name),
  };
}

type Measured = Omit<TestedColumnDrift, 'adjustedPvalue' | 'score' | 'drift'> | SkippedColumnDrift;

/** Everything about one column but the corrected p-value and the verdict. */
function measureColumn(
  f: FeatureColumnReference,
  column: ArrayLike<number | null>,
  sample: Float64Array,
  choice: NumericTestChoice,
  ksExactBudget: number,
  psiEpsilon: number,
): Measured {
  const { values, missing } = finiteColumn(column);
  const skip = (reason: ColumnSkipReason): SkippedColumnDrift => {
    const m = values.length > 0 ? moments(values) : null;
    return {
      name: f.name,
      status: 'skipped',
      reason,
      drift: false,
      window: { count: values.length, missing, mean: m?.mean ?? null, std: m?.std ?? null },
    };
  };
  const { count, mean, std, min, max } = f;
  if (count === 0 || mean === null || std === null || min === null || max === null) {
    return skip('reference-empty');
  }
  if (min === max) return skip('reference-constant');
  if (values.length === 0) return skip('window-empty');
  if (sample.length === 0) return skip('reference-sample-empty');

  let statistic: number;
  let pvalue: number | null = null;
  let ksMethod: 'exact' | 'asymp' | null = null;
  if (choice.test === 'ks') {
    const m = sample.length;
    const n = values.length;
    const ks = ksTwoSample(sample, values, {
      method: m === n || m * n <= ksExactBudget ? 'auto' : 'asymp',
    });
    statistic = ks.statistic;
    pvalue = ks.pvalue;
    ksMethod = ks.method;
  } else {
    statistic = normalisedWasserstein(sample, values);
  }
  const { edges, counts } = f.histogram;
  const current = countOnReferenceBins(values, edges);
  const w = moments(values);
  let outOfRange = 0;
  for (let i = 0; i < values.length; i += 1) {
    if (values[i] < min || values[i] > max) outOfRange += 1;
  }
  return {
    name: f.name,
    status: 'tested',
    test: choice.test,
    statistic,
    pvalue,
    ksMethod,
    threshold: choice.threshold,
    psi: psi(counts, current, psiEpsilon),
    reference: { count, sampleCount: sample.length, mean, std, min, max },
    window: { count: values.length, missing, outOfRange, mean: w.mean, std: w.std },
    meanShift: (w.mean - mean) / std,
    stdRatio: w.std / std,
    histogram: { edges: [...edges], reference: [...counts], current },
  };
}

function strongestFirst(a: TestedColumnDrift, b: TestedColumnDrift): number {
  if (
    a.adjustedPvalue !== null &&
    b.adjustedPvalue !== null &&
    a.pvalue !== null &&
    b.pvalue !== null
  ) {
    return a.adjustedPvalue - b.adjustedPvalue || a.pvalue - b.pvalue || b.statistic - a.statistic;
  }
  return b.statistic - a.statistic;
}

/** The window as one array per reference column, all of one length. */
function windowColumns(
  fn: string,
  window: FeatureWindow,
  width: number,
): readonly ArrayLike<number | null>[] {
  if ('columns' in window) {
    const { columns } = window;
    if (columns.length !== width) {
      throw new RangeError(`${fn}: ${columns.length} window columns for ${width} features`);
    }
    for (let c = 1; c < width; c += 1) {
      if (columns[c].length !== columns[0].length) {
        throw new RangeError(
          `${fn}: window column ${c} has ${columns[c].length} values, column 0 ${columns[0].length}`,
        );
      }
    }
    return columns;
  }
  const n = window.length;
  const out = Array.from({ length: width }, () => new Float64Array(n));
  for (let r = 0; r < n; r += 1) {
    const row = window[r];
    if (row.length !== width) {
      throw new RangeError(`${fn}: window row ${r} has ${row.length} values for ${width} features`);
    }
    for (let c = 0; c < width; c += 1) out[c][r] = row[c] ?? NaN;
  }
  return out;
}

/** The finite values of a window column, and how many were not finite (missing). */
function finiteColumn(column: ArrayLike<number | null>): { values: Float64Array; missing: number } {
  const values = new Float64Array(column.length);
  let n = 0;
  for (let i = 0; i < column.length; i += 1) {
    const v = column[i];
    if (v !== null && Number.isFinite(v)) values[n++] = v;
  }
  return { values: values.subarray(0, n), missing: column.length - n };
}

/** Column c of the reference's raw sample, without its missing (null) entries. */
function sampleColumn(rows: readonly (readonly (number | null)[])[], c: number): Float64Array {
  const out = new Float64Array(rows.length);
  let n = 0;
  for (const row of rows) {
    const v = row[c];
    if (v !== null && Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n);
}
