/**
 * The messages between the {@link WorkerPool} and its onnxruntime worker threads. Every
 * request carries an id that its reply repeats, so replies can be matched to callers and an
 * error answers one message instead of killing the thread.
 */
import type { ModelSignature, TensorData } from './tensor';

/** What the worker thread is started with (`workerData`). */
export interface OrtWorkerData {
  /** onnxruntime's intra-op threads per session. */
  intraOpThreads: number;
}

export type WorkerRequest =
  | { type: 'load'; id: number; key: string; model: Uint8Array }
  | {
      type: 'run';
      id: number;
      key: string;
      feeds: Record<string, TensorData>;
      /** Omitted: every output of the model. */
      outputs?: string[];
    }
  | { type: 'unload'; id: number; key: string };

export type WorkerReply =
  /** Sent once, when onnxruntime has been loaded in the thread. */
  | { type: 'ready' }
  | { type: 'loaded'; id: number; signature: ModelSignature }
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; computeMs: number }
  | { type: 'unloaded'; id: number }
  | {
      type: 'error';
      id: number;
      /** `not_loaded`: the run named a key that the thread does not hold. */
      code: 'not_loaded' | 'failed';
      message: string;
    };
