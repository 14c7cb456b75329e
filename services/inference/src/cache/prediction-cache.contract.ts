import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { TensorData } from '../runtime/tensor';
import {
  PredictionCacheMetrics,
  type CachedTensors,
  type PredictionCache,
} from './prediction-cache';

/** How many lookups (or failed writes, for `result: 'write_error'`) the metrics counted. */
export async function counted(
  metrics: PredictionCacheMetrics,
  cache: string,
  result: 'hit' | 'miss' | 'error' | 'write_error',
): Promise<number> {
  const { values } =
    result === 'write_error' ? await metrics.writeErrors.get() : await metrics.requests.get();
  return values
    .filter((v) => {
      const labels: Partial<Record<string, string | number>> = v.labels;
      return labels.cache === cache && (result === 'write_error' || labels.result === result);
    })
    .reduce((n, v) => n + v.value, 0);
}

/** One tensor of every datatype, with the values that a lossy encoding would get wrong. */
export function everyDatatype(): CachedTensors {
  return {
    fp32: {
      datatype: 'FP32',
      shape: [2, 4],
      // −0, the smallest subnormal, a large subnormal, NaN, ±Infinity, the largest finite.
      data: new Float32Array([
        -0,
        1.401298464324817e-45,
        1.1754942106924411e-38,
        NaN,
        Infinity,
        -Infinity,
        3.4028234663852886e38,
        0.1,
      ]),
    },
    fp64: {
      datatype: 'FP64',
      shape: [5],
      data: new Float64Array([-0, Number.MIN_VALUE, 0.1 + 0.2, NaN, -Number.MAX_VALUE]),
    },
    int32: { datatype: 'INT32', shape: [3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]) },
    int64: {
      datatype: 'INT64',
      shape: [2, 2],
      // Beyond 2^53 a float64 (and so a JSON number) would round them.
      data: new BigInt64Array([2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 53n) - 3n]),
    },
    bool: { datatype: 'BOOL', shape: [4], data: new Uint8Array([1, 0, 0, 1]) },
    bytes: {
      datatype: 'BYTES',
      shape: [6],
      data: ['', 'plain', 'héllo wörld', '日本語のテキスト', 'emoji 🙂👍🏽', 'nul\u0000inside'],
    },
    empty: { datatype: 'FP32', shape: [0, 3], data: new Float32Array(0) },
  };
}

function rawBytes(t: TensorData): Buffer {
  const a = t.data as Exclude<TensorData['data'], string[]>;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Same names, datatypes, shapes and array types, and values equal bit for bit. */
export function expectSameTensors(
  actual: CachedTensors | undefined,
  expected: CachedTensors,
): void {
  expect(actual).toBeDefined();
  expect(Object.keys(actual!).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const got = actual![name];
    expect({ name, datatype: got.datatype, shape: got.shape }).toEqual({
      name,
      datatype: want.datatype,
      shape: want.shape,
    });
    expect(got.data.constructor).toBe(want.data.constructor);
    if (want.datatype === 'BYTES') expect(got.data).toEqual(want.data);
    else expect(rawBytes(got).equals(rawBytes(want)), `${name} bytes`).toBe(true);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The behaviour every PredictionCache owes the server, whichever it is. `make` gets the metrics
 * to count into; each test has a cache (and keys) of its own.
 */
export function predictionCacheContract(
  name: string,
  make: (metrics: PredictionCacheMetrics) => PredictionCache | Promise<PredictionCache>,
): void {
  describe(`${name} prediction cache contract`, () => {
    const open: PredictionCache[] = [];
    const fresh = async () => {
      const metrics = new PredictionCacheMetrics(new Registry());
      const cache = await make(metrics);
      open.push(cache);
      return { cache, metrics, key: (k: string) => `v1:${randomUUID()}:${k}` };
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()));
    });

    it('returns every datatype exactly as stored', async () => {
      const { cache, key } = await fresh();
      const k = key('all');
      await cache.set(k, everyDatatype(), 60_000);
      expectSameTensors(await cache.get(k), everyDatatype());
    });

    it('answers undefined for a key it never stored, and counts hits and misses by kind', async () => {
      const { cache, metrics, key } = await fresh();
      const k = key('one');
      expect(await cache.get(k)).toBeUndefined();
      await cache.set(k, everyDatatype(), 60_000);
      await cache.get(k);
      await cache.get(k);
      expect(await counted(metrics, cache.kind, 'miss')).toBe(1);
      expect(await counted(metrics, cache.kind, 'hit')).toBe(2);
      expect(await counted(metrics, cache.kind, 'error')).toBe(0);
    });

    it('forgets an entry after its TTL and keeps one whose TTL runs', async () => {
      const { cache, key } = await fresh();
      const [short, long] = [key('short'), key('long')];
      await cache.set(short, everyDatatype(), 50);
      await cache.set(long, everyDatatype(), 60_000);
      await sleep(120);
      expect(await cache.get(short)).toBeUndefined();
      expectSameTensors(await cache.get(long), everyDatatype());
    });

    it('ignores a TTL that is not positive', async () => {
      const { cache, key } = await fresh();
      const k = key('ttl');
      await cache.set(k, everyDatatype(), 0);
      await cache.set(k, everyDatatype(), -5);
      await cache.set(k, everyDatatype(), NaN);
      expect(await cache.get(k)).toBeUndefined();
    });

    it('replaces an entry that is set again, value and TTL', async () => {
      const { cache, key } = await fresh();
      const k = key('over');
      const first: CachedTensors = {
        y: { datatype: 'FP64', shape: [1], data: new Float64Array([1]) },
      };
      const second: CachedTensors = {
        label: { datatype: 'BYTES', shape: [1], data: ['second'] },
      };
      await cache.set(k, first, 50);
      await cache.set(k, second, 60_000);
      await sleep(120);
      expectSameTensors(await cache.get(k), second);
    });

    it('keeps its own copy: changing what was stored or returned changes nothing in it', async () => {
      const { cache, key } = await fresh();
      const k = key('copy');
      const stored = everyDatatype();
      await cache.set(k, stored, 60_000);
      (stored.fp32.data as Float32Array)[1] = 42;
      stored.fp32.shape[0] = 99;
      (stored.bytes.data as string[])[1] = 'changed';
      delete stored.int64;
      const got = (await cache.get(k))!;
      expectSameTensors(got, everyDatatype());
      (got.fp64.data as Float64Array).fill(7);
      (got.bytes.data as string[]).push('more');
      got.int32.shape.push(1);
      expectSameTensors(await cache.get(k), everyDatatype());
    });
  });
}
