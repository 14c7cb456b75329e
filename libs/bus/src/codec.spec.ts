import { createHash } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EVENTS,
  RejectedEvent,
  toKafkaHeaders,
  type EnvelopeAttributes,
  type ValidatedEvent,
} from '@mlops/contracts';
import {
  OutputSchemaError,
  deadLetterPayload,
  decode,
  encode,
  isOutgoingEvent,
  type OutgoingRecord,
} from './codec';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TIMESTAMP = '1767225600000'; // 2026-01-01T00:00:00.000Z

const validated: ValidatedEvent = {
  dataset: 'cards',
  specVersion: 1,
  entityId: 'card-1',
  record: { amount: 12.5, country: 'FR' },
  ingestedAt: '2026-01-01T00:00:00.000Z',
  via: 'rest',
  source: 'rest:anonymous',
};

function attrs(overrides: Partial<EnvelopeAttributes> = {}): EnvelopeAttributes {
  return {
    id: 'evt-1',
    type: EVENTS.validatedEvent.type,
    source: '/services/ingestion',
    time: '2026-01-01T00:00:01.000Z',
    specversion: '1.0',
    datacontenttype: 'application/json',
    traceparent: TRACEPARENT,
    ...overrides,
  };
}

/** Headers as kafkajs gives them to a consumer. */
function bufferHeaders(a: EnvelopeAttributes): IHeaders {
  return Object.fromEntries(Object.entries(toKafkaHeaders(a)).map(([k, v]) => [k, Buffer.from(v)]));
}

function message(
  value: Buffer | string | null,
  headers: IHeaders = bufferHeaders(attrs()),
  key: string | null = 'cards:card-1',
): KafkaMessage {
  return {
    key: key === null ? null : Buffer.from(key),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    timestamp: TIMESTAMP,
    attributes: 0,
    offset: '42',
    headers,
  };
}

const json = (v: unknown) => JSON.stringify(v);

