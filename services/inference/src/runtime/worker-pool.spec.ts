import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng, forwardDense } from '@mlops/ml';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InferenceFailedError,
  ModelLoadError,
  ModelNotLoadedError,
  PoolClosedError,
  WorkerExitedError,
} from './errors';
import type { TensorData } from './tensor';
import {
  BUILT_WORKER,
  ELEM,
  binaryLayers,
  binaryModel,
  featureRows,
  identityModel,
  writeCrashingWorker,
} from './test-models';
import { WorkerPool } from './worker-pool';

const FEATURES = 5;
const layers = binaryLayers(FEATURES, 8, 11);
const model = binaryModel(layers);

beforeAll(() => {
  if (!existsSync(BUILT_WORKER)) {
    throw new Error(`${BUILT_WORKER} is missing: run \`node infra/scripts/build.mjs\` first`);
  }
});

async function directRun(
  bytes: Uint8Array,
  x: TensorData<'FP32'>,
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const out = await session.run({ features: new ort.Tensor('float32', x.data, x.shape) });
    return Object.fromEntries(
      Object.entries(out).map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]),
    );
  } finally {
    await session.release();
  }
}

describe('WorkerPool', () => {
  const pool = new WorkerPool({ size: 2, workerFile: BUILT_WORKER });
  beforeAll(() => pool.start());
  afterAll(() => pool.close());

  it('runs a model as a direct onnxruntime session does, on every thread', async () => {
    const signature = await pool.load('binary:1', model);
    expect(signature).toEqual({
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, FEATURES] }],
      outputs: [
        { name: 'probability', datatype: 'FP32', shape: [-1, 1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
      batchable: true,
    });
    expect(pool.has('binary:1')).toBe(true);

    const x = featureRows(7, FEATURES, new Rng(3));
    const expected = await directRun(model, x);
    const reference = forwardDense(layers, x.data);
    // More runs than threads at once, so both threads answer.
    const results = await Promise.all(
      Array.from({ length: 6 }, () => pool.run('binary:1', { features: x })),
    );
    for (const { outputs, computeMs } of results) {
      expect(computeMs).toBeGreaterThanOrEqual(0);
      expect(outputs.probability.shape).toEqual([7, 1]);
      expect(outputs.probabilities.shape).toEqual([7, 2]);
      const p = outputs.probability.data as Float32Array;
      expect(p).toBeInstanceOf(Float32Array);
      p.forEach((v, i) => {
        expect(v).toBeCloseTo(expected.probability[i], 6);
        expect(Math.abs(v - reference[i])).toBeLessThan(1e-5);
      });
      (outputs.probabilities.data as Float32Array).forEach((v, i) =>
        expect(Math.abs(v - expected.probabilities[i])).toBeLessThanOrEqual(1e-6),
      );
    }
    // The caller's array was copied, not moved to the worker.
    expect(x.data.length).toBe(7 * FEATURES);
  });

  it('returns only the outputs asked for', async () => {
    if (!pool.has('binary:1')) await pool.load('binary:1', model);
    const x = featureRows(2, FEATURES, new Rng(4));
    const { outputs } = await pool.run('binary:1', { features: x }, ['probabilities']);
    expect(Object.keys(outputs)).toEqual(['probabilities']);
  });

  it('round-trips all six datatypes through a worker', async () => {
    const types = ['FP32', 'FP64', 'INT32', 'INT64', 'BOOL', 'BYTES'] as const;
    const signature = await pool.load(
      'identity:1',
      identityModel(types.map((d) => ({ name: d.toLowerCase(), elem: ELEM[d], shape: ['N', 2] }))),
    );
    expect(signature.batchable).toBe(true);
    expect(signature.inputs.map((s) => s.datatype)).toEqual(types);
    expect(signature.outputs.map((s) => [s.name, s.datatype])).toEqual(
      types.map((d) => [`${d.toLowerCase()}_out`, d]),
    );
    const feeds: Record<string, TensorData> = {
      fp32: { datatype: 'FP32', shape: [2, 2], data: new Float32Array([1.5, -2, 3.25, 0]) },
      fp64: { datatype: 'FP64', shape: [2, 2], data: new Float64Array([Math.PI, -1e300, 0, 1]) },
      int32: { datatype: 'INT32', shape: [2, 2], data: new Int32Array([1, -2, 2 ** 31 - 1, 0]) },
      int64: {
        datatype: 'INT64',
        shape: [2, 2],
        data: new BigInt64Array([2n ** 62n + 1n, -(2n ** 63n), 0n, 9007199254740993n]),
      },
      bool: { datatype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
      bytes: { datatype: 'BYTES', shape: [2, 2], data: ['héllo', '', 'a,b', '日本'] },
    };
    const { outputs } = await pool.run('identity:1', feeds);
    for (const [name, t] of Object.entries(feeds)) {
      const out = outputs[`${name}_out`];
      expect(out.datatype).toBe(t.datatype);
      expect(out.shape).toEqual([2, 2]);
      expect(out.data.constructor).toBe(t.data.constructor);
      expect(Array.from(out.data as ArrayLike<unknown>)).toEqual(
        Array.from(t.data as ArrayLike<unknown>),
      );
    }
    await pool.unload('identity:1');
  });

  it('reads fixed and scalar dimensions, and marks such models not batchable', async () => {
    const signature = await pool.load(
      'fixed:1',
      identityModel([
        { name: 'x', elem: ELEM.FP32, shape: [2, 3] },
        { name: 'y', elem: ELEM.INT64, shape: [] },
      ]),
    );
    expect(signature).toEqual({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [2, 3] },
        { name: 'y', datatype: 'INT64', shape: [] },
      ],
      outputs: [
        { name: 'x_out', datatype: 'FP32', shape: [2, 3] },
        { name: 'y_out', datatype: 'INT64', shape: [] },
      ],
      batchable: false,
    });
    await pool.unload('fixed:1');
  });

  it('refuses a model with a datatype it does not serve, naming it', async () => {
    const bytes = identityModel([{ name: 'pixels', elem: ELEM.UINT8, shape: ['N', 4] }]);
    const err = await pool.load('uint8:1', bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(
      /model uint8:1 could not be loaded: input "pixels" has type uint8/,
    );
    expect(pool.has('uint8:1')).toBe(false);
    // Refused everywhere, and the key is free again.
    await expect(pool.run('uint8:1', {})).rejects.toBeInstanceOf(ModelNotLoadedError);
    await expect(pool.load('uint8:1', bytes)).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('refuses garbage bytes and a second load of a key', async () => {
    await expect(pool.load('junk:1', new Uint8Array([1, 2, 3, 4]))).rejects.toBeInstanceOf(
      ModelLoadError,
    );
    if (!pool.has('binary:1')) await pool.load('binary:1', model);
    await expect(pool.load('binary:1', model)).rejects.toThrow(/already loaded/);
  });

  it('fails a run on an unloaded model clearly', async () => {
    await pool.load('gone:1', model);
    await pool.unload('gone:1');
    expect(pool.has('gone:1')).toBe(false);
    const x = featureRows(1, FEATURES, new Rng(5));
    await expect(pool.run('gone:1', { features: x })).rejects.toThrow('model gone:1 is not loaded');
    await expect(pool.run('gone:1', { features: x })).rejects.toBeInstanceOf(ModelNotLoadedError);
  });

  it('reports an onnxruntime error for one run and keeps the thread', async () => {
    if (!pool.has('binary:1')) await pool.load('binary:1', model);
    const bad: TensorData = { datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) };
    const err = await pool.run('binary:1', { features: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceFailedError);
    expect((err as Error).message).toMatch(/inference on model binary:1 failed: .*dimensions/);
    const ok = await pool.run('binary:1', { features: featureRows(1, FEATURES, new Rng(6)) });
    expect(ok.outputs.probability.shape).toEqual([1, 1]);
  });
});

describe('WorkerPool leases', () => {
  const pool = new WorkerPool({ size: 1, workerFile: BUILT_WORKER });
  beforeAll(async () => {
    await pool.start();
    await pool.load('binary:1', model);
  });
  afterAll(() => pool.close());

  it('hands threads out first come, first served, one lease per release', async () => {
    expect(pool.size).toBe(1);
    expect(pool.idle()).toBe(1);
    const first = await pool.acquire();
    expect(pool.idle()).toBe(0);
    const order: string[] = [];
    const second = pool.acquire().then((l) => (order.push('second'), l));
    const third = pool.acquire().then((l) => (order.push('third'), l));
    expect(pool.waiting()).toBe(2);

    first.release();
    first.release(); // idempotent: hands the thread on once
    const lease2 = await second;
    expect(order).toEqual(['second']);
    expect(pool.waiting()).toBe(1);

    const x = featureRows(3, FEATURES, new Rng(7));
    const run = await lease2.run('binary:1', { features: x });
    expect(run.outputs.probability.shape).toEqual([3, 1]);
    await expect(lease2.run('binary:1', { features: x })).rejects.toThrow(/one batch/);
    lease2.release();
    const lease3 = await third;
    expect(order).toEqual(['second', 'third']);
    lease3.release();
    await expect(lease3.run('binary:1', { features: x })).rejects.toThrow(/released/);
    expect(pool.idle()).toBe(1);
    expect(pool.waiting()).toBe(0);
  });

  it('keeps the thread leased until a run in flight ends, even if released early', async () => {
    const lease = await pool.acquire();
    const run = lease.run('binary:1', { features: featureRows(2, FEATURES, new Rng(8)) });
    lease.release();
    expect(pool.idle()).toBe(0);
    await run;
    await new Promise(setImmediate);
    expect(pool.idle()).toBe(1);
  });
});

describe('WorkerPool with dying workers', () => {
  let dir: string;
  let pool: WorkerPool;
  const exits: { worker: number; error: Error }[] = [];
  const poisoned = (v: number): TensorData<'FP32'> => {
    const t = featureRows(1, FEATURES, new Rng(9));
    t.data[0] = v;
    return t;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inference-pool-'));
    pool = new WorkerPool({
      size: 2,
      workerFile: writeCrashingWorker(dir),
      onWorkerExit: (e) => exits.push(e),
    });
    await pool.start();
    await pool.load('binary:1', model);
    await pool.load('identity:1', identityModel([{ name: 'x', elem: ELEM.INT32, shape: ['N'] }]));
  });
  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [-777, /inference worker \d exited with code 7/],
    [-888, /inference worker \d failed: boom in the worker/],
  ])(
    'rejects the run of a worker that dies (%d), replaces it and reloads every model',
    async (v, message) => {
      const before = exits.length;
      const err = await pool.run('binary:1', { features: poisoned(v) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerExitedError);
      expect((err as Error).message).toMatch(message);
      expect(exits.length).toBe(before + 1);
      expect(exits[before].error.message).toMatch(message);

      // Both threads busy at once: the replacement serves, with both models reloaded.
      const x = featureRows(4, FEATURES, new Rng(10));
      const expected = await directRun(model, x);
      const runs = await Promise.all(
        Array.from({ length: 4 }, () => pool.run('binary:1', { features: x })),
      );
      for (const r of runs) expect(r.outputs.probability.data).toEqual(expected.probability);
      const ids = await Promise.all(
        Array.from({ length: 4 }, () =>
          pool.run('identity:1', {
            x: { datatype: 'INT32', shape: [2], data: new Int32Array([4, 2]) },
          }),
        ),
      );
      for (const r of ids) expect(Array.from(r.outputs.x_out.data as Int32Array)).toEqual([4, 2]);
    },
  );

  it('rejects waiting and later callers once closed', async () => {
    const other = new WorkerPool({ size: 1, workerFile: BUILT_WORKER });
    await other.start();
    const held = await other.acquire();
    const waiting = expect(other.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    await other.close();
    await waiting;
    await expect(other.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    await expect(held.run('binary:1', {})).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('fails to start with a missing worker file, saying which', async () => {
    const broken = new WorkerPool({ size: 1, workerFile: path.join(dir, 'nope.js') });
    await expect(broken.start()).rejects.toThrow(/did not start .*nope\.js/);
  });
});
