/**
 * Multiclass metrics for labels 0 … K−1 and K class probabilities per sample, matching
 * scikit-learn 1.x: accuracy, per-class / macro / weighted precision, recall and F1, the K×K
 * confusion matrix, multiclass `log_loss`, and one-vs-rest macro `roc_auc_score`. Unweighted.
 */

import { accurateSum } from '../tabular/column';
import { clipProbability, precisionRecallF1, rocAucOfCurve, thresholdCurve } from './binary';
import {
  checkClassLabels,
  checkPair,
  classCount,
  isProbability,
  type ProbabilityRows,
} from './input';

/**
 * The predicted class of each row: the column of the largest value, the first one on a tie
 * (numpy's `argmax`, hence a classifier's `predict` from `predict_proba`).
 */
export function argmaxRows(rows: ProbabilityRows): number[] {
  return rows.map((row) => {
    let best = 0;
    for (let j = 1; j < row.length; j += 1) if (row[j] > row[best]) best = j;
    return best;
  });
}

/**
 * K×K counts, `matrix[true][predicted]`, as sklearn's `confusion_matrix(labels=range(K))`.
 * Both label arrays hold integers in [0, K).
 */
export function confusionMatrix(
  yTrue: readonly number[],
  yPred: readonly number[],
  k: number,
): number[][] {
  checkPair('confusionMatrix', yTrue, yPred);
  checkClassLabels('confusionMatrix', yTrue, k);
  checkClassLabels('confusionMatrix', yPred, k);
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i += 1) matrix[yTrue[i]][yPred[i]] += 1;
  return matrix;
}

export interface Averages {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface ClassScores {
  readonly accuracy: number;
  /** Per class k = 0 … K−1; `support` is the number of true samples of the class. */
  readonly perClass: {
    readonly precision: readonly number[];
    readonly recall: readonly number[];
    readonly f1: readonly number[];
    readonly support: readonly number[];
  };
  readonly macro: Averages;
  readonly weighted: Averages;
}

/**
 * Scores from a confusion matrix, as sklearn's `precision_recall_fscore_support` and its
 * `average='macro'` / `'weighted'`. A 0/0 per class gives `zeroDivision` (NaN by default, see
 * {@link precisionRecallF1}). Averages run over the classes sklearn would see without `labels=`
 * (those present in y_true or predicted); NaN entries are left out of them, as sklearn does
 * with `zero_division=np.nan`, so macro precision is over the classes that were predicted at
 * least once: read it with `perClass`. Weighted averages weight by support, falling back to a
 * plain mean when the remaining classes all have support 0.
 */
export function scoresFromConfusion(
  matrix: readonly (readonly number[])[],
  zeroDivision = NaN,
): ClassScores {
  const k = matrix.length;
  if (k === 0 || matrix.some((row) => row.length !== k)) {
    throw new RangeError('scoresFromConfusion: the confusion matrix must be square and non-empty');
  }
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  const seen: boolean[] = [];
  let correct = 0;
  let total = 0;
  for (let c = 0; c < k; c += 1) {
    let actual = 0;
    let predicted = 0;
    for (let j = 0; j < k; j += 1) {
      actual += matrix[c][j];
      predicted += matrix[j][c];
    }
    const tp = matrix[c][c];
    const s = precisionRecallF1(tp, predicted - tp, actual - tp, zeroDivision);
    precision.push(s.precision);
    recall.push(s.recall);
    f1.push(s.f1);
    support.push(actual);
    seen.push(actual + predicted > 0);
    correct += tp;
    total += actual;
  }
  const average = (values: number[], weighted: boolean): number => {
    let sum = 0;
    let weights = 0;
    let plain = 0;
    let count = 0;
    for (let c = 0; c < k; c += 1) {
      if (!seen[c] || Number.isNaN(values[c])) continue;
      sum += values[c] * support[c];
      weights += support[c];
      plain += values[c];
      count += 1;
    }
    if (count === 0) return NaN;
    return weighted && weights > 0 ? sum / weights : plain / count;
  };
  return {
    accuracy: correct / total,
    perClass: { precision, recall, f1, support },
    macro: {
      precision: average(precision, false),
      recall: average(recall, false),
      f1: average(f1, false),
    },
    weighted: {
      precision: average(precision, true),
      recall: average(recall, true),
      f1: average(f1, true),
    },
  };
}

/**
 * Mean cross-entropy −ln p(true class), as sklearn 1.9's `log_loss(y, P, labels=range(K))`:
 * the probability is clipped to [ε, 1 − ε] (ε = 2⁻⁵²) and rows are not renormalised (sklearn
 * only warns when a row does not sum to 1). Throws on a value outside [0, 1], as sklearn does.
 */
export function multiclassLogLoss(yTrue: readonly number[], proba: ProbabilityRows): number {
  checkPair('multiclassLogLoss', yTrue, proba);
  const k = classCount('multiclassLogLoss', proba);
  checkClassLabels('multiclassLogLoss', yTrue, k);
  proba.forEach((row, i) => {
    if (!row.every(isProbability)) {
      throw new RangeError(`multiclassLogLoss: yPred[${i}] has a value outside [0, 1]`);
    }
  });
  const losses = new Float64Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i += 1)
    losses[i] = -Math.log(clipProbability(proba[i][yTrue[i]]));
  return accurateSum(losses) / yTrue.length;
}

/**
 * One-vs-rest ROC-AUC of each class (class k against the others, scored by column k) and their
 * unweighted mean: sklearn's `roc_auc_score(y, P, multi_class='ovr', average='macro')`. A class
 * absent from y_true has no AUC (NaN), and then the mean is NaN too, as in sklearn 1.9. Rows
 * need not sum to 1 (sklearn raises if they do not; the ranking of a column does not care).
 */
export function rocAucOvr(
  yTrue: readonly number[],
  proba: ProbabilityRows,
): { macro: number; perClass: number[] } {
  checkPair('rocAucOvr', yTrue, proba);
  const k = classCount('rocAucOvr', proba);
  checkClassLabels('rocAucOvr', yTrue, k);
  const perClass: number[] = [];
  for (let c = 0; c < k; c += 1) {
    const labels = yTrue.map((y) => (y === c ? 1 : 0));
    perClass.push(
      rocAucOfCurve(
        thresholdCurve(
          labels,
          proba.map((row) => row[c]),
        ),
      ),
    );
  }
  let sum = 0;
  for (const auc of perClass) sum += auc;
  return { macro: sum / k, perClass };
}
