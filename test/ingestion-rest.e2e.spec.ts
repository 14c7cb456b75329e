import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS, type RejectedEvent, type ValidatedEvent } from '@mlops/contracts';
import {
  cardRecord,
  cardSpec,
  cloudEventMessage,
  consumeUntil,
  publishSpec,
  startService,
  testKafka,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

/** Bad input at the door: a 4xx with a JSON reason, and nothing on the bus. */
describe('ingestion REST and raw topic: bad input', () => {
  let t: TestKafka;
  let ingestion: RunningService;

  const totalRecords = async (key: 'eventsValidated' | 'eventsRejected') =>
    (await t.admin.fetchTopicOffsets(t.topic(key))).reduce((n, p) => n + Number(p.high), 0);
  const post = (path: string, body: string | Buffer, contentType = 'application/json') =>
    fetch(`${ingestion.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });

  beforeAll(async () => {
    t = await testKafka('rest');
    await t.createTopics(['pipelineSpecs']);
    await publishSpec(t, cardSpec());
    ingestion = await startService('ingestion', {
      KAFKA_BROKERS: t.brokers,
      KAFKA_TOPIC_PREFIX: t.prefix,
      INGEST_MAX_BODY_BYTES: '65536',
      INGEST_MAX_ROWS: '100',
    });
  });
  afterAll(async () => {
    await ingestion?.stop();
    await t.close();
  });

  it('answers 4xx with a reason and produces nothing', async () => {
    const before = [await totalRecords('eventsValidated'), await totalRecords('eventsRejected')];
    const cases: { name: string; send: () => Promise<Response>; status: number; code: string }[] = [
      {
        name: 'malformed JSON',
        send: () => post('/v1/datasets/cards/events', '{"card_id": "a",'),
        status: 400,
        code: 'malformed_json',
      },
      {
        name: 'malformed NDJSON line',
        send: () =>
          post(
            '/v1/datasets/cards/events',
            `${JSON.stringify(cardRecord(1))}\n{oops\n`,
            'application/x-ndjson',
          ),
        status: 400,
        code: 'malformed_json',
      },
      {
        name: 'wrong content type',
        send: () =>
          post('/v1/datasets/cards/events', 'card_id=a', 'application/x-www-form-urlencoded'),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'no content type',
        send: () =>
          fetch(`${ingestion.url}/v1/datasets/cards/events`, {
            method: 'POST',
            body: new Uint8Array(Buffer.from('{}')),
          }),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'body over the limit',
        send: () =>
          post(
            '/v1/datasets/cards/events',
            JSON.stringify(
              Array.from({ length: 90 }, (_, i) => ({ ...cardRecord(i), memo: 'x'.repeat(490) })),
            ).padEnd(70_000, ' '),
          ),
        status: 413,
        code: 'payload_too_large',
      },
      {
        name: 'too many rows',
        send: () =>
          post(
            '/v1/datasets/cards/events',
            JSON.stringify(Array.from({ length: 101 }, (_, i) => cardRecord(i))),
          ),
        status: 413,
        code: 'too_many_rows',
      },
      {
        name: 'unknown dataset',
        send: () => post('/v1/datasets/nope/events', JSON.stringify(cardRecord(1))),
        status: 404,
        code: 'unknown_dataset',
      },
      {
        name: 'invalid dataset name',
        send: () => post('/v1/datasets/NOPE!/events', JSON.stringify(cardRecord(1))),
        status: 400,
        code: 'invalid_dataset_name',
      },
      {
        name: 'empty array',
        send: () => post('/v1/datasets/cards/events', '[]'),
        status: 400,
        code: 'empty_batch',
      },
      {
        name: 'deep nesting',
        send: () => post('/v1/datasets/cards/events', '['.repeat(5000) + ']'.repeat(5000)),
        status: 400,
        code: 'malformed_json',
      },
      {
        name: 'bad CloudEvent',
        send: () =>
          post(
            '/v1/datasets/cards/events',
            JSON.stringify({ specversion: '0.3', id: 'x', source: 's', data: {} }),
            'application/cloudevents+json',
          ),
        status: 400,
        code: 'invalid_cloudevent',
      },
      {
        name: 'no valid row',
        send: () =>
          post(
            '/v1/datasets/cards/events',
            JSON.stringify([
              { ...cardRecord(1), amount: -1 },
              { ...cardRecord(2), hour: 99 },
            ]),
          ),
        status: 422,
        code: 'no_valid_rows',
      },
    ];
    for (const c of cases) {
      const res = await c.send();
      expect(res.status, c.name).toBe(c.status);
      expect(res.headers.get('content-type'), c.name).toMatch(/application\/json/);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code, c.name).toBe(c.code);
      expect(body.error.message.length, c.name).toBeGreaterThan(0);
    }
    // The service is still up, and nothing of the above reached Kafka.
    expect((await fetch(`${ingestion.url}/health/live`)).status).toBe(200);
    expect([await totalRecords('eventsValidated'), await totalRecords('eventsRejected')]).toEqual(
      before,
    );
  });

  it('accepts a mixed batch with per-row results: valid rows validated, invalid ones dead-lettered', async () => {
    const rows = [
      cardRecord(1),
      { ...cardRecord(2), amount: -1 },
      cardRecord(3),
      { ...cardRecord(4), extra: 1 },
    ];
    const res = await post(
      '/v1/datasets/cards/events',
      rows.map((r) => JSON.stringify(r)).join('\n'),
      'application/x-ndjson',
    );
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected: number;
      results: {
        index: number;
        id: string;
        status: string;
        reasons?: { code: string; field: string }[];
      }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(2);
    expect(body.results.map((r) => r.status)).toEqual([
      'accepted',
      'rejected',
      'accepted',
      'rejected',
    ]);
    expect(body.results[1].reasons).toEqual([
      expect.objectContaining({ code: 'out_of_range', field: 'amount' }),
    ]);
    expect(body.results[3].reasons).toEqual([
      expect.objectContaining({ code: 'unknown_field', field: 'extra' }),
    ]);
    const validated = await consumeUntil(t.kafka, t.topic('eventsValidated'), (r) => r.length >= 2);
    const ids = validated.map((r) => r.headers.ce_id);
    expect(ids.sort()).toEqual([body.results[0].id, body.results[2].id].sort());
    const typed = JSON.parse(
      validated.find((r) => r.headers.ce_id === body.results[0].id)!.value!,
    ) as ValidatedEvent;
    expect(typed.record).toEqual(cardRecord(1));
    expect(typed.via).toBe('rest');
    // The same record again gets the same content-derived id: a retry is recognisable.
    const again = (await (
      await post('/v1/datasets/cards/events', JSON.stringify(cardRecord(1)))
    ).json()) as { results: { id: string }[] };
    expect(again.results[0].id).toBe(body.results[0].id);
  });

  it('dead-letters poison on ingest.raw.v1 and keeps the partition flowing', async () => {
    const topic = t.topic('ingestRaw');
    const key = 'cards:card-1';
    const ce = (id: string) => cloudEventMessage(EVENTS.rawEvent.type, key, {}, id).headers;
    await t.producer.send({
      topic,
      acks: -1,
      messages: [
        { key, value: '\u0000\u00ffnot json', headers: ce('p-notjson') },
        {
          key,
          value: JSON.stringify({ dataset: 'cards', record: 'not an object' }),
          headers: ce('p-schema'),
        },
        {
          key,
          value: JSON.stringify({ dataset: 'cards', record: { pad: 'y'.repeat(2 * 1024 * 1024) } }),
          headers: ce('p-huge'),
        },
        {
          key,
          value: JSON.stringify({ dataset: 'ghost', record: cardRecord(5) }),
          headers: ce('p-ghost'),
        },
        // A plain producer: no CloudEvents headers at all.
        { key, value: JSON.stringify({ dataset: 'cards', record: cardRecord(77) }) },
        cloudEventMessage(
          EVENTS.rawEvent.type,
          key,
          { dataset: 'cards', record: cardRecord(78) },
          'p-good',
        ),
      ],
    });
    // The outputs are keyed by entity, so the two valid records may land on different partitions.
    const isPlain = (x: { headers: Record<string, string>; value: string | null }) =>
      x.headers.ce_id.startsWith('sha256:') &&
      (JSON.parse(x.value!) as ValidatedEvent).entityId === cardRecord(77).card_id;
    const validated = await consumeUntil(
      t.kafka,
      t.topic('eventsValidated'),
      (r) => r.some((x) => x.headers.ce_id === 'p-good') && r.some(isPlain),
      60_000,
    );
    expect(validated.filter(isPlain)).toHaveLength(1);
    const rejected = await consumeUntil(
      t.kafka,
      t.topic('eventsRejected'),
      (r) =>
        r.filter((x) =>
          ['p-notjson', 'p-schema', 'p-huge', 'p-ghost'].includes(
            (JSON.parse(x.value!) as RejectedEvent).eventId ?? '',
          ),
        ).length === 4,
    );
    const reasons = Object.fromEntries(
      rejected
        .map((x) => JSON.parse(x.value!) as RejectedEvent)
        .filter((p) => p.eventId?.startsWith('p-'))
        .map((p) => [p.eventId, p.reasons[0].code]),
    );
    expect(reasons).toEqual({
      'p-notjson': 'not_json',
      'p-schema': 'schema_mismatch',
      'p-huge': 'payload_too_large',
      'p-ghost': 'unknown_dataset',
    });
  });
});

describe('service process lifecycle', () => {
  it('refuses to start on a bad variable, naming it (exit 78)', async () => {
    const { spawnSync } = await import('node:child_process');
    const path = await import('node:path');
    const r = spawnSync(
      process.execPath,
      [path.resolve(__dirname, '../dist/services/ingestion/src/main.js')],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: '127.0.0.1:1',
          PORT: 'eighty',
          KAFKA_SASL_MECHANISM: 'plain',
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/invalid configuration for ingestion/);
    expect(r.stderr).toMatch(/PORT: .*"eighty"/);
    expect(r.stderr).toMatch(/KAFKA_SASL_USERNAME: /);
  });

  it('exposes metrics and stops cleanly on SIGTERM after finishing its work', async () => {
    const t = await testKafka('lifecycle');
    await t.createTopics(['pipelineSpecs']);
    await publishSpec(t, cardSpec());
    const env = { KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix };
    const dq = await startService('data-quality', env);
    await t.producer.send({
      topic: t.topic('eventsValidated'),
      acks: -1,
      messages: Array.from({ length: 50 }, (_, i) =>
        cloudEventMessage(
          EVENTS.validatedEvent.type,
          `cards:c${i}`,
          {
            dataset: 'cards',
            specVersion: 1,
            entityId: `c${i}`,
            record: cardRecord(i),
            ingestedAt: new Date().toISOString(),
            via: 'kafka',
            source: 'test',
          },
          `life-${i}`,
        ),
      ),
    });
    await consumeUntil(t.kafka, t.topic('eventsClean'), (r) => r.length >= 50);
    const metrics = await (await fetch(`${dq.url}/metrics`)).text();
    expect(metrics).toMatch(
      /bus_messages_in_total\{consumer="quality",topic="[^"]+events\.validated\.v1",service="data-quality"\} 50/,
    );
    expect(metrics).toMatch(
      /bus_transactions_total\{consumer="quality",outcome="committed",service="data-quality"\} \d+/,
    );
    expect(metrics).toMatch(/# TYPE bus_handler_duration_seconds histogram/);
    const ready = (await (await fetch(`${dq.url}/health/ready`)).json()) as {
      status: string;
      checks: Record<string, { ok: boolean }>;
    };
    expect(ready.status).toBe('ok');
    expect(Object.keys(ready.checks).sort()).toEqual([
      'bus',
      'quality-reports',
      'quality-stage',
      'specs',
    ]);
    expect(await dq.stop()).toBe(0);
    expect(dq.output()).not.toMatch(/"level":"error"/);
    await t.close();
  });
});
