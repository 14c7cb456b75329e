import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CE_HEADERS,
  canonicalJson,
  contentEventId,
  fromKafkaHeaders,
  headerString,
  newEventId,
  newTraceparent,
  toKafkaHeaders,
  traceIdOf,
  type EnvelopeAttributes,
  type KafkaHeaders,
} from './envelope';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function attrs(overrides: Partial<EnvelopeAttributes> = {}): EnvelopeAttributes {
  return {
    id: 'evt-1',
    type: 'dev.mlops.events.validated.v1',
    source: '/services/ingestion',
    time: '2026-01-01T00:00:00.000Z',
    specversion: '1.0',
    datacontenttype: 'application/json',
    ...overrides,
  };
}

/** Headers as kafkajs hands them to a consumer: every value a Buffer. */
function asBuffers(headers: Record<string, string>): KafkaHeaders {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('toKafkaHeaders', () => {
  it('writes the CloudEvents binary-mode headers, optional ones only when set', () => {
    expect(toKafkaHeaders(attrs())).toEqual({
      ce_id: 'evt-1',
      ce_type: 'dev.mlops.events.validated.v1',
      ce_source: '/services/ingestion',
      ce_time: '2026-01-01T00:00:00.000Z',
      ce_specversion: '1.0',
      'content-type': 'application/json',
    });
    expect(toKafkaHeaders(attrs({ subject: 'cards', traceparent: TRACEPARENT }))).toEqual({
      ce_id: 'evt-1',
      ce_type: 'dev.mlops.events.validated.v1',
      ce_source: '/services/ingestion',
      ce_time: '2026-01-01T00:00:00.000Z',
      ce_specversion: '1.0',
      'content-type': 'application/json',
      ce_subject: 'cards',
      traceparent: TRACEPARENT,
    });
  });
});

describe('header round trip', () => {
  it('returns the same attributes from string headers', () => {
    const full = attrs({ subject: 'cards', traceparent: TRACEPARENT });
    expect(fromKafkaHeaders(toKafkaHeaders(full))).toEqual({ ok: true, attrs: full });
  });

  it('returns the same attributes from Buffer headers, as kafkajs gives them', () => {
    const full = attrs({ subject: 'cärds-ü', traceparent: TRACEPARENT });
    expect(fromKafkaHeaders(asBuffers(toKafkaHeaders(full)))).toEqual({ ok: true, attrs: full });
  });

  it('leaves subject and traceparent out when they were not sent', () => {
    const result = fromKafkaHeaders(asBuffers(toKafkaHeaders(attrs())));
    expect(result).toEqual({ ok: true, attrs: attrs() });
    expect(result.ok && Object.keys(result.attrs).sort()).toEqual([
      'datacontenttype',
      'id',
      'source',
      'specversion',
      'time',
      'type',
    ]);
  });

  it('defaults a missing time to the epoch and a missing content type to JSON', () => {
    const headers = toKafkaHeaders(attrs());
    delete headers[CE_HEADERS.time];
    delete headers[CE_HEADERS.contentType];
    expect(fromKafkaHeaders(headers)).toEqual({
      ok: true,
      attrs: attrs({ time: '1970-01-01T00:00:00.000Z', datacontenttype: 'application/json' }),
    });
  });

  it('accepts a JSON content type with parameters', () => {
    const headers = {
      ...toKafkaHeaders(attrs()),
      'content-type': 'application/json; charset=utf-8',
    };
    expect(fromKafkaHeaders(headers)).toEqual({
      ok: true,
      attrs: attrs({ datacontenttype: 'application/json; charset=utf-8' }),
    });
  });
});

describe('headerString', () => {
  it('reads strings and Buffers', () => {
    expect(headerString({ a: 'x' }, 'a')).toBe('x');
    expect(headerString({ a: Buffer.from('ÿes', 'utf8') }, 'a')).toBe('ÿes');
  });

  it('takes the last value of a repeated header (array)', () => {
    const headers: KafkaHeaders = { ce_id: [Buffer.from('first'), 'second', Buffer.from('third')] };
    expect(headerString(headers, 'ce_id')).toBe('third');
    const full = {
      ...asBuffers(toKafkaHeaders(attrs())),
      ce_id: [Buffer.from('old'), Buffer.from('new')],
    };
    expect(fromKafkaHeaders(full)).toEqual({ ok: true, attrs: attrs({ id: 'new' }) });
  });

  it('is undefined for absent headers, an empty array, null and no headers at all', () => {
    expect(headerString({}, 'a')).toBeUndefined();
    expect(headerString({ a: [] }, 'a')).toBeUndefined();
    expect(headerString({ a: null as unknown as undefined }, 'a')).toBeUndefined();
    expect(headerString(undefined, 'a')).toBeUndefined();
  });
});

describe('fromKafkaHeaders problems', () => {
  it.each(['ce_id', 'ce_type', 'ce_source', 'ce_specversion'])(
    'missing_header when %s is absent',
    (name) => {
      const headers: KafkaHeaders = asBuffers(toKafkaHeaders(attrs()));
      delete headers[name];
      expect(fromKafkaHeaders(headers)).toEqual({
        ok: false,
        problem: { code: 'missing_header', header: name },
      });
    },
  );

  it.each(['ce_id', 'ce_type', 'ce_source', 'ce_specversion'])(
    'missing_header when %s is empty',
    (name) => {
      const headers: KafkaHeaders = { ...toKafkaHeaders(attrs()), [name]: Buffer.alloc(0) };
      expect(fromKafkaHeaders(headers)).toEqual({
        ok: false,
        problem: { code: 'missing_header', header: name },
      });
    },
  );

  it('reports the first missing header in id, type, source, specversion order', () => {
    expect(fromKafkaHeaders({})).toEqual({
      ok: false,
      problem: { code: 'missing_header', header: 'ce_id' },
    });
    expect(fromKafkaHeaders(undefined)).toEqual({
      ok: false,
      problem: { code: 'missing_header', header: 'ce_id' },
    });
    expect(fromKafkaHeaders({ ce_id: 'x', ce_specversion: '1.0' })).toEqual({
      ok: false,
      problem: { code: 'missing_header', header: 'ce_type' },
    });
  });

  it('bad_specversion for anything but 1.0', () => {
    const headers = { ...toKafkaHeaders(attrs()), ce_specversion: Buffer.from('0.3') };
    expect(fromKafkaHeaders(headers)).toEqual({
      ok: false,
      problem: { code: 'bad_specversion', value: '0.3' },
    });
  });

  it('bad_time for an unparseable time', () => {
    const headers = { ...toKafkaHeaders(attrs()), ce_time: 'yesterday-ish' };
    expect(fromKafkaHeaders(headers)).toEqual({
      ok: false,
      problem: { code: 'bad_time', value: 'yesterday-ish' },
    });
  });

  it('bad_content_type for a non-JSON payload', () => {
    const headers = { ...toKafkaHeaders(attrs()), 'content-type': 'application/avro' };
    expect(fromKafkaHeaders(headers)).toEqual({
      ok: false,
      problem: { code: 'bad_content_type', value: 'application/avro' },
    });
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, so key order does not change the text', () => {
    const a = { b: 1, a: { z: [{ y: 2, x: 1 }, 3], c: null }, arr: [{ k2: 'v', k1: true }] };
    const b = { arr: [{ k1: true, k2: 'v' }], a: { c: null, z: [{ x: 1, y: 2 }, 3] }, b: 1 };
    expect(canonicalJson(a)).toBe(
      '{"a":{"c":null,"z":[{"x":1,"y":2},3]},"arr":[{"k1":true,"k2":"v"}],"b":1}',
    );
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('keeps array order (it is content)', () => {
    expect(canonicalJson([2, 1])).toBe('[2,1]');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('writes scalars as JSON does', () => {
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe('contentEventId', () => {
  it('is sha256 of dataset, NUL, canonical JSON, cut to 40 hex digits', () => {
    const json = canonicalJson({ b: 2, a: 1 });
    expect(contentEventId('cards', json)).toBe(
      `sha256:${sha('cards\0{"a":1,"b":2}').slice(0, 40)}`,
    );
    expect(contentEventId('cards', json)).toMatch(/^sha256:[0-9a-f]{40}$/);
  });

  it('is deterministic and independent of key order', () => {
    expect(contentEventId('cards', canonicalJson({ a: 1, b: { d: 1, c: 2 } }))).toBe(
      contentEventId('cards', canonicalJson({ b: { c: 2, d: 1 }, a: 1 })),
    );
  });

  it('depends on the dataset and on the content', () => {
    const json = canonicalJson({ a: 1 });
    expect(contentEventId('cards', json)).not.toBe(contentEventId('loans', json));
    expect(contentEventId('cards', json)).not.toBe(
      contentEventId('cards', canonicalJson({ a: 2 })),
    );
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    expect(contentEventId('ab', 'c')).not.toBe(contentEventId('a', 'bc'));
  });
});

describe('traceIdOf and ids', () => {
  it('extracts the trace id of a W3C traceparent', () => {
    expect(traceIdOf(TRACEPARENT)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it.each([
    undefined,
    '',
    '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    `${TRACEPARENT}-extra`,
    'not a traceparent',
  ])('is undefined for %j', (value) => {
    expect(traceIdOf(value)).toBeUndefined();
  });

  it('new traceparents are version 00, sampled, and distinct', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(traceIdOf(a)).toBe(a.slice(3, 35));
    expect(a).not.toBe(b);
  });

  it('new event ids are distinct UUIDs', () => {
    const id = newEventId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newEventId()).not.toBe(id);
  });
});
