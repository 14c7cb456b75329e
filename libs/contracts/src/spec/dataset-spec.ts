import { z } from 'zod';

/**
 * The dataset spec: what a dataset's records look like and how the platform treats them. It is
 * registered through the registry (or the CLI) and published on the compacted
 * `pipeline.specs.v1`, keyed by dataset name; every service reads it from there.
 *
 * Sections owned by later stages (quality rules, features, model, training, compression,
 * serving, drift) are carried as objects here and validated by the stage that owns them.
 */

export const DATASET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const FIELD_TYPES = [
  'numeric',
  'categorical',
  'text',
  'label',
  'entity_id',
  'timestamp',
  'boolean',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const base = {
  name: z.string().regex(FIELD_NAME, 'a field name is a letter or _ then letters, digits or _'),
  description: z.string().max(1000).optional(),
  /** A required field must be present and not null. */
  required: z.boolean().default(false),
};

export const NumericField = z
  .object({
    ...base,
    type: z.literal('numeric'),
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().default(false),
  })
  .refine((f) => f.min === undefined || f.max === undefined || f.min <= f.max, {
    message: 'min must not exceed max',
  });

export const CategoricalField = z.object({
  ...base,
  type: z.literal('categorical'),
  /** When given, any other value is rejected. */
  enum: z.array(z.string().min(1)).min(1).optional(),
  maxLength: z.number().int().positive().max(10_000).default(256),
});

export const TextField = z
  .object({
    ...base,
    type: z.literal('text'),
    minLength: z.number().int().nonnegative().default(0),
    maxLength: z.number().int().positive().max(1_000_000).default(10_000),
  })
  .refine((f) => f.minLength <= f.maxLength, { message: 'minLength must not exceed maxLength' });

export const LabelField = z.object({
  ...base,
  type: z.literal('label'),
  /** binary: 0/1 (true/false accepted); multiclass: one of `classes`; regression: a number. */
  task: z.enum(['binary', 'multiclass', 'regression']).default('binary'),
  classes: z.array(z.string().min(1)).min(2).optional(),
});

export const EntityIdField = z.object({
  ...base,
  type: z.literal('entity_id'),
  maxLength: z.number().int().positive().max(1024).default(256),
});

export const TimestampField = z.object({
  ...base,
  type: z.literal('timestamp'),
  /** iso8601 strings, or epoch numbers in milliseconds or seconds. */
  format: z.enum(['iso8601', 'epoch_ms', 'epoch_s']).default('iso8601'),
});

export const BooleanField = z.object({ ...base, type: z.literal('boolean') });

export const FieldSpec = z.discriminatedUnion('type', [
  NumericField,
  CategoricalField,
  TextField,
  LabelField,
  EntityIdField,
  TimestampField,
  BooleanField,
]);
export type FieldSpec = z.infer<typeof FieldSpec>;

const section = z.record(z.string(), z.unknown());

export const DatasetSpec = z
  .object({
    /** The dataset's name: lower case, digits, `_` or `-`. */
    name: z.string().regex(DATASET_NAME, 'a dataset name is lower case letters, digits, _ or -'),
    /** Assigned by the registry, increasing per dataset. */
    version: z.number().int().positive(),
    description: z.string().max(2000).optional(),
    fields: z.array(FieldSpec).min(1).max(10_000),
    /** What to do with a field the spec does not name. */
    unknownFields: z.enum(['reject', 'drop', 'keep']).default('drop'),
    /**
     * Numeric strings ("12.5") are accepted for numeric fields and converted; "true"/"false"
     * for booleans and binary labels. Off: only JSON numbers and booleans pass.
     */
    coerce: z.boolean().default(true),
    quality: section.optional(),
    features: section.optional(),
    model: section.optional(),
    training: section.optional(),
    compression: section.optional(),
    serving: section.optional(),
    drift: section.optional(),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    for (const [i, field] of spec.fields.entries()) {
      if (seen.has(field.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'name'],
          message: `duplicate field "${field.name}"`,
        });
      }
      seen.add(field.name);
    }
    const count = (t: FieldType) => spec.fields.filter((f) => f.type === t).length;
    if (count('entity_id') !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: 'exactly one field must be of type entity_id',
      });
    }
    if (count('label') > 1)
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'at most one label field' });
    if (count('timestamp') > 1) {
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'at most one timestamp field' });
    }
    for (const [i, field] of spec.fields.entries()) {
      if (field.type === 'label' && field.task === 'multiclass' && !field.classes) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'classes'],
          message: 'a multiclass label needs classes',
        });
      }
    }
  });
export type DatasetSpec = z.infer<typeof DatasetSpec>;
/** A spec as a user writes it: defaults may be left out. */
export type DatasetSpecInput = z.input<typeof DatasetSpec>;

export function entityIdField(spec: DatasetSpec): string {
  return spec.fields.find((f) => f.type === 'entity_id')!.name;
}

/** The numeric fields in spec order: the order of the skeleton feature vector. */
export function numericFieldNames(spec: DatasetSpec): string[] {
  return spec.fields.filter((f) => f.type === 'numeric').map((f) => f.name);
}
