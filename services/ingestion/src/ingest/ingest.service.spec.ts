import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encode, type OutgoingEvent } from '@mlops/bus';
import { EVENTS, RejectedEvent, ValidatedEvent } from '@mlops/contracts';
import { cardRecord, cardSpec, invalidCardRecord } from '@mlops/testing';
import { planIngest, rowId } from './ingest.service';
import type { IncomingRow } from './parse-body';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const NOW = new Date('2026-03-04T05:06:07.089Z');
const ORIGIN = 'rest:/v1/datasets/cards/events';

/** The content id computed independently: sha256 over dataset, NUL and sorted-key JSON. */
function contentId(dataset: string, canonical: string): string {
  return `sha256:${createHash('sha256').update(`${dataset}\0${canonical}`).digest('hex').slice(0, 40)}`;
}

describe('rowId', () => {
  it("keeps the producer's id", () => {
    expect(rowId('cards', { record: { a: 1 }, id: 'producer-7' })).toBe('producer-7');
  });

  it('derives a content id otherwise, independent of key order', () => {
    expect(rowId('cards', { record: { b: [1, { y: 1, x: 2 }], a: 'z' } })).toBe(
      contentId('cards', '{"a":"z","b":[1,{"x":2,"y":1}]}'),
    );
    expect(rowId('cards', { record: { a: 'z', b: [1, { x: 2, y: 1 }] } })).toBe(
      rowId('cards', { record: { b: [1, { y: 1, x: 2 }], a: 'z' } }),
    );
  });

  it('is stable for the same content and differs by dataset and by content', () => {
    const record = cardRecord(5);
    const id = rowId('cards', { record });
    expect(id).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(rowId('cards', { record: { ...record } })).toBe(id);
    expect(rowId('loans', { record })).not.toBe(id);
    expect(rowId('cards', { record: { ...record, amount: 1 } })).not.toBe(id);
    expect(rowId('cards', { record: cardRecord(6) })).not.toBe(id);
  });

  it('gives a row without a record an id too', () => {
    expect(rowId('cards', { record: undefined })).toBe(contentId('cards', 'null'));
    expect(rowId('cards', { record: null })).toBe(contentId('cards', 'null'));
  });
});

