import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  EVENTS,
  deadLetterTopicName,
  type FeatureVectorEvent,
  type PredictionEvent,
} from '@mlops/contracts';
import { generateCards } from '@mlops/datagen';
import { cardsSpec } from '@mlops/datagen';
import { featuresetArtifact, fitFeatureset, transform, type Featureset } from '@mlops/features';
import { forwardDense, type NetworkLayer } from '@mlops/ml';
import { RegistryClient } from '@mlops/registry-client';
import {
  cloudEventMessage,
  consumeUntil,
  startService,
  testKafka,
  type Collected,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';
import { inCanary } from '../services/inference/src/models/routing';
import { binaryLayers, binaryModel } from '../services/inference/src/runtime/test-models';

/**
 * The inference service on the real broker with the real registry: models registered as the
 * trainer registers them (ONNX, training report, featureset), served over the Open Inference
 * Protocol and on raw records, split to a canary, swapped under load, cached in process and in
 * Redis, stream-scored from features.v1, and every prediction logged to predictions.v1.
 */

const MODEL = 'cards-i';
const SPEC = DatasetSpec.parse({
  ...cardsSpec(),
  model: { name: MODEL },
  serving: {
    canary: { share: 0.1 },
    streamScoring: { enabled: true },
    batching: { maxBatchSize: 32 },
  },
});
const REDIS_URL = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';

interface Oip {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Runs `n` tasks with at most `c` in flight. */
async function pool<T>(n: number, c: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

describe('inference: OIP v2, raw records, canary, hot swap, cache, stream scoring', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  let inference: RunningService;
  let client: RegistryClient;
  let fs: Featureset;
  let records: Record<string, unknown>[];
  let width: number;
  /** Layers of versions 1, 2, 3. */
  const layers: NetworkLayer[][] = [];
  const env = () => ({ KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix });

  const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { raw: text };
    }
    return { status: res.status, headers: res.headers, body: json } satisfies Oip;
  };
  const infer = (
    rows: number[][],
    extra: Record<string, unknown> = {},
    base = inference.url,
    headers: Record<string, string> = {},
  ) =>
    post(
      `${base}/v2/models/${MODEL}/infer`,
      {
        inputs: [{ name: 'features', shape: [rows.length, width], datatype: 'FP32', data: rows }],
        ...extra,
      },
      headers,
    );
  const registryCall = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${registry.url}${url}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status, `${method} ${url}: ${await res.clone().text()}`).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const setAlias = (alias: string, version: number) =>
    registryCall('PUT', `/v1/models/${MODEL}/aliases/${alias}`, { version, reason: 'e2e' });
  /** Waits until the inference service routes `alias` to `version` (metadata lists it). */
  const served = async (
    versions: string[],
    base = inference.url,
    headers: Record<string, string> = {},
  ) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${base}/v2/models/${MODEL}`, { headers });
      const body = (await res.json()) as { versions?: string[] };
      if (res.status === 200 && JSON.stringify(body.versions) === JSON.stringify(versions)) return;
      if (Date.now() > deadline)
        throw new Error(
          `served versions ${JSON.stringify(body)}, waiting for ${versions.join(',')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** P(fraud) of each row under version v (1-based), in double precision from the weights. */
  const expected = (v: number, rows: number[][]) => [...forwardDense(layers[v - 1], rows.flat())];
  const rowOf = (i: number) => transform(fs, records[i % records.length]);

  beforeAll(async () => {
    t = await testKafka('inference');
    dir = mkdtempSync(path.join(tmpdir(), 'inference-e2e-'));
    registry = await startService('model-registry', {
      ...env(),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
    });
    client = new RegistryClient({ url: registry.url });
    await registryCall('POST', '/v1/specs', SPEC);

    records = generateCards({ n: 3000, seed: 5 }).records as unknown as Record<string, unknown>[];
    fs = fitFeatureset(SPEC, records);
    width = fs.names.length;
    const fsRef = await client.upload(featuresetArtifact(fs), 'json');
    await registryCall('POST', '/v1/models', { name: MODEL });
    for (const seed of [1, 2, 3]) {
      const l = binaryLayers(width, 16, seed);
      layers.push(l);
      const artifact = await client.upload(Buffer.from(binaryModel(l)), 'onnx');
      const report = await client.upload(
        Buffer.from(
          JSON.stringify({
            format: 1,
            task: 'binary',
            classes: fs.classes,
            artifacts: { model: artifact, featureset: fsRef },
          }),
        ),
        'json',
      );
      await registryCall('POST', `/v1/models/${MODEL}/versions`, {
        artifact,
        dataset: 'cards',
        datasetSpecVersion: 1,
        featuresetVersion: fs.version,
        tags: {
          'mlops.task': 'binary',
          'mlops.report.uri': report.uri,
          'mlops.report.sha256': report.sha256,
          'mlops.report.size': String(report.size),
        },
      });
    }
    await setAlias('production', 1);
    inference = await startService('inference', {
      ...env(),
      REGISTRY_URL: registry.url,
      INFERENCE_WORKERS: '2',
      INFERENCE_MAX_BODY_BYTES: String(2 * 1024 * 1024),
    });
    await served(['1']);
  });
  afterAll(async () => {
    await inference?.stop();
    await registry?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the Open Inference Protocol in its documented shapes', async () => {
    const server = await fetch(`${inference.url}/v2`);
    expect(await server.json()).toEqual({
      name: 'mlops-inference',
      version: '1.0.0',
      extensions: ['binary_tensor_data'],
    });
    expect(await (await fetch(`${inference.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${inference.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    expect(await (await fetch(`${inference.url}/v2/models/${MODEL}/ready`)).json()).toEqual({
      name: MODEL,
      ready: true,
    });
    expect(
      await (await fetch(`${inference.url}/v2/models/${MODEL}/versions/1/ready`)).json(),
    ).toEqual({ name: MODEL, ready: true });
    const meta = await (await fetch(`${inference.url}/v2/models/${MODEL}`)).json();
    expect(meta).toEqual({
      name: MODEL,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, width] }],
      outputs: [
        { name: 'probability', datatype: 'FP32', shape: [-1, 1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    });

    const rows = [0, 1, 2, 3, 4].map(rowOf);
    const res = await infer(rows, { id: 'req-shape-1' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['id', 'model_name', 'model_version', 'outputs']);
    expect(res.body.model_name).toBe(MODEL);
    expect(res.body.model_version).toBe('1');
    expect(res.body.id).toBe('req-shape-1');
    const outputs = res.body.outputs as {
      name: string;
      shape: number[];
      datatype: string;
      data: number[];
    }[];
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probability', 'FP32', [5, 1]],
      ['probabilities', 'FP32', [5, 2]],
    ]);
    const want = expected(1, rows);
    outputs[0].data.forEach((p, i) => expect(p).toBeCloseTo(want[i], 5));
    outputs[1].data.forEach((p, i) =>
      expect(p).toBeCloseTo(i % 2 === 1 ? want[i >> 1] : 1 - want[i >> 1], 5),
    );

    // One named output only, by version, nested or flat data alike.
    const one = await post(`${inference.url}/v2/models/${MODEL}/versions/1/infer`, {
      inputs: [{ name: 'features', shape: [1, width], datatype: 'FP32', data: rows[0] }],
      outputs: [{ name: 'probability' }],
    });
    expect(one.status).toBe(200);
    const only = one.body.outputs as { name: string; data: number[] }[];
    expect(only.map((o) => o.name)).toEqual(['probability']);
    expect(only[0].data[0]).toBeCloseTo(want[0], 5);
  });

  it('speaks the binary tensor extension as tritonclient sends it', async () => {
    const rows = [rowOf(20), rowOf(21)];
    const data = Float32Array.from(rows.flat());
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'features',
            shape: [2, width],
            datatype: 'FP32',
            parameters: { binary_data_size: data.byteLength },
          },
        ],
        outputs: [{ name: 'probability', parameters: { binary_data: true } }],
      }),
    );
    const res = await fetch(`${inference.url}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
      body: Buffer.concat([header, Buffer.from(data.buffer)]),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const body = Buffer.from(await res.arrayBuffer());
    const length = Number(res.headers.get('inference-header-content-length'));
    const json = JSON.parse(body.subarray(0, length).toString('utf8')) as {
      outputs: {
        name: string;
        shape: number[];
        datatype: string;
        parameters: { binary_data_size: number };
      }[];
    };
    expect(json.outputs).toEqual([
      { name: 'probability', shape: [2, 1], datatype: 'FP32', parameters: { binary_data_size: 8 } },
    ]);
    const bytes = body.subarray(length);
    expect(bytes.length).toBe(8);
    const p = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 8));
    const want = expected(1, rows);
    expect(p[0]).toBeCloseTo(want[0], 5);
    expect(p[1]).toBeCloseTo(want[1], 5);
  });

  it('refuses bad requests with the protocol error body and a reason', async () => {
    const url = `${inference.url}/v2/models/${MODEL}/infer`;
    const cases: [string, unknown, number, RegExp][] = [
      ['not json', '{"inputs": [', 400, /not valid JSON/],
      ['no inputs', {}, 400, /inputs/],
      [
        'wrong datatype',
        { inputs: [{ name: 'features', shape: [1, width], datatype: 'FP64', data: rowOf(0) }] },
        400,
        /FP32/,
      ],
      [
        'wrong name',
        { inputs: [{ name: 'x', shape: [1, width], datatype: 'FP32', data: rowOf(0) }] },
        400,
        /features/,
      ],
      [
        'wrong width',
        { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
        400,
        /features/,
      ],
      [
        'NaN',
        {
          inputs: [
            {
              name: 'features',
              shape: [1, width],
              datatype: 'FP32',
              data: ['NaN', ...rowOf(0).slice(1)],
            },
          ],
        },
        400,
        /finite/,
      ],
      [
        'too many rows',
        {
          inputs: [
            {
              name: 'features',
              shape: [1025, width],
              datatype: 'FP32',
              data: new Array(1025 * width).fill(0),
            },
          ],
        },
        400,
        /1025 rows exceed the limit 1024/,
      ],
    ];
    for (const [what, body, status, reason] of cases) {
      const res = await post(url, body);
      expect(res.status, what).toBe(status);
      expect(Object.keys(res.body), what).toEqual(['error']);
      expect(res.body.error, what).toMatch(reason);
    }
    const big = await post(url, { pad: 'x'.repeat(3 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(typeof big.body.error).toBe('string');
    const missing = await post(`${inference.url}/v2/models/nope/infer`, { inputs: [] });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/not served/);
    const version = await post(`${inference.url}/v2/models/${MODEL}/versions/9/infer`, {});
    expect(version.status).toBe(404);
    expect(version.body.error).toMatch(/version 9 .* served versions: 1/);
    const route = await fetch(`${inference.url}/v2/nowhere`);
    expect(route.status).toBe(404);
    expect(Object.keys((await route.json()) as object)).toEqual(['error']);
  });

  it('scores raw records through the featureset the version was trained with', async () => {
    const batch = records.slice(100, 120);
    const res = await post(`${inference.url}/v1/predict/${MODEL}`, { records: batch });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      model: MODEL,
      version: 1,
      alias: 'production',
      featuresetVersion: fs.version,
    });
    const predictions = res.body.predictions as {
      entityId: string;
      score: number;
      label: unknown;
    }[];
    const want = expected(
      1,
      batch.map((r) => transform(fs, r)),
    );
    expect(predictions.map((p) => p.entityId)).toEqual(batch.map((r) => String(r.card_id)));
    predictions.forEach((p, i) => {
      expect(p.score).toBeCloseTo(want[i], 5);
      expect(p.label).toBe(
        fs.classes ? fs.classes[want[i] >= 0.5 ? 1 : 0] : want[i] >= 0.5 ? 1 : 0,
      );
    });
    // A record that fails the spec: 422 naming it, nothing scored.
    const bad = await post(`${inference.url}/v1/predict/${MODEL}`, [
      batch[0],
      { ...batch[1], amount: 'lots' },
    ]);
    expect(bad.status).toBe(422);
    const details = (bad.body.error as { details: { results: { index: number }[] } }).details;
    expect(details.results.map((r) => r.index)).toEqual([1]);
  });

  it('answers a repeated request from the cache, per version', async () => {
    const rows = [rowOf(7), rowOf(8)];
    const first = await infer(rows);
    const second = await infer(rows);
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.body.outputs).toEqual(first.body.outputs);
    const other = await infer([rowOf(9)]);
    expect(other.headers.get('x-cache')).toBe('miss');
  });

  it('sends the canary its 10 % share by entity, the same version every time', async () => {
    await setAlias('canary', 2);
    await served(['1', '2']);
    const row = rowOf(11);
    const n = 20_000;
    const versions = await pool(n, 32, async (i) => {
      const res = await infer([row], { parameters: { entity_id: `e-${i}` } });
      expect(res.status).toBe(200);
      return Number(res.headers.get('x-model-version'));
    });
    const canary = versions.filter((v) => v === 2).length;
    let want = 0;
    for (let i = 0; i < n; i++) if (inCanary(`e-${i}`, 0.1)) want++;
    expect(canary).toBe(want);
    expect(Math.abs(canary / n - 0.1)).toBeLessThanOrEqual(0.02);
    // The same entities again meet the same versions.
    const again = await pool(500, 16, async (i) => {
      const res = await infer([row], { parameters: { entity_id: `e-${i}` } });
      return Number(res.headers.get('x-model-version'));
    });
    expect(again).toEqual(versions.slice(0, 500));
    // And the canary computes with its own weights.
    const i = versions.indexOf(2);
    const res = await infer([row], { parameters: { entity_id: `e-${i}` } });
    expect((res.body.outputs as { data: number[] }[])[0].data[0]).toBeCloseTo(
      expected(2, [row])[0],
      5,
    );
  }, 240_000);

  it('moves production v1 → v2 → v3 under load with zero failed requests', async () => {
    await registryCall('DELETE', `/v1/models/${MODEL}/aliases/canary`, { reason: 'e2e' });
    await served(['1']);
    const inputs = [0, 1, 2, 3].map((k) => rowOf(200 + k));
    const want = [1, 2, 3].map((v) => inputs.map((r) => expected(v, [r])[0]));
    let done = 0;
    const moves = [
      { at: 2_000, version: 2, moved: false },
      { at: 6_000, version: 3, moved: false },
    ];
    const results = await pool(10_000, 16, async (i) => {
      const k = i % inputs.length;
      const res = await infer([inputs[k]], { parameters: { entity_id: `swap-${i}` } });
      done++;
      for (const m of moves)
        if (!m.moved && done >= m.at) {
          m.moved = true;
          void setAlias('production', m.version);
        }
      const version = Number(res.headers.get('x-model-version'));
      const p = res.status === 200 ? (res.body.outputs as { data: number[] }[])[0].data[0] : NaN;
      return { status: res.status, version, k, p };
    });
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    // Every answer was computed by the version that says it answered.
    for (const r of results) expect(Math.abs(r.p - want[r.version - 1][r.k])).toBeLessThan(1e-5);
    const seen = results.map((r) => r.version);
    expect(seen[0]).toBe(1);
    expect(seen.at(-1)).toBe(3);
    expect(new Set(seen)).toEqual(new Set([1, 2, 3]));
    // Each move is one switch: apart from requests in flight at that moment (16 at a time),
    // no answer comes from an older version than one before it.
    let backwards = 0;
    for (let i = 1; i < seen.length; i++) if (seen[i] < seen[i - 1]) backwards++;
    expect(backwards).toBeLessThanOrEqual(2 * 16);
    await served(['3']);
  }, 240_000);

  it('logs every online prediction to predictions.v1 with its features and score', async () => {
    const rows = [rowOf(300), rowOf(301), rowOf(302)];
    const res = await infer(rows, {
      id: 'logged-req',
      parameters: { entity_ids: ['a', 'b', 'c'] },
    });
    expect(res.status).toBe(200);
    const want = expected(3, rows);
    const logged = await consumeUntil(
      t.kafka,
      t.topic('predictions'),
      (rs) => rs.filter((r) => r.value?.includes('"logged-req"')).length >= 3,
    );
    const mine = logged
      .map((r: Collected) => JSON.parse(r.value!) as PredictionEvent)
      .filter((e) => e.requestId === 'logged-req')
      .sort((a, b) => a.row - b.row);
    expect(mine.map((e) => [e.model, e.version, e.alias, e.mode, e.row, e.entityId])).toEqual([
      [MODEL, 3, 'production', 'online', 0, 'a'],
      [MODEL, 3, 'production', 'online', 1, 'b'],
      [MODEL, 3, 'production', 'online', 2, 'c'],
    ]);
    mine.forEach((e, i) => {
      expect(e.score).toBeCloseTo(want[i], 5);
      expect(e.features!.length).toBe(width);
      e.features!.forEach((x, j) => expect(x).toBeCloseTo(Math.fround(rows[i][j]), 6));
      expect(e.dataset).toBe('cards');
      expect(e.featuresetVersion).toBe(fs.version);
    });
  });

  it('runs the prediction log’s thread below the event loop’s priority', async () => {
    // Linux keeps a nice value per thread (field 19 of /proc/<pid>/task/<tid>/stat). The log's
    // producer thread exists once a prediction was logged (the test above).
    const pid = inference.process.pid!;
    const nice = (tid: string) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name in parentheses start at field 3 (state).
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
    };
    const tasks = readdirSync(`/proc/${pid}/task`);
    expect(nice(String(pid))).toBe(0);
    expect(tasks.map(nice).filter((n) => n === 10).length).toBeGreaterThanOrEqual(1);
  });

  it('stream-scores features.v1 with production and canary, exactly once', async () => {
    await setAlias('canary', 2);
    await served(['2', '3']);
    const n = 60;
    const ids: string[] = [];
    const messages = Array.from({ length: n }, (_, i) => {
      const id = `fv-${i}-${Date.now()}`;
      ids.push(id);
      const data: FeatureVectorEvent = {
        dataset: 'cards',
        entityId: `card-${i}`,
        featuresetVersion: fs.version,
        vector: rowOf(400 + i),
        label: null,
        eventTime: null,
      };
      return cloudEventMessage(EVENTS.featureVector.type, `cards:card-${i}`, data, id);
    });
    // One of another featureset (skipped) and one of the wrong width (dead-lettered).
    const stale = cloudEventMessage(EVENTS.featureVector.type, 'cards:x', {
      dataset: 'cards',
      entityId: 'x',
      featuresetVersion: 'fs-0000000000000000',
      vector: rowOf(1),
      label: null,
      eventTime: null,
    });
    const narrow = cloudEventMessage(EVENTS.featureVector.type, 'cards:y', {
      dataset: 'cards',
      entityId: 'y',
      featuresetVersion: fs.version,
      vector: [1, 2, 3],
      label: null,
      eventTime: null,
    });
    await t.producer.send({ topic: t.topic('features'), messages: [...messages, stale, narrow] });
    const streamed = (rs: Collected[]) =>
      rs.map((r) => JSON.parse(r.value!) as PredictionEvent).filter((e) => e.mode === 'stream');
    const got = streamed(
      await consumeUntil(t.kafka, t.topic('predictions'), (rs) => streamed(rs).length >= 2 * n),
    );
    // Give a duplicate the time to show up, then count again.
    await new Promise((r) => setTimeout(r, 2000));
    const all = streamed(
      await consumeUntil(t.kafka, t.topic('predictions'), (rs) => streamed(rs).length >= 2 * n),
    );
    expect(all.length).toBe(2 * n);
    expect(got.length).toBe(2 * n);
    for (const [version, alias] of [
      [3, 'production'],
      [2, 'canary'],
    ] as const) {
      const mine = all.filter((e) => e.version === version);
      expect(mine.every((e) => e.alias === alias)).toBe(true);
      expect(mine.map((e) => e.sourceEventId).sort()).toEqual([...ids].sort());
      for (const e of mine) {
        const i = ids.indexOf(e.sourceEventId!);
        expect(e.entityId).toBe(`card-${i}`);
        expect(e.score).toBeCloseTo(expected(version, [rowOf(400 + i)])[0], 5);
      }
    }
    const dlq = await consumeUntil(
      t.kafka,
      deadLetterTopicName(t.topic('features')),
      (rs) => rs.length >= 1,
    );
    expect(dlq.length).toBe(1);
    expect(dlq[0].value).toMatch(/3 values/);
  }, 120_000);

  it('survives 10,000 malformed requests: every one a 4xx, none a crash', async () => {
    const url = `${inference.url}/v2/models/${MODEL}`;
    const row = rowOf(0);
    const bodies: ((i: number) => [string, string])[] = [
      (i) => ['/infer', `{"inputs": [${'{'.repeat(i % 7)}`],
      () => ['/infer', 'null'],
      () => ['/infer', '[]'],
      (i) => ['/infer', JSON.stringify({ inputs: i % 3 === 0 ? {} : 'x' })],
      (i) => [
        '/infer',
        JSON.stringify({
          inputs: [
            {
              name: 'features',
              shape: [1, width + 1 + (i % 5)],
              datatype: 'FP32',
              data: [...row, 1],
            },
          ],
        }),
      ],
      (i) => [
        '/infer',
        JSON.stringify({
          inputs: [
            {
              name: 'features',
              shape: [1, width],
              datatype: ['INT8', 'FP16', 'UINT8', 'fp32', 7][i % 5],
              data: row,
            },
          ],
        }),
      ],
      (i) => [
        '/infer',
        JSON.stringify({
          inputs: [{ name: 'features', shape: [-1 - (i % 3), width], datatype: 'FP32', data: row }],
        }),
      ],
      () => [
        '/infer',
        JSON.stringify({
          inputs: [
            { name: 'features', shape: [1, width], datatype: 'FP32', data: row.map(() => 'NaN') },
          ],
        }),
      ],
      () => [
        '/infer',
        JSON.stringify({
          inputs: [
            { name: 'features', shape: [1, width], datatype: 'FP32', data: row.map(() => 1e39) },
          ],
        }),
      ],
      () => [
        '/infer',
        JSON.stringify({
          inputs: [{ name: 'features', shape: [1, width], datatype: 'FP32', data: row }],
          outputs: [{ name: 'nope' }],
        }),
      ],
      () => [
        '/infer',
        JSON.stringify({
          inputs: [
            {
              name: 'features',
              shape: [1, width],
              datatype: 'FP32',
              data: row,
              parameters: { binary_data_size: 4 },
            },
          ],
        }),
      ],
      () => [
        '/infer',
        JSON.stringify({
          inputs: [{ name: 'features', shape: [2, width], datatype: 'FP32', data: row }],
        }),
      ],
      (i) => [
        `/versions/${['0', 'x', '-1', '99999999999'][i % 4]}/infer`,
        JSON.stringify({ inputs: [] }),
      ],
      () => [
        '/infer',
        JSON.stringify({
          inputs: [{ name: 'features', shape: [1, width], datatype: 'FP32', data: row }],
          parameters: { entity_ids: [1] },
        }),
      ],
    ];
    const statuses = await pool(10_000, 32, async (i) => {
      const [suffix, body] = bodies[i % bodies.length](i);
      const res = await fetch(`${url}${suffix}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { error?: unknown };
      expect(typeof json.error, `${suffix} ${body.slice(0, 200)}`).toBe('string');
      return res.status;
    });
    const by = new Map<number, number>();
    for (const s of statuses) by.set(s, (by.get(s) ?? 0) + 1);
    expect(
      [...by.keys()].every((s) => s >= 400 && s < 500),
      JSON.stringify([...by]),
    ).toBe(true);
    expect(statuses.length).toBe(10_000);
    expect(inference.process.exitCode).toBeNull();
    expect((await fetch(`${inference.url}/v2/health/live`)).status).toBe(200);
    expect((await infer([row])).status).toBe(200);
  }, 240_000);

  it('caches in Redis when REDIS_URL is set, shared by replicas; checks credentials', async () => {
    const key = 'inference-e2e-viewer-key';
    const auth = { 'x-api-key': key };
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const prefix = `mlops:inference:cache:`;
    const replicas: RunningService[] = [];
    try {
      for (let i = 0; i < 2; i++)
        replicas.push(
          await startService('inference', {
            ...env(),
            REGISTRY_URL: registry.url,
            INFERENCE_WORKERS: '1',
            REDIS_URL,
            INFERENCE_STREAM_SCORING: 'false',
            AUTH_MODE: 'api-key',
            AUTH_API_KEYS: `${key}:viewer:e2e`,
            AUTH_OPEN_READS: 'false',
          }),
        );
      const current = (
        (await (await fetch(`${inference.url}/v2/models/${MODEL}`)).json()) as {
          versions: string[];
        }
      ).versions;
      for (const r of replicas) await served(current, r.url, auth);
      const rows = [rowOf(77), [...rowOf(78)].map((x) => x + Math.random())];
      // The infer fast path makes the guard's decision itself.
      const anonymous = await infer(rows, {}, replicas[0].url);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toMatch(/authentication required/);
      const wrong = await infer(rows, {}, replicas[0].url, { 'x-api-key': 'nope' });
      expect(wrong.status).toBe(401);
      const first = await infer(
        rows,
        { parameters: { entity_id: 'redis-1' } },
        replicas[0].url,
        auth,
      );
      expect(first.headers.get('x-cache')).toBe('miss');
      const version = first.headers.get('x-model-version');
      // The other replica finds what the first stored.
      const deadline = Date.now() + 5000;
      let second: Oip;
      do {
        second = await infer(rows, { parameters: { entity_id: 'redis-1' } }, replicas[1].url, auth);
      } while (second.headers.get('x-cache') !== 'hit' && Date.now() < deadline);
      expect(second.headers.get('x-cache')).toBe('hit');
      expect(second.headers.get('x-model-version')).toBe(version);
      expect(second.body.outputs).toEqual(first.body.outputs);
      const keys = await redis.keys(`${prefix}${MODEL}@${version}:*`);
      expect(keys.length).toBeGreaterThanOrEqual(1);
    } finally {
      for (const r of replicas) await r.stop();
      await redis.quit();
    }
  }, 120_000);
});
