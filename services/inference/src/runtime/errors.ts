/**
 * Every failure the compute runtime reports, each with a stable `code`, so the HTTP and
 * stream layers can map them (status, retry or not) with `instanceof` or by code, without
 * parsing messages.
 */

/** The request's tensors do not fit the model's signature (a client error, never retried). */
export class InvalidInputError extends Error {
  readonly code = 'invalid_input';
  override readonly name = 'InvalidInputError';
}

/** No model of that key is loaded in the pool (never loaded, still loading, or unloaded). */
export class ModelNotLoadedError extends Error {
  readonly code = 'model_not_loaded';
  override readonly name = 'ModelNotLoadedError';
  constructor(readonly key: string) {
    super(`model ${key} is not loaded`);
  }
}

/** onnxruntime refused the model (bad bytes, an unsupported operator or datatype). */
export class ModelLoadError extends Error {
  readonly code = 'model_load_failed';
  override readonly name = 'ModelLoadError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`model ${key} could not be loaded: ${reason}`);
  }
}

/** onnxruntime failed while running a batch (the model and the worker are still usable). */
export class InferenceFailedError extends Error {
  readonly code = 'inference_failed';
  override readonly name = 'InferenceFailedError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`inference on model ${key} failed: ${reason}`);
  }
}

/**
 * The worker thread running the request died (a native crash, an uncaught error, or it was
 * terminated). Transient: the pool replaces the worker, so a retry normally succeeds.
 */
export class WorkerExitedError extends Error {
  readonly code = 'worker_exited';
  override readonly name = 'WorkerExitedError';
}

/** The pool is closed (or was never started). */
export class PoolClosedError extends Error {
  readonly code = 'pool_closed';
  override readonly name = 'PoolClosedError';
  constructor(message = 'the worker pool is closed') {
    super(message);
  }
}

/** The model's queue holds `maxQueueRequests` requests already: shed load, try again later. */
export class QueueFullError extends Error {
  readonly code = 'queue_full';
  override readonly name = 'QueueFullError';
  constructor(
    readonly key: string,
    /** A hint for `Retry-After`: about how long the queue takes to drain, at least 1 s. */
    readonly retryAfterSeconds: number,
  ) {
    super(`the queue of model ${key} is full; retry in ${retryAfterSeconds} s`);
  }
}

/** The request was not answered within its timeout (queued too long, or its batch ran late). */
export class RequestTimeoutError extends Error {
  readonly code = 'timeout';
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
    readonly stage: 'queued' | 'running',
  ) {
    super(`request to model ${key} timed out after ${timeoutMs} ms (${stage})`);
  }
}

/** The batcher is draining (its model is being unloaded or the server is stopping). */
export class BatcherClosedError extends Error {
  readonly code = 'closed';
  override readonly name = 'BatcherClosedError';
  constructor(readonly key: string) {
    super(`model ${key} is not accepting requests (it is being unloaded)`);
  }
}
