import { createHash } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { PredictionEvent, resolveServingSpec, type ServingSection } from '@mlops/contracts';
import { MemoryCache } from './cache/prediction-cache';
import { InferenceMetrics } from './metrics';
import {
  ModelNotServedError,
  type LoadedVersion,
  type Route,
  type ServedModels,
} from './models/served-models';
import { toWire, type PredictionLog } from './predictions/prediction-log';
import { interpret, predictionEvents, Predictor, rowsOf, type PredictRequest } from './predictor';
import { BatcherClosedError, type SubmitResult } from './runtime/batcher';
import {
  InferenceFailedError,
  InvalidInputError,
  QueueFullError,
  RequestTimeoutError,
  WorkerExitedError,
} from './runtime/errors';
import type { ModelSignature, TensorData } from './runtime/tensor';

const logger = pino({ level: 'silent' });

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
  outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }],
  batchable: true,
};

function fp32(shape: number[], values: number[]): TensorData<'FP32'> {
  return { datatype: 'FP32', shape, data: Float32Array.from(values) };
}

function fp64(shape: number[], values: number[]): TensorData<'FP64'> {
  return { datatype: 'FP64', shape, data: Float64Array.from(values) };
}

/** A stand-in for a version's DynamicBatcher: records every submit and answers with `answer`. */
class FakeBatcher {
  readonly calls: { inputs: Record<string, TensorData>; outputs: string[] | undefined }[] = [];

  constructor(
    private readonly answer: (inputs: Record<string, TensorData>) => Record<string, TensorData>,
    private readonly failWith?: Error,
  ) {}

  submit(inputs: Record<string, TensorData>, outputs?: string[]): Promise<SubmitResult> {
    this.calls.push({ inputs, outputs });
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve({
      outputs: this.answer(inputs),
      queueMs: 2,
      computeMs: 3,
      batchRows: rowsOf(inputs),
    });
  }
}

/** P(fraud) of each row: its first feature (so every row has a different, exact answer). */
function firstFeature(inputs: Record<string, TensorData>): Record<string, TensorData> {
  const x = inputs.x;
  const rows = x.shape[0];
  const width = x.shape[1];
  const p = Array.from({ length: rows }, (_, r) => Number(x.data[r * width]));
  return { probability: fp32([rows, 1], p) };
}

function loaded(
  fields: Partial<Omit<LoadedVersion, 'batcher'>> & { batcher?: FakeBatcher } = {},
): LoadedVersion {
  const model = fields.model ?? 'fraud';
  const version = fields.version ?? 3;
  return {
    model,
    version,
    key: `${model}@${version}`,
    registered: {},
    signature: SIGNATURE,
    serving: resolveServingSpec(undefined),
    dataset: 'cards',
    featuresetVersion: 'fs-0123456789abcdef',
    featureset: null,
    task: 'binary',
    classes: ['legit', 'fraud'],
    loadedAt: '2026-01-01T00:00:00.000Z',
    batcher: new FakeBatcher(firstFeature),
    ...fields,
  } as unknown as LoadedVersion;
}

function batcherOf(v: LoadedVersion): FakeBatcher {
  return v.batcher as unknown as FakeBatcher;
}

/** Sum of a metric's values whose labels include `labels`. */
async function metric(registry: Registry, name: string, labels: Record<string, string>) {
  const found = registry.getSingleMetric(name);
  if (!found) throw new Error(`no metric ${name}`);
  const { values } = await found.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((n, v) => n + v.value, 0);
}

