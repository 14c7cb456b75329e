/**
 * One entry point for a model's evaluation: `evaluate(task, yTrue, yPred, options?)` returns a
 * plain JSON report, equal to itself after `JSON.parse(JSON.stringify(report))`. An undefined
 * value (0/0: precision with no positive prediction, AUC with one class, R² of a constant
 * target, …) is `null` in the report; the functions it is made of return NaN there.
 */

import {
  averagePrecisionOfCurve,
  type OperatingPoint,
  logLoss,
  precisionAtRecallOfCurve,
  recallAtPrecisionOfCurve,
  rocAucOfCurve,
  thresholdCurve,
  thresholdMetrics,
} from './binary';
import {
  type BinaryLabels,
  classCount,
  isProbability,
  orNull,
  type ProbabilityRows,
} from './input';
import {
  argmaxRows,
  confusionMatrix,
  multiclassLogLoss,
  rocAucOvr,
  scoresFromConfusion,
} from './multiclass';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from './regression';

export type Task = 'binary' | 'multiclass' | 'regression';

/** A metric that may be undefined (null) for the data at hand. */
export type Metric = number | null;

export interface BinaryOptions {
  /** `score ≥ threshold` is predicted positive. Default 0.5. */
  readonly threshold?: number;
  /** Value of a 0/0 precision, recall or F1: NaN (reported as null, default), 0 or 1. */
  readonly zeroDivision?: number;
  /** Recall levels for `precisionAtRecall`. Default [0.5, 0.8, 0.9, 0.95]. */
  readonly recallLevels?: readonly number[];
  /** Precision levels for `recallAtPrecision`. Default [0.5, 0.8, 0.9, 0.95]. */
  readonly precisionLevels?: readonly number[];
}

export interface MulticlassOptions {
  readonly zeroDivision?: number;
}

export interface BinaryReport {
  readonly task: 'binary';
  readonly n: number;
  readonly positives: number;
  readonly threshold: number;
  /** [[tn, fp], [fn, tp]]: rows are the true class, columns the predicted one (sklearn). */
  readonly confusionMatrix: number[][];
  readonly accuracy: number;
  readonly precision: Metric;
  readonly recall: Metric;
  readonly f1: Metric;
  readonly rocAuc: Metric;
  readonly averagePrecision: Metric;
  /** null when a score is outside [0, 1]: scores that are not probabilities have no log loss. */
  readonly logLoss: Metric;
  /** The best precision reaching each recall level (null: no positive label). */
  readonly precisionAtRecall: { level: number; point: OperatingPoint | null }[];
  /** The best recall reaching each precision level (null: no threshold is that precise). */
  readonly recallAtPrecision: { level: number; point: OperatingPoint | null }[];
}

export interface MetricAverages {
  readonly macro: Metric;
  readonly weighted: Metric;
  readonly perClass: Metric[];
}

export interface MulticlassReport {
  readonly task: 'multiclass';
  readonly n: number;
  readonly classes: number;
  /** True samples per class. */
  readonly support: number[];
  readonly accuracy: number;
  readonly precision: MetricAverages;
  readonly recall: MetricAverages;
  readonly f1: MetricAverages;
  /** K×K, `[true][predicted]`, the prediction being the argmax of each row. */
  readonly confusionMatrix: number[][];
  /** null when a value is outside [0, 1]. */
  readonly logLoss: Metric;
  /** One-vs-rest ROC-AUC; the macro mean is null when a class is absent from yTrue. */
  readonly rocAucOvr: { macro: Metric; perClass: Metric[] };
}

export interface RegressionReport {
  readonly task: 'regression';
  readonly n: number;
  readonly mae: number;
  readonly rmse: number;
  /** null when yTrue is constant. */
  readonly r2: Metric;
}

export type Report = BinaryReport | MulticlassReport | RegressionReport;

const DEFAULT_LEVELS: readonly number[] = [0.5, 0.8, 0.9, 0.95];

