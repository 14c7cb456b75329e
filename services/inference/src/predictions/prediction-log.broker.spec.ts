import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '@mlops/bus';
import { EVENTS, fromKafkaHeaders, PredictionEvent } from '@mlops/contracts';
import { readAll, testKafka, type TestKafka } from '@mlops/testing';
import { featureSummary, PredictionLog, predictionId } from './prediction-log';

const logger = pino({ level: 'silent' });
const MODELS = ['fraud', 'churn', 'credit.v2'] as const;
const MODES = ['online', 'shadow', 'stream'] as const;

/** Row `row` of request `request`, varied enough that a lost or mangled field shows. */
function prediction(tag: string, request: number, row: number): PredictionEvent {
  const features = [request, row / 7, -1.25e-9, 3e12];
  const mode = MODES[request % MODES.length];
  return {
    model: MODELS[request % MODELS.length],
    version: 1 + (request % 4),
    alias: request % 5 === 0 ? null : 'production',
    dataset: request % 6 === 0 ? null : 'cards',
    featuresetVersion: 'fs-0123456789abcdef',
    mode,
    requestId: `${tag}-req-${request}`,
    row,
    entityId: `card-${request}-${row}`,
    ...(request % 2 === 0 ? { features } : { featureSummary: featureSummary(features) }),
    outputs: {
      probabilities: [0.25, 0.75 - row / 100],
      label: [row % 2 === 0 ? 'fraud' : 'legit'],
      flagged: [row % 2 === 0],
    },
    score: row % 3 === 0 ? null : 0.75 - row / 100,
    label: row % 2 === 0 ? 'fraud' : 1,
    latencyMs: request / 10,
    cached: row % 4 === 0,
    sourceEventId: mode === 'stream' ? `feat-${request}-${row}` : null,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, request, row)).toISOString(),
  };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((n, v) => n + v.value, 0);
}

describe('prediction log on the real broker', () => {
  let t: TestKafka;
  let bus: Bus;

  /** What reached predictions.v1 for one test (by request id prefix), decoded and checked. */
  const published = async (tag: string) => {
    const records = await readAll(t.kafka, t.admin, t.topic('predictions'));
    return records
      .filter((r) => r.headers.ce_id?.startsWith(`pred:${tag}-`))
      .map((r) => {
        const envelope = fromKafkaHeaders(r.headers);
        if (!envelope.ok) throw new Error(`bad envelope: ${JSON.stringify(envelope.problem)}`);
        const data = PredictionEvent.parse(JSON.parse(r.value!));
        return { key: r.key, attrs: envelope.attrs, data };
      });
  };

  beforeAll(async () => {
    t = await testKafka('predlog');
    bus = new Bus(
      {
        brokers: t.brokers.split(','),
        clientId: 'inference',
        topicPrefix: t.prefix,
        connectionTimeoutMs: 3000,
        requestTimeoutMs: 30000,
      },
      logger,
      new Registry(),
    );
    await bus.connect();
    await bus.ensureTopics(['predictions']);
  });
  afterAll(async () => {
    await bus.shutdown();
    await t.close();
  });

  it('writes every logged prediction once, keyed by model, with its deterministic id and fields intact', async () => {
    const registry = new Registry();
    const log = new PredictionLog(bus.producer, logger, registry);
    const sent = new Map<string, PredictionEvent>();
    for (let request = 0; request < 150; request++) {
      const rows = Array.from({ length: 8 }, (_, row) => prediction('all', request, row));
      for (const e of rows) sent.set(predictionId(e), e);
      log.log(rows);
      // Let timers and size-triggered flushes run between requests, as a server would.
      if (request % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    expect(sent.size).toBe(1200);
    await log.close();
    expect(log.buffered).toBe(0);
    expect(await metric(registry, 'inference_predictions_logged_total')).toBe(1200);
    expect(await metric(registry, 'inference_predictions_dropped_total')).toBe(0);

    const got = await published('all');
    expect(got).toHaveLength(1200);
    expect(new Set(got.map((g) => g.attrs.id)).size).toBe(1200);
    for (const { key, attrs, data } of got) {
      const want = sent.get(attrs.id);
      expect(want, attrs.id).toBeDefined();
      expect(data).toEqual(want);
      expect(key).toBe(want!.model);
      expect(attrs.id).toBe(
        `pred:${want!.requestId}:${want!.row}:${want!.model}:${want!.version}:${want!.mode}`,
      );
      expect(attrs).toMatchObject({
        type: EVENTS.prediction.type,
        source: '/services/inference',
        subject: want!.model,
        time: want!.at,
      });
    }
  });

  it('writes an error prediction with its error, beside a success of the same request id', async () => {
    const log = new PredictionLog(bus.producer, logger, new Registry());
    const ok = prediction('err', 1, 0);
    const failed: PredictionEvent = {
      ...ok,
      outputs: {},
      score: null,
      label: null,
      cached: false,
      error: { code: 'worker_exited', message: 'the worker running the request exited' },
    };
    log.log([failed]);
    log.log([ok]);
    await log.close();
    const got = await published('err');
    expect(got.map((g) => g.attrs.id).sort()).toEqual([
      predictionId(ok),
      `${predictionId(ok)}:error`,
    ]);
    expect(got.find((g) => g.data.error)?.data).toEqual(failed);
    expect(got.find((g) => !g.data.error)?.data).toEqual(ok);
  });

  it('drops and counts what does not fit a full buffer, a request at a time, and sends the rest', async () => {
    const registry = new Registry();
    const log = new PredictionLog(bus.producer, logger, registry, { maxBuffered: 10 });
    // No await in between: nothing can be sent while these are logged.
    for (let request = 0; request < 4; request++)
      log.log([0, 1, 2].map((row) => prediction('tiny', request, row)));
    for (let request = 4; request < 9; request++) log.log([prediction('tiny', request, 0)]);
    expect(log.buffered).toBe(10);
    expect(
      await metric(registry, 'inference_predictions_dropped_total', { reason: 'buffer_full' }),
    ).toBe(3 + 4);
    await log.close();

    const got = await published('tiny');
    expect(got.map((g) => `${g.data.requestId}:${g.data.row}`).sort()).toEqual(
      ['0:0', '0:1', '0:2', '1:0', '1:1', '1:2', '2:0', '2:1', '2:2', '4:0'].map(
        (r) => `tiny-req-${r}`,
      ),
    );
    expect(await metric(registry, 'inference_predictions_logged_total')).toBe(10);
  });
});
