import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS, type FeedbackEvent } from '@mlops/contracts';
import {
  cardSpec,
  consumeUntil,
  publishSpec,
  startService,
  testKafka,
  type Collected,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

const PUBLISHER_KEY = 'feedback-publisher-key-0123456789';
const VIEWER_KEY = 'feedback-viewer-key-0123456789ab';

interface Accepted {
  dataset: string;
  specVersion: number;
  accepted: number;
  rejected: number;
  results: { index: number; id: string; status: string }[];
}

interface ErrorBody {
  error: { code: string; message: string; details?: { problems?: unknown[] } };
}

/** Late labels over REST onto feedback.v1, on the real broker. */
describe('ingestion REST: POST /v1/datasets/:dataset/feedback', () => {
  let t: TestKafka;
  let ingestion: RunningService;

  const totalFeedback = async () =>
    (await t.admin.fetchTopicOffsets(t.topic('feedback'))).reduce((n, p) => n + Number(p.high), 0);
  const post = (
    path: string,
    body: string,
    contentType = 'application/json',
    key: string | undefined = PUBLISHER_KEY,
  ) =>
    fetch(`${ingestion.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(key ? { 'x-api-key': key } : {}) },
      body,
    });
  /** Every record on feedback.v1 once there are `n`, checking no more arrive after. */
  const feedbackRecords = async (n: number): Promise<Collected[]> => {
    const records = await consumeUntil(t.kafka, t.topic('feedback'), (r) => r.length >= n);
    expect(await totalFeedback()).toBe(n);
    return records;
  };

  beforeAll(async () => {
    t = await testKafka('feedback');
    await t.createTopics(['pipelineSpecs']);
    await publishSpec(t, cardSpec());
    ingestion = await startService('ingestion', {
      KAFKA_BROKERS: t.brokers,
      KAFKA_TOPIC_PREFIX: t.prefix,
      INGEST_MAX_BODY_BYTES: '65536',
      INGEST_MAX_ROWS: '100',
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: `${PUBLISHER_KEY}:publisher:labeller,${VIEWER_KEY}:viewer:dashboard`,
    });
  });
  afterAll(async () => {
    await ingestion?.stop();
    await t.close();
  });

  it('refuses bad requests with a reason and produces nothing', async () => {
    // The service created feedback.v1 at start.
    expect(await totalFeedback()).toBe(0);
    const label = JSON.stringify({ entityId: 'card-1', label: 1 });
    const cases: {
      name: string;
      send: () => Promise<Response>;
      status: number;
      code: string;
      message?: RegExp;
    }[] = [
      {
        name: 'one invalid record in a batch',
        send: () =>
          post(
            '/v1/datasets/cards/feedback',
            JSON.stringify([
              { entityId: 'card-1', label: 1 },
              { entityId: 'card-2', label: '' },
              { entityId: 'card-3', label: 0 },
            ]),
          ),
        status: 400,
        code: 'invalid_feedback',
        message: /^record 1, field label: .*nothing was accepted$/,
      },
      {
        name: 'invalid NDJSON record',
        send: () =>
          post(
            '/v1/datasets/cards/feedback',
            `${label}\n\n${JSON.stringify({ entityId: 'card-2', label: 1, eventTime: 'soon' })}\n`,
            'application/x-ndjson',
          ),
        status: 400,
        code: 'invalid_feedback',
        message: /^record 1, field eventTime: /,
      },
      {
        name: 'unknown dataset',
        send: () => post('/v1/datasets/nope/feedback', label),
        status: 404,
        code: 'unknown_dataset',
        message: /"nope"/,
      },
      {
        name: 'invalid dataset name',
        send: () => post('/v1/datasets/NOPE!/feedback', label),
        status: 400,
        code: 'invalid_dataset_name',
      },
      {
        name: 'malformed JSON',
        send: () => post('/v1/datasets/cards/feedback', '{"entityId":'),
        status: 400,
        code: 'malformed_json',
      },
      {
        name: 'empty array',
        send: () => post('/v1/datasets/cards/feedback', '[]'),
        status: 400,
        code: 'empty_batch',
      },
      {
        name: 'CloudEvents body',
        send: () => post('/v1/datasets/cards/feedback', label, 'application/cloudevents+json'),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'body over the limit',
        send: () => post('/v1/datasets/cards/feedback', label.padEnd(70_000, ' ')),
        status: 413,
        code: 'payload_too_large',
      },
      {
        name: 'too many records',
        send: () => post('/v1/datasets/cards/feedback', `[${Array(101).fill(label).join(',')}]`),
        status: 413,
        code: 'too_many_rows',
      },
      {
        name: 'no credentials',
        send: () => post('/v1/datasets/cards/feedback', label, 'application/json', ''),
        status: 401,
        code: 'unauthenticated',
      },
      {
        name: 'a viewer',
        send: () => post('/v1/datasets/cards/feedback', label, 'application/json', VIEWER_KEY),
        status: 403,
        code: 'forbidden',
      },
    ];
    for (const c of cases) {
      const res = await c.send();
      expect(res.status, c.name).toBe(c.status);
      expect(res.headers.get('content-type'), c.name).toMatch(/application\/json/);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code, c.name).toBe(c.code);
      expect(body.error.message.length, c.name).toBeGreaterThan(0);
      if (c.message) expect(body.error.message, c.name).toMatch(c.message);
      if (c.code === 'invalid_feedback')
        expect(body.error.details?.problems, c.name).toEqual([
          expect.objectContaining({ index: 1, field: expect.any(String) as string }),
        ]);
    }
    expect((await fetch(`${ingestion.url}/health/live`)).status).toBe(200);
    expect(await totalFeedback()).toBe(0);
  });

  it('puts a JSON batch of labels on feedback.v1, keyed dataset:entityId, then an NDJSON one', async () => {
    const batch = [
      { id: 'chargeback-1', entityId: 'card-1', requestId: 'req-1', label: 1 },
      { entityId: 'card-2', label: 0, eventTime: '2026-11-26T02:00:00+01:00' },
      { entityId: 'card-3', label: 'fraud' },
    ];
    const res = await post('/v1/datasets/cards/feedback', JSON.stringify(batch));
    expect(res.status).toBe(202);
    const body = (await res.json()) as Accepted;
    expect(body).toMatchObject({ dataset: 'cards', specVersion: 1, accepted: 3, rejected: 0 });
    expect(body.results.map((r) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'accepted'],
      [2, 'accepted'],
    ]);
    expect(body.results[0].id).toBe('chargeback-1');
    expect(body.results[1].id).toMatch(/^sha256:[0-9a-f]{40}$/);

    const expected: Record<string, { key: string; data: FeedbackEvent }> = {
      [body.results[0].id]: {
        key: 'cards:card-1',
        data: {
          dataset: 'cards',
          entityId: 'card-1',
          requestId: 'req-1',
          label: 1,
          eventTime: null,
        },
      },
      [body.results[1].id]: {
        key: 'cards:card-2',
        data: {
          dataset: 'cards',
          entityId: 'card-2',
          requestId: null,
          label: 0,
          eventTime: '2026-11-26T01:00:00.000Z',
        },
      },
      [body.results[2].id]: {
        key: 'cards:card-3',
        data: {
          dataset: 'cards',
          entityId: 'card-3',
          requestId: null,
          label: 'fraud',
          eventTime: null,
        },
      },
    };
    const check = (records: Collected[]) => {
      for (const r of records) {
        const want = expected[r.headers.ce_id];
        expect(want, `unexpected record ${r.headers.ce_id}`).toBeDefined();
        expect(r.key).toBe(want.key);
        expect(JSON.parse(r.value!)).toEqual(want.data);
        expect(r.headers.ce_type).toBe(EVENTS.feedback.type);
        expect(r.headers.ce_type).toBe('dev.mlops.feedback.v1');
        expect(r.headers.ce_subject).toBe('cards');
      }
      expect(records.map((r) => r.headers.ce_id).sort()).toEqual(Object.keys(expected).sort());
    };
    check(await feedbackRecords(3));

    // The same labels as NDJSON, each with a client id: three more records, nothing else.
    const lines = [
      { id: 'nd-1', entityId: 'card-4', requestId: 'req-4', label: 1 },
      { id: 'nd-2', entityId: 5, label: 0.25 },
      { id: 'nd-3', entityId: 'card-6', label: 'legit', eventTime: '2026-11-26T03:00:00Z' },
    ];
    const nd = await post(
      '/v1/datasets/cards/feedback',
      `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
      'application/x-ndjson',
    );
    expect(nd.status).toBe(202);
    const ndBody = (await nd.json()) as Accepted;
    expect(ndBody.accepted).toBe(3);
    expect(ndBody.results.map((r) => r.id)).toEqual(['nd-1', 'nd-2', 'nd-3']);
    expected['nd-1'] = {
      key: 'cards:card-4',
      data: { dataset: 'cards', entityId: 'card-4', requestId: 'req-4', label: 1, eventTime: null },
    };
    expected['nd-2'] = {
      key: 'cards:5',
      data: { dataset: 'cards', entityId: '5', requestId: null, label: 0.25, eventTime: null },
    };
    expected['nd-3'] = {
      key: 'cards:card-6',
      data: {
        dataset: 'cards',
        entityId: 'card-6',
        requestId: null,
        label: 'legit',
        eventTime: '2026-11-26T03:00:00.000Z',
      },
    };
    check(await feedbackRecords(6));

    // A retry of the first body gets the same ids, so the consumer can tell it is one.
    const retry = (await (
      await post('/v1/datasets/cards/feedback', JSON.stringify(batch))
    ).json()) as Accepted;
    expect(retry.results.map((r) => r.id)).toEqual(body.results.map((r) => r.id));
  });
});
