// Typed view of fixtures/metrics.json (written by fixtures/make_metrics_fixtures.py with
// scikit-learn 1.9), shared by the metrics and schedules specs. null stands for NaN, "-inf" for
// -Infinity (JSON has neither).
import reference from '../../fixtures/metrics.json';

export type Value = number | null;

export interface Point {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
}

export interface BinaryCase {
  readonly name: string;
  readonly yTrue: number[];
  readonly scores: number[];
  readonly threshold: number;
  readonly sklearn: {
    readonly accuracy: number;
    readonly prf: Record<'nan' | '0' | '1', { precision: Value; recall: Value; f1: Value }>;
    readonly confusionMatrix: number[][];
    readonly rocAuc: Value;
    readonly averagePrecision: Value;
    readonly logLoss: Value;
    readonly logLossWithoutLabels: { value?: number; error?: string } | null;
    readonly precisionAtRecall: { target: number; point: Point | null }[];
    readonly recallAtPrecision: { target: number; point: Point | null }[];
  };
}

export interface Prf {
  readonly precision: Value;
  readonly recall: Value;
  readonly f1: Value;
}

export interface MulticlassCase {
  readonly name: string;
  readonly yTrue: number[];
  readonly proba: number[][];
  readonly sklearn: {
    readonly accuracy: number;
    readonly predicted: number[];
    readonly prf: Record<
      'nan' | '0' | '1',
      {
        perClass: { precision: Value[]; recall: Value[]; f1: Value[] };
        support: number[];
        macro: Prf;
        weighted: Prf;
      }
    >;
    readonly confusionMatrix: number[][];
    readonly logLoss: number;
    readonly rocAucOvrMacro: Value;
    readonly rocAucPerClass: Value[];
  };
}

export interface RegressionCase {
  readonly name: string;
  readonly yTrue: number[];
  readonly yPred: number[];
  readonly sklearn: {
    readonly mae: number;
    readonly rmse: number;
    readonly r2: number;
    readonly r2NotForcedFinite: number | null | '-inf';
  };
}

export interface CosineCase {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  readonly lr: number;
  /** PyTorch's `step(epoch)` closed form at epochs 0, 1, 2, … */
  readonly closedForm: number[];
  /** PyTorch's plain `step()` (integer T_cur arithmetic) at the same epochs. */
  readonly stepped: number[];
  /** Restart epochs where `step(epoch)`'s float logarithm falls into the previous cycle. */
  readonly logRoundsDown: number[];
  readonly itersPerEpoch: number;
  /** [epoch + i / iters, lr] pairs, the documented per-batch call. */
  readonly fractional: [number, number][];
}

export interface ScheduleFixture {
  readonly cosineWarmRestarts: CosineCase[];
  readonly stepDecay: { lr: number; stepSize: number; gamma: number; values: number[] }[];
  readonly warmupThenCosine: {
    steps: number;
    startFactor: number;
    then: { t0: number; tMult: number; etaMin: number; lr: number };
    values: number[];
  }[];
}

export interface MetricsFixture {
  readonly _sklearn: string;
  readonly binary: BinaryCase[];
  readonly multiclass: MulticlassCase[];
  readonly regression: RegressionCase[];
  readonly schedules: ScheduleFixture;
}

export const fixture = reference as unknown as MetricsFixture;

/** NaN for null, as the functions under test return it. */
export const num = (v: Value): number => (v === null ? NaN : v);

/** |actual − expected| / max(1, |expected|); 0 when both are NaN, Infinity when only one is. */
export function err(actual: number, expected: number): number {
  if (Number.isNaN(expected) || Number.isNaN(actual)) {
    return Number.isNaN(expected) && Number.isNaN(actual) ? 0 : Infinity;
  }
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}
