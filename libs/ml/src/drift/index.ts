export { countOnReferenceBins, histogramWasserstein, mergeSparseBins } from './binned';
export { type CategoricalTestResult, testCategoryCounts } from './categorical';
export { chiSquareContingency, type ChiSquareResult, chiSquareTwoSample } from './chi2';
export { binEdges, histogram, jensenShannonDistance, psi, PSI_EPSILON } from './divergence';
export { fisherExact2x2, type Table2x2 } from './fisher';
export { kstwoCdf, kstwoSurvival } from './kolmogorov';
export { KS_MAX_AUTO_N, type KsMethod, type KsOptions, type KsResult, ksTwoSample } from './ks';
export { benjaminiHochberg, bonferroni } from './multiple-testing';
export { type PerformanceDrop, performanceDrop, type PerformanceDropOptions } from './performance';
export {
  type CategoricalTestChoice,
  chooseCategoricalTest,
  chooseNumericTest,
  DEFAULT_DRIFT_POLICY,
  type DriftPolicyOptions,
  type DriftScoreKind,
  isDrift,
  type NumericTestChoice,
} from './policy';
export {
  type BinaryPredictionDrift,
  type DistributionTest,
  type MulticlassPredictionDrift,
  type PredictionAlert,
  predictionDrift,
  type PredictionDriftOptions,
  type PredictionDriftReport,
  type PredictionWindow,
  type RegressionPredictionDrift,
  type ScoreShift,
  type SkippedPredictionDrift,
} from './prediction';
export { normalisedWasserstein, wassersteinDistance } from './wasserstein';
export {
  type CategoricalColumnDrift,
  type ColumnDrift,
  type DriftCorrection,
  featureDrift,
  type FeatureDriftOptions,
  type FeatureDriftReport,
  type FeatureWindow,
  type NumericColumnDrift,
  type SkippedColumnDrift,
  type ColumnSkipReason,
  type TestedColumnDrift,
} from './window';
