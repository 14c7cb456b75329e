import { afterEach, describe, expect, it } from 'vitest';
import { DatasetSpec, type DatasetSpecInput } from './dataset-spec';
import {
  RECORD_REASON_CODES,
  validateRecord,
  type RecordProblem,
  type RecordReasonCode,
} from './validate-record';

type FieldInput = DatasetSpecInput['fields'][number];

/** A spec with an entity id `id` plus the given fields. */
function spec(fields: FieldInput[], options: Partial<DatasetSpecInput> = {}): DatasetSpec {
  return DatasetSpec.parse({
    name: 'ds',
    version: 1,
    fields: [{ name: 'id', type: 'entity_id' }, ...fields],
    ...options,
  });
}

/** The typed value of field `x` of a record `{ id: 'e1', x: value }`, or the problems. */
function check(field: FieldInput, value: unknown, options: Partial<DatasetSpecInput> = {}) {
  const result = validateRecord(spec([{ ...field, name: 'x' }], options), { id: 'e1', x: value });
  return result.ok ? { value: result.record.x } : { problems: result.problems };
}

function codes(
  field: FieldInput,
  value: unknown,
  options: Partial<DatasetSpecInput> = {},
): (string | undefined)[] {
  const r = check(field, value, options);
  return 'problems' in r ? r.problems!.map((p) => p.code) : [];
}

const cardSpec = spec([
  { name: 'amount', type: 'numeric', required: true, min: 0, max: 1000 },
  { name: 'hour', type: 'numeric', integer: true, min: 0, max: 23 },
  { name: 'category', type: 'categorical', enum: ['grocery', 'travel'] },
  { name: 'memo', type: 'text', maxLength: 20 },
  { name: 'ts', type: 'timestamp', required: true },
  { name: 'online', type: 'boolean' },
  { name: 'is_fraud', type: 'label' },
]);

describe('validateRecord: every reason code', () => {
  const cases: Record<
    RecordReasonCode,
    { spec: DatasetSpec; record: unknown; problem: RecordProblem }
  > = {
    not_an_object: {
      spec: cardSpec,
      record: [1, 2],
      problem: { code: 'not_an_object', message: 'a record must be a JSON object' },
    },
    missing_required: {
      spec: spec([{ name: 'a', type: 'numeric', required: true }]),
      record: { id: 'e1' },
      problem: { code: 'missing_required', field: 'a', message: 'a is required' },
    },
    wrong_type: {
      spec: spec([{ name: 'a', type: 'numeric' }]),
      record: { id: 'e1', a: 'twelve' },
      problem: { code: 'wrong_type', field: 'a', message: 'a must be a number' },
    },
    not_finite: {
      spec: spec([{ name: 'a', type: 'numeric' }]),
      record: { id: 'e1', a: '1e999' },
      problem: { code: 'not_finite', field: 'a', message: 'a must be finite' },
    },
    not_integer: {
      spec: spec([{ name: 'a', type: 'numeric', integer: true }]),
      record: { id: 'e1', a: 2.5 },
      problem: { code: 'not_integer', field: 'a', message: 'a must be an integer' },
    },
    out_of_range: {
      spec: spec([{ name: 'a', type: 'numeric', min: 0, max: 10 }]),
      record: { id: 'e1', a: 11 },
      problem: { code: 'out_of_range', field: 'a', message: 'a=11 is outside [0, 10]' },
    },
    not_in_enum: {
      spec: spec([{ name: 'c', type: 'categorical', enum: ['x', 'y'] }]),
      record: { id: 'e1', c: 'z' },
      problem: {
        code: 'not_in_enum',
        field: 'c',
        message: 'c="z" is not one of the allowed values',
      },
    },
    too_short: {
      spec: spec([{ name: 't', type: 'text', minLength: 3 }]),
      record: { id: 'e1', t: 'ab' },
      problem: { code: 'too_short', field: 't', message: 't is shorter than 3' },
    },
    too_long: {
      spec: spec([{ name: 't', type: 'text', maxLength: 3 }]),
      record: { id: 'e1', t: 'abcd' },
      problem: { code: 'too_long', field: 't', message: 't is longer than 3' },
    },
    bad_timestamp: {
      spec: spec([{ name: 'ts', type: 'timestamp' }]),
      record: { id: 'e1', ts: 'last tuesday' },
      problem: { code: 'bad_timestamp', field: 'ts', message: 'ts must be an ISO 8601 date-time' },
    },
    bad_label: {
      spec: spec([{ name: 'y', type: 'label' }]),
      record: { id: 'e1', y: 2 },
      problem: { code: 'bad_label', field: 'y', message: 'y must be 0 or 1' },
    },
    unknown_field: {
      spec: spec([], { unknownFields: 'reject' }),
      record: { id: 'e1', extra: 1 },
      problem: {
        code: 'unknown_field',
        field: 'extra',
        message: 'field "extra" is not in the spec',
      },
    },
  };

  it('has a case for each code', () => {
    expect(Object.keys(cases).sort()).toEqual([...RECORD_REASON_CODES].sort());
  });

  it.each(Object.entries(cases))('%s', (_code, c) => {
    expect(validateRecord(c.spec, c.record)).toEqual({ ok: false, problems: [c.problem] });
  });

  it.each([null, 'text', 42, true, undefined])('not_an_object for %j', (record) => {
    expect(validateRecord(cardSpec, record)).toEqual({
      ok: false,
      problems: [{ code: 'not_an_object', message: 'a record must be a JSON object' }],
    });
  });
});

