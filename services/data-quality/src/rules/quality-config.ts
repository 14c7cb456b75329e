import { z } from 'zod';
import type { DatasetSpec, FieldSpec } from '@mlops/contracts';

/**
 * The `quality` section of a dataset spec, owned by the data-quality service (the contracts
 * carry it as an untyped record). Every rule has defaults, so `quality: {}` (or no section)
 * switches every rule on with the values below; {@link parseQualityConfig} resolves the
 * per-field parts (which text fields to fingerprint, how to impute each field) against the
 * spec's fields.
 */

const windowCount = z.number().int().positive().max(10_000_000);

export const IMPUTE_STRATEGIES = ['mean', 'median', 'mode', 'constant', 'none'] as const;
export type ImputeStrategy = (typeof IMPUTE_STRATEGIES)[number];

export const QualitySection = z.strictObject({
  /** Exact duplicates: by event id and by a hash of the record's content, over a count window. */
  duplicates: z
    .strictObject({
      byId: z.boolean().default(true),
      byContent: z.boolean().default(true),
      window: z.strictObject({ count: windowCount.default(100_000) }).prefault({}),
    })
    .prefault({}),
  /**
   * Near duplicates: 64-bit SimHash of the text fields, LSH lookup within `maxHamming`, then
   * (optionally) the same entity and a normalised edit distance of at most `verifyEditDistance`.
   * SimHash at k = 3 misses most one-typo edits of ~50-character texts (libs/ml README), so a
   * spec with short, typo-prone text should raise `maxHamming` to 6–10 and rely on the
   * verification for precision.
   */
  nearDuplicates: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Text fields fingerprinted together; every text field of the spec by default. */
      fields: z.array(z.string().min(1)).min(1).optional(),
      maxHamming: z.number().int().min(0).max(63).default(3),
      sameEntity: z.boolean().default(true),
      /** Largest Levenshtein distance / longer text length; null: trust SimHash alone. */
      verifyEditDistance: z.number().min(0).max(1).nullable().default(0.2),
      action: z.enum(['drop', 'flag']).default('drop'),
      window: z.strictObject({ count: windowCount.default(10_000) }).prefault({}),
    })
    .prefault({}),
  /** Imputation per field; unlisted fields: numeric → median, categorical → mode, others none. */
  missing: z
    .strictObject({
      strategy: z.record(z.string(), z.enum(IMPUTE_STRATEGIES)).default({}),
      constant: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    })
    .prefault({}),
  /** Welford z-score per numeric field after `warmup` values. */
  outliers: z
    .strictObject({
      enabled: z.boolean().default(true),
      zThreshold: z.number().positive().default(3),
      warmup: z.number().int().min(2).default(500),
      action: z.enum(['flag', 'clip', 'reject']).default('flag'),
      /**
       * Per field, the scale the z-score is taken on: 'log' (ln(1 + x)) for a skewed positive
       * field such as an amount, where a raw 3σ rule flags the clean right tail; values ≤ −1
       * cannot be transformed and are not checked. 'none' by default.
       */
      transform: z.record(z.string(), z.enum(['none', 'log'])).default({}),
      /** Numeric fields checked; every numeric field by default. */
      fields: z.array(z.string().min(1)).optional(),
    })
    .prefault({}),
  /**
   * Reports on quality.reports.v1, per input partition: a window closes after `everyRecords`
   * records, or at the first record ingested `intervalSeconds` or more after the window's first.
   */
  report: z
    .strictObject({
      everyRecords: z.number().int().min(1).max(10_000_000).default(10_000),
      intervalSeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
  /** Same features (every field but label, timestamp and entity id), another label. */
  labels: z
    .strictObject({
      conflicts: z.enum(['flag', 'reject', 'off']).default('flag'),
      window: z.strictObject({ count: windowCount.default(100_000) }).prefault({}),
    })
    .prefault({}),
});
export type QualitySection = z.infer<typeof QualitySection>;
export type QualitySectionInput = z.input<typeof QualitySection>;

/** One field as the engine sees it. */
export interface QualityField {
  name: string;
  type: FieldSpec['type'];
  impute: ImputeStrategy;
  /** Set when `impute` is 'constant'. */
  constant?: string | number | boolean;
}

