import { describe, expect, it } from 'vitest';
import { ACCEPTED_MEDIA_TYPES, MAX_DEPTH, parseBody } from './parse-body';

const body = (text: string) => Buffer.from(text, 'utf8');
const ce = (overrides: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'evt-1',
  source: '/pos/terminal-7',
  type: 'com.example.card.tx',
  data: { card_id: 'c1', amount: 3 },
  ...overrides,
});

describe('parseBody: content types', () => {
  it('application/json: one record', () => {
    expect(parseBody('application/json', body('{"a":1}'), 10)).toEqual({
      ok: true,
      rows: [{ record: { a: 1 } }],
    });
  });

  it('application/json: an array of records', () => {
    expect(parseBody('application/json', body('[{"a":1},{"a":2}]'), 10)).toEqual({
      ok: true,
      rows: [{ record: { a: 1 } }, { record: { a: 2 } }],
    });
  });

  it('application/json: an empty array is zero rows', () => {
    expect(parseBody('application/json', body('[]'), 10)).toEqual({ ok: true, rows: [] });
  });

  it('ignores parameters and case in the content type', () => {
    expect(parseBody('Application/JSON; charset=utf-8', body('{"a":1}'), 10)).toEqual({
      ok: true,
      rows: [{ record: { a: 1 } }],
    });
    expect(parseBody(' application/x-ndjson ;charset=utf-8', body('{"a":1}'), 10)).toEqual({
      ok: true,
      rows: [{ record: { a: 1 } }],
    });
  });

  it.each(['application/x-ndjson', 'application/jsonl'])(
    '%s: one record per line, blank lines and CRLF allowed',
    (type) => {
      const text = '{"a":1}\r\n\n   \n{"a":2}\n\t\n{"a":3}\n';
      expect(parseBody(type, body(text), 10)).toEqual({
        ok: true,
        rows: [{ record: { a: 1 } }, { record: { a: 2 } }, { record: { a: 3 } }],
      });
    },
  );

  it('application/cloudevents+json: one structured event, its id, source and traceparent kept', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(
      parseBody('application/cloudevents+json', body(JSON.stringify(ce({ traceparent }))), 10),
    ).toEqual({
      ok: true,
      rows: [
        {
          record: { card_id: 'c1', amount: 3 },
          id: 'evt-1',
          source: '/pos/terminal-7',
          traceparent,
        },
      ],
    });
  });

  it('application/cloudevents+json: no traceparent key when none or not a string', () => {
    const result = parseBody(
      'application/cloudevents+json',
      body(JSON.stringify(ce({ traceparent: 5 }))),
      10,
    );
    expect(result).toEqual({
      ok: true,
      rows: [{ record: { card_id: 'c1', amount: 3 }, id: 'evt-1', source: '/pos/terminal-7' }],
    });
    expect(result.ok && Object.keys(result.rows[0])).toEqual(['record', 'id', 'source']);
  });

  it('application/cloudevents-batch+json: an array of structured events', () => {
    const events = [
      ce(),
      ce({
        id: 'evt-2',
        data: { card_id: 'c2' },
        datacontenttype: 'application/json; charset=utf-8',
      }),
    ];
    expect(
      parseBody('application/cloudevents-batch+json', body(JSON.stringify(events)), 10),
    ).toEqual({
      ok: true,
      rows: [
        { record: { card_id: 'c1', amount: 3 }, id: 'evt-1', source: '/pos/terminal-7' },
        { record: { card_id: 'c2' }, id: 'evt-2', source: '/pos/terminal-7' },
      ],
    });
  });

  it('cuts a long source to 512 characters', () => {
    const result = parseBody(
      'application/cloudevents+json',
      body(JSON.stringify(ce({ source: 's'.repeat(600) }))),
      10,
    );
    expect(result.ok && result.rows[0].source).toBe('s'.repeat(512));
  });

  it('lists the accepted media types', () => {
    expect(ACCEPTED_MEDIA_TYPES).toEqual([
      'application/json',
      'application/x-ndjson',
      'application/jsonl',
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
    ]);
  });

  it.each([
    undefined,
    '',
    'text/plain',
    'application/xml',
    'application/json-patch+json',
    'multipart/form-data; boundary=x',
  ])('415 for content type %j', (type) => {
    expect(parseBody(type, body('{"a":1}'), 10)).toEqual({
      ok: false,
      status: 415,
      code: 'unsupported_media_type',
      message:
        'content type must be one of application/json, application/x-ndjson, application/jsonl, application/cloudevents+json, application/cloudevents-batch+json',
    });
  });

  it('415 takes precedence over an empty body', () => {
    expect(parseBody('text/csv', body(''), 10)).toMatchObject({ ok: false, status: 415 });
  });
});

