import {
  resolveTrainingSpec,
  TrainingSpecError,
  type ModelTrainedEvent,
  type ResolvedTrainingSpec,
} from '@mlops/contracts';
import { decodeMatrix, labelledSplitRows, type Matrix } from '@mlops/features';
import { featureReference, predictionReference } from '@mlops/ml';
import { RegistryClient, RegistryError } from '@mlops/registry-client';
import {
  evaluateOutputs,
  exportNetwork,
  flatMetrics,
  gatherRows,
  layersArtifact,
  networkLayers,
  onnxParity,
  outputRows,
  predictOutputs,
  selectBackend,
  trainNetwork,
  type Task,
} from '@mlops/training';
import {
  TrainJobError,
  type TrainJobInput,
  type TrainJobProgress,
  type TrainJobResult,
} from './job.types';

/** ONNX must compute what tfjs computed, to this absolute difference, before publishing. */
export const PARITY_TOLERANCE = 1e-4;
/** Training rows summarised for the drift reference (a seeded sample beyond). */
const REFERENCE_ROWS = 200_000;
export const REPORT_FORMAT = 1;

export interface JobHooks {
  progress(p: TrainJobProgress): void;
  log(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Runs one training job to the end: download and check the matrix, train, evaluate, export to
 * ONNX, check parity in onnxruntime-node, upload, and return the models.trained.v1 payload.
 * Throws TrainJobError with a stable code on a failure a person must act on.
 */
export async function runTrainingJob(
  input: TrainJobInput,
  hooks: JobHooks,
): Promise<TrainJobResult> {
  const started = performance.now();
  const event = input.dataset;
  const resolved = resolveSpec(input);
  const task = labelTask(input);
  const registry = new RegistryClient({ url: input.registry.url, apiKey: input.registry.apiKey });

  const matrix = await loadMatrix(registry, input);
  const classes = matrix.header.classes;
  if (task !== 'regression' && (!classes || classes.length < 2))
    throw new TrainJobError(
      'matrix_invalid',
      `a ${task} task needs at least 2 classes in the matrix, got ${JSON.stringify(classes)}`,
    );
  if (task === 'binary' && classes!.length !== 2)
    throw new TrainJobError(
      'matrix_invalid',
      `a binary task needs 2 classes, the matrix has ${classes!.length}`,
    );
  const splits = labelledSplitRows(matrix);
  if (splits.train.length === 0 || splits.validation.length === 0)
    throw new TrainJobError(
      'empty_split',
      `training needs labelled train and validation rows; the matrix has ${splits.train.length} and ${splits.validation.length}`,
    );
  if (splits.train.length > resolved.training.maxRows)
    throw new TrainJobError(
      'too_many_rows',
      `${splits.train.length} training rows exceed training.maxRows = ${resolved.training.maxRows}`,
    );

  const backend = await selectBackend(input.backend ?? resolved.training.backend);
  hooks.log('info', 'training', {
    jobId: input.jobId,
    backend: backend.name,
    package: backend.package,
    simd: backend.simd,
    rows: splits,
    columns: matrix.header.columns,
  });

  const data = {
    values: matrix.values,
    columns: matrix.header.columns,
    labels: matrix.labels,
    train: splits.train,
    validation: splits.validation,
  };
  const outcome = await trainNetwork(data, {
    task,
    classes,
    model: resolved.model,
    training: resolved.training,
    onEpoch: (e) =>
      hooks.progress({
        epoch: e.epoch,
        epochs: resolved.training.epochs,
        step: e.steps,
        trainLoss: e.trainLoss,
        validationMetric: e.validationMetric,
        learningRate: e.learningRate,
      }),
  });
  const trainSeconds = outcome.seconds;

  // Evaluation.
  const k = classes?.length ?? 0;
  const labelsOf = (rows: Uint32Array) => Array.from(rows, (r) => matrix.labels[r]);
  const validationOut = predictOutputs(
    outcome.network,
    data.values,
    data.columns,
    splits.validation,
    task,
    k,
  );
  const validation = evaluateOutputs(
    validationOut,
    labelsOf(splits.validation),
    resolved.training.threshold,
  );
  const testOut =
    splits.test.length > 0
      ? predictOutputs(outcome.network, data.values, data.columns, splits.test, task, k)
      : null;
  const test = testOut
    ? evaluateOutputs(testOut, labelsOf(splits.test), resolved.training.threshold)
    : null;

  // ONNX, checked before anything leaves the job.
  const metadata: Record<string, string> = {
    'mlops.model': resolved.modelName,
    'mlops.dataset': event.dataset,
    'mlops.featureset': event.featuresetVersion,
    'mlops.job': input.jobId,
    'mlops.features': JSON.stringify(matrix.header.names),
    ...(classes ? { 'mlops.classes': JSON.stringify(classes) } : {}),
  };
  const onnx = exportNetwork(outcome.network, task, metadata);
  const parity = await onnxParity(
    onnx,
    task,
    data.values,
    data.columns,
    splits.validation,
    validationOut.values,
    PARITY_TOLERANCE,
  );
  if (!parity.passed)
    throw new TrainJobError(
      'parity_failed',
      `the ONNX export differs from tfjs by ${parity.maxAbsDiff} (> ${PARITY_TOLERANCE}) at validation row ${parity.worst?.row}`,
    );

  // The drift reference: training features and the validation predictions.
  const referenceRows = sampleRows(splits.train, REFERENCE_ROWS, resolved.training.seed);
  const features = featureReference(
    gatherRows(matrix.values, data.columns, referenceRows),
    referenceRows.length,
    data.columns,
    matrix.header.names,
    { seed: resolved.training.seed },
  );
  const predictions = predictionReference(task, outputRows(validationOut));

  const durationMs = performance.now() - started;
  const params = {
    model: resolved.model,
    training: resolved.training,
    task,
    inputs: data.columns,
    classes,
    backend: backend.name,
    backendPackage: backend.package,
    seed: resolved.training.seed,
    epochsRun: outcome.epochsRun,
    bestEpoch: outcome.bestEpoch,
    stoppedEarly: outcome.stoppedEarly,
    steps: outcome.steps,
    classWeights: outcome.classWeights,
    trainSeconds,
    durationMs,
    rows: {
      train: splits.train.length,
      validation: splits.validation.length,
      test: splits.test.length,
    },
  };
  const artifact = await upload(registry, Buffer.from(onnx), 'onnx');
  const weights = await upload(
    registry,
    layersArtifact(networkLayers(outcome.network, task)),
    'tfjs',
  );
  const report = {
    format: REPORT_FORMAT,
    model: resolved.modelName,
    jobId: input.jobId,
    dataset: event.dataset,
    featuresetVersion: event.featuresetVersion,
    task,
    classes,
    featureNames: matrix.header.names,
    params,
    metric: outcome.metric,
    curves: outcome.curves,
    evaluation: { validation, test },
    parity,
    reference: { features, predictions },
    artifacts: { model: artifact, weights, matrix: event.matrix, featureset: event.featureset },
  };

  const reportRef = await upload(registry, Buffer.from(JSON.stringify(report)), 'json');
  const metrics = {
    ...flatMetrics(validation, 'val_'),
    ...(test ? flatMetrics(test, 'test_') : {}),
    parity_max_abs_diff: parity.maxAbsDiff,
    train_seconds: trainSeconds,
    epochs: outcome.epochsRun,
    best_epoch: outcome.bestEpoch,
    samples_per_second: outcome.samples / Math.max(1e-9, trainSeconds),
  };
  const trained: ModelTrainedEvent = {
    model: resolved.modelName,
    jobId: input.jobId,
    dataset: event.dataset,
    datasetSpecVersion: event.specVersion,
    featuresetVersion: event.featuresetVersion,
    artifact,
    params,
    metrics,
    trainedOn: event.trainedOn,
    tags: {
      'mlops.backend': backend.name,
      'mlops.seed': String(resolved.training.seed),
      'mlops.request': event.requestId,
      'mlops.matrix.sha256': event.matrix.sha256,
    },
    task,
    report: reportRef,
    description: `${resolved.model.type} on ${event.dataset} (${event.featuresetVersion}), ${outcome.epochsRun} epochs on ${backend.name}`,
  };
  hooks.log('info', 'trained', { jobId: input.jobId, metrics, parity: parity.maxAbsDiff });
  return { trained, backend: backend.name, durationMs };
}

function resolveSpec(input: TrainJobInput): ResolvedTrainingSpec {
  try {
    return resolveTrainingSpec(input.spec);
  } catch (err) {
    if (err instanceof TrainingSpecError) throw new TrainJobError('spec_invalid', err.message);
    throw err;
  }
}

function labelTask(input: TrainJobInput): Task {
  const label = input.spec.fields.find((f) => f.type === 'label');
  if (!label || label.type !== 'label')
    throw new TrainJobError(
      'no_label',
      `dataset ${input.spec.name} has no label field to train on`,
    );
  if (input.dataset.labelField !== null && input.dataset.labelField !== label.name)
    throw new TrainJobError(
      'spec_mismatch',
      `the matrix was built with label ${input.dataset.labelField}, the spec's label is ${label.name}`,
    );
  return label.task;
}

async function loadMatrix(registry: RegistryClient, input: TrainJobInput): Promise<Matrix> {
  const ref = input.dataset.matrix;
  let bytes: Buffer;
  try {
    bytes = await registry.download(ref);
  } catch (err) {
    if (err instanceof RegistryError && err.status === null && /sha256/.test(err.message))
      throw new TrainJobError('artifact_mismatch', `training matrix rejected: ${err.message}`);
    if (err instanceof RegistryError && err.status === 404)
      throw new TrainJobError(
        'artifact_missing',
        `training matrix ${ref.uri} is not in the registry`,
      );
    throw new TrainJobError('registry_unavailable', (err as Error).message);
  }
  let matrix: Matrix;
  try {
    matrix = decodeMatrix(bytes);
  } catch (err) {
    throw new TrainJobError(
      'matrix_invalid',
      `training matrix ${ref.uri}: ${(err as Error).message}`,
    );
  }
  if (matrix.header.featuresetVersion !== input.dataset.featuresetVersion)
    throw new TrainJobError(
      'matrix_invalid',
      `the matrix is of featureset ${matrix.header.featuresetVersion}, the event says ${input.dataset.featuresetVersion}`,
    );
  if (matrix.header.columns !== input.dataset.columns)
    throw new TrainJobError(
      'matrix_invalid',
      `the matrix has ${matrix.header.columns} columns, the event says ${input.dataset.columns}`,
    );
  return matrix;
}

/** Up to `max` of `rows`, an evenly strided subset (deterministic) when there are more. */
function sampleRows(rows: Uint32Array, max: number, seed: number): Uint32Array {
  if (rows.length <= max) return rows;
  const stride = rows.length / max;
  const offset = (seed % 997) / 997;
  return Uint32Array.from({ length: max }, (_, i) => rows[Math.floor((i + offset) * stride)]);
}

async function upload(registry: RegistryClient, bytes: Buffer, format: 'onnx' | 'json' | 'tfjs') {
  try {
    return await registry.upload(bytes, format);
  } catch (err) {
    throw new TrainJobError('registry_unavailable', `upload failed: ${(err as Error).message}`);
  }
}
