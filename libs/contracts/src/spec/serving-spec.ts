import { z } from 'zod';
import type { DatasetSpec } from './dataset-spec';

/**
 * The `serving` section of a dataset spec: how the inference service serves the models trained
 * on the dataset. Every part has a default; a model registered without a dataset (uploaded
 * straight to the registry) is served with the defaults.
 */

export const ServingSection = z.strictObject({
  /**
   * The canary alias's share of traffic, by a deterministic hash of the entity id (else the
   * request id): one entity always meets the same version. Shadow: the canary scores its share
   * too, but production answers and the canary's outputs only reach predictions.v1.
   */
  canary: z
    .strictObject({
      share: z.number().min(0).max(1).default(0.1),
      shadow: z.boolean().default(false),
    })
    .prefault({}),
  /**
   * Dynamic batching (Triton's semantics): requests queued for one version are run together,
   * up to `maxBatchSize` rows, whenever a worker is free; a batch waits at most
   * `maxQueueDelayMs` for companions unless it has reached a preferred size. Off: every request
   * is its own batch.
   */
  batching: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxBatchSize: z.number().int().min(1).max(65_536).default(64),
      maxQueueDelayMs: z.number().min(0).max(10_000).default(0),
      preferredBatchSizes: z.array(z.number().int().min(1).max(65_536)).max(16).default([]),
      /** Requests waiting beyond this many → 429 with Retry-After. */
      maxQueueRequests: z.number().int().min(1).max(1_000_000).default(2048),
      /** A request not answered within this fails with 504 (or is dropped from the queue). */
      timeoutMs: z.number().int().min(1).max(600_000).default(5000),
    })
    .prefault({}),
  /** Responses cached by version and canonical input hash. */
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      ttlSeconds: z
        .number()
        .min(0.001)
        .max(30 * 24 * 3600)
        .default(300),
    })
    .prefault({}),
  /**
   * Kafka-in/Kafka-out: every features.v1 record of the dataset is scored by the production
   * (and canary) version and published to predictions.v1, exactly once.
   */
  streamScoring: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  /** predictions.v1: the share of online predictions logged, and how their inputs are kept. */
  predictionLog: z
    .strictObject({
      sampleRate: z.number().min(0).max(1).default(1),
      features: z.enum(['full', 'summary', 'none']).default('full'),
    })
    .prefault({}),
  /** Rows per request at most (`/v2/.../infer` batch dimension, `/v1/predict` records). */
  maxRowsPerRequest: z.number().int().min(1).max(1_000_000).default(1024),
});
export type ServingSection = z.output<typeof ServingSection>;

export class ServingSpecError extends Error {
  override readonly name = 'ServingSpecError';
}

/** The serving section with every default filled in; throws {@link ServingSpecError}. */
export function resolveServingSpec(spec: Pick<DatasetSpec, 'serving'> | undefined): ServingSection {
  const parsed = ServingSection.safeParse(spec?.serving ?? {});
  if (!parsed.success)
    throw new ServingSpecError(
      `invalid serving section: ${parsed.error.issues.map((i) => `serving.${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const s = parsed.data;
  const tooBig = s.batching.preferredBatchSizes.find((p) => p > s.batching.maxBatchSize);
  if (tooBig !== undefined)
    throw new ServingSpecError(
      `invalid serving section: serving.batching.preferredBatchSizes: ${tooBig} is above maxBatchSize ${s.batching.maxBatchSize}`,
    );
  return s;
}