describe('parseBody: malformed bodies', () => {
  it.each(ACCEPTED_MEDIA_TYPES)('400 empty_body for an empty or blank body (%s)', (type) => {
    for (const text of ['', ' \n\t\r\n ']) {
      expect(parseBody(type, body(text), 10)).toEqual({
        ok: false,
        status: 400,
        code: 'empty_body',
        message: 'the body is empty',
      });
    }
  });

  it('400 malformed_json for a body that does not parse', () => {
    const result = parseBody('application/json', body('{"a":'), 10);
    expect(result).toMatchObject({ ok: false, status: 400, code: 'malformed_json' });
    expect(!result.ok && result.message).toMatch(/^the body is not valid JSON: /);
  });

  it('NDJSON: a bad line is refused and the message names its line number (blank lines counted)', () => {
    const text = '{"a":1}\n\n{"a":2}\n{"a":\n{"a":4}';
    const result = parseBody('application/x-ndjson', body(text), 10);
    expect(result).toMatchObject({ ok: false, status: 400, code: 'malformed_json' });
    expect(!result.ok && result.message).toMatch(/^line 4 is not valid JSON: /);
  });

  it('NDJSON: a line may not hold two records', () => {
    const result = parseBody('application/x-ndjson', body('{"a":1}\n{"a":2} {"a":3}'), 10);
    expect(!result.ok && [result.status, result.code]).toEqual([400, 'malformed_json']);
    expect(!result.ok && result.message).toMatch(/^line 2 is not valid JSON/);
  });
});

describe('parseBody: row limits', () => {
  const records = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

  it('413 for a JSON array above the limit, fine at the limit', () => {
    expect(parseBody('application/json', body(JSON.stringify(records(3))), 3)).toMatchObject({
      ok: true,
    });
    expect(parseBody('application/json', body(JSON.stringify(records(4))), 3)).toEqual({
      ok: false,
      status: 413,
      code: 'too_many_rows',
      message: '4 rows exceed the limit of 3 per request',
    });
  });

  it('413 for NDJSON above the limit, counting only non-blank lines', () => {
    const lines = (n: number) =>
      records(n)
        .map((r) => JSON.stringify(r))
        .join('\n\n');
    const atLimit = parseBody('application/x-ndjson', body(lines(3) + '\n\n\n'), 3);
    expect(atLimit.ok && atLimit.rows).toHaveLength(3);
    expect(parseBody('application/x-ndjson', body(lines(5)), 3)).toEqual({
      ok: false,
      status: 413,
      code: 'too_many_rows',
      message: '5 rows exceed the limit of 3 per request',
    });
  });

  it('413 for a CloudEvents batch above the limit', () => {
    const events = [1, 2, 3].map((i) => ce({ id: `e${i}` }));
    expect(
      parseBody('application/cloudevents-batch+json', body(JSON.stringify(events)), 3),
    ).toMatchObject({ ok: true });
    expect(
      parseBody('application/cloudevents-batch+json', body(JSON.stringify(events)), 2),
    ).toEqual({
      ok: false,
      status: 413,
      code: 'too_many_rows',
      message: '3 rows exceed the limit of 2 per request',
    });
  });
});

