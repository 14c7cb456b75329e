import { z } from 'zod';
import type { DatasetSpec } from './dataset-spec';

/**
 * The `compression` section of a dataset spec: which compressed variants the compressor makes
 * of every trained version, and the accuracy budget that gates them. Every part has a default,
 * so no section at all tries INT8 dynamic, INT4, 50 % structured pruning, a distilled student
 * and structured pruning followed by INT8, and accepts what loses at most one point of the
 * primary metric.
 */

export const COMPRESSION_METHODS = [
  'int8_dynamic',
  'int8_static',
  'int4',
  'prune_unstructured',
  'prune_structured',
  'distill',
  'prune_structured+int8_dynamic',
] as const;
export type CompressionMethod = (typeof COMPRESSION_METHODS)[number];

export const PRIMARY_METRICS = [
  'auto',
  'pr_auc',
  'roc_auc',
  'accuracy',
  'f1',
  'rmse',
  'r2',
] as const;

export const CompressionSection = z.strictObject({
  enabled: z.boolean().default(true),
  methods: z
    .array(z.enum(COMPRESSION_METHODS))
    .min(1)
    .default([
      'int8_dynamic',
      'int4',
      'prune_structured',
      'distill',
      'prune_structured+int8_dynamic',
    ]),
  /**
   * The gate: a variant whose primary metric on the test split is more than `maxDropPoints`
   * points (×100) below its parent's is rejected. `auto`: PR-AUC (binary), accuracy
   * (multiclass), R² (regression). For RMSE a rise counts as the drop.
   */
  budget: z
    .strictObject({
      metric: z.enum(PRIMARY_METRICS).default('auto'),
      maxDropPoints: z.number().min(0).max(100).default(1),
    })
    .prefault({}),
  int8: z
    .strictObject({
      /** Per output channel weight scales (else one per tensor). */
      perChannel: z.boolean().default(false),
      /** Training rows the static variant calibrates activation ranges on. */
      calibrationRows: z.number().int().min(16).max(100_000).default(1_000),
    })
    .prefault({}),
  int4: z
    .strictObject({
      blockSize: z.number().int().min(16).max(256).default(32),
      /**
       * MatMulNBits' accuracy_level: 4 computes in int8 (measured 1.5× faster than level 0 at
       * batch 32, where level 0 is slower than FP32); 0 dequantises to float.
       */
      accuracyLevel: z
        .union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)])
        .default(4),
    })
    .prefault({}),
  pruning: z
    .strictObject({
      /** Unstructured: the share of hidden kernel weights zeroed (smallest magnitude first). */
      sparsity: z.number().gt(0).lt(1).default(0.5),
      /** Structured: the share of every hidden layer's units removed (smallest L1 norm first). */
      fraction: z.number().gt(0).lt(1).default(0.5),
      /** Epochs of fine-tuning after pruning (0: none), through the trainer's loop. */
      fineTuneEpochs: z.number().int().min(0).max(100).default(2),
      fineTuneLearningRate: z.number().positive().max(1).default(3e-4),
    })
    .prefault({}),
  distillation: z
    .strictObject({
      /** τ: soft targets are softmax(logits / τ). */
      temperature: z.number().positive().max(100).default(2),
      /** α: loss = α·KL·τ² + (1 − α)·CE. */
      alpha: z.number().min(0).max(1).default(0.7),
      /** The student's hidden layers; default: the teacher's widths divided by `shrink`. */
      hidden: z.array(z.number().int().min(1).max(16_384)).max(16).optional(),
      shrink: z.number().int().min(2).max(64).default(4),
      epochs: z.number().int().min(1).max(1000).default(10),
    })
    .prefault({}),
  /** Latency is the median of this many timed runs per batch size. */
  latencyRuns: z.number().int().min(5).max(10_000).default(50),
});
export type CompressionSection = z.output<typeof CompressionSection>;

export class CompressionSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressionSpecError';
  }
}

/** The spec's `compression` section with every default filled in. Throws CompressionSpecError. */
export function resolveCompressionSpec(spec: Pick<DatasetSpec, 'compression'>): CompressionSection {
  const parsed = CompressionSection.safeParse(spec.compression ?? {});
  if (!parsed.success)
    throw new CompressionSpecError(
      `invalid compression section: ${parsed.error.issues.map((i) => `compression.${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
