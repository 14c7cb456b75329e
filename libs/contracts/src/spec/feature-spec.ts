import { z } from 'zod';
import type { DatasetSpec, FieldSpec } from './dataset-spec';

/**
 * The `features` section of a dataset spec: which fields become which columns and how they are
 * fitted. It is a contract between the user, the feature service (which fits and applies it)
 * and inference (which applies the very same fitted featureset to raw records), so it lives
 * here. Every part has a default, so `features: {}` or no section at all gives: numeric fields
 * robust-scaled, categorical fields one-hot (top 20 + out-of-vocabulary), booleans as 0/1, text
 * fields TF-IDF (64 terms), no crosses, constant columns dropped.
 */

const fieldName = z.string().min(1).max(128);
const quantile = z.number().min(0).max(1);

export const NumericFeature = z.strictObject({
  scaler: z.enum(['standard', 'robust', 'minmax', 'none']).default('robust'),
  /** ln(1 + x) before scaling (for skewed positive values such as amounts). */
  log1p: z.boolean().default(false),
  /** Clip to the fitted quantiles before scaling. */
  clip: z.strictObject({ lower: quantile, upper: quantile }).optional(),
});

export const CategoricalFeature = z.discriminatedUnion('encoding', [
  z.strictObject({
    encoding: z.literal('onehot'),
    /** The K most frequent values get a column each; every other value the last column. */
    topK: z.number().int().min(1).max(10_000).default(20),
    minCount: z.number().int().min(1).default(1),
  }),
  z.strictObject({
    encoding: z.literal('hash'),
    buckets: z
      .number()
      .int()
      .min(2)
      .max(1 << 20)
      .default(32),
  }),
]);

export const TextEmbedding = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('hashed-ngrams'),
    dim: z.number().int().min(2).max(4096).default(32),
    minN: z.number().int().min(1).max(10).default(3),
    maxN: z.number().int().min(1).max(10).default(5),
    seed: z.number().int().default(0),
  }),
  /** An npm package exporting `createEmbedder(options)` (a pretrained model shipped in it). */
  z.strictObject({
    type: z.literal('module'),
    module: z.string().min(1),
    options: z.unknown().optional(),
  }),
]);

export const TextFeature = z.strictObject({
  tfidf: z
    .strictObject({
      maxFeatures: z.number().int().min(1).max(1_000_000).default(64),
      ngramRange: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([1, 1]),
      /** Documents a term must appear in at least: a count (≥ 1) or a share (< 1). */
      minDf: z.number().positive().default(2),
      /** Documents a term may appear in at most: a share (≤ 1; 1 = no limit) or a count (> 1). */
      maxDf: z.number().positive().default(1),
      sublinearTf: z.boolean().default(true),
    })
    .nullable()
    .prefault({}),
  embedding: TextEmbedding.nullable().default(null),
});

export const FeatureCross = z.union([
  z.strictObject({
    /** Hashed categorical × categorical. */
    categorical: z.tuple([fieldName, fieldName]),
    buckets: z
      .number()
      .int()
      .min(2)
      .max(1 << 20)
      .default(64),
  }),
  z.strictObject({ product: z.tuple([fieldName, fieldName]) }),
]);

export const FeatureSection = z.strictObject({
  /** Per field; fields left out get the defaults of their type unless excluded. */
  numeric: z.record(fieldName, NumericFeature).default({}),
  categorical: z.record(fieldName, CategoricalFeature).default({}),
  text: z.record(fieldName, TextFeature).default({}),
  /** Fields that become no column. */
  exclude: z.array(fieldName).default([]),
  crosses: z.array(FeatureCross).default([]),
  selection: z
    .strictObject({
      /**
       * Columns whose variance on the fitting data is not above this are dropped (0: constant
       * columns, such as the out-of-vocabulary column of a field with no rare value); null keeps
       * every column.
       */
      varianceThreshold: z.number().min(0).nullable().default(0),
      /** Keep the k best columns by a label-aware score (needs a label). */
      topK: z
        .strictObject({
          k: z.number().int().min(1),
          method: z.enum(['chi2', 'mutual_info']),
        })
        .optional(),
    })
    .prefault({}),
  /** The deterministic split of a training matrix, by a hash of the entity id. */
  split: z
    .strictObject({
      validation: z.number().min(0).max(0.5).default(0.1),
      test: z.number().min(0).max(0.5).default(0.1),
      seed: z.number().int().default(0),
    })
    .prefault({}),
});
export type FeatureSection = z.output<typeof FeatureSection>;
export type FeatureSectionInput = z.input<typeof FeatureSection>;
export type NumericFeature = z.output<typeof NumericFeature>;
export type CategoricalFeature = z.output<typeof CategoricalFeature>;
export type TextFeature = z.output<typeof TextFeature>;
export type TextEmbedding = z.output<typeof TextEmbedding>;
export type FeatureCross = z.output<typeof FeatureCross>;

