/**
 * Binary classification metrics from labels 0/1 and scores, matching scikit-learn 1.x
 * (`accuracy_score`, `precision_recall_fscore_support`, `confusion_matrix`, `roc_auc_score`,
 * `average_precision_score`, `log_loss`). Unweighted. Undefined values are NaN; where sklearn
 * raises or returns a stand-in value, each function says what it does instead.
 */

import { accurateSum } from '../tabular/column';
import { type BinaryLabels, checkBinaryLabels, checkFinite, checkPair } from './input';

/** sklearn's float64 `np.finfo(float).eps`, the clipping bound of `log_loss` since 1.2. */
export const LOG_LOSS_EPS = Number.EPSILON;

/** Counts at one threshold; sklearn's `confusion_matrix` is [[tn, fp], [fn, tp]]. */
export interface BinaryConfusion {
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
  readonly tp: number;
}

export interface PrecisionRecallF1 {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface ThresholdMetrics extends PrecisionRecallF1 {
  readonly confusion: BinaryConfusion;
  readonly accuracy: number;
}

/**
 * Precision tp / (tp + fp), recall tp / (tp + fn) and F1 2tp / (2tp + fp + fn) from counts, as
 * sklearn computes them. A 0/0 gives `zeroDivision`: NaN by default (sklearn's
 * `zero_division=np.nan`), 0 or 1 for sklearn's other choices. F1 is 0/0 only when there are
 * neither positive labels nor positive predictions; with precision undefined but positives
 * missed it is 0.
 */
export function precisionRecallF1(
  tp: number,
  fp: number,
  fn: number,
  zeroDivision = NaN,
): PrecisionRecallF1 {
  const predicted = tp + fp;
  const actual = tp + fn;
  return {
    precision: predicted === 0 ? zeroDivision : tp / predicted,
    recall: actual === 0 ? zeroDivision : tp / actual,
    f1: predicted + actual === 0 ? zeroDivision : (2 * tp) / (actual + predicted),
  };
}

/**
 * Confusion counts when `score ≥ threshold` is predicted positive: the rule of sklearn's
 * `FixedThresholdClassifier` and of `precision_recall_curve`'s thresholds.
 */
export function confusionAtThreshold(
  yTrue: BinaryLabels,
  scores: readonly number[],
  threshold = 0.5,
): BinaryConfusion {
  checkBinary('confusionAtThreshold', yTrue, scores);
  if (Number.isNaN(threshold)) throw new RangeError('confusionAtThreshold: threshold is NaN');
  let tn = 0;
  let fp = 0;
  let fn = 0;
  let tp = 0;
  for (let i = 0; i < yTrue.length; i += 1) {
    const positive = scores[i] >= threshold;
    if (yTrue[i] === 1) {
      if (positive) tp += 1;
      else fn += 1;
    } else if (positive) fp += 1;
    else tn += 1;
  }
  return { tn, fp, fn, tp };
}

/** Accuracy, precision, recall, F1 and the counts at `threshold` (see the two functions above). */
export function thresholdMetrics(
  yTrue: BinaryLabels,
  scores: readonly number[],
  { threshold = 0.5, zeroDivision = NaN }: { threshold?: number; zeroDivision?: number } = {},
): ThresholdMetrics {
  const confusion = confusionAtThreshold(yTrue, scores, threshold);
  const { tn, fp, fn, tp } = confusion;
  return {
    confusion,
    accuracy: (tp + tn) / yTrue.length,
    ...precisionRecallF1(tp, fp, fn, zeroDivision),
  };
}

/**
 * Cumulative counts at each distinct score, highest first: at `thresholds[k]` the samples with
 * `score ≥ thresholds[k]` are predicted positive, `tp[k]` of them correctly and `fp[k]` not.
 * sklearn's `_binary_clf_curve`, from which its ROC and precision–recall curves are made; tied
 * scores form one point, which is how every metric below handles ties.
 */
export interface ThresholdCurve {
  readonly thresholds: readonly number[];
  readonly tp: readonly number[];
  readonly fp: readonly number[];
  readonly positives: number;
  readonly negatives: number;
}

export function thresholdCurve(yTrue: BinaryLabels, scores: readonly number[]): ThresholdCurve {
  checkBinary('thresholdCurve', yTrue, scores);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
  const thresholds: number[] = [];
  const tpAt: number[] = [];
  const fpAt: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k += 1) {
    const i = order[k];
    if (yTrue[i] === 1) tp += 1;
    else fp += 1;
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) {
      thresholds.push(scores[i]);
      tpAt.push(tp);
      fpAt.push(fp);
    }
  }
  return { thresholds, tp: tpAt, fp: fpAt, positives: tp, negatives: fp };
}

/**
 * Area under the ROC curve (sklearn's `roc_auc_score`): the trapezoids between the curve's
 * points, so a run of tied scores counts as one diagonal step (half credit for each tied
 * positive–negative pair, the Mann–Whitney U). Summed in integer counts and divided once,
 * exact up to one rounding while 2·P·N < 2⁵³. NaN when y has one class only (sklearn 1.9
 * returns NaN with a warning there; earlier versions raised).
 */
export function rocAuc(yTrue: BinaryLabels, scores: readonly number[]): number {
  return rocAucOfCurve(thresholdCurve(yTrue, scores));
}

