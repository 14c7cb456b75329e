import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encode } from '@mlops/bus';
import { EVENTS, FeedbackEvent } from '@mlops/contracts';
import {
  checkFeedback,
  FEEDBACK_FIELDS,
  FEEDBACK_MEDIA_TYPES,
  feedbackId,
  planFeedback,
} from './feedback';
import { parseBody } from './parse-body';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function contentId(dataset: string, canonical: string): string {
  return `sha256:${createHash('sha256').update(`${dataset}\0${canonical}`).digest('hex').slice(0, 40)}`;
}

describe('checkFeedback: valid records', () => {
  it('takes a label by entity alone: requestId and eventTime default to null', () => {
    expect(checkFeedback('cards', { entityId: 'card-7', label: 1 }, 0)).toEqual({
      ok: true,
      data: { dataset: 'cards', entityId: 'card-7', requestId: null, label: 1, eventTime: null },
    });
  });

  it('takes every field, a string label, explicit nulls and the dataset of the path', () => {
    expect(
      checkFeedback(
        'cards',
        {
          id: 'cb-1',
          dataset: 'cards',
          entityId: 'card-7',
          requestId: 'req-1',
          label: 'fraud',
          eventTime: '2026-11-26T01:00:00Z',
        },
        0,
      ),
    ).toEqual({
      ok: true,
      id: 'cb-1',
      data: {
        dataset: 'cards',
        entityId: 'card-7',
        requestId: 'req-1',
        label: 'fraud',
        eventTime: '2026-11-26T01:00:00.000Z',
      },
    });
    const nulls = checkFeedback(
      'cards',
      { entityId: 'e', label: 0, requestId: null, eventTime: null, id: null, dataset: null },
      0,
    );
    expect(nulls).toEqual({
      ok: true,
      data: { dataset: 'cards', entityId: 'e', requestId: null, label: 0, eventTime: null },
    });
    expect(nulls.ok && 'id' in nulls).toBe(false);
  });

  it('types a numeric entity id as text, as /events does', () => {
    const r = checkFeedback('cards', { entityId: 42, label: 0.5 }, 0);
    expect(r.ok && r.data.entityId).toBe('42');
  });

  it('normalises eventTime to UTC', () => {
    const r = checkFeedback(
      'cards',
      { entityId: 'e', label: 1, eventTime: '2026-11-26T02:30:00.5+01:00' },
      0,
    );
    expect(r.ok && r.data.eventTime).toBe('2026-11-26T01:30:00.500Z');
  });

  it('produces payloads the contract accepts', () => {
    for (const record of [
      { entityId: 'e', label: -3.25 },
      { entityId: 'e', label: 'x'.repeat(256), requestId: 'r'.repeat(512) },
      { entityId: 'e'.repeat(512), label: 0, eventTime: '2026-01-01T00:00:00+05:30' },
    ]) {
      const r = checkFeedback('cards', record, 0);
      expect(r.ok, JSON.stringify(record).slice(0, 80)).toBe(true);
      expect(r.ok && FeedbackEvent.safeParse(r.data).success).toBe(true);
    }
  });
});