/** The expected features.summary of a row, computed apart from `featureSummary`. */
function summaryOf(values: number[]) {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => bytes.writeDoubleLE(v, i * 8));
  return {
    count: values.length,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

describe('rowsOf', () => {
  it('is the first dimension of the first input, 1 for a scalar or no input', () => {
    expect(rowsOf({ x: fp32([4, 2], new Array<number>(8).fill(0)) })).toBe(4);
    expect(rowsOf({ x: fp32([5], [1, 2, 3, 4, 5]) })).toBe(5);
    expect(rowsOf({ x: fp32([], [7]) })).toBe(1);
    expect(rowsOf({})).toBe(1);
  });
});

describe('interpret', () => {
  const named = { classes: ['legit', 'fraud'] };
  const unnamed = { classes: null };

  it('reads a binary probability: score p, class 1 from 0.5 on', () => {
    const outputs = { probability: fp64([4, 1], [0.1, 0.5, 0.4999, 0.9]) };
    expect([0, 1, 2, 3].map((row) => interpret(named, outputs, row))).toEqual([
      { score: 0.1, label: 'legit' },
      { score: 0.5, label: 'fraud' },
      { score: 0.4999, label: 'legit' },
      { score: 0.9, label: 'fraud' },
    ]);
    expect(interpret(unnamed, outputs, 1)).toEqual({ score: 0.5, label: 1 });
    expect(interpret(unnamed, outputs, 2)).toEqual({ score: 0.4999, label: 0 });
  });

  it('reads a 1-D probability output, and FP32 values as stored', () => {
    const outputs = { probability: fp32([2], [0.7, 0.2]) };
    expect(interpret(unnamed, outputs, 0)).toEqual({ score: Math.fround(0.7), label: 1 });
    expect(interpret(unnamed, outputs, 1)).toEqual({ score: Math.fround(0.2), label: 0 });
  });

  it('reads two probability columns as P(class 1), with the argmax as label', () => {
    const outputs = { probabilities: fp64([2, 2], [0.3, 0.7, 0.8, 0.2]) };
    expect(interpret(named, outputs, 0)).toEqual({ score: 0.7, label: 'fraud' });
    expect(interpret(named, outputs, 1)).toEqual({ score: 0.2, label: 'legit' });
    expect(interpret(unnamed, outputs, 1)).toEqual({ score: 0.2, label: 0 });
  });

  it('reads more columns as the top probability and its class, the first on a tie', () => {
    const classes = { classes: ['a', 'b', 'c'] };
    const outputs = { probabilities: fp64([3, 3], [0.2, 0.5, 0.3, 0.1, 0.1, 0.8, 0.4, 0.4, 0.2]) };
    expect(interpret(classes, outputs, 0)).toEqual({ score: 0.5, label: 'b' });
    expect(interpret(classes, outputs, 1)).toEqual({ score: 0.8, label: 'c' });
    expect(interpret(classes, outputs, 2)).toEqual({ score: 0.4, label: 'a' });
    expect(interpret(unnamed, outputs, 1)).toEqual({ score: 0.8, label: 2 });
  });

  it('prefers `probability` when a model has both outputs', () => {
    const outputs = {
      probability: fp64([1, 1], [0.2]),
      probabilities: fp64([1, 2], [0.1, 0.9]),
    };
    expect(interpret(named, outputs, 0)).toEqual({ score: 0.2, label: 'legit' });
  });

  it('reads a regression prediction without a label, INT64 as a number', () => {
    const outputs = { prediction: fp64([2, 1], [12.5, -3]) };
    expect(interpret(named, outputs, 0)).toEqual({ score: 12.5, label: null });
    expect(interpret(named, outputs, 1)).toEqual({ score: -3, label: null });
    const ints: Record<string, TensorData> = {
      prediction: { datatype: 'INT64', shape: [1], data: BigInt64Array.of(42n) },
    };
    expect(interpret(named, ints, 0)).toEqual({ score: 42, label: null });
  });

  it('gives nulls for outputs it does not know', () => {
    expect(interpret(named, { logits: fp64([1, 2], [1, 2]) }, 0)).toEqual({
      score: null,
      label: null,
    });
    expect(interpret(named, {}, 0)).toEqual({ score: null, label: null });
  });
});

describe('predictionEvents', () => {
  const features = [
    [0.25, 1.5, -2],
    [0.5, 0, 4],
    [0.75, -0.125, 8],
  ];
  const inputs = { x: fp32([3, 3], features.flat()) };
  const outputs: Record<string, TensorData> = {
    probability: fp32([3, 1], [0.25, 0.5, 0.75]),
    label: { datatype: 'INT64', shape: [3], data: BigInt64Array.of(0n, 1n, 1n) },
    flagged: { datatype: 'BOOL', shape: [3, 1], data: Uint8Array.of(0, 1, 1) },
    reason: { datatype: 'BYTES', shape: [3], data: ['none', 'velocity', 'amount'] },
  };
  const req = { inputs, requestId: 'req-1', entityIds: ['card-a', null, 'card-c'] };

  function withFeatures(keep: 'full' | 'summary' | 'none'): LoadedVersion {
    return loaded({
      serving: resolveServingSpec({ serving: { predictionLog: { features: keep } } }),
    });
  }

  it('makes one valid event per row, with the row’s outputs, entity id and features', () => {
    const before = Date.now();
    const logged = predictionEvents(
      withFeatures('full'),
      'production',
      'online',
      req,
      outputs,
      12.5,
      false,
    );
    // The row is kept typed until the log's worker makes it the wire's array.
    expect(logged[0].features).toBeInstanceOf(Float32Array);
    const events = logged.map(toWire);
    expect(events).toHaveLength(3);
    const probability = [0.25, 0.5, 0.75];
    events.forEach((e, row) => {
      expect(PredictionEvent.parse(e)).toEqual(e);
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(before - 1);
      expect(e).toEqual({
        model: 'fraud',
        version: 3,
        alias: 'production',
        dataset: 'cards',
        featuresetVersion: 'fs-0123456789abcdef',
        mode: 'online',
        requestId: 'req-1',
        row,
        entityId: req.entityIds[row],
        features: features[row],
        outputs: {
          probability: [probability[row]],
          label: [[0, 1, 1][row]],
          flagged: [[false, true, true][row]],
          reason: [['none', 'velocity', 'amount'][row]],
        },
        score: probability[row],
        label: probability[row] >= 0.5 ? 'fraud' : 'legit',
        latencyMs: 12.5,
        cached: false,
        sourceEventId: null,
        at: e.at,
      });
    });
    // One request, one timestamp.
    expect(new Set(events.map((e) => e.at)).size).toBe(1);
  });

  it('logs a summary of the features, or none, as the serving spec says', () => {
    const summary = predictionEvents(
      withFeatures('summary'),
      null,
      'online',
      req,
      outputs,
      1,
      true,
    );
    summary.forEach((e, row) => {
      expect(PredictionEvent.parse(e)).toEqual(e);
      expect(e).not.toHaveProperty('features');
      expect(e.featureSummary).toEqual(summaryOf(features[row]));
      expect(e.alias).toBeNull();
      expect(e.cached).toBe(true);
    });
    const none = predictionEvents(withFeatures('none'), null, 'online', req, outputs, 1, false);
    expect(none).toHaveLength(3);
    for (const e of none) {
      expect(PredictionEvent.parse(e)).toEqual(e);
      expect(e).not.toHaveProperty('features');
      expect(e).not.toHaveProperty('featureSummary');
    }
  });

  it('keeps no features when the inputs have no single 2-D numeric matrix', () => {
    const two = {
      a: fp32([1, 2], [1, 2]),
      b: fp64([1, 2], [3, 4]),
    };
    const [e] = predictionEvents(
      withFeatures('full'),
      null,
      'online',
      { inputs: two, requestId: 'r' },
      { probability: fp32([1], [0.5]) },
      1,
      false,
    );
    expect(PredictionEvent.parse(e)).toEqual(e);
    expect(e).not.toHaveProperty('features');
    expect(e.entityId).toBeNull();
  });

  it('carries the mode and the source event of a stream-scored row', () => {
    const [e] = predictionEvents(
      withFeatures('full'),
      'production',
      'stream',
      { inputs: { x: fp32([1, 3], features[2]) }, requestId: 'evt-9', sourceEventId: 'evt-9' },
      { probability: fp32([1, 1], [0.75]) },
      0,
      false,
    ).map(toWire);
    expect(PredictionEvent.parse(e)).toEqual(e);
    expect(e).toMatchObject({
      mode: 'stream',
      sourceEventId: 'evt-9',
      row: 0,
      features: features[2],
      score: 0.75,
      label: 'fraud',
    });
  });
});

/** ServedModels as the predictor sees it: routes are handed out in order, serving per version. */
class FakeServed {
  readonly routeCalls: { model: string; routingKey: string }[] = [];
  readonly versionCalls: { model: string; version: number }[] = [];
  readonly serving = new Map<LoadedVersion, ServingSection>();

  constructor(
    private readonly routes: Route[] = [],
    private readonly versions: LoadedVersion[] = [],
  ) {}

  route(model: string, routingKey: string): Route {
    this.routeCalls.push({ model, routingKey });
    const next = this.routes.shift();
    if (!next) throw new ModelNotServedError(`model "${model}" is not served`);
    return next;
  }

  version(model: string, version: number): LoadedVersion {
    this.versionCalls.push({ model, version });
    const v = this.versions.find((x) => x.model === model && x.version === version);
    if (!v) throw new ModelNotServedError(`version ${version} of "${model}" is not served`);
    return v;
  }

  servingOf(v: LoadedVersion): ServingSection {
    return this.serving.get(v) ?? v.serving;
  }
}

/** The prediction log's one method, recording each call; `until` waits for the n-th call. */
class FakeLog {
  readonly calls: PredictionEvent[][] = [];
  private readonly waiting: { n: number; resolve: () => void }[] = [];

  log(events: readonly PredictionEvent[]): void {
    this.calls.push([...events]);
    for (const w of this.waiting.filter((x) => this.calls.length >= x.n)) w.resolve();
  }

  until(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${n} calls were not logged in 5 s`)), 5000);
      this.waiting.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

function setup(served: FakeServed) {
  const registry = new Registry();
  const log = new FakeLog();
  const cache = new MemoryCache({ maxEntries: 100, maxBytes: 1 << 20 });
  const predictor = new Predictor(
    served as unknown as ServedModels,
    new InferenceMetrics(registry),
    log as unknown as PredictionLog,
    cache,
    logger,
  );
  return { registry, log, cache, predictor };
}

function request(route: Route, rows: number[][], extra: Partial<PredictRequest> = {}) {
  return {
    model: route.target.model,
    route,
    inputs: { x: fp32([rows.length, 3], rows.flat()) },
    requestId: 'req-1',
    mode: 'online',
    ...extra,
  } satisfies PredictRequest;
}

const ROWS = [
  [0.25, 1, 2],
  [0.75, 3, 4],
];

describe('Predictor', () => {
  it('routes a version number to that version and no version to the aliases', () => {
    const v2 = loaded({ version: 2 });
    const prod = loaded({ version: 3 });
    const served = new FakeServed([{ target: prod, alias: 'production', shadow: null }], [v2]);
    const { predictor } = setup(served);
    expect(predictor.route('fraud', 2, 'k')).toEqual({ target: v2, alias: null, shadow: null });
    expect(served.versionCalls).toEqual([{ model: 'fraud', version: 2 }]);
    expect(predictor.route('fraud', undefined, 'card-1')).toEqual({
      target: prod,
      alias: 'production',
      shadow: null,
    });
    expect(served.routeCalls).toEqual([{ model: 'fraud', routingKey: 'card-1' }]);
    expect(() => predictor.route('fraud', 9, 'k')).toThrow(ModelNotServedError);
  });

  it('answers a repeated request from the cache, without running the model', async () => {
    const v = loaded();
    const route: Route = { target: v, alias: 'production', shadow: null };
    const { predictor, registry, log } = setup(new FakeServed());

    const first = await predictor.predict(request(route, ROWS));
    expect(first.cached).toBe(false);
    expect(first.version).toBe(v);
    expect(first.alias).toBe('production');
    expect(first.outputs).toEqual({ probability: fp32([2, 1], [0.25, 0.75]) });
    expect(first.queueMs).toBe(2);
    expect(first.computeMs).toBe(3);

    const second = await predictor.predict(request(route, ROWS, { requestId: 'req-2' }));
    expect(batcherOf(v).calls).toHaveLength(1);
    expect(second.cached).toBe(true);
    expect(second.outputs).toEqual(first.outputs);
    expect(second.queueMs).toBe(0);
    expect(second.computeMs).toBe(0);

    // Other inputs, or other outputs asked for, are other keys.
    const other = await predictor.predict(request(route, [[0.5, 1, 2]]));
    expect(other.cached).toBe(false);
    await predictor.predict(request(route, ROWS, { outputs: ['probability'] }));
    expect(batcherOf(v).calls).toHaveLength(3);

    const online = { model: 'fraud', version: '3', alias: 'production', mode: 'online' };
    expect(await metric(registry, 'inference_requests_total', { ...online, status: 'ok' })).toBe(4);
    expect(
      await metric(registry, 'inference_rows_total', {
        model: 'fraud',
        version: '3',
        mode: 'online',
      }),
    ).toBe(7);
    expect(log.calls.map((events) => events.map((e) => [e.requestId, e.row, e.cached]))).toEqual([
      [
        ['req-1', 0, false],
        ['req-1', 1, false],
      ],
      [
        ['req-2', 0, true],
        ['req-2', 1, true],
      ],
      [['req-1', 0, false]],
      [
        ['req-1', 0, false],
        ['req-1', 1, false],
      ],
    ]);
    expect(log.calls[1].map((e) => e.score)).toEqual([0.25, 0.75]);
  });

  it('never caches when the version’s serving settings turn the cache off', async () => {
    const v = loaded();
    const served = new FakeServed();
    served.serving.set(v, { ...v.serving, cache: { enabled: false, ttlSeconds: 300 } });
    const { predictor, cache } = setup(served);
    const route: Route = { target: v, alias: 'production', shadow: null };
    const results = [
      await predictor.predict(request(route, ROWS)),
      await predictor.predict(request(route, ROWS)),
    ];
    expect(results.map((r) => r.cached)).toEqual([false, false]);
    expect(batcherOf(v).calls).toHaveLength(2);
    expect(cache.size).toBe(0);
  });

  it('routes again when the version was replaced between routing and queueing', async () => {
    const old = loaded({
      version: 3,
      batcher: new FakeBatcher(firstFeature, new BatcherClosedError('fraud@3')),
    });
    const successor = loaded({ version: 4 });
    const served = new FakeServed([{ target: successor, alias: 'production', shadow: null }]);
    const { predictor, registry, log } = setup(served);

    const result = await predictor.predict(
      request({ target: old, alias: 'production', shadow: null }, ROWS, { routingKey: 'card-7' }),
    );
    expect(served.routeCalls).toEqual([{ model: 'fraud', routingKey: 'card-7' }]);
    expect(batcherOf(old).calls).toHaveLength(1);
    expect(batcherOf(successor).calls).toHaveLength(1);
    expect(result.version).toBe(successor);
    expect(result.alias).toBe('production');
    expect(result.outputs).toEqual({ probability: fp32([2, 1], [0.25, 0.75]) });
    expect(log.calls).toHaveLength(1);
    expect(log.calls[0].map((e) => e.version)).toEqual([4, 4]);
    expect(await metric(registry, 'inference_requests_total', { version: '4', status: 'ok' })).toBe(
      1,
    );
    expect(await metric(registry, 'inference_requests_total', { version: '3' })).toBe(0);
  });

  it('routes again by request id when the request has no routing key', async () => {
    const old = loaded({ batcher: new FakeBatcher(firstFeature, new BatcherClosedError('x')) });
    const served = new FakeServed([
      { target: loaded({ version: 4 }), alias: 'production', shadow: null },
    ]);
    const { predictor } = setup(served);
    await predictor.predict(request({ target: old, alias: 'production', shadow: null }, ROWS));
    expect(served.routeCalls).toEqual([{ model: 'fraud', routingKey: 'req-1' }]);
  });

  it('gives up after three routes that all hit closed batchers', async () => {
    const closed = (version: number) =>
      loaded({
        version,
        batcher: new FakeBatcher(firstFeature, new BatcherClosedError(`fraud@${version}`)),
      });
    const served = new FakeServed(
      [4, 5, 6, 7].map((v) => ({ target: closed(v), alias: 'production', shadow: null })),
    );
    const { predictor, log } = setup(served);
    await expect(
      predictor.predict(request({ target: closed(3), alias: 'production', shadow: null }, ROWS)),
    ).rejects.toThrow(new BatcherClosedError('fraud@6'));
    expect(served.routeCalls).toHaveLength(3);
    // The last version tried is charged with the failure; the re-routed attempts are not.
    expect(log.calls).toHaveLength(1);
    expect(log.calls[0].map((e) => [e.version, e.row, e.error?.code])).toEqual([
      [6, 0, 'closed'],
      [6, 1, 'closed'],
    ]);
  });

  it('rethrows a closed batcher when the request pinned its version', async () => {
    const closed = new BatcherClosedError('fraud@3');
    const pinned = loaded({ batcher: new FakeBatcher(firstFeature, closed) });
    const served = new FakeServed([
      { target: loaded({ version: 4 }), alias: 'production', shadow: null },
    ]);
    const { predictor, log } = setup(served);
    await expect(
      predictor.predict(
        request({ target: pinned, alias: null, shadow: null }, ROWS, { pinned: true }),
      ),
    ).rejects.toBe(closed);
    expect(served.routeCalls).toHaveLength(0);
    // A 503 (version_retired): the server's failure, logged for the pinned version.
    expect(log.calls).toHaveLength(1);
    expect(log.calls[0].map((e) => [e.version, e.alias, e.error?.code])).toEqual([
      [3, null, 'closed'],
      [3, null, 'closed'],
    ]);
  });

  it('rethrows other errors of the batcher without routing again', async () => {
    const boom = new Error('worker exploded');
    const v = loaded({ batcher: new FakeBatcher(firstFeature, boom) });
    const served = new FakeServed([
      { target: loaded({ version: 4 }), alias: 'production', shadow: null },
    ]);
    const { predictor } = setup(served);
    await expect(
      predictor.predict(request({ target: v, alias: 'production', shadow: null }, ROWS)),
    ).rejects.toBe(boom);
    expect(served.routeCalls).toHaveLength(0);
  });

  it('scores the shadow beside the target and logs it as the canary', async () => {
    const prod = loaded({ version: 3 });
    // The canary answers differently, so its outputs cannot pass for production's.
    const canary = loaded({
      version: 5,
      batcher: new FakeBatcher((inputs) => ({
        probability: fp32([rowsOf(inputs), 1], new Array<number>(rowsOf(inputs)).fill(0.125)),
      })),
    });
    const { predictor, registry, log } = setup(new FakeServed());

    const result = await predictor.predict(
      request({ target: prod, alias: 'production', shadow: canary }, ROWS),
    );
    expect(result.version).toBe(prod);
    expect(result.outputs).toEqual({ probability: fp32([2, 1], [0.25, 0.75]) });

    await log.until(2);
    expect(log.calls).toHaveLength(2);
    const online = log.calls.find((events) => events[0].mode === 'online') ?? [];
    const shadow = log.calls.find((events) => events[0].mode === 'shadow') ?? [];
    expect(batcherOf(canary).calls).toEqual([
      { inputs: { x: fp32([2, 3], ROWS.flat()) }, outputs: undefined },
    ]);
    expect(shadow).toHaveLength(2);
    for (const e of shadow.map(toWire)) {
      expect(PredictionEvent.parse(e)).toEqual(e);
      expect(e).toMatchObject({ mode: 'shadow', alias: 'canary', version: 5, cached: false });
      expect(e.score).toBe(0.125);
    }
    expect(online.map((e) => [e.mode, e.alias, e.version, e.score])).toEqual([
      ['online', 'production', 3, 0.25],
      ['online', 'production', 3, 0.75],
    ]);
    expect(
      await metric(registry, 'inference_requests_total', {
        version: '5',
        alias: 'canary',
        mode: 'shadow',
        status: 'ok',
      }),
    ).toBe(1);
    expect(await metric(registry, 'inference_rows_total', { version: '5', mode: 'shadow' })).toBe(
      2,
    );
  });

  it('logs a request the version failed to score as one error prediction per row', async () => {
    const failure = new InferenceFailedError('fraud@3', 'onnxruntime said no');
    const v = loaded({ batcher: new FakeBatcher(firstFeature, failure) });
    const { predictor, registry, log } = setup(new FakeServed());
    const before = Date.now();
    await expect(
      predictor.predict(
        request({ target: v, alias: 'production', shadow: null }, ROWS, {
          entityIds: ['card-a', null],
        }),
      ),
    ).rejects.toBe(failure);

    expect(log.calls).toHaveLength(1);
    const events = log.calls[0].map(toWire);
    expect(events).toHaveLength(2);
    events.forEach((e, row) => {
      expect(PredictionEvent.parse(e)).toEqual(e);
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(before - 1);
      expect(e.latencyMs).toBeGreaterThanOrEqual(0);
      expect(e).toEqual({
        model: 'fraud',
        version: 3,
        alias: 'production',
        dataset: 'cards',
        featuresetVersion: 'fs-0123456789abcdef',
        mode: 'online',
        requestId: 'req-1',
        row,
        entityId: ['card-a', null][row],
        features: ROWS[row],
        outputs: {},
        score: null,
        label: null,
        latencyMs: e.latencyMs,
        cached: false,
        sourceEventId: null,
        at: e.at,
        error: {
          code: 'inference_failed',
          message: 'inference on model fraud@3 failed: onnxruntime said no',
        },
      });
    });
    // Nothing counted as served: the caller counts the failure by its status.
    expect(await metric(registry, 'inference_requests_total', { status: 'ok' })).toBe(0);
  });

  it('logs every server-side failure with its code, an unknown error as internal', async () => {
    const failures: [Error, string][] = [
      [new WorkerExitedError('the worker exited'), 'worker_exited'],
      [new RequestTimeoutError('fraud@3', 50, 'running'), 'timeout'],
      [new Error('x'.repeat(3000)), 'internal'],
    ];
    for (const [failure, code] of failures) {
      const v = loaded({ batcher: new FakeBatcher(firstFeature, failure) });
      const { predictor, log } = setup(new FakeServed());
      await expect(
        predictor.predict(request({ target: v, alias: 'canary', shadow: null }, ROWS)),
      ).rejects.toBe(failure);
      expect(log.calls).toHaveLength(1);
      for (const e of log.calls[0].map(toWire)) {
        expect(PredictionEvent.parse(e)).toEqual(e);
        expect(e).toMatchObject({ alias: 'canary', mode: 'online', error: { code } });
        expect(e.error!.message).toBe(failure.message.slice(0, 2000));
      }
    }
  });

  it('logs nothing for a client’s error (4xx): bad input, or a full queue shedding load', async () => {
    for (const failure of [
      new InvalidInputError('input "x" must be FP32, got FP64'),
      new QueueFullError('fraud@3', 2),
    ]) {
      const v = loaded({ batcher: new FakeBatcher(firstFeature, failure) });
      const { predictor, log } = setup(new FakeServed());
      await expect(
        predictor.predict(request({ target: v, alias: 'production', shadow: null }, ROWS)),
      ).rejects.toBe(failure);
      expect(log.calls).toHaveLength(0);
    }
  });

  it('samples error predictions like successes, and leaves failed stream scoring alone', async () => {
    const failure = new InferenceFailedError('fraud@3', 'boom');
    const v = loaded({ batcher: new FakeBatcher(firstFeature, failure) });
    const served = new FakeServed();
    served.serving.set(v, { ...v.serving, predictionLog: { sampleRate: 0, features: 'full' } });
    const { predictor, log } = setup(served);
    const route: Route = { target: v, alias: 'production', shadow: null };
    await expect(predictor.predict(request(route, ROWS))).rejects.toBe(failure);
    served.serving.delete(v);
    await expect(predictor.predict(request(route, ROWS, { mode: 'stream' }))).rejects.toBe(failure);
    expect(log.calls).toHaveLength(0);
  });

  it('logs a failed shadow as error predictions of the canary, beside production’s', async () => {
    const prod = loaded({ version: 3 });
    const canary = loaded({
      version: 5,
      batcher: new FakeBatcher(firstFeature, new WorkerExitedError('worker 2 exited')),
    });
    const { predictor, registry, log } = setup(new FakeServed());
    const result = await predictor.predict(
      request({ target: prod, alias: 'production', shadow: canary }, ROWS),
    );
    expect(result.version).toBe(prod);

    await log.until(2);
    const online = log.calls.find((events) => events[0].mode === 'online') ?? [];
    const shadow = log.calls.find((events) => events[0].mode === 'shadow') ?? [];
    expect(online.map((e) => [e.version, e.score, e.error])).toEqual([
      [3, 0.25, undefined],
      [3, 0.75, undefined],
    ]);
    expect(shadow).toHaveLength(2);
    for (const e of shadow.map(toWire)) {
      expect(PredictionEvent.parse(e)).toEqual(e);
      expect(e).toMatchObject({
        mode: 'shadow',
        alias: 'canary',
        version: 5,
        outputs: {},
        score: null,
        label: null,
        cached: false,
        error: { code: 'worker_exited', message: 'worker 2 exited' },
      });
    }
    expect(
      await metric(registry, 'inference_requests_total', {
        version: '5',
        mode: 'shadow',
        status: 'error',
      }),
    ).toBe(1);
  });

  it('logs no error for a shadow that refused the input as a client error', async () => {
    const prod = loaded({ version: 3 });
    const canary = loaded({
      version: 5,
      batcher: new FakeBatcher(firstFeature, new InvalidInputError('input "x" wants 4 columns')),
    });
    const { predictor, registry, log } = setup(new FakeServed());
    await predictor.predict(request({ target: prod, alias: 'production', shadow: canary }, ROWS));
    await log.until(1);
    // The shadow's rejection has run once its error is counted.
    await vi.waitFor(async () =>
      expect(
        await metric(registry, 'inference_requests_total', { version: '5', status: 'error' }),
      ).toBe(1),
    );
    expect(log.calls.map((events) => events.map((e) => [e.mode, e.version]))).toEqual([
      [
        ['online', 3],
        ['online', 3],
      ],
    ]);
  });

  it('logs nothing at sample rate 0, and still counts the request', async () => {
    const v = loaded();
    const served = new FakeServed();
    served.serving.set(v, { ...v.serving, predictionLog: { sampleRate: 0, features: 'full' } });
    const { predictor, registry, log } = setup(served);
    const route: Route = { target: v, alias: 'production', shadow: null };
    for (let i = 0; i < 5; i++)
      await predictor.predict(request(route, ROWS, { requestId: `req-${i}` }));
    expect(log.calls).toHaveLength(0);
    expect(
      await metric(registry, 'inference_requests_total', { mode: 'online', status: 'ok' }),
    ).toBe(5);
  });

  it('leaves stream-scored predictions to the stream scorer, and does not cache them', async () => {
    const v = loaded();
    const { predictor, registry, log } = setup(new FakeServed());
    const route: Route = { target: v, alias: 'production', shadow: null };
    const stream = { mode: 'stream', sourceEventId: 'evt-1' } as const;
    const results = [
      await predictor.predict(request(route, ROWS, stream)),
      await predictor.predict(request(route, ROWS, stream)),
    ];
    expect(results.map((r) => r.cached)).toEqual([false, false]);
    expect(batcherOf(v).calls).toHaveLength(2);
    expect(log.calls).toHaveLength(0);
    expect(
      await metric(registry, 'inference_requests_total', { mode: 'stream', status: 'ok' }),
    ).toBe(2);
    expect(await metric(registry, 'inference_requests_total', { mode: 'online' })).toBe(0);
  });

  it('counts a failed request by its status', async () => {
    const v = loaded();
    const { predictor, registry } = setup(new FakeServed());
    predictor.failed('fraud', { target: v, alias: 'production', shadow: null }, 'online', '429');
    predictor.failed('nope', null, 'online', '404');
    expect(
      await metric(registry, 'inference_requests_total', {
        model: 'fraud',
        version: '3',
        alias: 'production',
        status: '429',
      }),
    ).toBe(1);
    expect(
      await metric(registry, 'inference_requests_total', {
        model: 'nope',
        version: '',
        alias: '',
        status: '404',
      }),
    ).toBe(1);
  });
});