describe('decode', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns the validated event with its envelope and origin', () => {
    const headers = bufferHeaders(attrs({ subject: 'cards' }));
    const msg = message(json(validated), headers);
    const result = decode(EVENTS.validatedEvent, 'p.events.validated.v1', 2, msg, 1024);
    expect(result).toEqual({
      ok: true,
      event: {
        attrs: attrs({ subject: 'cards' }),
        data: validated,
        key: 'cards:card-1',
        topic: 'p.events.validated.v1',
        partition: 2,
        offset: '42',
        timestamp: TIMESTAMP,
        headers,
        value: Buffer.from(json(validated)),
        size: Buffer.byteLength(json(validated)),
      },
    });
  });

  it('gives a null key for a record without key, and applies schema defaults', () => {
    const spec = { name: 'cards', version: 3, fields: [{ name: 'card_id', type: 'entity_id' }] };
    const msg = message(json(spec), bufferHeaders(attrs({ type: EVENTS.datasetSpec.type })), null);
    const result = decode(EVENTS.datasetSpec, 'pipeline.specs.v1', 0, msg, 1024);
    expect(result.ok && result.event.key).toBeNull();
    expect(result.ok && result.event.data).toEqual({
      name: 'cards',
      version: 3,
      fields: [{ name: 'card_id', type: 'entity_id', required: false, maxLength: 256 }],
      unknownFields: 'drop',
      coerce: true,
    });
  });

  it('payload_too_large before anything is parsed, even with bad headers', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const big = `{"x":"${'a'.repeat(2000)}"`; // not even JSON
    const result = decode(
      EVENTS.validatedEvent,
      't',
      0,
      message(big, { ce_id: Buffer.from('evt-big') }),
      1024,
    );
    expect(result).toEqual({
      ok: false,
      eventId: 'evt-big',
      reasons: [
        {
          code: 'payload_too_large',
          message: `value of ${Buffer.byteLength(big)} bytes exceeds the limit of 1024`,
        },
      ],
    });
    expect(parse).not.toHaveBeenCalled();
  });

  it('accepts a value of exactly the limit', () => {
    const value = json(validated);
    const size = Buffer.byteLength(value);
    expect(decode(EVENTS.validatedEvent, 't', 0, message(value), size).ok).toBe(true);
    expect(decode(EVENTS.validatedEvent, 't', 0, message(value), size - 1)).toMatchObject({
      ok: false,
      reasons: [{ code: 'payload_too_large' }],
    });
  });

  it.each([
    ['null', null],
    ['an empty buffer', Buffer.alloc(0)],
  ])('an empty value (%s) is not_json', (_what, value) => {
    expect(decode(EVENTS.validatedEvent, 't', 0, message(value), 1024)).toEqual({
      ok: false,
      eventId: 'evt-1',
      reasons: [{ code: 'not_json', message: 'empty value (a tombstone is not an event here)' }],
    });
  });

  it('not_json for a value that does not parse', () => {
    const result = decode(EVENTS.validatedEvent, 't', 0, message('{"dataset":'), 1024);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.eventId).toBe('evt-1');
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0].code).toBe('not_json');
    expect(result.reasons[0].message).toMatch(/^value is not JSON: /);
  });

  it('schema_mismatch names each bad field and carries the dataset', () => {
    const bad = { ...validated, specVersion: 0, entityId: '', ingestedAt: 'yesterday' };
    expect(decode(EVENTS.validatedEvent, 't', 0, message(json(bad)), 1024)).toEqual({
      ok: false,
      eventId: 'evt-1',
      dataset: 'cards',
      reasons: [
        {
          code: 'schema_mismatch',
          field: 'specVersion',
          message: 'Too small: expected number to be >0',
        },
        {
          code: 'schema_mismatch',
          field: 'entityId',
          message: 'Too small: expected string to have >=1 characters',
        },
        { code: 'schema_mismatch', field: 'ingestedAt', message: 'Invalid ISO datetime' },
      ],
    });
  });

  it('schema_mismatch joins nested paths with dots', () => {
    const headers = bufferHeaders(attrs({ type: EVENTS.rejectedEvent.type }));
    const dead = deadLetterPayload(
      'ingestion',
      [{ code: 'x', message: 'y' }],
      { topic: 't', key: null, value: Buffer.from('v') },
      10,
    );
    const bad = { ...dead, original: { ...dead.original, valueBytes: -1 } };
    const result = decode(EVENTS.rejectedEvent, 't', 0, message(json(bad), headers), 4096);
    expect(result.ok === false && result.reasons.map((r) => [r.code, r.field])).toEqual([
      ['schema_mismatch', 'original.valueBytes'],
    ]);
  });

  it('schema_mismatch reports at most five issues, and no field for the root', () => {
    const bad = {
      dataset: 'Cards!',
      specVersion: 1.5,
      entityId: 5,
      record: [],
      ingestedAt: 'x',
      via: 'mail',
    };
    const result = decode(EVENTS.validatedEvent, 't', 0, message(json(bad)), 1024);
    expect(result.ok === false && result.reasons.map((r) => r.field)).toEqual([
      'dataset',
      'specVersion',
      'entityId',
      'record',
      'ingestedAt',
    ]);
    expect(result.ok === false && result.dataset).toBe('Cards!');
    const root = decode(EVENTS.validatedEvent, 't', 0, message('[1]'), 1024);
    expect(root).toEqual({
      ok: false,
      eventId: 'evt-1',
      reasons: [
        { code: 'schema_mismatch', message: 'Invalid input: expected object, received array' },
      ],
    });
  });

  it('envelope_invalid when ce_id is missing on a topic that requires the envelope', () => {
    const headers = bufferHeaders(attrs());
    delete headers.ce_id;
    expect(decode(EVENTS.validatedEvent, 't', 0, message(json(validated), headers), 1024)).toEqual({
      ok: false,
      reasons: [
        { code: 'envelope_invalid', message: 'CloudEvents envelope: missing header ce_id' },
      ],
    });
  });

  it('envelope_invalid names a malformed attribute and keeps the id', () => {
    const headers = { ...bufferHeaders(attrs()), ce_specversion: Buffer.from('0.3') };
    expect(decode(EVENTS.validatedEvent, 't', 0, message(json(validated), headers), 1024)).toEqual({
      ok: false,
      eventId: 'evt-1',
      reasons: [
        { code: 'envelope_invalid', message: 'CloudEvents envelope: bad_specversion: 0.3' },
      ],
    });
  });

  it('unknown_event_type for a known type on the wrong topic and for an unknown type', () => {
    const wrong = bufferHeaders(attrs({ type: EVENTS.cleanEvent.type }));
    expect(decode(EVENTS.validatedEvent, 't', 0, message(json(validated), wrong), 1024)).toEqual({
      ok: false,
      eventId: 'evt-1',
      reasons: [
        {
          code: 'unknown_event_type',
          message:
            'event type dev.mlops.events.clean.v1 does not belong on this topic (expected dev.mlops.events.validated.v1)',
        },
      ],
    });
    const unknown = bufferHeaders(attrs({ type: 'com.example.order.v1' }));
    expect(decode(EVENTS.validatedEvent, 't', 0, message(json(validated), unknown), 1024)).toEqual({
      ok: false,
      eventId: 'evt-1',
      reasons: [{ code: 'unknown_event_type', message: 'unknown event type com.example.order.v1' }],
    });
  });

  describe('optional envelope (raw ingest topic)', () => {
    const raw = json({ dataset: 'cards', record: { card_id: 'c1', amount: 3 } });
    const expectedId = (key: string, value: string) =>
      `sha256:${createHash('sha256').update(key).update('\0').update(value).digest('hex').slice(0, 40)}`;

    it('derives a deterministic sha256 id from key and value', () => {
      const result = decode(
        EVENTS.rawEvent,
        'p.ingest.raw.v1',
        1,
        message(raw, { traceparent: Buffer.from(TRACEPARENT) }),
        1024,
      );
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.event.attrs).toEqual({
        id: expectedId('cards:card-1', raw),
        type: 'dev.mlops.ingest.raw.v1',
        source: 'kafka://p.ingest.raw.v1',
        time: '2026-01-01T00:00:00.000Z',
        specversion: '1.0',
        datacontenttype: 'application/json',
        traceparent: TRACEPARENT,
      });
      expect(result.event.data).toEqual({ dataset: 'cards', record: { card_id: 'c1', amount: 3 } });
    });

    it('gives the same id to the same record and a different id to another key or value', () => {
      const id = (value: string, key: string | null) => {
        const r = decode(EVENTS.rawEvent, 't', 0, message(value, {}, key), 1024);
        return r.ok ? r.event.attrs.id : undefined;
      };
      expect(id(raw, 'k')).toBe(id(raw, 'k'));
      expect(id(raw, 'k')).toBe(expectedId('k', raw));
      expect(id(raw, 'k')).not.toBe(id(raw, 'other'));
      expect(id(raw, 'k')).not.toBe(id(json({ dataset: 'cards', record: { card_id: 'c2' } }), 'k'));
      expect(id(raw, null)).toBe(expectedId('', raw));
    });

    it('makes a new traceparent when none came', () => {
      const r = decode(EVENTS.rawEvent, 't', 0, message(raw, {}), 1024);
      expect(r.ok && r.event.attrs.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    });

    it('uses a complete envelope when there is one', () => {
      const a = attrs({ id: 'producer-7', type: EVENTS.rawEvent.type, source: '/producers/pos' });
      const r = decode(EVENTS.rawEvent, 't', 0, message(raw, bufferHeaders(a)), 1024);
      expect(r.ok && r.event.attrs).toEqual(a);
    });

    it('still refuses a half envelope that has a ce_id', () => {
      expect(
        decode(EVENTS.rawEvent, 't', 0, message(raw, { ce_id: Buffer.from('x1') }), 1024),
      ).toEqual({
        ok: false,
        eventId: 'x1',
        reasons: [
          { code: 'envelope_invalid', message: 'CloudEvents envelope: missing header ce_type' },
        ],
      });
    });

    it('checks the payload against the raw schema', () => {
      const r = decode(
        EVENTS.rawEvent,
        't',
        0,
        message(json({ dataset: 'cards', record: 'x' }), {}),
        1024,
      );
      expect(r.ok === false && r.reasons.map((x) => [x.code, x.field])).toEqual([
        ['schema_mismatch', 'record'],
      ]);
      expect(r.ok === false && r.dataset).toBe('cards');
      expect(r.ok === false && r.eventId).toMatch(/^sha256:[0-9a-f]{40}$/);
    });
  });
});