describe('validateRecord: numeric', () => {
  const numeric: FieldInput = { name: 'x', type: 'numeric' };

  it.each([
    ['12.5', 12.5],
    [' 12.5 ', 12.5],
    ['1e3', 1000],
    ['-2E-2', -0.02],
    ['+7', 7],
    ['.5', 0.5],
    ['5.', 5],
    [0, 0],
    [-3.25, -3.25],
  ])('accepts %j as %d', (raw, expected) => {
    expect(check(numeric, raw)).toEqual({ value: expected });
  });

  it.each(['12abc', '', '   ', '0x10', 'NaN', 'Infinity', '1,5', '1e', true, [], {}])(
    'rejects %j as wrong_type',
    (raw) => {
      expect(check(numeric, raw)).toEqual({
        problems: [{ code: 'wrong_type', field: 'x', message: 'x must be a number' }],
      });
    },
  );

  it('rejects numeric strings when coercion is off', () => {
    expect(codes(numeric, '12.5', { coerce: false })).toEqual(['wrong_type']);
    expect(check(numeric, 12.5, { coerce: false })).toEqual({ value: 12.5 });
  });

  it('rejects non-finite numbers', () => {
    expect(codes(numeric, Number.POSITIVE_INFINITY)).toEqual(['not_finite']);
    expect(codes(numeric, Number.NaN)).toEqual(['not_finite']);
    expect(codes(numeric, '-1e400')).toEqual(['not_finite']);
  });

  it('checks integer and range bounds inclusively', () => {
    const f: FieldInput = { name: 'x', type: 'numeric', integer: true, min: -1, max: 3 };
    expect(check(f, -1)).toEqual({ value: -1 });
    expect(check(f, '3')).toEqual({ value: 3 });
    expect(check(f, '3.0')).toEqual({ value: 3 });
    expect(codes(f, 4)).toEqual(['out_of_range']);
    expect(codes(f, -2)).toEqual(['out_of_range']);
    expect(codes(f, 1.5)).toEqual(['not_integer']);
    expect(check({ name: 'x', type: 'numeric', min: 5 }, 4)).toEqual({
      problems: [{ code: 'out_of_range', field: 'x', message: 'x=4 is outside [5, inf]' }],
    });
    expect(check({ name: 'x', type: 'numeric', max: 5 }, 6)).toEqual({
      problems: [{ code: 'out_of_range', field: 'x', message: 'x=6 is outside [-inf, 5]' }],
    });
  });
});