describe('planIngest', () => {
  const spec = cardSpec();

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:08.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const rows: IncomingRow[] = [
    { record: cardRecord(1), id: 'producer-1', source: '/pos/1', traceparent: TRACEPARENT },
    { record: { ...cardRecord(2), amount: '12.50', ts: '2026-01-01T01:00:00+01:00' } },
    { record: invalidCardRecord(0).record },
    { record: 'not an object', id: 'p-3', traceparent: TRACEPARENT },
    { record: { ...cardRecord(4), hour: 'noon', merchant_category: 'casino', extra: true } },
  ];

  it('counts accepted and rejected rows and reports each with its id', () => {
    const plan = planIngest(spec, rows, 'rest', ORIGIN, 'rest:anonymous', NOW);
    expect(plan.accepted).toBe(2);
    expect(plan.rejected).toBe(3);
    expect(plan.outputs).toHaveLength(5);
    expect(plan.results).toEqual([
      { index: 0, id: 'producer-1', status: 'accepted' },
      { index: 1, id: rowId('cards', rows[1]), status: 'accepted' },
      {
        index: 2,
        id: rowId('cards', rows[2]),
        status: 'rejected',
        reasons: [
          { code: 'out_of_range', field: 'amount', message: 'amount=-5 is outside [0, 1000000]' },
        ],
      },
      {
        index: 3,
        id: 'p-3',
        status: 'rejected',
        reasons: [{ code: 'not_an_object', message: 'a record must be a JSON object' }],
      },
      {
        index: 4,
        id: rowId('cards', rows[4]),
        status: 'rejected',
        reasons: [
          { code: 'wrong_type', field: 'hour', message: 'hour must be a number' },
          {
            code: 'not_in_enum',
            field: 'merchant_category',
            message: 'merchant_category="casino" is not one of the allowed values',
          },
          { code: 'unknown_field', field: 'extra', message: 'field "extra" is not in the spec' },
        ],
      },
    ]);
  });

  it('emits a typed validated event keyed by dataset:entityId, keeping the producer id and trace', () => {
    const plan = planIngest(spec, rows, 'rest', ORIGIN, 'rest:anonymous', NOW);
    expect((plan.outputs[1] as OutgoingEvent).data).toMatchObject({ source: 'rest:anonymous' });
    expect(plan.outputs[0]).toEqual({
      event: EVENTS.validatedEvent,
      key: 'cards:card-1',
      attrs: { id: 'producer-1', traceparent: TRACEPARENT, subject: 'cards' },
      data: {
        dataset: 'cards',
        specVersion: 1,
        entityId: 'card-1',
        record: {
          card_id: 'card-1',
          amount: 79.2,
          hour: 1,
          merchant_category: 'travel',
          country: 'DE',
          memo: 'purchase 1',
          ts: '2026-01-01T00:00:01.000Z',
          is_fraud: 0,
        },
        ingestedAt: '2026-03-04T05:06:07.089Z',
        via: 'rest',
        // The row's own source (a CloudEvent's); rows without one get the caller's.
        source: '/pos/1',
      },
    });
  });

  it('derives the id of a plain record from its content, and types its values', () => {
    const out = planIngest(spec, rows, 'kafka', ORIGIN, 'kafka:raw', NOW)
      .outputs[1] as OutgoingEvent;
    const expectedId = contentId(
      'cards',
      JSON.stringify(Object.fromEntries(Object.entries(rows[1].record as object).sort())),
    );
    expect(out.event).toBe(EVENTS.validatedEvent);
    expect(out.key).toBe('cards:card-2');
    expect(out.attrs?.id).toBe(expectedId);
    expect(out.attrs?.subject).toBe('cards');
    expect(out.attrs?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect((out.data as ValidatedEvent).via).toBe('kafka');
    expect((out.data as ValidatedEvent).record).toMatchObject({
      amount: 12.5,
      ts: '2026-01-01T00:00:00.000Z',
    });
  });

  it('gives the same ids when the same rows are planned again (a retried request)', () => {
    const first = planIngest(spec, rows, 'rest', ORIGIN, 'rest:anonymous', NOW);
    const again = planIngest(
      spec,
      rows.map((r) => ({ ...r, record: structuredClone(r.record) })),
      'rest',
      ORIGIN,
      'rest:anonymous',
      NOW,
    );
    expect(again.results.map((r) => r.id)).toEqual(first.results.map((r) => r.id));
    expect(again.outputs.map((o) => (o as OutgoingEvent).key)).toEqual(
      first.outputs.map((o) => (o as OutgoingEvent).key),
    );
  });

  it('dead-letters a rejected row with its reasons, dataset, id and the original record', () => {
    const plan = planIngest(spec, rows, 'rest', ORIGIN, 'rest:anonymous', NOW);
    const record = invalidCardRecord(0).record;
    const id = rowId('cards', rows[2]);
    const out = plan.outputs[2] as OutgoingEvent;
    expect(out.event).toBe(EVENTS.rejectedEvent);
    expect(out.key).toBe(`cards:${id}`);
    expect(out.attrs).toEqual({
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
      subject: 'cards',
    });
    expect(out.data).toEqual({
      stage: 'ingestion',
      reasons: [
        { code: 'out_of_range', field: 'amount', message: 'amount=-5 is outside [0, 1000000]' },
      ],
      dataset: 'cards',
      eventId: id,
      rejectedAt: '2026-03-04T05:06:08.000Z',
      original: {
        topic: ORIGIN,
        key: null,
        headers: {},
        value: JSON.stringify(record),
        valueEncoding: 'utf8',
        valueBytes: Buffer.byteLength(JSON.stringify(record)),
        truncated: false,
      },
    });
  });

  it('keeps the producer id and trace on a rejected row', () => {
    const out = planIngest(spec, rows, 'rest', ORIGIN, 'rest:anonymous', NOW)
      .outputs[3] as OutgoingEvent;
    expect(out.key).toBe('cards:p-3');
    expect(out.attrs).toEqual({ traceparent: TRACEPARENT, subject: 'cards' });
    expect(out.data).toMatchObject({
      eventId: 'p-3',
      dataset: 'cards',
      original: { value: '"not an object"' },
    });
  });

  it('dead-letters a CloudEvent without data as the value null', () => {
    const plan = planIngest(
      spec,
      [{ record: undefined, id: 'ce-1', source: '/x' }],
      'rest',
      ORIGIN,
      'rest:anonymous',
      NOW,
    );
    expect([plan.accepted, plan.rejected]).toEqual([0, 1]);
    expect(plan.outputs[0]).toMatchObject({
      key: 'cards:ce-1',
      data: {
        eventId: 'ce-1',
        reasons: [{ code: 'not_an_object' }],
        original: { value: 'null', valueBytes: 4 },
      },
    });
  });

  it('builds outputs that pass their event schemas', () => {
    const plan = planIngest(spec, rows, 'rest', ORIGIN, 'rest:anonymous', NOW);
    for (const out of plan.outputs) {
      const { topic, message } = encode(out, '/services/ingestion', 'p.');
      const e = out as OutgoingEvent;
      expect(topic).toBe(
        e.event === EVENTS.validatedEvent ? 'p.events.validated.v1' : 'p.events.rejected.v1',
      );
      const schema = e.event === EVENTS.validatedEvent ? ValidatedEvent : RejectedEvent;
      expect(schema.safeParse(JSON.parse(message.value as string)).success).toBe(true);
    }
    const headers = encode(plan.outputs[0], '/services/ingestion', '').message.headers as Record<
      string,
      string
    >;
    expect([headers.ce_id, headers.ce_subject, headers.traceparent]).toEqual([
      'producer-1',
      'cards',
      TRACEPARENT,
    ]);
  });

  it('plans nothing for no rows', () => {
    expect(planIngest(spec, [], 'rest', ORIGIN, 'rest:anonymous', NOW)).toEqual({
      outputs: [],
      results: [],
      accepted: 0,
      rejected: 0,
    });
  });

  it('uses the spec name and version', () => {
    const plan = planIngest(
      cardSpec('loans', 7),
      [{ record: cardRecord(3) }],
      'rest',
      ORIGIN,
      'rest:anonymous',
      NOW,
    );
    const out = plan.outputs[0] as OutgoingEvent;
    expect(out.key).toBe('loans:card-3');
    expect(out.data).toMatchObject({ dataset: 'loans', specVersion: 7 });
    expect(plan.results[0].id).toBe(rowId('loans', { record: cardRecord(3) }));
    expect(plan.results[0].id).not.toBe(rowId('cards', { record: cardRecord(3) }));
  });
});
