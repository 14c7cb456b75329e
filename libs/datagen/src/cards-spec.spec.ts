import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DatasetSpec } from '@mlops/contracts';
import { describe, expect, it } from 'vitest';
import { CARD_FIELDS, DEFAULT_MISSING_FIELDS, cardsSpec } from './cards-spec';

describe('cardsSpec', () => {
  it('parses as a DatasetSpec with the fields in CARD_FIELDS order', () => {
    const spec = DatasetSpec.parse(cardsSpec());
    expect(spec.fields.map((f) => f.name)).toEqual([...CARD_FIELDS]);
    expect(spec.unknownFields).toBe('reject');
  });

  it('makes exactly the default missing fields nullable among the features', () => {
    const spec = DatasetSpec.parse(cardsSpec());
    const nullable = spec.fields
      .filter((f) => !f.required && f.type !== 'entity_id' && f.type !== 'label')
      .map((f) => f.name);
    expect(nullable).toEqual([...DEFAULT_MISSING_FIELDS]);
  });

  it('is what examples/specs/cards.json holds', () => {
    const file = path.resolve(__dirname, '../../../examples/specs/cards.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(cardsSpec());
  });

  it('takes a name and version', () => {
    expect(cardsSpec('cards_eu', 3)).toMatchObject({ name: 'cards_eu', version: 3 });
  });
});