export function rocAucOfCurve(curve: ThresholdCurve): number {
  const { tp, fp, positives, negatives } = curve;
  if (positives === 0 || negatives === 0) return NaN;
  let area = 0;
  let tpPrev = 0;
  let fpPrev = 0;
  for (let k = 0; k < tp.length; k += 1) {
    area += (fp[k] - fpPrev) * (tp[k] + tpPrev);
    tpPrev = tp[k];
    fpPrev = fp[k];
  }
  return area / (2 * positives * negatives);
}

/**
 * Average precision (sklearn's `average_precision_score`): Σₖ (Rₖ − Rₖ₋₁) Pₖ over the distinct
 * thresholds, highest first, with no interpolation. NaN when y has no positive, where sklearn
 * sets recall to 1 at every threshold and returns 0 with a warning: recall is 0/0 there, and
 * a 0 would rank such a model below every real one. With no negative it is 1, as in sklearn.
 */
export function averagePrecision(yTrue: BinaryLabels, scores: readonly number[]): number {
  return averagePrecisionOfCurve(thresholdCurve(yTrue, scores));
}

export function averagePrecisionOfCurve(curve: ThresholdCurve): number {
  const { tp, fp, positives } = curve;
  if (positives === 0) return NaN;
  let sum = 0;
  let tpPrev = 0;
  for (let k = 0; k < tp.length; k += 1) {
    if (tp[k] > tpPrev) sum += (tp[k] - tpPrev) * (tp[k] / (tp[k] + fp[k]));
    tpPrev = tp[k];
  }
  return sum / positives;
}

/** One threshold of the curve: predicting `score ≥ threshold` gives this precision and recall. */
export interface OperatingPoint {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * The best precision among thresholds whose recall is at least `minRecall`; at equal precision
 * the one of higher recall (lower threshold). null when y has no positive (recall undefined).
 * Every curve reaches recall 1 at its lowest threshold, so otherwise a point always exists.
 */
export function precisionAtRecall(
  yTrue: BinaryLabels,
  scores: readonly number[],
  minRecall: number,
): OperatingPoint | null {
  return precisionAtRecallOfCurve(thresholdCurve(yTrue, scores), minRecall);
}

/**
 * The best recall among thresholds whose precision is at least `minPrecision`; at equal recall
 * the one of higher precision (higher threshold). null when no threshold is that precise, or y
 * has no positive. For "recall at equal precision" comparisons, pass one model's precision as
 * the other's `minPrecision`; both are the same double when computed here.
 */
export function recallAtPrecision(
  yTrue: BinaryLabels,
  scores: readonly number[],
  minPrecision: number,
): OperatingPoint | null {
  return recallAtPrecisionOfCurve(thresholdCurve(yTrue, scores), minPrecision);
}

export function precisionAtRecallOfCurve(
  curve: ThresholdCurve,
  minRecall: number,
): OperatingPoint | null {
  checkLevel('precisionAtRecall', minRecall);
  return bestPoint(curve, (p) => p.recall >= minRecall, 'precision', 'recall');
}

export function recallAtPrecisionOfCurve(
  curve: ThresholdCurve,
  minPrecision: number,
): OperatingPoint | null {
  checkLevel('recallAtPrecision', minPrecision);
  return bestPoint(curve, (p) => p.precision >= minPrecision, 'recall', 'precision');
}

function bestPoint(
  curve: ThresholdCurve,
  admissible: (p: OperatingPoint) => boolean,
  first: 'precision' | 'recall',
  second: 'precision' | 'recall',
): OperatingPoint | null {
  if (curve.positives === 0) return null;
  let best: OperatingPoint | null = null;
  for (let k = 0; k < curve.thresholds.length; k += 1) {
    const tp = curve.tp[k];
    const point = {
      threshold: curve.thresholds[k],
      precision: tp / (tp + curve.fp[k]),
      recall: tp / curve.positives,
    };
    if (!admissible(point)) continue;
    if (
      best === null ||
      point[first] > best[first] ||
      (point[first] === best[first] && point[second] > best[second])
    ) {
      best = point;
    }
  }
  return best;
}

/**
 * Mean binary cross-entropy of P(y = 1), natural log, as sklearn 1.9's `log_loss(y, p,
 * labels=[0, 1])`: p and 1 − p are clipped to [ε, 1 − ε] with ε = 2⁻⁵² (float64's eps; sklearn
 * clips with `finfo(dtype).eps` since 1.2 and has no `eps` parameter since 1.5, before 1.2 the
 * default was 1e-15), so a confident mistake costs −ln ε ≈ 36.04, not Infinity. Defined when y
 * has one class too: sklearn raises there unless given `labels`, but the loss of each sample
 * does not depend on which other labels occur. Throws on p outside [0, 1], as sklearn does.
 */
export function logLoss(yTrue: BinaryLabels, probabilities: readonly number[]): number {
  checkBinary('logLoss', yTrue, probabilities);
  const losses = new Float64Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i += 1) {
    const p = probabilities[i];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`logLoss: yPred[${i}] is ${p}, not in [0, 1]`);
    losses[i] = -Math.log(clipProbability(yTrue[i] === 1 ? p : 1 - p));
  }
  return accurateSum(losses) / yTrue.length;
}

export function clipProbability(p: number): number {
  return Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
}

function checkBinary(fn: string, yTrue: BinaryLabels, scores: readonly number[]): void {
  checkPair(fn, yTrue, scores);
  checkBinaryLabels(fn, yTrue);
  checkFinite(fn, 'yPred', scores);
}

function checkLevel(fn: string, level: number): void {
  if (!(level >= 0 && level <= 1)) throw new RangeError(`${fn}: level ${level} is not in [0, 1]`);
}