describe('validateRecord: categorical, text, entity id, boolean', () => {
  it('categorical: numbers become strings when coercing; maxLength and enum are checked', () => {
    expect(check({ name: 'x', type: 'categorical' }, 42)).toEqual({ value: '42' });
    expect(codes({ name: 'x', type: 'categorical' }, 42, { coerce: false })).toEqual([
      'wrong_type',
    ]);
    expect(codes({ name: 'x', type: 'categorical' }, true)).toEqual(['wrong_type']);
    expect(codes({ name: 'x', type: 'categorical', maxLength: 2 }, 'abc')).toEqual(['too_long']);
    expect(check({ name: 'x', type: 'categorical', enum: ['1', '2'] }, 2)).toEqual({ value: '2' });
    expect(codes({ name: 'x', type: 'categorical', enum: ['1', '2'] }, 3)).toEqual(['not_in_enum']);
  });

  it('text: strings only, lengths inclusive', () => {
    const f: FieldInput = { name: 'x', type: 'text', minLength: 2, maxLength: 4 };
    expect(check(f, 'ab')).toEqual({ value: 'ab' });
    expect(check(f, 'abcd')).toEqual({ value: 'abcd' });
    expect(codes(f, 'a')).toEqual(['too_short']);
    expect(codes(f, 'abcde')).toEqual(['too_long']);
    expect(codes(f, 1234)).toEqual(['wrong_type']);
  });

  it('entity id: a non-empty string or a finite number, within maxLength', () => {
    const s = spec([]);
    expect(validateRecord(s, { id: 'card-7' })).toEqual({
      ok: true,
      record: { id: 'card-7' },
      entityId: 'card-7',
    });
    expect(validateRecord(s, { id: 7 })).toEqual({ ok: true, record: { id: '7' }, entityId: '7' });
    const wrong = {
      code: 'wrong_type',
      field: 'id',
      message: 'id must be a non-empty string or a number',
    };
    expect(validateRecord(s, { id: '' })).toEqual({ ok: false, problems: [wrong] });
    expect(validateRecord(s, { id: true })).toEqual({ ok: false, problems: [wrong] });
    expect(validateRecord(s, { id: Number.POSITIVE_INFINITY })).toEqual({
      ok: false,
      problems: [wrong],
    });
    const short = DatasetSpec.parse({
      name: 'ds',
      version: 1,
      fields: [{ name: 'id', type: 'entity_id', maxLength: 3 }],
    });
    expect(validateRecord(short, { id: 'abcd' })).toEqual({
      ok: false,
      problems: [{ code: 'too_long', field: 'id', message: 'id is longer than 3' }],
    });
  });

  it('entity id is always required, even when not marked so', () => {
    expect(validateRecord(spec([]), {})).toEqual({
      ok: false,
      problems: [{ code: 'missing_required', field: 'id', message: 'id is required' }],
    });
    expect(validateRecord(spec([]), { id: null })).toEqual({
      ok: false,
      problems: [{ code: 'missing_required', field: 'id', message: 'id is required' }],
    });
  });

  it('boolean: true/false, and the strings "true"/"false" when coercing', () => {
    const f: FieldInput = { name: 'x', type: 'boolean' };
    expect(check(f, true)).toEqual({ value: true });
    expect(check(f, false)).toEqual({ value: false });
    expect(check(f, 'true')).toEqual({ value: true });
    expect(check(f, 'false')).toEqual({ value: false });
    expect(codes(f, 'true', { coerce: false })).toEqual(['wrong_type']);
    expect(codes(f, 'TRUE')).toEqual(['wrong_type']);
    expect(codes(f, 1)).toEqual(['wrong_type']);
    expect(codes(f, 'yes')).toEqual(['wrong_type']);
  });
});

