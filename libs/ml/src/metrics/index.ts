export {
  averagePrecision,
  averagePrecisionOfCurve,
  type BinaryConfusion,
  confusionAtThreshold,
  LOG_LOSS_EPS,
  logLoss,
  type OperatingPoint,
  precisionAtRecall,
  precisionAtRecallOfCurve,
  precisionRecallF1,
  type PrecisionRecallF1,
  recallAtPrecision,
  recallAtPrecisionOfCurve,
  rocAuc,
  rocAucOfCurve,
  thresholdCurve,
  type ThresholdCurve,
  thresholdMetrics,
  type ThresholdMetrics,
} from './binary';
export * from './evaluate';
export type { BinaryLabels, ProbabilityRows } from './input';
export {
  argmaxRows,
  type Averages,
  type ClassScores,
  confusionMatrix,
  multiclassLogLoss,
  rocAucOvr,
  scoresFromConfusion,
} from './multiclass';
export * from './regression';
