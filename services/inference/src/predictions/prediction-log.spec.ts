import { createHash } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Outgoing, OutgoingEvent } from '@mlops/bus';
import { OutputSchemaError } from '@mlops/bus';
import { PredictionEvent } from '@mlops/contracts';
import {
  featureSummary,
  PredictionLog,
  predictionId,
  predictionOutgoing,
  sampled,
  toWire,
  type LoggedPrediction,
  type PredictionSink,
} from './prediction-log';

const logger = pino({ level: 'silent' });

function prediction(requestId: string, row = 0, model = 'fraud'): PredictionEvent {
  return {
    model,
    version: 3,
    alias: 'production',
    dataset: 'cards',
    featuresetVersion: 'fs-0123456789abcdef',
    mode: 'online',
    requestId,
    row,
    entityId: `card-${row}`,
    features: [1, 2.5, -3],
    outputs: { probabilities: [0.2, 0.8], label: ['fraud'] },
    score: 0.8,
    label: 'fraud',
    latencyMs: 1.5,
    cached: false,
    sourceEventId: null,
    at: '2026-01-01T00:00:00.000Z',
  };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const found = registry.getSingleMetric(name);
  if (!found) throw new Error(`no metric ${name}`);
  const { values } = await found.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((n, v) => n + v.value, 0);
}

describe('sampled', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);

  it('keeps nothing at rate 0 and everything at rate 1', () => {
    expect(ids.filter((id) => sampled(id, 0))).toHaveLength(0);
    expect(ids.filter((id) => sampled(id, 1))).toHaveLength(ids.length);
  });

  it('keeps the rate of requests within 2 points, and the same ones every time', () => {
    for (const rate of [0.1, 0.5]) {
      const kept = ids.filter((id) => sampled(id, rate));
      expect(Math.abs(kept.length / ids.length - rate)).toBeLessThan(0.02);
      expect(ids.filter((id) => sampled(id, rate))).toEqual(kept);
    }
  });

  it('is the first 32 bits of the SHA-256 of the id against the rate', () => {
    const h = createHash('sha256').update('abc').digest().readUInt32BE(0) / 2 ** 32;
    expect(sampled('abc', h + 1e-6)).toBe(true);
    expect(sampled('abc', h - 1e-6)).toBe(false);
  });
});

describe('featureSummary', () => {
  it('counts, averages, bounds and hashes the float64 little-endian bytes', () => {
    const values = [1, 2.5, -4, 0.5];
    const bytes = Buffer.alloc(32);
    values.forEach((v, i) => bytes.writeDoubleLE(v, i * 8));
    expect(featureSummary(values)).toEqual({
      count: 4,
      mean: 0,
      min: -4,
      max: 2.5,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(featureSummary(new Float32Array(values))).toEqual(featureSummary(values));
  });

  it('tells vectors apart that share their statistics', () => {
    expect(featureSummary([1, 2]).sha256).not.toBe(featureSummary([2, 1]).sha256);
    expect(featureSummary([0]).sha256).not.toBe(featureSummary([-0]).sha256);
  });

  it('summarises an empty vector with zeros and the hash of no bytes', () => {
    expect(featureSummary([])).toEqual({
      count: 0,
      mean: 0,
      min: 0,
      max: 0,
      sha256: createHash('sha256').digest('hex'),
    });
  });
});

describe('an error prediction', () => {
  const error = { code: 'inference_failed', message: 'inference on model fraud@3 failed: boom' };
  const failed = (requestId: string, row = 0): PredictionEvent => ({
    ...prediction(requestId, row),
    outputs: {},
    score: null,
    label: null,
    error,
  });

  it('has an id of its own, so a success under the same request id is not deduplicated', () => {
    expect(predictionId(prediction('r', 1))).toBe('pred:r:1:fraud:3:online');
    expect(predictionId(failed('r', 1))).toBe('pred:r:1:fraud:3:online:error');
  });

  it('keeps its error on the wire, with typed features too (the worker sink’s form)', () => {
    const typed: LoggedPrediction = { ...failed('t'), features: Float32Array.of(1, 2.5, -3) };
    const wire = toWire(typed);
    expect(PredictionEvent.parse(wire)).toEqual(failed('t'));
    // The worker sink gets it typed (structured clone keeps every field) and calls toWire.
    const out = predictionOutgoing(typed, true);
    expect(out.data.error).toEqual(error);
    expect(toWire(structuredClone(out.data) as LoggedPrediction)).toEqual(failed('t'));
    expect(predictionOutgoing(typed).data).toEqual(failed('t'));
    expect(out.attrs?.id).toBe('pred:t:0:fraud:3:online:error');
  });
});

/** A sink that fails on demand and records what it accepted. */
class FakeSink implements PredictionSink {
  readonly accepted: OutgoingEvent[] = [];
  failNext = 0;
  sends = 0;
  send(outs: readonly Outgoing[]): Promise<void> {
    this.sends++;
    const events = outs as readonly OutgoingEvent[];
    const invalid = events.find((o) => !o.event.schema.safeParse(o.data).success);
    if (invalid) throw new OutputSchemaError(invalid.event.type, []);
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('broker away'));
    }
    this.accepted.push(...events);
    return Promise.resolve();
  }
}

