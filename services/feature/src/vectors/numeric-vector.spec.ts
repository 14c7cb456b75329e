import { describe, expect, it } from 'vitest';
import { DatasetSpec, FeatureVectorEvent, type CleanEvent } from '@mlops/contracts';
import { numericFeaturesetVersion, numericVector } from './numeric-vector';

const spec = DatasetSpec.parse({
  name: 'cards',
  version: 4,
  fields: [
    { name: 'hour', type: 'numeric' },
    { name: 'card_id', type: 'entity_id' },
    { name: 'country', type: 'categorical' },
    { name: 'amount', type: 'numeric' },
    { name: 'ts', type: 'timestamp' },
    { name: 'is_fraud', type: 'label' },
    { name: 'distance_km', type: 'numeric' },
  ],
});

function clean(record: Record<string, unknown>): CleanEvent {
  return {
    dataset: 'cards',
    specVersion: 4,
    entityId: 'card-1',
    record,
    ingestedAt: '2026-01-01T00:00:00.000Z',
    via: 'rest',
    source: 'rest:anonymous',
    quality: { flags: [] },
  };
}

describe('numericFeaturesetVersion', () => {
  it('names the skeleton featureset after the spec version', () => {
    expect(numericFeaturesetVersion(spec)).toBe('numeric@spec-v4');
    expect(numericFeaturesetVersion({ ...spec, version: 12 })).toBe('numeric@spec-v12');
  });
});

describe('numericVector', () => {
  it('orders the vector as the numeric fields appear in the spec, with label and event time', () => {
    const v = numericVector(
      spec,
      clean({
        amount: 12.5,
        card_id: 'card-1',
        distance_km: 3,
        hour: 7,
        country: 'FR',
        ts: '2026-01-01T10:00:00.000Z',
        is_fraud: 1,
      }),
    );
    expect(v).toEqual({
      dataset: 'cards',
      entityId: 'card-1',
      featuresetVersion: 'numeric@spec-v4',
      names: ['hour', 'amount', 'distance_km'],
      vector: [7, 12.5, 3],
      label: 1,
      eventTime: '2026-01-01T10:00:00.000Z',
    });
    expect(FeatureVectorEvent.parse(v)).toEqual(v);
  });

  it('puts 0 for missing, null and non-finite values, keeping the length', () => {
    const v = numericVector(
      spec,
      clean({ hour: null, amount: Number.NaN, distance_km: Number.POSITIVE_INFINITY }),
    );
    expect(v.names).toEqual(['hour', 'amount', 'distance_km']);
    expect(v.vector).toEqual([0, 0, 0]);
    expect(numericVector(spec, clean({ amount: '12.5' })).vector).toEqual([0, 0, 0]);
    expect(numericVector(spec, clean({ hour: -2, amount: 0 })).vector).toEqual([-2, 0, 0]);
  });

  it('gives null label and event time when they are absent or of another type', () => {
    const v = numericVector(spec, clean({ hour: 1 }));
    expect([v.label, v.eventTime]).toEqual([null, null]);
    const odd = numericVector(spec, clean({ is_fraud: true, ts: 1767225600000 }));
    expect([odd.label, odd.eventTime]).toEqual([null, null]);
  });

  it('keeps a multiclass label string and a regression label number', () => {
    const multi = DatasetSpec.parse({
      name: 'iris',
      version: 1,
      fields: [
        { name: 'id', type: 'entity_id' },
        { name: 'species', type: 'label', task: 'multiclass', classes: ['setosa', 'virginica'] },
      ],
    });
    expect(numericVector(multi, clean({ species: 'setosa' })).label).toBe('setosa');
    const regression = DatasetSpec.parse({
      name: 'prices',
      version: 1,
      fields: [
        { name: 'id', type: 'entity_id' },
        { name: 'price', type: 'label', task: 'regression' },
      ],
    });
    expect(numericVector(regression, clean({ price: 199.99 })).label).toBe(199.99);
  });

  it('is empty for a spec without numeric, label or timestamp fields', () => {
    const bare = DatasetSpec.parse({
      name: 'bare',
      version: 2,
      fields: [
        { name: 'id', type: 'entity_id' },
        { name: 'c', type: 'categorical' },
      ],
    });
    expect(numericVector(bare, clean({ c: 'x', stray: 5 }))).toEqual({
      dataset: 'cards',
      entityId: 'card-1',
      featuresetVersion: 'numeric@spec-v2',
      names: [],
      vector: [],
      label: null,
      eventTime: null,
    });
  });
});