/** One input field and what it becomes, settled against the spec's fields. */
export type ResolvedFeature =
  | { field: string; kind: 'numeric'; config: NumericFeature }
  | { field: string; kind: 'boolean' }
  | { field: string; kind: 'categorical'; config: CategoricalFeature }
  | { field: string; kind: 'text'; config: TextFeature };

export interface ResolvedFeatureSpec {
  features: ResolvedFeature[];
  crosses: FeatureCross[];
  selection: FeatureSection['selection'];
  split: FeatureSection['split'];
  entityField: string;
  labelField: string | null;
  labelTask: 'binary' | 'multiclass' | 'regression' | null;
}

export class FeatureSpecError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid features section: ${issues.join('; ')}`);
    this.name = 'FeatureSpecError';
  }
}

type AnyField = FieldSpec;

/**
 * Parses the spec's `features` section and settles it against the fields: every feature field
 * (numeric, categorical, boolean, text) in spec order, with its configuration or its type's
 * default; the label, entity id and timestamp are never features. Throws
 * {@link FeatureSpecError} listing every problem (unknown keys, a field the spec lacks, a
 * configuration for a field of another type, a cross over non-categorical fields, a top-K
 * selection without a label).
 */
export function resolveFeatureSpec(
  spec: Pick<DatasetSpec, 'fields' | 'features'>,
): ResolvedFeatureSpec {
  const parsed = FeatureSection.safeParse(spec.features ?? {});
  if (!parsed.success) {
    throw new FeatureSpecError(
      parsed.error.issues.map(
        (i) => `${['features', ...i.path.map(String)].join('.')}: ${i.message}`,
      ),
    );
  }
  const s = parsed.data;
  const issues: string[] = [];
  const byName = new Map<string, AnyField>(spec.fields.map((f) => [f.name, f]));
  const check = (section: string, name: string, type: AnyField['type'][]) => {
    const f = byName.get(name);
    if (!f) issues.push(`features.${section}: "${name}" is not a field of the spec`);
    else if (!type.includes(f.type))
      issues.push(`features.${section}: "${name}" is a ${f.type} field, not ${type.join(' or ')}`);
  };
  for (const n of Object.keys(s.numeric)) check('numeric', n, ['numeric']);
  for (const n of Object.keys(s.categorical)) check('categorical', n, ['categorical']);
  for (const n of Object.keys(s.text)) check('text', n, ['text']);
  for (const n of s.exclude) if (!byName.has(n)) issues.push(`features.exclude: no field "${n}"`);
  for (const c of s.crosses) {
    if ('categorical' in c) for (const n of c.categorical) check('crosses', n, ['categorical']);
    else for (const n of c.product) check('crosses', n, ['numeric', 'boolean']);
  }
  const label = spec.fields.find((f) => f.type === 'label');
  if (s.selection.topK && !label) issues.push('features.selection.topK: the spec has no label');
  const entity = spec.fields.find((f) => f.type === 'entity_id');
  if (!entity) issues.push('the spec has no entity_id field');
  if (issues.length > 0) throw new FeatureSpecError(issues);

  const excluded = new Set(s.exclude);
  const features: ResolvedFeature[] = [];
  for (const f of spec.fields) {
    if (excluded.has(f.name)) continue;
    if (f.type === 'numeric')
      features.push({
        field: f.name,
        kind: 'numeric',
        config: s.numeric[f.name] ?? NumericFeature.parse({}),
      });
    else if (f.type === 'boolean') features.push({ field: f.name, kind: 'boolean' });
    else if (f.type === 'categorical')
      features.push({
        field: f.name,
        kind: 'categorical',
        config: s.categorical[f.name] ?? CategoricalFeature.parse({ encoding: 'onehot' }),
      });
    else if (f.type === 'text')
      features.push({
        field: f.name,
        kind: 'text',
        config: s.text[f.name] ?? TextFeature.parse({}),
      });
  }
  return {
    features,
    crosses: s.crosses,
    selection: s.selection,
    split: s.split,
    entityField: entity!.name,
    labelField: label?.name ?? null,
    labelTask: label?.type === 'label' ? label.task : null,
  };
}