describe('validateRecord: labels', () => {
  const binary: FieldInput = { name: 'x', type: 'label', task: 'binary' };

  it.each([
    [true, 1],
    [false, 0],
    ['1', 1],
    ['0', 0],
    [1, 1],
    [0, 0],
    ['true', 1],
    ['false', 0],
    ['1.0', 1],
  ])('binary label %j → %d', (raw, expected) => {
    expect(check(binary, raw)).toEqual({ value: expected });
  });

  it.each([2, -1, 0.5, '2', 'yes', 'fraud', []])('binary label rejects %j', (raw) => {
    expect(check(binary, raw)).toEqual({
      problems: [{ code: 'bad_label', field: 'x', message: 'x must be 0 or 1' }],
    });
  });

  it('binary label without coercion takes only JSON numbers and booleans', () => {
    expect(check(binary, true, { coerce: false })).toEqual({ value: 1 });
    expect(check(binary, 0, { coerce: false })).toEqual({ value: 0 });
    expect(codes(binary, '1', { coerce: false })).toEqual(['bad_label']);
    expect(codes(binary, 'true', { coerce: false })).toEqual(['bad_label']);
  });

  it('multiclass label: one of the classes (numbers as strings when coercing)', () => {
    const f: FieldInput = {
      name: 'x',
      type: 'label',
      task: 'multiclass',
      classes: ['cat', 'dog', '3'],
    };
    expect(check(f, 'dog')).toEqual({ value: 'dog' });
    expect(check(f, 3)).toEqual({ value: '3' });
    expect(codes(f, 3, { coerce: false })).toEqual(['bad_label']);
    expect(check(f, 'cow')).toEqual({
      problems: [{ code: 'bad_label', field: 'x', message: "x must be one of the spec's classes" }],
    });
  });

  it('regression label: a finite number', () => {
    const f: FieldInput = { name: 'x', type: 'label', task: 'regression' };
    expect(check(f, -4.5)).toEqual({ value: -4.5 });
    expect(check(f, '2.5e1')).toEqual({ value: 25 });
    expect(check(f, 'abc')).toEqual({
      problems: [{ code: 'bad_label', field: 'x', message: 'x must be a finite number' }],
    });
    expect(codes(f, '1e999')).toEqual(['bad_label']);
    expect(codes(f, true)).toEqual(['bad_label']);
  });
});