describe('encode', () => {
  it('validates, keeps the given id, traceparent, subject and time, and writes CE headers', () => {
    const out = {
      event: EVENTS.validatedEvent,
      key: 'cards:card-1',
      data: validated,
      attrs: {
        id: 'evt-9',
        traceparent: TRACEPARENT,
        subject: 'cards',
        time: '2026-01-02T00:00:00.000Z',
      },
    };
    expect(isOutgoingEvent(out)).toBe(true);
    expect(encode(out, '/services/ingestion', 'p.')).toEqual({
      topic: 'p.events.validated.v1',
      message: {
        key: 'cards:card-1',
        value: json(validated),
        headers: {
          ce_id: 'evt-9',
          ce_type: 'dev.mlops.events.validated.v1',
          ce_source: '/services/ingestion',
          ce_time: '2026-01-02T00:00:00.000Z',
          ce_specversion: '1.0',
          'content-type': 'application/json',
          ce_subject: 'cards',
          traceparent: TRACEPARENT,
        },
      },
    });
  });

  it('makes a new id, traceparent and time when none are given', () => {
    const before = Date.now();
    const { message: m } = encode(
      { event: EVENTS.validatedEvent, key: 'k', data: validated },
      'src',
      '',
    );
    const headers = m.headers as Record<string, string>;
    expect(headers.ce_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(Date.parse(headers.ce_time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(headers.ce_time)).toBeLessThanOrEqual(Date.now());
    expect(headers.ce_subject).toBeUndefined();
    const again = encode({ event: EVENTS.validatedEvent, key: 'k', data: validated }, 'src', '');
    expect((again.message.headers as Record<string, string>).ce_id).not.toBe(headers.ce_id);
  });

  it('sends the parsed payload: defaults applied, unknown keys dropped', () => {
    const data = { ...validated, extra: 'dropped' } as ValidatedEvent;
    const { message: m } = encode({ event: EVENTS.validatedEvent, key: 'k', data }, 'src', '');
    expect(JSON.parse(m.value as string)).toEqual(validated);
  });

  it('refuses an invalid payload with OutputSchemaError', () => {
    const data = { ...validated, entityId: '', via: 'mail' } as unknown as ValidatedEvent;
    let thrown: unknown;
    try {
      encode({ event: EVENTS.validatedEvent, key: 'k', data }, 'src', '');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OutputSchemaError);
    const e = thrown as OutputSchemaError;
    expect(e.name).toBe('OutputSchemaError');
    expect(e.eventType).toBe('dev.mlops.events.validated.v1');
    expect(e.issues).toEqual([
      {
        code: 'schema_mismatch',
        field: 'entityId',
        message: 'Too small: expected string to have >=1 characters',
      },
      {
        code: 'schema_mismatch',
        field: 'via',
        message: 'Invalid option: expected one of "rest"|"kafka"',
      },
    ]);
    expect(e.message).toBe(
      'refusing to produce an invalid dev.mlops.events.validated.v1: entityId Too small: expected string to have >=1 characters; via Invalid option: expected one of "rest"|"kafka"',
    );
  });

  it('skips validation when told to', () => {
    const data = { ...validated, entityId: '' };
    const { message: m } = encode(
      { event: EVENTS.validatedEvent, key: 'k', data },
      'src',
      '',
      false,
    );
    expect(JSON.parse(m.value as string)).toEqual(data);
  });

  it('sends to an explicit topic without adding the prefix', () => {
    const r = encode(
      { event: EVENTS.validatedEvent, topic: 'events.validated.v1.dlq', key: 'k', data: validated },
      'src',
      'p.',
    );
    expect(r.topic).toBe('events.validated.v1.dlq');
  });

  it('passes an OutgoingRecord through unchanged', () => {
    const tombstone: OutgoingRecord = {
      topic: 'p.data-quality.dedupe.changelog.v1',
      key: 'cards:e1',
      value: null,
    };
    expect(isOutgoingEvent(tombstone)).toBe(false);
    expect(encode(tombstone, 'src', 'p.')).toEqual({
      topic: 'p.data-quality.dedupe.changelog.v1',
      message: { key: 'cards:e1', value: null, headers: undefined },
    });
    const record: OutgoingRecord = {
      topic: 'x',
      key: 'k',
      value: Buffer.from([1, 2]),
      headers: { h: 'v' },
    };
    expect(encode(record, 'src', 'p.')).toEqual({
      topic: 'x',
      message: { key: 'k', value: Buffer.from([1, 2]), headers: { h: 'v' } },
    });
  });

  it('round-trips through decode', () => {
    const out = encode(
      {
        event: EVENTS.validatedEvent,
        key: 'cards:card-1',
        data: validated,
        attrs: { id: 'evt-rt', traceparent: TRACEPARENT },
      },
      '/services/ingestion',
      '',
    );
    const msg = message(Buffer.from(out.message.value as string), out.message.headers);
    const result = decode(EVENTS.validatedEvent, out.topic, 0, msg, 1024);
    expect(result.ok && result.event.data).toEqual(validated);
    expect(
      result.ok && [
        result.event.attrs.id,
        result.event.attrs.traceparent,
        result.event.attrs.source,
      ],
    ).toEqual(['evt-rt', TRACEPARENT, '/services/ingestion']);
  });
});

describe('deadLetterPayload', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const reasons = [{ code: 'not_json', message: 'value is not JSON' }];

  it('keeps a UTF-8 value as text, with key, headers, position and context', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-02-03T04:05:06.789Z'));
    const payload = deadLetterPayload(
      'data-quality',
      reasons,
      {
        topic: 'events.validated.v1',
        partition: 2,
        offset: '17',
        key: Buffer.from('cards:card-1'),
        headers: {
          ce_id: Buffer.from('evt-1'),
          rep: [Buffer.from('a'), Buffer.from('b')],
          gone: undefined,
          s: 'plain',
        },
        value: Buffer.from('{"amount": "zwölf"}'),
      },
      1024,
      { eventId: 'evt-1', dataset: 'cards' },
    );
    expect(payload).toEqual({
      stage: 'data-quality',
      reasons,
      dataset: 'cards',
      eventId: 'evt-1',
      rejectedAt: '2026-02-03T04:05:06.789Z',
      original: {
        topic: 'events.validated.v1',
        partition: 2,
        offset: '17',
        key: 'cards:card-1',
        headers: { ce_id: 'evt-1', rep: 'b', s: 'plain' },
        value: '{"amount": "zwölf"}',
        valueEncoding: 'utf8',
        valueBytes: Buffer.byteLength('{"amount": "zwölf"}'),
        truncated: false,
      },
    });
    expect(RejectedEvent.parse(payload)).toEqual(payload);
  });

  it('leaves out what it was not given', () => {
    const payload = deadLetterPayload(
      'ingestion',
      reasons,
      { topic: 't', key: null, value: null },
      10,
    );
    expect(payload.original).toEqual({
      topic: 't',
      key: null,
      headers: {},
      value: null,
      valueEncoding: 'utf8',
      valueBytes: 0,
      truncated: false,
    });
    expect(Object.keys(payload).sort()).toEqual(['original', 'reasons', 'rejectedAt', 'stage']);
  });

  it('base64-encodes a value that is not valid UTF-8', () => {
    const value = Buffer.from([0xff, 0xfe, 0x41]);
    const payload = deadLetterPayload('ingestion', reasons, { topic: 't', key: 'k', value }, 10);
    expect(payload.original).toMatchObject({
      key: 'k',
      value: '//5B',
      valueEncoding: 'base64',
      valueBytes: 3,
      truncated: false,
    });
    expect(Buffer.from(payload.original.value!, 'base64')).toEqual(value);
  });

  it('truncates to the limit and says so, with the full size in valueBytes', () => {
    const payload = deadLetterPayload(
      'ingestion',
      reasons,
      { topic: 't', key: null, value: Buffer.from('abcdefghij') },
      4,
    );
    expect(payload.original).toMatchObject({
      value: 'abcd',
      valueEncoding: 'utf8',
      valueBytes: 10,
      truncated: true,
    });
    const exact = deadLetterPayload(
      'ingestion',
      reasons,
      { topic: 't', key: null, value: Buffer.from('abcd') },
      4,
    );
    expect(exact.original).toMatchObject({ value: 'abcd', valueBytes: 4, truncated: false });
  });

  it('keeps the exact bytes (base64) when the cut falls inside a multi-byte character', () => {
    const payload = deadLetterPayload(
      'ingestion',
      reasons,
      { topic: 't', key: null, value: Buffer.from('aé') },
      2,
    );
    expect(payload.original).toMatchObject({
      value: 'YcM=',
      valueEncoding: 'base64',
      valueBytes: 3,
      truncated: true,
    });
  });
});
