import { describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  entityIdField,
  numericFieldNames,
  type DatasetSpecInput,
} from './dataset-spec';

function input(overrides: Partial<DatasetSpecInput> = {}): DatasetSpecInput {
  return {
    name: 'cards',
    version: 1,
    fields: [
      { name: 'card_id', type: 'entity_id' },
      { name: 'amount', type: 'numeric', required: true, min: 0 },
      { name: 'country', type: 'categorical' },
      { name: 'ts', type: 'timestamp' },
      { name: 'is_fraud', type: 'label' },
    ],
    ...overrides,
  };
}

/** The messages (and paths) zod reports for a spec. */
function issues(spec: unknown): { path: string; message: string }[] {
  const result = DatasetSpec.safeParse(spec);
  if (result.success) return [];
  return result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('DatasetSpec', () => {
  it('accepts a valid spec and applies every default', () => {
    expect(DatasetSpec.parse(input())).toEqual({
      name: 'cards',
      version: 1,
      fields: [
        { name: 'card_id', type: 'entity_id', required: false, maxLength: 256 },
        { name: 'amount', type: 'numeric', required: true, min: 0, integer: false },
        { name: 'country', type: 'categorical', required: false, maxLength: 256 },
        { name: 'ts', type: 'timestamp', required: false, format: 'iso8601' },
        { name: 'is_fraud', type: 'label', required: false, task: 'binary' },
      ],
      unknownFields: 'drop',
      coerce: true,
    });
  });

  it('applies text and boolean defaults and keeps stage sections as given', () => {
    const spec = DatasetSpec.parse(
      input({
        fields: [
          { name: 'id', type: 'entity_id' },
          { name: 'memo', type: 'text' },
          { name: 'flag', type: 'boolean' },
        ],
        quality: { nullRate: 0.1 },
        model: { kind: 'mlp', layers: [8, 4] },
      }),
    );
    expect(spec.fields).toEqual([
      { name: 'id', type: 'entity_id', required: false, maxLength: 256 },
      { name: 'memo', type: 'text', required: false, minLength: 0, maxLength: 10_000 },
      { name: 'flag', type: 'boolean', required: false },
    ]);
    expect(spec.quality).toEqual({ nullRate: 0.1 });
    expect(spec.model).toEqual({ kind: 'mlp', layers: [8, 4] });
  });

  it('rejects a duplicate field name at the second occurrence', () => {
    const fields = [...input().fields, { name: 'amount', type: 'numeric' as const }];
    expect(issues(input({ fields }))).toEqual([
      { path: 'fields.5.name', message: 'duplicate field "amount"' },
    ]);
  });

  it('requires exactly one entity_id field', () => {
    const none = input().fields.filter((f) => f.type !== 'entity_id');
    expect(issues(input({ fields: none }))).toEqual([
      { path: 'fields', message: 'exactly one field must be of type entity_id' },
    ]);
    const two = [...input().fields, { name: 'other_id', type: 'entity_id' as const }];
    expect(issues(input({ fields: two }))).toEqual([
      { path: 'fields', message: 'exactly one field must be of type entity_id' },
    ]);
  });

  it('allows at most one label and one timestamp field', () => {
    const labels = [...input().fields, { name: 'is_chargeback', type: 'label' as const }];
    expect(issues(input({ fields: labels }))).toEqual([
      { path: 'fields', message: 'at most one label field' },
    ]);
    const times = [...input().fields, { name: 'ts2', type: 'timestamp' as const }];
    expect(issues(input({ fields: times }))).toEqual([
      { path: 'fields', message: 'at most one timestamp field' },
    ]);
  });

  it('needs classes for a multiclass label, at least two of them', () => {
    const fields = (label: object) => [
      { name: 'id', type: 'entity_id' as const },
      { name: 'y', type: 'label' as const, ...label },
    ];
    expect(issues(input({ fields: fields({ task: 'multiclass' }) }))).toEqual([
      { path: 'fields.1.classes', message: 'a multiclass label needs classes' },
    ]);
    expect(
      issues(input({ fields: fields({ task: 'multiclass', classes: ['a'] }) })).map((i) => i.path),
    ).toEqual(['fields.1.classes']);
    expect(
      DatasetSpec.parse(input({ fields: fields({ task: 'multiclass', classes: ['a', 'b'] }) }))
        .fields[1],
    ).toEqual({
      name: 'y',
      type: 'label',
      required: false,
      task: 'multiclass',
      classes: ['a', 'b'],
    });
  });

  it('rejects numeric min > max and text minLength > maxLength, accepts min == max', () => {
    const withField = (f: object) =>
      input({ fields: [{ name: 'id', type: 'entity_id' }, f as never] });
    expect(issues(withField({ name: 'x', type: 'numeric', min: 5, max: 1 }))).toEqual([
      { path: 'fields.1', message: 'min must not exceed max' },
    ]);
    expect(issues(withField({ name: 'x', type: 'numeric', min: 5, max: 5 }))).toEqual([]);
    expect(issues(withField({ name: 't', type: 'text', minLength: 10, maxLength: 5 }))).toEqual([
      { path: 'fields.1', message: 'minLength must not exceed maxLength' },
    ]);
  });

  it.each(['Cards', '1cards', 'cards!', '', 'a'.repeat(64), 'my cards'])(
    'rejects the dataset name %j',
    (name) => {
      expect(issues(input({ name })).map((i) => i.path)).toEqual(['name']);
    },
  );

  it.each(['c', 'cards_2', 'card-tx', 'a'.repeat(63)])('accepts the dataset name %j', (name) => {
    expect(DatasetSpec.parse(input({ name })).name).toBe(name);
  });

  it.each(['1amount', 'amount-usd', 'amount usd', '', 'é', 'a'.repeat(129)])(
    'rejects the field name %j',
    (name) => {
      const fields = [
        { name: 'id', type: 'entity_id' as const },
        { name, type: 'numeric' as const },
      ];
      expect(issues(input({ fields }))).toEqual([
        {
          path: 'fields.1.name',
          message: 'a field name is a letter or _ then letters, digits or _',
        },
      ]);
    },
  );

  it.each(['_x', 'Amount', 'a1_B', 'a'.repeat(128)])('accepts the field name %j', (name) => {
    const fields = [
      { name: 'id', type: 'entity_id' as const },
      { name, type: 'numeric' as const },
    ];
    expect(DatasetSpec.parse(input({ fields })).fields[1].name).toBe(name);
  });

  it('rejects a non-positive or fractional version, no fields, an unknown field type and a bad unknownFields', () => {
    expect(issues(input({ version: 0 })).map((i) => i.path)).toEqual(['version']);
    expect(issues(input({ version: 1.5 })).map((i) => i.path)).toEqual(['version']);
    expect(issues(input({ fields: [] }))).toEqual([
      { path: 'fields', message: 'Too small: expected array to have >=1 items' },
      { path: 'fields', message: 'exactly one field must be of type entity_id' },
    ]);
    expect(
      issues({
        ...input(),
        fields: [
          { name: 'id', type: 'entity_id' },
          { name: 'x', type: 'float' },
        ],
      }).map((i) => i.path),
    ).toEqual(['fields.1.type']);
    expect(issues({ ...input(), unknownFields: 'ignore' }).map((i) => i.path)).toEqual([
      'unknownFields',
    ]);
  });
});

describe('spec helpers', () => {
  it('finds the entity id field and the numeric fields in spec order', () => {
    const spec = DatasetSpec.parse(
      input({
        fields: [
          { name: 'z', type: 'numeric' },
          { name: 'card_id', type: 'entity_id' },
          { name: 'c', type: 'categorical' },
          { name: 'a', type: 'numeric' },
          { name: 'm', type: 'numeric' },
        ],
      }),
    );
    expect(entityIdField(spec)).toBe('card_id');
    expect(numericFieldNames(spec)).toEqual(['z', 'a', 'm']);
  });
});