describe('validateRecord: timestamps', () => {
  const iso: FieldInput = { name: 'x', type: 'timestamp' };
  const epochS: FieldInput = { name: 'x', type: 'timestamp', format: 'epoch_s' };
  const epochMs: FieldInput = { name: 'x', type: 'timestamp', format: 'epoch_ms' };
  const originalTz = process.env.TZ;

  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it.each([
    ['2026-01-01T10:00:00Z', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T10:00:00.123Z', '2026-01-01T10:00:00.123Z'],
    ['2026-01-01T10:00:00.123456789Z', '2026-01-01T10:00:00.123Z'],
    ['2026-01-01T10:00:00+01:00', '2026-01-01T09:00:00.000Z'],
    ['2026-01-01T10:00:00+0100', '2026-01-01T09:00:00.000Z'],
    ['2026-06-30T23:30:00-02:30', '2026-07-01T02:00:00.000Z'],
    ['2026-01-01 10:00:00Z', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T10:00Z', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['2026-12-31T23:59:59.999Z', '2026-12-31T23:59:59.999Z'],
  ])('iso8601 %s → %s', (raw, expected) => {
    expect(check(iso, raw)).toEqual({ value: expected });
  });

  it.each(['Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'UTC'])(
    'reads a date-time without offset as UTC whatever the host time zone (%s)',
    (tz) => {
      process.env.TZ = tz;
      expect(check(iso, '2026-01-01T10:00:00')).toEqual({ value: '2026-01-01T10:00:00.000Z' });
      expect(check(iso, '2026-07-01 23:30')).toEqual({ value: '2026-07-01T23:30:00.000Z' });
      expect(check(iso, '2026-01-01T10:00:00.250')).toEqual({ value: '2026-01-01T10:00:00.250Z' });
      expect(check(iso, '2026-01-01')).toEqual({ value: '2026-01-01T00:00:00.000Z' });
    },
  );

  it.each([
    'yesterday',
    '2026-13-01T00:00:00Z',
    '2026-01-01T25:00:00Z',
    '2026-01-01T10:60:00Z',
    '2026-02-30T00:00:00Z',
    '2026-02-29',
    '1900-02-29',
    '2026-06-31T00:00:00Z',
    '2026-04-31',
    '2026-01-00',
    '2026-1-1',
    '20260101',
    'Thu, 01 Jan 2026 00:00:00 GMT',
    '2026-01-01T10:00:00ZZ',
  ])('iso8601 rejects %j', (raw) => {
    expect(check(iso, raw)).toEqual({
      problems: [{ code: 'bad_timestamp', field: 'x', message: 'x must be an ISO 8601 date-time' }],
    });
  });

  it('iso8601 rejects numbers', () => {
    expect(codes(iso, 1767225600000)).toEqual(['bad_timestamp']);
  });

  it('epoch_s: seconds (numbers or numeric strings), fractions kept to the millisecond', () => {
    expect(check(epochS, 1767225600)).toEqual({ value: '2026-01-01T00:00:00.000Z' });
    expect(check(epochS, '1767225600.5')).toEqual({ value: '2026-01-01T00:00:00.500Z' });
    expect(check(epochS, 0)).toEqual({ value: '1970-01-01T00:00:00.000Z' });
    expect(check(epochS, 8.64e12)).toEqual({ value: '+275760-09-13T00:00:00.000Z' });
  });

  it('epoch_ms: milliseconds', () => {
    expect(check(epochMs, 1767225600123)).toEqual({ value: '2026-01-01T00:00:00.123Z' });
    expect(check(epochMs, ' 1767225600000 ')).toEqual({ value: '2026-01-01T00:00:00.000Z' });
  });

  it('epoch formats reject negatives, non-numbers, out-of-range dates and strings without coercion', () => {
    expect(check(epochS, -1)).toEqual({
      problems: [{ code: 'bad_timestamp', field: 'x', message: 'x must be epoch seconds' }],
    });
    expect(check(epochMs, 'soon')).toEqual({
      problems: [{ code: 'bad_timestamp', field: 'x', message: 'x must be epoch milliseconds' }],
    });
    expect(check(epochS, 8.64e12 + 1)).toEqual({
      problems: [{ code: 'bad_timestamp', field: 'x', message: 'x is out of the date range' }],
    });
    expect(codes(epochMs, 8.64e15 + 1)).toEqual(['bad_timestamp']);
    expect(codes(epochMs, '2026-01-01T00:00:00Z')).toEqual(['bad_timestamp']);
    expect(codes(epochMs, '1767225600000', { coerce: false })).toEqual(['bad_timestamp']);
    expect(check(epochMs, 1767225600000, { coerce: false })).toEqual({
      value: '2026-01-01T00:00:00.000Z',
    });
  });
});

describe('validateRecord: records', () => {
  it('returns the typed record exactly: coerced values, normalised time, null for absent optional fields', () => {
    const result = validateRecord(cardSpec, {
      id: 12,
      amount: ' 12.50 ',
      hour: '7',
      category: 'travel',
      ts: '2026-03-01T12:00:00+02:00',
      online: 'false',
      is_fraud: 'true',
    });
    expect(result).toEqual({
      ok: true,
      entityId: '12',
      record: {
        id: '12',
        amount: 12.5,
        hour: 7,
        category: 'travel',
        memo: null,
        ts: '2026-03-01T10:00:00.000Z',
        online: false,
        is_fraud: 1,
      },
    });
    expect(result.ok && Object.keys(result.record)).toEqual([
      'id',
      'amount',
      'hour',
      'category',
      'memo',
      'ts',
      'online',
      'is_fraud',
    ]);
  });

  it('treats null and missing alike for optional fields (null), and for required ones (missing_required)', () => {
    const base = { id: 'e1', amount: 1, ts: '2026-01-01T00:00:00Z' };
    const missing = validateRecord(cardSpec, base);
    const nulls = validateRecord(cardSpec, {
      ...base,
      hour: null,
      category: null,
      memo: null,
      online: null,
      is_fraud: null,
    });
    const expected = {
      ok: true,
      entityId: 'e1',
      record: {
        id: 'e1',
        amount: 1,
        hour: null,
        category: null,
        memo: null,
        ts: '2026-01-01T00:00:00.000Z',
        online: null,
        is_fraud: null,
      },
    };
    expect(missing).toEqual(expected);
    expect(nulls).toEqual(expected);
    expect(validateRecord(cardSpec, { ...base, amount: null })).toEqual({
      ok: false,
      problems: [{ code: 'missing_required', field: 'amount', message: 'amount is required' }],
    });
  });

  it('does not read inherited properties as fields', () => {
    const record = Object.create({ amount: 5 }) as Record<string, unknown>;
    Object.assign(record, { id: 'e1', ts: '2026-01-01T00:00:00Z' });
    expect(validateRecord(cardSpec, record)).toEqual({
      ok: false,
      problems: [{ code: 'missing_required', field: 'amount', message: 'amount is required' }],
    });
  });

  it('reports every problem at once, in spec order, unknown fields last', () => {
    const s = spec(
      [
        { name: 'amount', type: 'numeric', required: true, min: 0 },
        { name: 'hour', type: 'numeric', integer: true },
        { name: 'category', type: 'categorical', enum: ['a'] },
        { name: 'ts', type: 'timestamp', required: true },
        { name: 'y', type: 'label' },
      ],
      { unknownFields: 'reject' },
    );
    const result = validateRecord(s, {
      amount: -1,
      hour: 'x',
      category: 'b',
      y: 3,
      extra: 1,
      other: 'z',
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        { code: 'missing_required', field: 'id', message: 'id is required' },
        { code: 'out_of_range', field: 'amount', message: 'amount=-1 is outside [0, inf]' },
        { code: 'wrong_type', field: 'hour', message: 'hour must be a number' },
        {
          code: 'not_in_enum',
          field: 'category',
          message: 'category="b" is not one of the allowed values',
        },
        { code: 'missing_required', field: 'ts', message: 'ts is required' },
        { code: 'bad_label', field: 'y', message: 'y must be 0 or 1' },
        { code: 'unknown_field', field: 'extra', message: 'field "extra" is not in the spec' },
        { code: 'unknown_field', field: 'other', message: 'field "other" is not in the spec' },
      ],
    });
  });

  it('unknownFields: drop (the default) leaves them out', () => {
    expect(validateRecord(spec([]), { id: 'e1', extra: 1 })).toEqual({
      ok: true,
      record: { id: 'e1' },
      entityId: 'e1',
    });
  });

  it('unknownFields: keep passes them through unchanged, after the spec fields', () => {
    const result = validateRecord(
      spec([{ name: 'n', type: 'numeric' }], { unknownFields: 'keep' }),
      {
        extra: { nested: ['1'] },
        id: 'e1',
        n: '2',
        z: null,
      },
    );
    expect(result).toEqual({
      ok: true,
      entityId: 'e1',
      record: { id: 'e1', n: 2, extra: { nested: ['1'] }, z: null },
    });
    expect(result.ok && Object.keys(result.record)).toEqual(['id', 'n', 'extra', 'z']);
  });

  it('unknownFields: reject cuts very long names in the problem', () => {
    const name = 'k'.repeat(300);
    const result = validateRecord(spec([], { unknownFields: 'reject' }), { id: 'e1', [name]: 1 });
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          code: 'unknown_field',
          field: 'k'.repeat(128),
          message: `field "${'k'.repeat(64)}" is not in the spec`,
        },
      ],
    });
  });
});
