import { describe, expect, it } from 'vitest';
import { DatasetSpec } from './dataset-spec';
import { FeatureSpecError, resolveFeatureSpec } from './feature-spec';

const spec = (features?: unknown) =>
  DatasetSpec.parse({
    name: 'cards',
    version: 1,
    fields: [
      { name: 'card_id', type: 'entity_id' },
      { name: 'amount', type: 'numeric' },
      { name: 'online', type: 'boolean' },
      { name: 'country', type: 'categorical' },
      { name: 'memo', type: 'text' },
      { name: 'ts', type: 'timestamp' },
      { name: 'is_fraud', type: 'label', task: 'binary' },
    ],
    ...(features === undefined ? {} : { features }),
  });

describe('resolveFeatureSpec', () => {
  it('gives every feature field its type default, in spec order, without label, id or time', () => {
    const r = resolveFeatureSpec(spec());
    expect(r.features.map((f) => [f.field, f.kind])).toEqual([
      ['amount', 'numeric'],
      ['online', 'boolean'],
      ['country', 'categorical'],
      ['memo', 'text'],
    ]);
    expect(r.features[0]).toMatchObject({ config: { scaler: 'robust', log1p: false } });
    expect(r.features[2]).toMatchObject({ config: { encoding: 'onehot', topK: 20, minCount: 1 } });
    expect(r.features[3]).toMatchObject({
      config: {
        tfidf: { maxFeatures: 64, ngramRange: [1, 1], minDf: 2, maxDf: 1 },
        embedding: null,
      },
    });
    expect(r).toMatchObject({
      entityField: 'card_id',
      labelField: 'is_fraud',
      labelTask: 'binary',
      selection: { varianceThreshold: 0 },
      split: { validation: 0.1, test: 0.1, seed: 0 },
    });
  });

  it('takes per-field settings, exclusions and crosses', () => {
    const r = resolveFeatureSpec(
      spec({
        numeric: { amount: { scaler: 'standard', log1p: true } },
        categorical: { country: { encoding: 'hash', buckets: 16 } },
        exclude: ['memo'],
        crosses: [{ product: ['amount', 'online'] }],
      }),
    );
    expect(r.features.map((f) => f.field)).toEqual(['amount', 'online', 'country']);
    expect(r.features[2]).toMatchObject({ config: { encoding: 'hash', buckets: 16 } });
    expect(r.crosses).toEqual([{ product: ['amount', 'online'] }]);
  });

  it('lists every problem', () => {
    try {
      resolveFeatureSpec(
        spec({
          numeric: { memo: {}, nope: {} },
          crosses: [{ categorical: ['amount', 'country'] }],
          exclude: ['ghost'],
        }),
      );
      throw new Error('expected a FeatureSpecError');
    } catch (e) {
      expect(e).toBeInstanceOf(FeatureSpecError);
      expect((e as FeatureSpecError).issues).toEqual([
        'features.numeric: "memo" is a text field, not numeric',
        'features.numeric: "nope" is not a field of the spec',
        'features.exclude: no field "ghost"',
        'features.crosses: "amount" is a numeric field, not categorical',
      ]);
    }
    expect(() => resolveFeatureSpec(spec({ numeric: { amount: { scaler: 'zscore' } } }))).toThrow(
      /features\.numeric\.amount\.scaler/,
    );
  });
});
