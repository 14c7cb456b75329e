import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@mlops/ml';
import {
  cardRecord,
  cardSpec,
  publishSpec,
  startService,
  testKafka,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

/**
 * 5,000 malformed requests — random bytes, deep nesting, huge numbers, wrong types, oversize,
 * wrong content types — each must get a 4xx, the service must stay up, and nothing may reach
 * the bus.
 */
const LIMIT = 64 * 1024;

function malformed(rng: Rng, i: number): { body: Buffer; contentType: string; kind: string } {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  switch (i % 10) {
    case 0: {
      const bytes = Buffer.alloc(rng.int(1, 2000));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rng.int(0, 255);
      return { body: bytes, contentType: 'application/json', kind: 'random bytes' };
    }
    case 1: {
      const depth = rng.int(40, 20_000);
      const open = rng.bernoulli(0.5) ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return {
        body: Buffer.from(open.repeat(depth) + '1' + close.repeat(depth)),
        contentType: 'application/json',
        kind: 'deep nesting',
      };
    }
    case 2: {
      const huge = `{"card_id":"c1","amount":1e${rng.int(309, 99999)},"hour":3,"merchant_category":"grocery","country":"FR","ts":"2026-01-01T00:00:00Z"}`;
      return { body: Buffer.from(huge), contentType: 'application/json', kind: 'huge number' };
    }
    case 3: {
      const r = cardRecord(i);
      const wrong = [
        { ...r, amount: 'lots' },
        { ...r, hour: [1] },
        { ...r, merchant_category: 42 },
        { ...r, ts: true },
        { ...r, card_id: {} },
      ];
      return {
        body: json(wrong.slice(0, rng.int(1, wrong.length))),
        contentType: 'application/json',
        kind: 'wrong types',
      };
    }
    case 4:
      return {
        body: Buffer.alloc(LIMIT + rng.int(1, 50_000), 0x20),
        contentType: 'application/json',
        kind: 'oversize',
      };
    case 5:
      return {
        body: json(cardRecord(i)),
        contentType: rng.choice([
          'text/plain',
          'application/xml',
          'multipart/form-data',
          'application/octet-stream',
          '',
        ]),
        kind: 'content type',
      };
    case 6: {
      const lines = Array.from({ length: rng.int(1, 20) }, (_, k) =>
        k === 0 ? '{"card_id": ' : JSON.stringify(cardRecord(k)),
      );
      return {
        body: Buffer.from(lines.join('\n')),
        contentType: 'application/x-ndjson',
        kind: 'broken ndjson',
      };
    }
    case 7:
      return {
        body: json(rng.choice([null, 42, 'text', true, [[1, 2]], [null]])),
        contentType: 'application/json',
        kind: 'not records',
      };
    case 8:
      return {
        body: json([{ specversion: '1.0', id: '', source: 's', data: cardRecord(i) }]),
        contentType: 'application/cloudevents-batch+json',
        kind: 'bad cloudevent',
      };
    default:
      return {
        body: json(Array.from({ length: 101 }, (_, k) => cardRecord(k))),
        contentType: 'application/json',
        kind: 'too many rows',
      };
  }
}

describe('ingestion under 5,000 malformed requests', () => {
  let t: TestKafka;
  let ingestion: RunningService;
  const total = async () => {
    let n = 0;
    for (const key of ['eventsValidated', 'eventsRejected'] as const)
      n += (await t.admin.fetchTopicOffsets(t.topic(key))).reduce((s, p) => s + Number(p.high), 0);
    return n;
  };

  beforeAll(async () => {
    t = await testKafka('fuzz');
    await t.createTopics(['pipelineSpecs']);
    await publishSpec(t, cardSpec());
    ingestion = await startService('ingestion', {
      KAFKA_BROKERS: t.brokers,
      KAFKA_TOPIC_PREFIX: t.prefix,
      INGEST_MAX_BODY_BYTES: String(LIMIT),
      INGEST_MAX_ROWS: '100',
      LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    await ingestion?.stop();
    await t?.close();
  });

  it('answers every one with a 4xx and a JSON reason, stays up, and produces nothing', async () => {
    const rng = new Rng(20261125);
    const before = await total();
    const statuses = new Map<string, Map<number, number>>();
    let next = 0;
    const worker = async () => {
      while (next < 5000) {
        const i = next++;
        const { body, contentType, kind } = malformed(rng, i);
        const res = await fetch(`${ingestion.url}/v1/datasets/cards/events`, {
          method: 'POST',
          headers: contentType ? { 'content-type': contentType } : {},
          body: new Uint8Array(body),
        });
        const text = await res.text();
        const byKind = statuses.get(kind) ?? new Map<number, number>();
        byKind.set(res.status, (byKind.get(res.status) ?? 0) + 1);
        statuses.set(kind, byKind);
        expect(res.status, `${kind} #${i}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${kind} #${i}: ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(
          (JSON.parse(text) as { error: { code: string } }).error.code.length,
          kind,
        ).toBeGreaterThan(0);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const summary = Object.fromEntries(
      [...statuses].map(([kind, m]) => [kind, Object.fromEntries(m)]),
    );
    expect(
      Object.values(summary).reduce((n, m) => n + Object.values(m).reduce((a, b) => a + b, 0), 0),
    ).toBe(5000);
    expect(summary['oversize']).toEqual({ 413: 500 });
    expect(summary['too many rows']).toEqual({ 413: 500 });
    expect(summary['content type']).toEqual({ 415: 500 });
    expect(summary['wrong types']).toEqual({ 422: 500 });
    expect(summary['huge number']).toEqual({ 422: 500 });
    // Refused before parsing when too deep, or for its size when longer than the limit.
    expect(Object.keys(summary['deep nesting']).every((s) => s === '400' || s === '413')).toBe(
      true,
    );
    expect((await fetch(`${ingestion.url}/health/live`)).status).toBe(200);
    expect(await total()).toBe(before);
    // And it still takes a good record.
    const ok = await fetch(`${ingestion.url}/v1/datasets/cards/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardRecord(1)),
    });
    expect(ok.status).toBe(202);
  });
});