describe('parseBody: nesting depth', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it(`refuses a 10,000-deep array bomb without a stack overflow`, () => {
    for (const type of [
      'application/json',
      'application/x-ndjson',
      'application/cloudevents-batch+json',
    ]) {
      expect(parseBody(type, body('['.repeat(10_000)), 10)).toMatchObject({
        ok: false,
        status: 400,
        code: 'malformed_json',
      });
    }
    const result = parseBody('application/json', body(`{"a":${nested(10_000)}}`), 10);
    expect(result).toEqual({
      ok: false,
      status: 400,
      code: 'malformed_json',
      message: `the body nests deeper than ${MAX_DEPTH} levels`,
    });
  });

  it('NDJSON names the line of a deep record', () => {
    const result = parseBody('application/x-ndjson', body(`{"a":1}\n${nested(40)}`), 10);
    expect(result).toEqual({
      ok: false,
      status: 400,
      code: 'malformed_json',
      message: `line 2 nests deeper than ${MAX_DEPTH} levels`,
    });
  });

  it(`accepts exactly ${MAX_DEPTH} levels and refuses ${MAX_DEPTH + 1}`, () => {
    expect(MAX_DEPTH).toBe(32);
    const ok = parseBody('application/json', body(`{"a":${nested(MAX_DEPTH - 1)}}`), 10);
    expect(ok.ok).toBe(true);
    expect(parseBody('application/json', body(`{"a":${nested(MAX_DEPTH)}}`), 10)).toMatchObject({
      ok: false,
      code: 'malformed_json',
    });
    // Siblings do not add up: depth is nesting, not the number of brackets.
    const wide = `[${Array.from({ length: 100 }, () => nested(MAX_DEPTH - 1)).join(',')}]`;
    expect(parseBody('application/json', body(wide), 1000)).toMatchObject({ ok: true });
  });

  it('does not count brackets inside strings, including after escaped quotes and backslashes', () => {
    const text = JSON.stringify({
      a: '['.repeat(1000),
      b: `\\"${'{'.repeat(100)}`,
      c: `\\\\`,
      d: '[[',
    });
    const result = parseBody('application/json', body(text), 10);
    expect(result).toEqual({
      ok: true,
      rows: [{ record: { a: '['.repeat(1000), b: `\\"${'{'.repeat(100)}`, c: '\\\\', d: '[[' } }],
    });
    // An escaped backslash right before a closing quote ends the string: the brackets after it count.
    const after = `{"s":"x\\\\", "t":${nested(40)}}`;
    expect(JSON.parse(after.replace(nested(40), '0'))).toEqual({ s: 'x\\', t: 0 });
    expect(parseBody('application/json', body(after), 10)).toMatchObject({
      ok: false,
      code: 'malformed_json',
    });
  });
});

describe('parseBody: CloudEvents validation', () => {
  const one = (event: unknown) =>
    parseBody('application/cloudevents+json', body(JSON.stringify(event)), 10);
  const invalid = (message: string) => ({
    ok: false,
    status: 400,
    code: 'invalid_cloudevent',
    message,
  });

  it.each([
    [{ specversion: '0.3' }, 'event 0: specversion must be "1.0"'],
    [{ specversion: 1 }, 'event 0: specversion must be "1.0"'],
    [{ specversion: undefined }, 'event 0: specversion must be "1.0"'],
    [{ id: '' }, 'event 0: id must be a string of 1 to 256 characters'],
    [{ id: 'x'.repeat(257) }, 'event 0: id must be a string of 1 to 256 characters'],
    [{ id: 42 }, 'event 0: id must be a string of 1 to 256 characters'],
    [{ id: undefined }, 'event 0: id must be a string of 1 to 256 characters'],
    [{ source: '' }, 'event 0: source is required'],
    [{ source: undefined }, 'event 0: source is required'],
    [{ source: 7 }, 'event 0: source is required'],
    [{ datacontenttype: 'application/xml' }, 'event 0: only application/json data is accepted'],
    [{ datacontenttype: 'text/plain' }, 'event 0: only application/json data is accepted'],
  ])('refuses %j', (overrides, message) => {
    expect(one(ce(overrides))).toEqual(invalid(message));
  });

  it('accepts an id of exactly 256 characters', () => {
    expect(one(ce({ id: 'x'.repeat(256) }))).toMatchObject({
      ok: true,
      rows: [{ id: 'x'.repeat(256) }],
    });
  });

  it('refuses a non-object event', () => {
    expect(one([ce()])).toEqual(invalid('event 0 is not a JSON object'));
    expect(one('evt')).toEqual(invalid('event 0 is not a JSON object'));
    expect(one(null)).toEqual(invalid('event 0 is not a JSON object'));
  });

  it('a batch must be an array, and names the index of its first bad event', () => {
    const batch = (v: unknown) =>
      parseBody('application/cloudevents-batch+json', body(JSON.stringify(v)), 10);
    expect(batch(ce())).toEqual(invalid('a CloudEvents batch is a JSON array'));
    expect(batch([ce(), ce({ id: 'e2' }), ce({ specversion: '2.0' }), 5])).toEqual(
      invalid('event 2: specversion must be "1.0"'),
    );
    expect(batch([ce(), 5])).toEqual(invalid('event 1 is not a JSON object'));
  });

  it('an event without data gives an undefined record', () => {
    const { data: _data, ...noData } = ce();
    expect(one(noData)).toEqual({
      ok: true,
      rows: [{ record: undefined, id: 'evt-1', source: '/pos/terminal-7' }],
    });
  });
});