describe('checkFeedback: invalid records name the index, the field and a code', () => {
  const invalid: [string, unknown, { code: string; field?: string }[]][] = [
    ['not an object', 'label', [{ code: 'not_an_object' }]],
    ['an array', [{ entityId: 'e', label: 1 }], [{ code: 'not_an_object' }]],
    ['null', null, [{ code: 'not_an_object' }]],
    [
      'empty object',
      {},
      [
        { code: 'missing_required', field: 'entityId' },
        { code: 'missing_required', field: 'label' },
      ],
    ],
    ['no label', { entityId: 'e' }, [{ code: 'missing_required', field: 'label' }]],
    ['null label', { entityId: 'e', label: null }, [{ code: 'missing_required', field: 'label' }]],
    ['empty label', { entityId: 'e', label: '' }, [{ code: 'bad_label', field: 'label' }]],
    ['blank label', { entityId: 'e', label: '  ' }, [{ code: 'bad_label', field: 'label' }]],
    ['boolean label', { entityId: 'e', label: true }, [{ code: 'bad_label', field: 'label' }]],
    ['object label', { entityId: 'e', label: { v: 1 } }, [{ code: 'bad_label', field: 'label' }]],
    ['infinite label', { entityId: 'e', label: Infinity }, [{ code: 'bad_label', field: 'label' }]],
    [
      'long label',
      { entityId: 'e', label: 'x'.repeat(257) },
      [{ code: 'too_long', field: 'label' }],
    ],
    ['no entity', { label: 1 }, [{ code: 'missing_required', field: 'entityId' }]],
    ['empty entity', { entityId: '', label: 1 }, [{ code: 'wrong_type', field: 'entityId' }]],
    ['object entity', { entityId: {}, label: 1 }, [{ code: 'wrong_type', field: 'entityId' }]],
    [
      'long entity',
      { entityId: 'e'.repeat(513), label: 1 },
      [{ code: 'too_long', field: 'entityId' }],
    ],
    [
      'numeric requestId',
      { entityId: 'e', label: 1, requestId: 7 },
      [{ code: 'wrong_type', field: 'requestId' }],
    ],
    [
      'empty requestId',
      { entityId: 'e', label: 1, requestId: '' },
      [{ code: 'wrong_type', field: 'requestId' }],
    ],
    [
      'long requestId',
      { entityId: 'e', label: 1, requestId: 'r'.repeat(513) },
      [{ code: 'too_long', field: 'requestId' }],
    ],
    [
      'eventTime without offset',
      { entityId: 'e', label: 1, eventTime: '2026-01-01T10:00:00' },
      [{ code: 'bad_timestamp', field: 'eventTime' }],
    ],
    [
      'eventTime not a date',
      { entityId: 'e', label: 1, eventTime: 'yesterday' },
      [{ code: 'bad_timestamp', field: 'eventTime' }],
    ],
    [
      'eventTime on a day February lacks',
      { entityId: 'e', label: 1, eventTime: '2026-02-30T00:00:00Z' },
      [{ code: 'bad_timestamp', field: 'eventTime' }],
    ],
    [
      'eventTime as epoch',
      { entityId: 'e', label: 1, eventTime: 1767225600000 },
      [{ code: 'bad_timestamp', field: 'eventTime' }],
    ],
    ['empty id', { entityId: 'e', label: 1, id: '' }, [{ code: 'wrong_type', field: 'id' }]],
    ['numeric id', { entityId: 'e', label: 1, id: 3 }, [{ code: 'wrong_type', field: 'id' }]],
    [
      'long id',
      { entityId: 'e', label: 1, id: 'i'.repeat(257) },
      [{ code: 'too_long', field: 'id' }],
    ],
    [
      'another dataset',
      { entityId: 'e', label: 1, dataset: 'loans' },
      [{ code: 'wrong_dataset', field: 'dataset' }],
    ],
    [
      'a typo',
      { entityId: 'e', label: 1, request_id: 'r' },
      [{ code: 'unknown_field', field: 'request_id' }],
    ],
  ];

  it.each(invalid)('%s', (_name, record, expected) => {
    const r = checkFeedback('cards', record, 4);
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.map(({ code, field }) => (field ? { code, field } : { code }))).toEqual(
      expected,
    );
    for (const p of problems) {
      expect(p.index).toBe(4);
      expect(p.message.length).toBeGreaterThan(0);
    }
  });

  it('lists the accepted fields in an unknown field message', () => {
    const r = checkFeedback('cards', { entityId: 'e', label: 1, score: 0.3 }, 0);
    expect(!r.ok && r.problems[0].message).toBe(
      `field "score" is not one of ${FEEDBACK_FIELDS.join(', ')}`,
    );
  });
});

describe('feedbackId', () => {
  const data: FeedbackEvent = {
    dataset: 'cards',
    entityId: 'card-7',
    requestId: null,
    label: 1,
    eventTime: null,
  };

  it("keeps the client's id", () => {
    expect(feedbackId(data, 'cb-1')).toBe('cb-1');
  });

  it('derives a content id otherwise: same label, same id; another label, another id', () => {
    expect(feedbackId(data)).toBe(
      contentId(
        'cards',
        '{"dataset":"cards","entityId":"card-7","eventTime":null,"label":1,"requestId":null}',
      ),
    );
    expect(feedbackId({ ...data })).toBe(feedbackId(data));
    expect(feedbackId({ ...data, label: 0 })).not.toBe(feedbackId(data));
    expect(feedbackId({ ...data, requestId: 'r' })).not.toBe(feedbackId(data));
    expect(feedbackId({ ...data, dataset: 'loans' })).not.toBe(feedbackId(data));
  });
});

