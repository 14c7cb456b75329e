import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServingSpec } from '@mlops/contracts';
import { AuthEnv, authConfigFromEnv, Authenticator } from '@mlops/auth';
import { loadConfig } from '@mlops/config';
import type { InferenceConfig } from '../config';
import { ModelNotServedError, type LoadedVersion, type Route } from '../models/served-models';
import type { PredictRequest, PredictResult, Predictor } from '../predictor';
import { OipError } from '../protocol/oip';
import type { ModelSignature } from '../runtime/tensor';
import { RequestDecoder } from '../protocol/request-decoder';
import { InferHandler, versionParam } from './infer-handler';

const logger = pino({ level: 'silent' });
const MAX_BODY_BYTES = 1024;
const config = {
  INFERENCE_MAX_BODY_BYTES: MAX_BODY_BYTES,
  INFERENCE_MAX_ELEMENTS: 10_000,
} as InferenceConfig;

const VIEWER_KEY = 'viewer-key-0123456789';
const noAuth = new Authenticator(authConfigFromEnv(loadConfig('test', AuthEnv, {})));
const apiKeys = new Authenticator(
  authConfigFromEnv(
    loadConfig('test', AuthEnv, {
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: `${VIEWER_KEY}:viewer:grafana`,
      AUTH_OPEN_READS: 'false',
    }),
  ),
);

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
  batchable: true,
};
const VERSION = {
  model: 'm',
  version: 3,
  key: 'm@3',
  signature: SIGNATURE,
  serving: resolveServingSpec(undefined),
} as unknown as LoadedVersion;

/** The predictor as the handler uses it: route, predict and failed, each recorded. */
class FakePredictor {
  readonly routeCalls: [string, number | undefined, string][] = [];
  readonly predictCalls: PredictRequest[] = [];
  readonly failedCalls: [string, Route | null, string, string][] = [];

  constructor(
    private readonly routeTo: (model: string) => Route,
    private readonly answer: (req: PredictRequest) => Omit<PredictResult, 'totalMs'> = () => {
      throw new Error('predict was not expected');
    },
  ) {}

  route(model: string, version: number | undefined, routingKey: string): Route {
    this.routeCalls.push([model, version, routingKey]);
    return this.routeTo(model);
  }

  predict(req: PredictRequest): Promise<PredictResult> {
    this.predictCalls.push(req);
    return Promise.resolve({ ...this.answer(req), totalMs: 1 });
  }

  failed(model: string, route: Route | null, mode: string, status: string): void {
    this.failedCalls.push([model, route, mode, status]);
  }
}

const notServed = () =>
  new FakePredictor((model) => {
    throw new ModelNotServedError(`model "${model}" is not served`);
  });

/** The handler under test; each test puts its own in place before calling the server. */
let handler: InferHandler;
let server: Server;
let base: string;

/** Decodes every body on the calling thread. */
const inline = new RequestDecoder(Infinity);
/** Decodes every body in the decoder's thread (the built worker; `npm test` builds first). */
const threaded = new RequestDecoder(
  0,
  0,
  path.resolve(
    __dirname,
    '../../../../dist/services/inference/src/protocol/request-decoder.worker.js',
  ),
);