export function evaluate(
  task: 'binary',
  yTrue: BinaryLabels,
  yPred: readonly number[],
  options?: BinaryOptions,
): BinaryReport;
export function evaluate(
  task: 'multiclass',
  yTrue: readonly number[],
  yPred: ProbabilityRows,
  options?: MulticlassOptions,
): MulticlassReport;
export function evaluate(
  task: 'regression',
  yTrue: readonly number[],
  yPred: readonly number[],
): RegressionReport;
/**
 * Evaluates predictions for a task. `binary`: yTrue 0/1, yPred one score per sample (a
 * probability of class 1, or any score with a suitable `threshold`). `multiclass`: yTrue
 * integers 0 … K−1, yPred K probabilities per sample. `regression`: numbers. Throws on
 * mismatched lengths, no samples, non-finite values or unknown labels.
 */
export function evaluate(
  task: Task,
  yTrue: readonly number[],
  yPred: readonly number[] | ProbabilityRows,
  options: BinaryOptions | MulticlassOptions = {},
): Report {
  switch (task) {
    case 'binary':
      return evaluateBinary(yTrue, yPred as readonly number[], options);
    case 'multiclass':
      return evaluateMulticlass(yTrue, yPred as ProbabilityRows, options);
    case 'regression':
      return evaluateRegression(yTrue, yPred as readonly number[]);
  }
  // Tasks come from configuration, so the type is checked at runtime too.
  throw new Error(`evaluate: unknown task ${JSON.stringify(task)}`);
}

function evaluateBinary(
  yTrue: BinaryLabels,
  scores: readonly number[],
  options: BinaryOptions,
): BinaryReport {
  const threshold = options.threshold ?? 0.5;
  const m = thresholdMetrics(yTrue, scores, { threshold, zeroDivision: options.zeroDivision });
  const curve = thresholdCurve(yTrue, scores);
  const { tn, fp, fn, tp } = m.confusion;
  return {
    task: 'binary',
    n: yTrue.length,
    positives: curve.positives,
    threshold,
    confusionMatrix: [
      [tn, fp],
      [fn, tp],
    ],
    accuracy: m.accuracy,
    precision: orNull(m.precision),
    recall: orNull(m.recall),
    f1: orNull(m.f1),
    rocAuc: orNull(rocAucOfCurve(curve)),
    averagePrecision: orNull(averagePrecisionOfCurve(curve)),
    logLoss: scores.every(isProbability) ? logLoss(yTrue, scores) : null,
    precisionAtRecall: (options.recallLevels ?? DEFAULT_LEVELS).map((level) => ({
      level,
      point: precisionAtRecallOfCurve(curve, level),
    })),
    recallAtPrecision: (options.precisionLevels ?? DEFAULT_LEVELS).map((level) => ({
      level,
      point: recallAtPrecisionOfCurve(curve, level),
    })),
  };
}

function evaluateMulticlass(
  yTrue: readonly number[],
  proba: ProbabilityRows,
  options: MulticlassOptions,
): MulticlassReport {
  const k = classCount('evaluate', proba);
  const matrix = confusionMatrix(yTrue, argmaxRows(proba), k);
  const s = scoresFromConfusion(matrix, options.zeroDivision);
  const averages = (name: 'precision' | 'recall' | 'f1'): MetricAverages => ({
    macro: orNull(s.macro[name]),
    weighted: orNull(s.weighted[name]),
    perClass: s.perClass[name].map(orNull),
  });
  const auc = rocAucOvr(yTrue, proba);
  return {
    task: 'multiclass',
    n: yTrue.length,
    classes: k,
    support: [...s.perClass.support],
    accuracy: s.accuracy,
    precision: averages('precision'),
    recall: averages('recall'),
    f1: averages('f1'),
    confusionMatrix: matrix,
    logLoss: proba.every((row) => row.every(isProbability))
      ? multiclassLogLoss(yTrue, proba)
      : null,
    rocAucOvr: { macro: orNull(auc.macro), perClass: auc.perClass.map(orNull) },
  };
}

function evaluateRegression(yTrue: readonly number[], yPred: readonly number[]): RegressionReport {
  return {
    task: 'regression',
    n: yTrue.length,
    mae: meanAbsoluteError(yTrue, yPred),
    rmse: rootMeanSquaredError(yTrue, yPred),
    r2: orNull(r2Score(yTrue, yPred)),
  };
}