/** The resolved configuration: the section with its per-field parts settled against the spec. */
export interface QualityConfig {
  duplicates: QualitySection['duplicates'];
  nearDuplicates: Omit<QualitySection['nearDuplicates'], 'fields'> & { fields: string[] };
  outliers: Omit<QualitySection['outliers'], 'fields'> & { fields: string[] };
  labels: QualitySection['labels'];
  report: QualitySection['report'];
  fields: QualityField[];
  entityField: string;
  labelField: string | null;
  timestampField: string | null;
}

/** Thrown for a quality section that does not fit its spec; `issues` lists every problem. */
export class QualityConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid quality config: ${issues.join('; ')}`);
    this.name = 'QualityConfigError';
  }
}

function defaultImpute(type: FieldSpec['type']): ImputeStrategy {
  if (type === 'numeric') return 'median';
  if (type === 'categorical' || type === 'boolean') return 'mode';
  return 'none';
}

/**
 * Parses and resolves the spec's `quality` section. Throws {@link QualityConfigError} for an
 * unknown key, a bad value, a field the spec does not have, a strategy the field's type cannot
 * take (mean / median on a non-numeric field; imputing the label, entity id or timestamp) or a
 * 'constant' strategy without its constant.
 */
export function parseQualityConfig(spec: Pick<DatasetSpec, 'fields' | 'quality'>): QualityConfig {
  const parsed = QualitySection.safeParse(spec.quality ?? {});
  if (!parsed.success) {
    throw new QualityConfigError(
      parsed.error.issues.map(
        (i) => `${['quality', ...i.path.map(String)].join('.')}: ${i.message}`,
      ),
    );
  }
  const q = parsed.data;
  const issues: string[] = [];
  const byName = new Map(spec.fields.map((f) => [f.name, f]));
  const entity = spec.fields.find((f) => f.type === 'entity_id');
  if (!entity) issues.push('the spec has no entity_id field');

  const textFields = spec.fields.filter((f) => f.type === 'text').map((f) => f.name);
  const nearFields = q.nearDuplicates.fields ?? textFields;
  for (const name of nearFields) {
    if (byName.get(name)?.type !== 'text') {
      issues.push(`quality.nearDuplicates.fields: "${name}" is not a text field of the spec`);
    }
  }
  if (q.nearDuplicates.enabled && nearFields.length === 0) {
    issues.push('quality.nearDuplicates: enabled but the spec has no text field');
  }

  const numericFields = spec.fields.filter((f) => f.type === 'numeric').map((f) => f.name);
  const outlierFields = q.outliers.fields ?? numericFields;
  for (const name of outlierFields) {
    if (byName.get(name)?.type !== 'numeric') {
      issues.push(`quality.outliers.fields: "${name}" is not a numeric field of the spec`);
    }
  }

  for (const name of Object.keys(q.outliers.transform)) {
    if (byName.get(name)?.type !== 'numeric') {
      issues.push(`quality.outliers.transform: "${name}" is not a numeric field of the spec`);
    }
  }
  for (const name of [...Object.keys(q.missing.strategy), ...Object.keys(q.missing.constant)]) {
    if (!byName.has(name)) issues.push(`quality.missing: "${name}" is not a field of the spec`);
  }
  const fields: QualityField[] = spec.fields.map((f) => {
    const impute = q.missing.strategy[f.name] ?? defaultImpute(f.type);
    const out: QualityField = { name: f.name, type: f.type, impute };
    if (impute === 'none') return out;
    if (f.type === 'label' || f.type === 'entity_id' || f.type === 'timestamp') {
      issues.push(`quality.missing.strategy.${f.name}: a ${f.type} field is never imputed`);
    } else if ((impute === 'mean' || impute === 'median') && f.type !== 'numeric') {
      issues.push(`quality.missing.strategy.${f.name}: ${impute} needs a numeric field`);
    } else if (impute === 'constant') {
      const c = q.missing.constant[f.name];
      if (c === undefined) issues.push(`quality.missing.constant.${f.name}: missing`);
      else out.constant = c;
    }
    return out;
  });
  if (issues.length > 0) throw new QualityConfigError(issues);

  return {
    duplicates: q.duplicates,
    nearDuplicates: { ...q.nearDuplicates, fields: nearFields },
    outliers: { ...q.outliers, fields: outlierFields },
    labels: q.labels,
    report: q.report,
    fields,
    entityField: entity!.name,
    labelField: spec.fields.find((f) => f.type === 'label')?.name ?? null,
    timestampField: spec.fields.find((f) => f.type === 'timestamp')?.name ?? null,
  };
}
