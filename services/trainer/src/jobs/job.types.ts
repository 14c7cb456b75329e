import type { DatasetSpec, ModelTrainedEvent, TrainingDatasetEvent } from '@mlops/contracts';

/**
 * What one training job needs and gives back. The job runs in a worker thread (tfjs and
 * onnxruntime-node block their thread for whole batches); these cross the thread boundary, so
 * they are structured-clone-able plain data.
 */
export interface TrainJobInput {
  jobId: string;
  /** The training.datasets.v1 event the job trains on. */
  dataset: TrainingDatasetEvent;
  /** The dataset spec whose `model` and `training` sections say what to train. */
  spec: DatasetSpec;
  registry: { url: string; apiKey?: string };
  /** Overrides the spec's `training.backend` (the service's TRAINER_BACKEND). */
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
}

export interface TrainJobProgress {
  epoch: number;
  epochs: number;
  step: number;
  trainLoss: number;
  /** The early-stopping metric on validation (NaN before the first epoch ends). */
  validationMetric: number;
  learningRate: number;
}

export interface TrainJobResult {
  /** models.trained.v1, ready to publish (artifact and report already uploaded). */
  trained: ModelTrainedEvent;
  backend: string;
  durationMs: number;
}

/** A failure with a stable code (`artifact_mismatch`, `spec_invalid`, `parity_failed`, …). */
export class TrainJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TrainJobError';
  }
}

/** Messages from the job's worker thread to the service. */
export type WorkerMessage =
  | { type: 'progress'; progress: TrainJobProgress }
  | { type: 'log'; level: 'info' | 'warn'; msg: string; fields?: Record<string, unknown> }
  | { type: 'done'; result: TrainJobResult }
  | { type: 'failed'; code: string; message: string };
