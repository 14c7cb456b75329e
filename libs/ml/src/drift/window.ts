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
 *   test: 'ks', kind: 'pvalue', threshold: 0.05,   // the numeric columns' choice
 *   correction: 'bh',
 *   columns: [                        // in the reference's column order
 *     { name: 'amount', status: 'tested', type: 'numeric', test: 'ks', kind: 'pvalue',
 *       statistic: 0.21, pvalue: 3e-20, adjustedPvalue: 2.4e-19, ksMethod: 'exact',
 *       score: 2.4e-19, threshold: 0.05, drift: true, psi: 0.19,
 *       reference: { count: 5000, sampleCount: 1000, mean: 10, std: 2, min: 2.1, max: 17.9 },
 *       window: { count: 998, missing: 2, outOfRange: 0, mean: 11, std: 2.02 },
 *       meanShift: 0.5, stdRatio: 1.01,
 *       histogram: { edges: [2.1, …, 17.9], reference: [3, …], current: [0, …] } },
 *     { name: 'country_FR', status: 'tested', type: 'categorical', test: 'chi2', kind: 'pvalue',
 *       statistic: 2.1, pvalue: 0.15, dof: 1, adjustedPvalue: 0.2, score: 0.2, threshold: 0.05,
 *       drift: false, psi: 0.004,
 *       reference: { count: 5000, sampleCount: 1000, mean: 0.3, std: 0.46, min: 0, max: 1,
 *                    distinct: 2 },
 *       window: { count: 1000, missing: 0, unseen: 0, mean: 0.33, std: 0.47 },
 *       meanShift: 0.065, stdRatio: 1.02,
 *       histogram: { categories: [0, 1], reference: [700, 300], current: [670, 330] },
 *       shares: { reference: [0.7, 0.3], current: [0.67, 0.33], maxShift: 0.03 } },
 *     { name: 'flag', status: 'skipped', reason: 'reference-constant', drift: false,
 *       window: { count: 1000, missing: 0, mean: 0, std: 0 } },
 *   ],
 *   tested: 7, driftedCount: 1, fields: { tested: 4, drifted: ['amount'] },
 *   driftShare: 0.25, datasetShare: 0.5, datasetDrift: false,
 *   drifted: ['amount'],              // strongest first
 * }
 * ```
 */

import type { FeatureColumnReference, FeatureReference } from '../training/reference';
import { countOnReferenceBins } from './binned';
import { type CategoricalTestResult, testCategoryCounts } from './categorical';
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
  /**
   * Dataset drift when drifted / tested fields (columns, without `fieldOf`) ≥ this. Default 0.5
   * (Evidently's).
   */
  readonly datasetShare?: number;
  /**
   * The source field of a column, when a field's encoding spreads it over several (one-hot
   * indicators, hash buckets, text terms). The dataset share is then counted in fields, as
   * Evidently counts a dataset's columns: a field is tested when one of its columns is, and
   * drifted when one of its tested columns is. Without it every column is its own field, and a
   * categorical field of 40 categories weighs 40 times a numeric one.
   */
  readonly fieldOf?: (column: string) => string;
  /**
   * KS gets scipy's exact p-value (method 'auto') when the two samples are the same size or
   * the product of their sizes is at most this; otherwise the asymptotic one. Default 10⁶.
   * For unequal sizes the exact recursion costs ~2·D·m·n steps (35 ms at 1,000 vs 10,000 rows
   * 1σ apart), the asymptotic p-value nothing beyond the sort. At 1,000 vs 1,500–10,000 rows
   * the asymptotic p-value is 0.4–4 % below the exact one for p between 3e-4 and 0.8, and
   * parts from it only far below any threshold. Infinity gives scipy's 'auto' everywhere.
   */
  readonly ksExactBudget?: number;
  /** The floor of PSI's bin (or category) shares; default {@link PSI_EPSILON}. */
  readonly psiEpsilon?: number;
  /**
   * Columns compared as categories, by name, whatever their values (codes, hash buckets…).
   * A name that is not a reference column throws: a misspelt name would otherwise silently
   * leave its column on KS.
   */
  readonly categoricalColumns?: readonly string[];
  /**
   * A column is also categorical when its training column has at most this many distinct
   * values (`distinct`, counted up to REFERENCE_DISTINCT_CAP) and its min, max and every value
   * of the reference sample are integers. Default 2: the indicator (0/1) columns that the
   * feature service's one-hot encoding emits for categorical fields. KS assumes continuous
   * data; on a 0/1 column its statistic is only |Δ share of 1s| and its null distribution,
   * built for samples without ties, is far too conservative: in scipy, 2,000 stationary
   * Bernoulli(0.3) pairs of 1,000 rows gave p < 0.05 in 0.35 % of draws (χ²: 4.9 %), and a
   * 30 % → 35 % shift at 1,000 vs 1,000 rows gets KS p = 0.16 against χ²'s 0.017. Not higher
   * by default: a column of a few small integers may be a count (items in a basket) whose
   * order matters, where KS is the right, if conservative, test; list codes by name instead.
   * 0 turns the rule off (only `categoricalColumns` are categorical).
   */
  readonly categoricalMaxDistinct?: number;
}

/** A window as rows (one event's feature values each) or as columns. */
export type FeatureWindow =
  readonly ArrayLike<number | null>[] | { readonly columns: readonly ArrayLike<number | null>[] };

/** Why a column was not compared. */
export type ColumnSkipReason =
  /** The training column had no finite value. */
  | 'reference-empty'
  /**
   * Every finite training value was the same (min = max): there is no spread to shift. Also
   * for a categorical column: with one training category there is no distribution to compare
   * (and a model cannot have learned from the column).
   */
  | 'reference-constant'
  /** The reference's raw sample holds no finite value of this column. */
  | 'reference-sample-empty'
  /** The window holds no finite value of this column. */
  | 'window-empty';

/** What every tested column reports, numeric or categorical. */
interface TestedColumnBase {
  readonly name: string;
  readonly status: 'tested';
  /** 'pvalue' (drift when the adjusted p-value < threshold) or 'distance' (when > threshold). */
  readonly kind: DriftScoreKind;
  /** The raw p-value of KS, χ² or Fisher (reference sample vs window); null for a distance. */
  readonly pvalue: number | null;
  /** The p-value after the report's correction; null for a distance. */
  readonly adjustedPvalue: number | null;
  /** The value compared with `threshold`: adjustedPvalue, or the distance (`statistic`). */
  readonly score: number;
  /** alpha for a p-value, the Wasserstein or Jensen–Shannon threshold for a distance. */
  readonly threshold: number;
  /** adjustedPvalue < threshold, or distance > threshold. */
  readonly drift: boolean;
  /** The training column: count, mean and std of every row; sampleCount, the rows tested. */
  readonly reference: {
    readonly count: number;
    readonly sampleCount: number;
    readonly mean: number;
    readonly std: number;
    readonly min: number;
    readonly max: number;
  };
  /** (window mean − reference mean) / reference std. */
  readonly meanShift: number;
  /** window std / reference std. */
  readonly stdRatio: number;
}

/** A numeric column that was compared: KS or normalised Wasserstein. */
export interface NumericColumnDrift extends TestedColumnBase {
  readonly type: 'numeric';
  readonly test: 'ks' | 'wasserstein';
  /** KS statistic D, or the Wasserstein distance ÷ the reference sample's std. */
  readonly statistic: number;
  /** How the KS p-value was computed; null for Wasserstein. */
  readonly ksMethod: 'exact' | 'asymp' | null;
  /** PSI of the window on the reference histogram's bins (outer bins open). Never decides. */
  readonly psi: number;
  /** Finite values, non-finite ones (missing), values outside [reference min, max]. */
  readonly window: {
    readonly count: number;
    readonly missing: number;
    readonly outOfRange: number;
    readonly mean: number;
    readonly std: number;
  };
  /** Plot-ready: the reference histogram's edges, its counts and the window's counts. */
  readonly histogram: {
    readonly edges: number[];
    readonly reference: number[];
    readonly current: number[];
  };
}

/**
 * A categorical column that was compared: χ², Fisher's exact test or the Jensen–Shannon
 * distance on the category counts of the reference sample and of the window.
 */
export interface CategoricalColumnDrift extends TestedColumnBase {
  readonly type: 'categorical';
  readonly test: CategoricalTestResult['test'];
  /** χ² statistic, or the Jensen–Shannon distance (base 2); null for Fisher. */
  readonly statistic: number | null;
  /** χ² degrees of freedom (categories present − 1); null for Fisher and Jensen–Shannon. */
  readonly dof: number | null;
  /** PSI of the window's category shares against the reference sample's. Never decides. */
  readonly psi: number;
  /** As for numeric columns, plus the training column's distinct values (null past 64). */
  readonly reference: TestedColumnBase['reference'] & { readonly distinct: number | null };
  /** Finite values, non-finite ones (missing), values of categories the sample never holds. */
  readonly window: {
    readonly count: number;
    readonly missing: number;
    readonly unseen: number;
    readonly mean: number;
    readonly std: number;
  };
  /** Plot-ready bars: every category of the sample or the window (ascending), both counts. */
  readonly histogram: {
    readonly categories: number[];
    readonly reference: number[];
    readonly current: number[];
  };
  /** The counts as shares, and the largest |current − reference| share over the categories. */
  readonly shares: {
    readonly reference: number[];
    readonly current: number[];
    readonly maxShift: number;
  };
}

/** A column that was compared; `type` tells which. */
export type TestedColumnDrift = NumericColumnDrift | CategoricalColumnDrift;

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
  /** Rows of the reference sample and of the window; the tests were chosen for `decidedOn`. */
  readonly sizes: {
    readonly referenceSample: number;
    readonly window: number;
    readonly decidedOn: number;
  };
  /**
   * The numeric columns' test, kind and threshold (KS, p < alpha; or Wasserstein). Categorical
   * columns carry their own (χ² or Fisher for a p-value whenever this is KS, Jensen–Shannon
   * whenever this is Wasserstein); every tested column has its own `test`, `kind`, `threshold`.
   */
  readonly test: 'ks' | 'wasserstein';
  readonly kind: DriftScoreKind;
  readonly threshold: number;
  readonly correction: DriftCorrection;
  /** One entry per reference column, in the reference's order. */
  readonly columns: ColumnDrift[];
  /** Columns with status 'tested'. */
  readonly tested: number;
  readonly driftedCount: number;
  /**
   * Source fields (`fieldOf`; each column its own without it): those with a tested column,
   * and the drifted ones, strongest first (by their strongest column).
   */
  readonly fields: { readonly tested: number; readonly drifted: string[] };
  /** fields.drifted / fields.tested; 0 when nothing was tested. */
  readonly driftShare: number;
  readonly datasetShare: number;
  /** fields.tested > 0 and driftShare ≥ datasetShare. */
  readonly datasetDrift: boolean;
  /**
   * Names of the drifted columns, strongest first: p-value columns (KS, χ², Fisher) before
   * distance columns; p-value columns by adjusted p-value, then raw p-value (p-values
   * underflow to 0 together), then — between two columns of the same test — the larger
   * statistic (KS D or χ²; Fisher has none); distance columns by distance ÷ their threshold,
   * largest first, so Wasserstein and Jensen–Shannon compare by how far past the line they
   * are. Remaining ties keep the reference's column order.
   */
  readonly drifted: string[];
}

const DEFAULT_KS_EXACT_BUDGET = 1e6;
const DEFAULT_CATEGORICAL_MAX_DISTINCT = 2;

/**
 * Drift of every feature of `window` against `reference` (the training reference of the model
 * version that served it).
 *
 * Per column, on the window's finite values (non-finite ones are counted as missing), a
 * numeric column gets:
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
 *   window is as large. Chosen once per window from the row counts, so every numeric column
 *   of a report is on one scale and can be ranked;
 * - PSI of the window's counts on the reference histogram's bins against the stored counts;
 * - the window's mean and std against the reference's, and both histograms for a plot.
 *
 * A categorical column (`categoricalColumns`, or the `categoricalMaxDistinct` rule: 0/1
 * indicators by default) is compared on category counts instead. Its categories are the
 * distinct finite values of the reference sample and of the window, so a value the sample
 * never holds is a category of reference count 0 and weighs as evidence of drift. The same
 * size rule applies: while the numeric columns get KS, χ² (Fisher's exact test when two
 * categories are present and an expected count is below 5); when they get Wasserstein, the
 * Jensen–Shannon distance (base 2) — see {@link testCategoryCounts}. PSI is on the category
 * shares, the histogram is one bar per category. A column whose sample and window hold one
 * and the same category (the training column has others, too rare to be sampled) is tested:
 * χ² with dof 0, statistic 0 and p-value 1 (scipy's convention), Jensen–Shannon 0.
 *
 * Either kind is skipped ('reference-constant') when the whole training column holds one
 * value. The p-values of all tested columns — KS, χ² and Fisher alike — are corrected together
 * (`correction`), and a column drifts when its adjusted p-value is below alpha, or its
 * distance above its threshold. The dataset drifts when the share of drifted fields among the
 * tested ones (`fieldOf`; columns without it) reaches `datasetShare`.
 *
 * Cost per column: O(n log n) for the window's n values (sorts, binary searches into the
 * bins), O(s log s) for the reference sample's s, plus the exact KS recursion within
 * `ksExactBudget`; a categorical column is O(n + s + k log k) for k categories.
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
    categoricalColumns = [],
    categoricalMaxDistinct = DEFAULT_CATEGORICAL_MAX_DISTINCT,
  } = options;
  if (correction !== 'bh' && correction !== 'bonferroni' && correction !== 'none') {
    throw new RangeError(`${fn}: unknown correction ${String(correction)}`);
  }
  if (!(datasetShare > 0 && datasetShare <= 1)) {
    throw new RangeError(`${fn}: datasetShare must be in (0, 1], got ${datasetShare}`);
  }
  if (!(ksExactBudget >= 0)) throw new RangeError(`${fn}: bad ksExactBudget ${ksExactBudget}`);
  if (!(categoricalMaxDistinct >= 0)) {
    throw new RangeError(`${fn}: bad categoricalMaxDistinct ${categoricalMaxDistinct}`);
  }

  const features = reference.features;
  const named = new Set(categoricalColumns);
  for (const name of named) {
    if (!features.some((f) => f.name === name)) {
      throw new RangeError(`${fn}: categorical column ${name} is not a reference column`);
    }
  }
  const columns = windowColumns(fn, window, features.length);
  const rows = columns.length > 0 ? columns[0].length : 0;
  const sampleRows = reference.sample.rows;
  const decidedOn = Math.min(sampleRows.length, rows);
  const choice = chooseNumericTest(decidedOn, options);
  const setting: ColumnSetting = { choice, options, ksExactBudget, psiEpsilon };

  const measured = features.map((f, c) => {
    const sample = sampleColumn(sampleRows, c);
    const categorical = named.has(f.name) || isIndicatorLike(f, sample, categoricalMaxDistinct);
    return measureColumn(f, columns[c], sample, categorical, setting);
  });

  // The p-values of the tested columns, of every test, are corrected together.
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
    const score = adjustedPvalue ?? m.score;
    return { ...m, adjustedPvalue, score, drift: isDrift(m, score) };
  });

  const tested = out.filter((c): c is TestedColumnDrift => c.status === 'tested');
  const drifted = tested.filter((c) => c.drift).sort(strongestFirst);
  const fieldOf = options.fieldOf ?? ((column: string) => column);
  const testedFields = new Set(tested.map((c) => fieldOf(c.name)));
  // Strongest first: a field takes the rank of its first (strongest) drifted column.
  const driftedFields = [...new Set(drifted.map((c) => fieldOf(c.name)))];
  const driftShare = testedFields.size > 0 ? driftedFields.length / testedFields.size : 0;
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
    fields: { tested: testedFields.size, drifted: driftedFields },
    driftShare,
    datasetShare,
    datasetDrift: testedFields.size > 0 && driftShare >= datasetShare,
    drifted: drifted.map((c) => c.name),
  };
}

/** The automatic rule: few distinct training values, all integers (see the option's comment). */
function isIndicatorLike(
  f: FeatureColumnReference,
  sample: Float64Array,
  maxDistinct: number,
): boolean {
  if (f.distinct === null || f.distinct > maxDistinct) return false;
  if (f.min === null || f.max === null) return false;
  if (!Number.isInteger(f.min) || !Number.isInteger(f.max)) return false;
  for (let i = 0; i < sample.length; i += 1) if (!Number.isInteger(sample[i])) return false;
  return true;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A tested column's `score` is its raw p-value or distance until the correction. */
type Measured =
  DistributiveOmit<TestedColumnDrift, 'adjustedPvalue' | 'drift'> | SkippedColumnDrift;

/** What every column of one window is measured with. */
interface ColumnSetting {
  readonly choice: NumericTestChoice;
  readonly options: DriftPolicyOptions;
  readonly ksExactBudget: number;
  readonly psiEpsilon: number;
}

/** Everything about one column but the corrected p-value and the verdict. */
function measureColumn(
  f: FeatureColumnReference,
  column: ArrayLike<number | null>,
  sample: Float64Array,
  categorical: boolean,
  setting: ColumnSetting,
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

  const w = moments(values);
  const common = {
    name: f.name,
    status: 'tested' as const,
    reference: { count, sampleCount: sample.length, mean, std, min, max },
    meanShift: (w.mean - mean) / std,
    stdRatio: w.std / std,
  };
  if (categorical) {
    const { categories, reference, current, unseen } = categoryCounts(sample, values);
    const t = testCategoryCounts(
      'featureDrift',
      reference,
      current,
      setting.choice.kind === 'distance',
      setting.options,
    );
    const refShares = reference.map((v) => v / sample.length);
    const curShares = current.map((v) => v / values.length);
    let maxShift = 0;
    for (let j = 0; j < categories.length; j += 1) {
      maxShift = Math.max(maxShift, Math.abs(curShares[j] - refShares[j]));
    }
    return {
      ...common,
      type: 'categorical',
      test: t.test,
      kind: t.kind,
      statistic: t.statistic,
      pvalue: t.pvalue,
      dof: t.dof,
      score: t.score,
      threshold: t.threshold,
      psi: psi(reference, current, setting.psiEpsilon),
      reference: { ...common.reference, distinct: f.distinct },
      window: { count: values.length, missing, unseen, mean: w.mean, std: w.std },
      histogram: { categories, reference, current },
      shares: { reference: refShares, current: curShares, maxShift },
    };
  }

  const { choice, ksExactBudget, psiEpsilon } = setting;
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
  let outOfRange = 0;
  for (let i = 0; i < values.length; i += 1) {
    if (values[i] < min || values[i] > max) outOfRange += 1;
  }
  return {
    ...common,
    type: 'numeric',
    test: choice.test,
    kind: choice.kind,
    statistic,
    pvalue,
    ksMethod,
    score: pvalue ?? statistic,
    threshold: choice.threshold,
    psi: psi(counts, current, psiEpsilon),
    window: { count: values.length, missing, outOfRange, mean: w.mean, std: w.std },
    histogram: { edges: [...edges], reference: [...counts], current },
  };
}

function strongestFirst(a: TestedColumnDrift, b: TestedColumnDrift): number {
  if (a.kind !== b.kind) return a.kind === 'pvalue' ? -1 : 1;
  if (a.kind === 'pvalue') {
    // Both have p-values; adjustedPvalue is set for every column that has a raw one.
    const byP =
      (a.adjustedPvalue as number) - (b.adjustedPvalue as number) ||
      (a.pvalue as number) - (b.pvalue as number);
    if (byP !== 0 || a.test !== b.test || a.statistic === null || b.statistic === null) {
      return byP;
    }
    return b.statistic - a.statistic;
  }
  // Distances: how far past its own threshold each one is.
  if (a.threshold === b.threshold) return b.score - a.score;
  return b.score / b.threshold - a.score / a.threshold;
}

/**
 * The distinct values of the reference sample and of the window, ascending (−0 is 0), with the
 * count of each in either, and how many window values are of a category the sample lacks.
 */
function categoryCounts(
  sample: Float64Array,
  values: Float64Array,
): { categories: number[]; reference: number[]; current: number[]; unseen: number } {
  const index = new Map<number, number>();
  for (const side of [sample, values]) {
    for (let i = 0; i < side.length; i += 1) index.set(side[i] + 0, 0);
  }
  const categories = [...index.keys()].sort((x, y) => x - y);
  categories.forEach((v, j) => index.set(v, j));
  const reference = new Array<number>(categories.length).fill(0);
  const current = new Array<number>(categories.length).fill(0);
  for (let i = 0; i < sample.length; i += 1) reference[index.get(sample[i]) as number] += 1;
  for (let i = 0; i < values.length; i += 1) current[index.get(values[i]) as number] += 1;
  let unseen = 0;
  for (let j = 0; j < categories.length; j += 1) if (reference[j] === 0) unseen += current[j];
  return { categories, reference, current, unseen };
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
