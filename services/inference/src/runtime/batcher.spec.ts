import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '@mlops/ml';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BatchInfo,
  BatcherClosedError,
  DynamicBatcher,
  type DynamicBatcherOptions,
  QueueFullError,
  RequestTimeoutError,
} from './batcher';
import { InvalidInputError, WorkerExitedError } from './errors';
import type { ModelSignature, TensorData } from './tensor';
import {
  BUILT_WORKER,
  ELEM,
  binaryLayers,
  binaryModel,
  featureRows,
  identityModel,
  writeCrashingWorker,
} from './test-models';
import { type Lease, WorkerPool } from './worker-pool';

const FEATURES = 6;
const model = binaryModel(binaryLayers(FEATURES, 16, 21));

const GREEDY: DynamicBatcherOptions = {
  enabled: true,
  maxBatchSize: 16,
  maxQueueDelayMs: 0,
  preferredBatchSizes: [],
  maxQueueRequests: 1000,
  timeoutMs: 60_000,
};

beforeAll(() => {
  if (!existsSync(BUILT_WORKER)) {
    throw new Error(`${BUILT_WORKER} is missing: run \`node infra/scripts/build.mjs\` first`);
  }
});

// Each test gets pools of its own: several hold a pool's only thread to make requests queue.
const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function startPool(size: number, workerFile = BUILT_WORKER): Promise<WorkerPool> {
  const pool = new WorkerPool({ size, workerFile });
  pools.push(pool);
  await pool.start();
  return pool;
}

function batcher(
  pool: WorkerPool,
  key: string,
  signature: ModelSignature,
  options: Partial<DynamicBatcherOptions> = {},
): { batcher: DynamicBatcher; batches: BatchInfo[] } {
  const batches: BatchInfo[] = [];
  const b = new DynamicBatcher(
    key,
    signature,
    pool,
    { ...GREEDY, ...options },
    {
      onBatch: (info) => batches.push(info),
    },
  );
  return { batcher: b, batches };
}

const ticks = async (n: number) => {
  for (let i = 0; i < n; i += 1) await new Promise(setImmediate);
};

/** Holds the pool's only thread, so that everything submitted meanwhile queues. */
async function hold(pool: WorkerPool): Promise<Lease> {
  expect(pool.size).toBe(1);
  return pool.acquire();
}

