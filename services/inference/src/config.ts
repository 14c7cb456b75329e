import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { bool, bytes, logLevel, port } from '@mlops/config';

export const InferenceEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3007),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** Where model versions, reports and featuresets are downloaded from. */
    REGISTRY_URL: z.string().url().default('http://127.0.0.1:3006'),
    REGISTRY_API_KEY: z.string().min(1).optional(),
    /** The response cache: Redis when set (shared by every replica), else in-process LRU. */
    REDIS_URL: z.string().url().optional(),
    /** Served models (comma-separated names); empty: every model that has an alias. */
    INFERENCE_MODELS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((m) => m.trim())
          .filter((m) => m !== ''),
      ),
    /** onnxruntime worker threads; each runs one batch at a time. */
    INFERENCE_WORKERS: z.coerce
      .number()
      .int()
      .min(1)
      .max(256)
      .default(Math.max(1, availableParallelism())),
    /** onnxruntime intra-op threads per worker. */
    INFERENCE_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(1),
    /** Overrides every model's `serving.batching.enabled` (operators, benchmarks). */
    INFERENCE_BATCHING: z.enum(['spec', 'on', 'off']).default('spec'),
    INFERENCE_MAX_BODY_BYTES: bytes(16 * 1024 * 1024),
    /** Infer bodies at least this large are decoded in a thread of their own (0: never). */
    INFERENCE_DECODE_THREAD_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(128 * 1024),
    /**
     * Nice value (0–19) of the request decoder's and the prediction log's threads on Linux: on
     * a busy node they yield to the event loop. 0 leaves them at the process's priority.
     */
    INFERENCE_HELPER_THREAD_NICE: z.coerce.number().int().min(0).max(19).default(10),
    /** Tensor elements per request at most (all inputs together). */
    INFERENCE_MAX_ELEMENTS: z.coerce.number().int().positive().default(4_000_000),
    INFERENCE_CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(100_000),
    INFERENCE_CACHE_MAX_BYTES: bytes(256 * 1024 * 1024),
    /** Kill switch for the cache, whatever the specs say. */
    INFERENCE_CACHE: bool(true),
    /** How long a replaced version may take to finish its in-flight requests. */
    INFERENCE_DRAIN_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(30),
    /** Overrides every spec's `serving.predictionLog.sampleRate` (0 turns the log off). */
    INFERENCE_PREDICTION_LOG_SAMPLE_RATE: z.coerce.number().min(0).max(1).optional(),
    /** Stream scoring (features.v1 → predictions.v1) for datasets whose spec enables it. */
    INFERENCE_STREAM_SCORING: bool(true),
  }),
);
export type InferenceConfig = z.output<typeof InferenceEnv>;
export const INFERENCE_CONFIG = Symbol('INFERENCE_CONFIG');
