import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetSpec, validateRecord } from '@mlops/contracts';
import { cardSpec } from '@mlops/testing';
import { coerceCell, feedbackCoercer, recordCoercer, toBoolean, toNumber } from './coerce';
import { parseCsv, CsvHeader } from './csv';

const cardsJson = DatasetSpec.parse(
  JSON.parse(
    readFileSync(path.join(__dirname, '../../examples/specs/cards.json'), 'utf8'),
  ) as unknown,
);

describe('toNumber / toBoolean', () => {
  it('reads the numbers ingestion reads', () => {
    expect(toNumber('12.5')).toBe(12.5);
    expect(toNumber(' 3 ')).toBe(3);
    expect(toNumber('-.5')).toBe(-0.5);
    expect(toNumber('1e3')).toBe(1000);
    expect(toNumber('+7')).toBe(7);
    expect(toNumber('12,5')).toBeUndefined();
    expect(toNumber('NaN')).toBeUndefined();
    expect(toNumber('0x10')).toBeUndefined();
  });

  it('reads boolean-ish words, any case', () => {
    expect(['true', 'TRUE', 'yes', 'Y', 't', '1'].map(toBoolean)).toEqual(Array(6).fill(true));
    expect(['false', 'No', 'n', 'F', '0'].map(toBoolean)).toEqual(Array(5).fill(false));
    expect(toBoolean('maybe')).toBeUndefined();
  });
});

describe('recordCoercer on the cards spec', () => {
  const coerce = recordCoercer(cardSpec());

  it('types numeric, integer and binary label fields, keeps strings, leaves out empty cells', () => {
    expect(
      coerce({
        card_id: '00042',
        amount: '12.50',
        hour: '14',
        merchant_category: 'grocery',
        country: 'FR',
        memo: '',
        ts: '2026-01-01T10:00:00Z',
        is_fraud: 'true',
      }),
    ).toEqual({
      card_id: '00042',
      amount: 12.5,
      hour: 14,
      merchant_category: 'grocery',
      country: 'FR',
      ts: '2026-01-01T10:00:00Z',
      is_fraud: 1,
    });
  });

  it('leaves a cell that is not its type as the string, for ingestion to reject with a reason', () => {
    const record = coerce({ card_id: 'c1', amount: 'twelve', hour: '3', is_fraud: 'maybe' });
    expect(record).toEqual({ card_id: 'c1', amount: 'twelve', hour: 3, is_fraud: 'maybe' });
    const checked = validateRecord({ ...cardSpec(), coerce: false }, record);
    expect(checked.ok).toBe(false);
    if (!checked.ok)
      expect(checked.problems.map((p) => [p.code, p.field])).toEqual(
        expect.arrayContaining([
          ['wrong_type', 'amount'],
          ['bad_label', 'is_fraud'],
        ]),
      );
  });

  it('passes columns the spec does not name as strings', () => {
    expect(coerce({ card_id: 'c1', extra: '12' })).toEqual({ card_id: 'c1', extra: '12' });
  });

  it('makes records that pass the spec even with coerce off', () => {
    const rows = new CsvHeader().records(
      parseCsv(
        'card_id,amount,hour,merchant_category,country,memo,ts,is_fraud\r\n' +
          'c1,912.5,3,online,FR,"late, ""odd"" buy",2026-01-01T03:00:00Z,1\r\n' +
          'c2,0,23,fuel,DE,,2026-01-02T03:00:00Z,0\r\n',
      ),
    );
    const strict = { ...cardSpec(), coerce: false };
    for (const r of rows) expect(validateRecord(strict, coerce(r.values)).ok).toBe(true);
    expect(coerce(rows[0].values).memo).toBe('late, "odd" buy');
  });
});

describe('coerceCell by field type (examples/specs/cards.json and others)', () => {
  const field = (name: string) => cardsJson.fields.find((f) => f.name === name);

  it('follows the example spec', () => {
    expect(coerceCell(field('hour'), '07')).toBe(7);
    expect(coerceCell(field('device'), 'mobile')).toBe('mobile');
    expect(coerceCell(field('is_fraud'), 'no')).toBe(0);
    expect(coerceCell(field('is_fraud'), '1')).toBe(1);
    expect(coerceCell(field('ts'), '2026-01-01')).toBe('2026-01-01');
  });

  it('types regression and multiclass labels, booleans and epoch timestamps', () => {
    const spec = DatasetSpec.parse({
      name: 'x',
      version: 1,
      fields: [
        { name: 'id', type: 'entity_id' },
        { name: 'price', type: 'label', task: 'regression' },
        { name: 'ok', type: 'boolean' },
        { name: 'at', type: 'timestamp', format: 'epoch_ms' },
      ],
    });
    expect(
      recordCoercer(spec)({ id: '7', price: '19.99', ok: 'Yes', at: '1767225600000' }),
    ).toEqual({
      id: '7',
      price: 19.99,
      ok: true,
      at: 1767225600000,
    });
    const multi = DatasetSpec.parse({
      name: 'y',
      version: 1,
      fields: [
        { name: 'id', type: 'entity_id' },
        { name: 'kind', type: 'label', task: 'multiclass', classes: ['1', '2', 'other'] },
      ],
    });
    // Classes are strings: "2" stays "2" (ingestion would turn a number back into one).
    expect(recordCoercer(multi)({ id: 'a', kind: '2' })).toEqual({ id: 'a', kind: '2' });
  });
});

describe('feedbackCoercer', () => {
  it('types the label by the spec, keeps ids as strings, drops empty cells', () => {
    const coerce = feedbackCoercer(cardSpec());
    expect(
      coerce({ entityId: '00042', label: 'true', requestId: 'req-1', eventTime: '', id: 'cb-1' }),
    ).toEqual({ entityId: '00042', label: 1, requestId: 'req-1', id: 'cb-1' });
  });
});