describe('PredictionLog', () => {
  const make = (sink: PredictionSink, options = {}) => {
    const registry = new Registry();
    const log = new PredictionLog(sink, logger, registry, {
      flushIntervalMs: 60_000,
      batchSize: 4,
      ...options,
    });
    return { log, registry };
  };

  it('keeps a failed batch at the head and sends everything in order once the sink is back', async () => {
    const sink = new FakeSink();
    const { log, registry } = make(sink);
    sink.failNext = 2;
    log.log([prediction('a', 0), prediction('a', 1), prediction('a', 2)]);
    log.log([prediction('b', 0), prediction('b', 1)]);
    await log.flush();
    expect(log.buffered).toBe(5);
    log.log([prediction('c', 0)]);
    await log.flush();
    expect(await metric(registry, 'inference_prediction_log_flush_failures_total')).toBe(2);
    await log.close();
    expect(sink.accepted.map((o) => o.attrs!.id)).toEqual(
      ['a:0', 'a:1', 'a:2', 'b:0', 'b:1', 'c:0'].map((r) => {
        const [id, row] = r.split(':');
        return predictionId(prediction(id, Number(row)));
      }),
    );
    expect(sink.accepted.every((o) => o.key === 'fraud')).toBe(true);
    expect(await metric(registry, 'inference_predictions_logged_total')).toBe(6);
  });

  it('drops an event the schema refuses and sends the rest of its batch', async () => {
    const sink = new FakeSink();
    const { log, registry } = make(sink);
    const bad = { ...prediction('bad'), score: Number.NaN };
    log.log([prediction('ok', 0), bad, prediction('ok', 1)]);
    await log.close();
    expect(sink.accepted.map((o) => (o.data as PredictionEvent).requestId)).toEqual(['ok', 'ok']);
    expect(
      await metric(registry, 'inference_predictions_dropped_total', { reason: 'invalid' }),
    ).toBe(1);
  });

  it('counts what is logged after close as dropped, and gives up at its timeout', async () => {
    const sink = new FakeSink();
    const { log, registry } = make(sink, { maxRetryDelayMs: 10 });
    sink.failNext = Number.MAX_SAFE_INTEGER;
    log.log([prediction('x', 0), prediction('x', 1)]);
    await log.close(100);
    expect(log.buffered).toBe(2);
    expect(sink.sends).toBeGreaterThan(1);
    log.log([prediction('late')]);
    expect(
      await metric(registry, 'inference_predictions_dropped_total', { reason: 'closed' }),
    ).toBe(1);
  });

  it('starts a flush by itself once a batch is full', async () => {
    const sink = new FakeSink();
    const { log } = make(sink);
    log.log([prediction('f', 0), prediction('f', 1), prediction('f', 2), prediction('f', 3)]);
    // Never synchronously inside log(): the response path does not pay for the send.
    expect(sink.sends).toBe(0);
    await new Promise((r) => setImmediate(r));
    await log.flush();
    expect(sink.accepted).toHaveLength(4);
    await log.close();
  });
});