function use(
  predictor: FakePredictor,
  authenticator = noAuth,
  decoder: RequestDecoder = inline,
): FakePredictor {
  handler = new InferHandler(
    config,
    logger,
    predictor as unknown as Predictor,
    authenticator,
    decoder,
  );
  return predictor;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (handler.tryHandle(req, res)) return;
    req.resume();
    res.writeHead(599).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await threaded.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

const INFER_BODY = JSON.stringify({
  id: 'req-42',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
});

describe('versionParam', () => {
  it('takes a positive decimal integer', () => {
    expect(versionParam('1')).toBe(1);
    expect(versionParam('42')).toBe(42);
    expect(versionParam('9999999999')).toBe(9_999_999_999);
  });

  it('refuses anything else with a 400', () => {
    for (const raw of ['0', '-1', 'x', '01', '99999999999', '', '1.5', '1e3', ' 1', '+1']) {
      let thrown: unknown;
      try {
        versionParam(raw);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, raw).toBeInstanceOf(OipError);
      expect((thrown as OipError).status).toBe(400);
      expect((thrown as OipError).message).toBe(`model version "${raw}" is not a positive integer`);
    }
  });
});

describe('InferHandler.tryHandle', () => {
  it('leaves everything but POST …/infer to Express', async () => {
    const predictor = use(notServed());
    const get = await fetch(`${base}/v2/models/m/infer`);
    expect(get.status).toBe(599);
    for (const path of [
      '/v2/models/m/ready',
      '/v2/models/m',
      '/v2/models/m/versions/3',
      '/v2/models/m/infer/extra',
      '/v2/models/m/versions/3/4/infer',
      '/v2/models//infer',
      '/v1/predict/m',
      '/v2/models/%E0%A4%A/infer',
    ]) {
      const res = await post(path, INFER_BODY);
      expect(res.status, path).toBe(599);
    }
    expect(predictor.routeCalls).toEqual([]);
  });

  it('handles POST /infer with or without a version, a trailing slash or a query', async () => {
    const predictor = use(notServed());
    const cases: [string, string, number | undefined][] = [
      ['/v2/models/m/infer', 'm', undefined],
      ['/v2/models/m/infer/', 'm', undefined],
      ['/v2/models/m/versions/3/infer', 'm', 3],
      ['/v2/models/m/infer?trace=1', 'm', undefined],
      ['/v2/models/m/versions/12/infer?trace=1&x=y', 'm', 12],
      ['/v2/models/fraud%20v2/infer', 'fraud v2', undefined],
    ];
    for (const [path, model] of cases) {
      const res = await post(path, INFER_BODY);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual({ error: `model "${model}" is not served` });
    }
    expect(predictor.routeCalls).toEqual(
      cases.map(([, model, version]) => [model, version, 'req-42']),
    );
    expect(predictor.failedCalls).toEqual(cases.map(([, model]) => [model, null, 'online', '404']));
  });

  it('refuses a version that is not a positive integer with 400', async () => {
    const predictor = use(notServed());
    const res = await post('/v2/models/m/versions/0/infer', INFER_BODY);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'model version "0" is not a positive integer' });
    expect(predictor.routeCalls).toEqual([]);
  });

  it('asks for a credential when API keys are required and reads are closed', async () => {
    const predictor = use(notServed(), apiKeys);
    const res = await post('/v2/models/m/infer', INFER_BODY);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await res.json()) as { error: unknown };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(/^authentication required/);

    const wrong = await post('/v2/models/m/infer', INFER_BODY, {
      'x-api-key': 'not-a-key-0123456789',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await wrong.json()).toEqual({ error: 'unknown API key' });
    // Refused before the model is known: nothing routed, nothing counted against a model.
    expect(predictor.routeCalls).toEqual([]);
    expect(predictor.failedCalls).toEqual([]);
  });

  it('lets a viewer key through to the predictor', async () => {
    const predictor = use(notServed(), apiKeys);
    const res = await post('/v2/models/m/infer', INFER_BODY, { 'x-api-key': VIEWER_KEY });
    expect(res.status).toBe(404);
    const bearer = await post('/v2/models/m/infer', INFER_BODY, {
      authorization: `Bearer ${VIEWER_KEY}`,
    });
    expect(bearer.status).toBe(404);
    expect(predictor.routeCalls).toHaveLength(2);
  });

  it('refuses a body that is not JSON with 400', async () => {
    const predictor = use(notServed());
    const res = await post('/v2/models/m/infer', '{"inputs": [');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/^the body is not valid JSON: /);
    expect(predictor.routeCalls).toEqual([]);
    expect(predictor.failedCalls).toEqual([['m', null, 'online', '400']]);
  });

  it('refuses a body over INFERENCE_MAX_BODY_BYTES with 413', async () => {
    const predictor = use(notServed());
    const big = JSON.stringify({ inputs: [], pad: 'x'.repeat(MAX_BODY_BYTES) });
    const declared = await post('/v2/models/m/infer', big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({
      error: `the body is ${Buffer.byteLength(big)} bytes; the limit is ${MAX_BODY_BYTES}`,
    });

    // Streamed without a Content-Length: refused once the bytes read pass the limit.
    const chunks = [big.slice(0, 600), big.slice(600)];
    const streamed = await fetch(`${base}/v2/models/m/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual({
      error: `the body exceeds the limit of ${MAX_BODY_BYTES} bytes`,
    });
    expect(predictor.routeCalls).toEqual([]);
    expect(predictor.failedCalls.map((c) => c[3])).toEqual(['413', '413']);
  });

  it.each([
    ['on the main thread', inline],
    ['in the decoder thread', threaded],
  ])(
    'answers a prediction with the protocol’s response and the routing headers, decoding %s',
    async (_, decoder) => {
      const route: Route = { target: VERSION, alias: 'production', shadow: null };
      const predictor = use(
        new FakePredictor(
          () => route,
          () => ({
            version: VERSION,
            alias: 'production',
            outputs: { y: { datatype: 'FP32', shape: [1, 1], data: Float32Array.of(0.5) } },
            cached: false,
            queueMs: 0,
            computeMs: 0,
          }),
        ),
        noAuth,
        decoder,
      );
      const res = await post('/v2/models/m/infer', INFER_BODY);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-model-version')).toBe('3');
      expect(res.headers.get('x-model-alias')).toBe('production');
      expect(res.headers.get('x-cache')).toBe('miss');
      expect(await res.json()).toStrictEqual({
        model_name: 'm',
        model_version: '3',
        id: 'req-42',
        outputs: [{ name: 'y', shape: [1, 1], datatype: 'FP32', data: [0.5] }],
      });
      expect(predictor.routeCalls).toEqual([['m', undefined, 'req-42']]);
      expect(predictor.predictCalls).toEqual([
        {
          model: 'm',
          route,
          inputs: { x: { datatype: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) } },
          outputs: undefined,
          requestId: 'req-42',
          entityIds: undefined,
          mode: 'online',
          pinned: false,
          routingKey: 'req-42',
        },
      ]);
      expect(predictor.failedCalls).toEqual([]);
    },
  );

  it('gives the protocol’s 400s from the decoder thread too, and keeps serving', async () => {
    const route: Route = { target: VERSION, alias: 'production', shadow: null };
    use(new FakePredictor(() => route), noAuth, threaded);
    const notJson = await post('/v2/models/m/infer', '{"inputs": [');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const wrongType = await post(
      '/v2/models/m/infer',
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP64', data: [1, 2] }] }),
    );
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: string }).error).toMatch(/'x'.*FP32/);
  });

  it('pins an addressed version, routes by entity id and reports a cache hit', async () => {
    const route: Route = { target: VERSION, alias: null, shadow: null };
    const predictor = use(
      new FakePredictor(
        () => route,
        () => ({
          version: VERSION,
          alias: null,
          outputs: { y: { datatype: 'FP32', shape: [1, 1], data: Float32Array.of(0.25) } },
          cached: true,
          queueMs: 0,
          computeMs: 0,
        }),
      ),
    );
    const res = await post(
      '/v2/models/m/versions/3/infer',
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [[3, 4]] }],
        parameters: { entity_id: 'card-1' },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-alias')).toBe('');
    expect(res.headers.get('x-cache')).toBe('hit');
    expect(await res.json()).toStrictEqual({
      model_name: 'm',
      model_version: '3',
      outputs: [{ name: 'y', shape: [1, 1], datatype: 'FP32', data: [0.25] }],
    });
    expect(predictor.routeCalls).toEqual([['m', 3, 'card-1']]);
    const [req] = predictor.predictCalls;
    expect(req.pinned).toBe(true);
    expect(req.routingKey).toBe('card-1');
    expect(req.entityIds).toEqual(['card-1']);
    // A request without an id gets a fresh one.
    expect(req.requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