describe('planFeedback', () => {
  const rows = [
    { record: { entityId: 'card-1', label: 1, requestId: 'req-1', id: 'cb-1' } },
    { record: { entityId: 'card-2', label: 'legit', eventTime: '2026-11-26T01:00:00Z' } },
    { record: { entityId: 3, label: 0 }, traceparent: TRACEPARENT },
  ];

  it('builds one feedback.v1 event per row, keyed dataset:entityId, with its id', () => {
    const plan = planFeedback('cards', rows);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.outputs.map((o) => [o.event, o.key, o.attrs?.id, o.attrs?.subject])).toEqual([
      [EVENTS.feedback, 'cards:card-1', 'cb-1', 'cards'],
      [EVENTS.feedback, 'cards:card-2', plan.results[1].id, 'cards'],
      [EVENTS.feedback, 'cards:3', plan.results[2].id, 'cards'],
    ]);
    expect(plan.outputs.map((o) => o.data)).toEqual([
      { dataset: 'cards', entityId: 'card-1', requestId: 'req-1', label: 1, eventTime: null },
      {
        dataset: 'cards',
        entityId: 'card-2',
        requestId: null,
        label: 'legit',
        eventTime: '2026-11-26T01:00:00.000Z',
      },
      { dataset: 'cards', entityId: '3', requestId: null, label: 0, eventTime: null },
    ]);
    expect(plan.results).toEqual([
      { index: 0, id: 'cb-1', status: 'accepted' },
      { index: 1, id: expect.stringMatching(/^sha256:[0-9a-f]{40}$/), status: 'accepted' },
      { index: 2, id: expect.stringMatching(/^sha256:[0-9a-f]{40}$/), status: 'accepted' },
    ]);
    expect(plan.outputs[2].attrs?.traceparent).toBe(TRACEPARENT);
    expect(plan.outputs[0].attrs?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // The same body again gives the same ids: a retry is recognisable downstream.
    const again = planFeedback('cards', rows);
    expect(again.ok && again.results.map((r) => r.id)).toEqual(plan.results.map((r) => r.id));
  });

  it('encodes with the feedback CloudEvents type, the payload as the value', () => {
    const plan = planFeedback('cards', rows.slice(0, 1));
    if (!plan.ok) throw new Error('plan refused');
    const { topic, message } = encode(plan.outputs[0], 'ingestion', 'p.');
    expect(topic).toBe('p.feedback.v1');
    expect(message.headers?.ce_type).toBe('dev.mlops.feedback.v1');
    expect(message.headers?.ce_id).toBe('cb-1');
    expect(message.key).toBe('cards:card-1');
    expect(JSON.parse(String(message.value))).toEqual(plan.outputs[0].data);
  });

  it('refuses the whole batch when any row is invalid, with every problem by index', () => {
    const plan = planFeedback('cards', [
      rows[0],
      { record: { entityId: 'card-9', label: '' } },
      rows[1],
      { record: { label: 1, extra: true } },
    ]);
    expect(plan).toEqual({
      ok: false,
      problems: [
        expect.objectContaining({ index: 1, code: 'bad_label', field: 'label' }),
        expect.objectContaining({ index: 3, code: 'unknown_field', field: 'extra' }),
        expect.objectContaining({ index: 3, code: 'missing_required', field: 'entityId' }),
      ],
    });
    expect('outputs' in plan).toBe(false);
  });
});

describe('parseBody for feedback', () => {
  const body = (text: string) => Buffer.from(text, 'utf8');

  it('takes one record, an array and NDJSON', () => {
    for (const [type, text] of [
      ['application/json', '{"entityId":"e","label":1}'],
      ['application/json', '[{"entityId":"e","label":1}]'],
      ['application/x-ndjson', '{"entityId":"e","label":1}\n'],
      ['application/jsonl', '{"entityId":"e","label":1}'],
    ]) {
      expect(parseBody(type, body(text), 10, FEEDBACK_MEDIA_TYPES), type).toEqual({
        ok: true,
        rows: [{ record: { entityId: 'e', label: 1 } }],
      });
    }
  });

  it('refuses CloudEvents bodies with a 415 naming the accepted types', () => {
    for (const type of ['application/cloudevents+json', 'application/cloudevents-batch+json']) {
      expect(parseBody(type, body('{}'), 10, FEEDBACK_MEDIA_TYPES)).toEqual({
        ok: false,
        status: 415,
        code: 'unsupported_media_type',
        message:
          'content type must be one of application/json, application/x-ndjson, application/jsonl',
      });
    }
  });
});
