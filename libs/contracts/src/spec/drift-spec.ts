import { z } from 'zod';
import type { DatasetSpec } from './dataset-spec';

/**
 * The `drift` section of a dataset spec: how the drift monitor watches the models trained on
 * the dataset, and what it does about what it finds. Every part has a default.
 */

export const DriftSection = z.strictObject({
  enabled: z.boolean().default(true),
  /**
   * The window the current traffic is judged on: `count` events or `seconds` of event time;
   * tumbling when `slide` is absent, else sliding by `slide` (same unit).
   */
  window: z
    .strictObject({
      kind: z.enum(['count', 'time']).default('count'),
      size: z.number().int().min(10).max(10_000_000).default(1000),
      slide: z.number().int().min(1).max(10_000_000).optional(),
    })
    .prefault({}),
  /** Feature drift: the tests, their correction, and when the whole dataset drifts. */
  features: z
    .strictObject({
      alpha: z.number().gt(0).lt(1).default(0.05),
      correction: z.enum(['bh', 'bonferroni', 'none']).default('bh'),
      /** Above this many rows a distance replaces the test (Evidently's default). */
      sizeThreshold: z.number().int().min(10).default(1000),
      wassersteinThreshold: z.number().gt(0).default(0.1),
      jensenShannonThreshold: z.number().gt(0).lt(1).default(0.1),
      /**
       * Dataset drift when at least this share of the tested source fields drifts (a field's
       * one-hot, hash and text columns count once).
       */
      datasetShare: z.number().gt(0).max(1).default(0.5),
    })
    .prefault({}),
  /** Prediction drift: the output distribution and the confidence's spread. */
  predictions: z
    .strictObject({
      maxStdShift: z.number().gt(0).default(0.15),
      maxShareShift: z.number().gt(0).max(1).default(0.05),
    })
    .prefault({}),
  /** Performance from feedback.v1 labels, joined by request id or entity id. */
  performance: z
    .strictObject({
      /** auto: PR-AUC (binary), accuracy (multiclass), R² (regression), as training. */
      metric: z.enum(['auto', 'accuracy', 'f1', 'roc_auc', 'pr_auc', 'rmse', 'r2']).default('auto'),
      /** A relative drop of at least this (percent) against the training metric alerts. */
      maxDropPct: z.number().gt(0).max(100).default(3),
      /** How long a prediction waits for its label. */
      joinWindowSeconds: z
        .number()
        .int()
        .min(1)
        .max(30 * 24 * 3600)
        .default(3600),
      /** Labelled predictions needed before performance is judged. */
      minLabelled: z.number().int().min(10).default(200),
    })
    .prefault({}),
  /** Retraining on drift: one request per drift, then quiet for the cooldown. */
  retrain: z
    .strictObject({
      enabled: z.boolean().default(true),
      cooldownSeconds: z.number().int().min(0).default(3600),
      /** Learn from the clean stream's last this-many seconds. */
      lookbackSeconds: z
        .number()
        .int()
        .min(60)
        .default(7 * 24 * 3600),
    })
    .prefault({}),
  /** The canary judge: canary against production on the same window. */
  canary: z
    .strictObject({
      enabled: z.boolean().default(true),
      /**
       * Which new versions become the canary when registered (while production serves and no
       * canary is being judged): `retrained` — those trained on the monitor's own training
       * requests (the loop closes by itself); `all` — every new trained version (a manual
       * `mlops train` too); `off` — only what someone sets. Compressed variants never.
       */
      auto: z.enum(['retrained', 'all', 'off']).default('retrained'),
      /** Labelled canary predictions before a decision. */
      minSamples: z.number().int().min(10).default(500),
      /** Promote when the canary's metric is not worse than production's by more than this (percent). */
      promoteMarginPct: z.number().min(0).max(100).default(1),
      /** Roll back when worse by at least this (percent). */
      rollbackDropPct: z.number().gt(0).max(100).default(3),
      /** Roll back when its error rate exceeds production's by more than this. */
      maxErrorRateIncrease: z.number().min(0).max(1).default(0.01),
      /** Roll back when its p95 latency exceeds production's by this factor… */
      maxLatencyRatio: z.number().gt(1).default(1.5),
      /**
       * …and by at least this many milliseconds: on millisecond latencies a ratio alone is
       * noise (a shadow is timed from its own submission, beside production's batch).
       */
      minLatencyDeltaMs: z.number().min(0).default(5),
    })
    .prefault({}),
  /** Production rollback to the previous version when production degrades and it was better. */
  rollback: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
});
export type DriftSection = z.output<typeof DriftSection>;

export class DriftSpecError extends Error {
  override readonly name = 'DriftSpecError';
}

/** The drift section with every default filled in; throws {@link DriftSpecError}. */
export function resolveDriftSpec(spec: Pick<DatasetSpec, 'drift'> | undefined): DriftSection {
  const parsed = DriftSection.safeParse(spec?.drift ?? {});
  if (!parsed.success)
    throw new DriftSpecError(
      `invalid drift section: ${parsed.error.issues.map((i) => `drift.${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const d = parsed.data;
  if (d.window.slide !== undefined && d.window.slide > d.window.size)
    throw new DriftSpecError(
      `invalid drift section: drift.window.slide: ${d.window.slide} is larger than the window (${d.window.size})`,
    );
  if (d.canary.promoteMarginPct >= d.canary.rollbackDropPct)
    throw new DriftSpecError(
      `invalid drift section: drift.canary.promoteMarginPct (${d.canary.promoteMarginPct}) must be below rollbackDropPct (${d.canary.rollbackDropPct})`,
    );
  return d;
}