describe('DynamicBatcher', () => {
  it('batches 64 concurrent requests into batches of ≤ 16 rows, each answered as if alone', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature);
    const rng = new Rng(1);
    const requests = Array.from({ length: 64 }, () => featureRows(1, FEATURES, rng));

    const results = await Promise.all(requests.map((x) => b.submit({ features: x })));

    expect(batches.length).toBeGreaterThan(1);
    expect(batches.reduce((n, x) => n + x.rows, 0)).toBe(64);
    expect(batches.reduce((n, x) => n + x.requests, 0)).toBe(64);
    for (const x of batches) {
      expect(x.rows).toBeGreaterThan(1);
      expect(x.rows).toBeLessThanOrEqual(16);
    }
    // The same request run on its own, through the same pool, gives the same bits.
    for (const [i, x] of requests.entries()) {
      const alone = await pool.run('binary:1', { features: x });
      const got = results[i];
      expect(got.outputs.probability.shape).toEqual([1, 1]);
      expect(got.outputs.probabilities.shape).toEqual([1, 2]);
      expect(got.outputs.probability.data).toEqual(alone.outputs.probability.data);
      expect(got.outputs.probabilities.data).toEqual(alone.outputs.probabilities.data);
      expect(batches.map((x) => x.rows)).toContain(got.batchRows);
      expect(got.queueMs).toBeGreaterThanOrEqual(0);
    }
    expect(b.queued).toBe(0);
    expect(b.inFlight).toBe(0);
  });

  it('splits requests of several rows back by rows', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature);
    const rng = new Rng(2);
    const sizes = [3, 1, 4, 1, 5, 2, 6];
    const requests = sizes.map((n) => featureRows(n, FEATURES, rng));
    const held = await hold(pool);
    const pending = requests.map((x) => b.submit({ features: x }));
    held.release();
    const results = await Promise.all(pending);
    // FIFO up to 16 rows: 3+1+4+1+5+2 = 16, then 6.
    expect(batches.map((x) => [x.rows, x.requests])).toEqual([
      [16, 6],
      [6, 1],
    ]);
    for (const [i, x] of requests.entries()) {
      const alone = await pool.run('binary:1', { features: x });
      expect(results[i].outputs.probabilities.shape).toEqual([sizes[i], 2]);
      expect(results[i].outputs.probabilities.data).toEqual(alone.outputs.probabilities.data);
    }
  });

  it('uses every thread of the pool for one model', async () => {
    const pool = await startPool(2);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, { maxBatchSize: 4 });
    const rng = new Rng(3);
    const results = await Promise.all(
      Array.from({ length: 40 }, () => b.submit({ features: featureRows(1, FEATURES, rng) })),
    );
    expect(results).toHaveLength(40);
    expect(batches.reduce((n, x) => n + x.rows, 0)).toBe(40);
    expect(Math.max(...batches.map((x) => x.rows))).toBeLessThanOrEqual(4);
  });

  it('with a queue delay, waits until the preferred batch size is queued', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    // A delay no test run reaches: only the queue reaching 8 rows can start the batch.
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, {
      maxQueueDelayMs: 600_000,
      preferredBatchSizes: [4, 8],
    });
    const rng = new Rng(4);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i += 1) {
      pending.push(b.submit({ features: featureRows(1, FEATURES, rng) }));
      // Greedy batching would have sent the first request alone by now.
      await ticks(3);
      expect(batches).toHaveLength(0);
    }
    await Promise.all(pending);
    expect(batches.map((x) => [x.rows, x.requests])).toEqual([[8, 8]]);
  });

  it('cuts a batch formed within the delay at the largest preferred size', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, {
      maxQueueDelayMs: 600_000,
      preferredBatchSizes: [8],
    });
    const rng = new Rng(5);
    const pending = Array.from({ length: 12 }, () =>
      b.submit({ features: featureRows(1, FEATURES, rng) }),
    );
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    expect(batches[0].rows).toBe(8);
    // The other 4 wait for more company; draining sends them without waiting out the delay.
    await ticks(5);
    expect(b.queued).toBe(4);
    await b.drain();
    await Promise.all(pending);
    expect(batches.map((x) => x.rows)).toEqual([8, 4]);
  });

  it('without preferred sizes, a delayed batch fills up to maxBatchSize', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, {
      maxBatchSize: 5,
      maxQueueDelayMs: 600_000,
    });
    const rng = new Rng(6);
    const pending: Promise<unknown>[] = [];
    for (const rows of [2, 1, 2]) {
      pending.push(b.submit({ features: featureRows(rows, FEATURES, rng) }));
      await ticks(3);
    }
    await Promise.all(pending);
    expect(batches.map((x) => [x.rows, x.requests])).toEqual([[5, 3]]);
  });

  it('gives each request exactly the outputs it named', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature);
    const rng = new Rng(7);
    const xs = [1, 2, 3].map((n) => featureRows(n, FEATURES, rng));
    const held = await hold(pool);
    const pending = [
      b.submit({ features: xs[0] }, ['probability']),
      b.submit({ features: xs[1] }, ['probabilities']),
      b.submit({ features: xs[2] }),
    ];
    held.release();
    const [a, c, all] = await Promise.all(pending);
    expect(batches.map((x) => x.requests)).toEqual([3]);
    expect(Object.keys(a.outputs)).toEqual(['probability']);
    expect(Object.keys(c.outputs)).toEqual(['probabilities']);
    expect(Object.keys(all.outputs).sort()).toEqual(['probabilities', 'probability']);
    const alone = await Promise.all(xs.map((x) => pool.run('binary:1', { features: x })));
    expect(a.outputs.probability.data).toEqual(alone[0].outputs.probability.data);
    expect(c.outputs.probabilities.data).toEqual(alone[1].outputs.probabilities.data);
    expect(all.outputs.probability.data).toEqual(alone[2].outputs.probability.data);
    expect(all.outputs.probabilities.data).toEqual(alone[2].outputs.probabilities.data);
  });

  it('rejects a request that does not fit the signature, alone and at once', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b } = batcher(pool, 'binary:1', signature);
    const bad: TensorData = { datatype: 'FP32', shape: [1, 2], data: new Float32Array(2) };
    await expect(b.submit({ features: bad })).rejects.toBeInstanceOf(InvalidInputError);
    const x = featureRows(1, FEATURES, new Rng(8));
    await expect(b.submit({ features: x }, ['logits'])).rejects.toThrow(/unknown output "logits"/);
    await expect(b.submit({ features: x })).resolves.toMatchObject({ batchRows: 1 });
  });

  it('rejects with QueueFullError when maxQueueRequests are queued', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b } = batcher(pool, 'binary:1', signature, { maxQueueRequests: 3 });
    const rng = new Rng(9);
    const held = await hold(pool);
    const queued = [1, 2, 3].map(() => b.submit({ features: featureRows(1, FEATURES, rng) }));
    expect(b.queued).toBe(3);
    const err = await b
      .submit({ features: featureRows(1, FEATURES, rng) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger((err as QueueFullError).retryAfterSeconds)).toBe(true);
    held.release();
    expect(await Promise.all(queued)).toHaveLength(3);
  });

  it('times out a request still queued, and removes it from the queue', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, { timeoutMs: 30 });
    const held = await hold(pool);
    const err = await b
      .submit({ features: featureRows(1, FEATURES, new Rng(10)) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).stage).toBe('queued');
    expect((err as Error).message).toMatch(/timed out after 30 ms \(queued\)/);
    expect(b.queued).toBe(0);
    held.release();
    // The thread the batcher was waiting for comes back unused.
    await vi.waitFor(() => expect(pool.idle()).toBe(1));
    expect(batches).toHaveLength(0);
  });

  it('drains: refuses new requests, answers queued and running ones, then resolves', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b } = batcher(pool, 'binary:1', signature);
    const rng = new Rng(11);
    const held = await hold(pool);
    const answered: number[] = [];
    const pending = [0, 1, 2].map((i) =>
      b.submit({ features: featureRows(1, FEATURES, rng) }).then((r) => (answered.push(i), r)),
    );
    let drained = false;
    const drain = b.drain().then(() => (drained = true));
    await expect(b.submit({ features: featureRows(1, FEATURES, rng) })).rejects.toBeInstanceOf(
      BatcherClosedError,
    );
    await ticks(5);
    expect(drained).toBe(false);
    expect(b.queued).toBe(3);

    held.release();
    await drain;
    expect(answered.sort()).toEqual([0, 1, 2]);
    expect(b.queued).toBe(0);
    expect(b.inFlight).toBe(0);
    for (const r of await Promise.all(pending)) expect(r.outputs.probability.shape).toEqual([1, 1]);
    // Nothing queued or running: resolves at once.
    await b.drain();
  });

  it('runs each request alone when the first dimension is fixed', async () => {
    const pool = await startPool(1);
    const signature = await pool.load(
      'fixed:1',
      identityModel([{ name: 'x', elem: ELEM.FP32, shape: [2, 3] }]),
    );
    expect(signature.batchable).toBe(false);
    const { batcher: b, batches } = batcher(pool, 'fixed:1', signature);
    const inputs = Array.from({ length: 5 }, (_, i) => ({
      datatype: 'FP32' as const,
      shape: [2, 3],
      data: Float32Array.from({ length: 6 }, (_, k) => i * 10 + k),
    }));
    const results = await Promise.all(inputs.map((x) => b.submit({ x })));
    expect(batches.map((x) => [x.rows, x.requests])).toEqual(Array(5).fill([2, 1]));
    results.forEach((r, i) => {
      expect(r.batchRows).toBe(2);
      expect(r.outputs.x_out.data).toEqual(inputs[i].data);
    });
  });

  it('runs each request alone when batching is disabled', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, { enabled: false });
    const rng = new Rng(12);
    await Promise.all(
      Array.from({ length: 6 }, () => b.submit({ features: featureRows(2, FEATURES, rng) })),
    );
    expect(batches.map((x) => [x.rows, x.requests])).toEqual(Array(6).fill([2, 1]));
  });

  it('batches only requests whose other dimensions match, in order', async () => {
    const pool = await startPool(1);
    const signature = await pool.load(
      'ragged:1',
      identityModel([{ name: 'x', elem: ELEM.INT64, shape: ['N', 'M'] }]),
    );
    const { batcher: b, batches } = batcher(pool, 'ragged:1', signature);
    const t = (rows: number, cols: number, base: number): TensorData => ({
      datatype: 'INT64',
      shape: [rows, cols],
      data: BigInt64Array.from({ length: rows * cols }, (_, k) => BigInt(base + k)),
    });
    const inputs = [t(1, 2, 0), t(2, 2, 10), t(1, 3, 20), t(1, 2, 30)];
    const held = await hold(pool);
    const pending = inputs.map((x) => b.submit({ x }));
    held.release();
    const results = await Promise.all(pending);
    expect(batches.map((x) => [x.rows, x.requests])).toEqual([
      [3, 2],
      [1, 1],
      [1, 1],
    ]);
    results.forEach((r, i) => {
      expect(r.outputs.x_out.shape).toEqual(inputs[i].shape);
      expect(r.outputs.x_out.data).toEqual(inputs[i].data);
    });
  });

  it('runs a request larger than maxBatchSize alone', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const { batcher: b, batches } = batcher(pool, 'binary:1', signature, { maxBatchSize: 4 });
    const rng = new Rng(13);
    const held = await hold(pool);
    const pending = [1, 6, 1, 2].map((n) => b.submit({ features: featureRows(n, FEATURES, rng) }));
    held.release();
    const results = await Promise.all(pending);
    expect(batches.map((x) => x.rows)).toEqual([1, 6, 3]);
    expect(results[1].outputs.probability.shape).toEqual([6, 1]);
  });

  it('rejects every request of a batch whose worker dies, then serves on a new worker', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inference-batcher-'));
    try {
      const pool = await startPool(1, writeCrashingWorker(dir));
      const signature = await pool.load('binary:1', model);
      const { batcher: b, batches } = batcher(pool, 'binary:1', signature);
      const rng = new Rng(14);
      const poisoned = featureRows(1, FEATURES, rng);
      poisoned.data[0] = -777;
      const held = await hold(pool);
      const pending = [poisoned, featureRows(2, FEATURES, rng), featureRows(1, FEATURES, rng)].map(
        (x) => b.submit({ features: x }).catch((e: unknown) => e),
      );
      held.release();
      const errors = await Promise.all(pending);
      for (const e of errors) {
        expect(e).toBeInstanceOf(WorkerExitedError);
        expect((e as Error).message).toMatch(/exited with code 7/);
      }
      expect(batches).toHaveLength(0);
      expect(b.inFlight).toBe(0);

      const ok = await b.submit({ features: featureRows(3, FEATURES, rng) });
      expect(ok.outputs.probability.shape).toEqual([3, 1]);
      expect(batches.map((x) => x.rows)).toEqual([3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a request at its deadline while its batch runs on for the others', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inference-batcher-'));
    try {
      const pool = await startPool(1, writeCrashingWorker(dir));
      const signature = await pool.load('binary:1', model);
      const { batcher: b, batches } = batcher(pool, 'binary:1', signature, { timeoutMs: 50 });
      const rng = new Rng(15);
      // −999 makes the worker stall 1 s before it runs the batch.
      const slow = featureRows(1, FEATURES, rng);
      slow.data[0] = -999;
      const held = await hold(pool);
      const pending = [slow, featureRows(1, FEATURES, rng)].map((x) =>
        b.submit({ features: x }).catch((e: unknown) => e),
      );
      held.release();
      for (const e of await Promise.all(pending)) {
        expect(e).toBeInstanceOf(RequestTimeoutError);
        expect((e as RequestTimeoutError).stage).toBe('running');
      }
      expect(b.inFlight).toBe(2);
      // The batch still completes, and the thread returns to the pool.
      await vi.waitFor(() => expect(batches).toHaveLength(1), { timeout: 5000 });
      expect(batches[0]).toMatchObject({ rows: 2, requests: 2 });
      await vi.waitFor(() => expect(pool.idle()).toBe(1));
      expect(b.inFlight).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks its options', async () => {
    const pool = await startPool(1);
    const signature = await pool.load('binary:1', model);
    const make = (o: Partial<DynamicBatcherOptions>) => () =>
      batcher(pool, 'binary:1', signature, o);
    expect(make({ maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(make({ maxQueueRequests: 0 })).toThrow(/maxQueueRequests/);
    expect(make({ maxQueueDelayMs: -1 })).toThrow(/maxQueueDelayMs/);
    expect(make({ preferredBatchSizes: [32] })).toThrow(/preferred batch size 32/);
  });
});
