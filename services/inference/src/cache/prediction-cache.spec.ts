import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createPredictionCache,
  MemoryCache,
  PredictionCacheMetrics,
  type CachedTensors,
} from './prediction-cache';
import {
  counted,
  everyDatatype,
  expectSameTensors,
  predictionCacheContract,
} from './prediction-cache.contract';
import { cachedBytes, CorruptCacheEntryError, decodeTensors, encodeTensors } from './tensor-codec';

predictionCacheContract(
  'in-process',
  (metrics) => new MemoryCache({ maxEntries: 1000, maxBytes: 64 * 1024 * 1024, metrics }),
);

const row = (v: number): CachedTensors => ({
  y: { datatype: 'FP32', shape: [4], data: new Float32Array([v, v, v, v]) },
});

describe('in-process prediction cache bounds', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new MemoryCache({ maxEntries: 3, maxBytes: 1 << 20 });
    for (const k of ['a', 'b', 'c']) await cache.set(k, row(1), 60_000);
    await cache.get('a');
    await cache.set('d', row(2), 60_000);
    expect(cache.size).toBe(3);
    expect(await cache.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd']) expect(await cache.get(k), k).toBeDefined();
    // Now c is the oldest use: a, c, d were read in that order.
    await cache.set('e', row(3), 60_000);
    expect(await cache.get('a')).toBeUndefined();
    for (const k of ['c', 'd', 'e']) expect(await cache.get(k), k).toBeDefined();
  });

  it('evicts least recently used entries until the bytes fit', async () => {
    const size = cachedBytes('a', row(1));
    const cache = new MemoryCache({ maxEntries: 1000, maxBytes: 3 * size });
    for (const k of ['a', 'b', 'c']) await cache.set(k, row(1), 60_000);
    expect(cache.bytes).toBe(3 * size);
    await cache.get('a');
    await cache.set('d', row(2), 60_000);
    expect(await cache.get('b')).toBeUndefined();
    expect(cache.bytes).toBe(3 * size);
    // One value the size of two others pushes out the two least recently used (c, then a).
    const wide: CachedTensors = {
      y: { datatype: 'FP32', shape: [4 + size / 4], data: new Float32Array(4 + size / 4) },
    };
    const wideSize = cachedBytes('w', wide);
    expect(wideSize).toBe(2 * size);
    await cache.get('a');
    await cache.get('d');
    await cache.set('w', wide, 60_000);
    expect(await cache.get('c')).toBeUndefined();
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('d')).toBeDefined();
    expect(await cache.get('w')).toBeDefined();
    expect(cache.bytes).toBe(size + wideSize);
  });

  it('refuses an entry larger than the whole cache and keeps the others', async () => {
    const size = cachedBytes('a', row(1));
    const cache = new MemoryCache({ maxEntries: 10, maxBytes: 2 * size });
    await cache.set('a', row(1), 60_000);
    await cache.set(
      'huge',
      { y: { datatype: 'FP64', shape: [1000], data: new Float64Array(1000) } },
      60_000,
    );
    expect(await cache.get('huge')).toBeUndefined();
    expect(await cache.get('a')).toBeDefined();
  });

  it('removes an expired entry when it is looked up', async () => {
    const cache = new MemoryCache({ maxEntries: 10, maxBytes: 1 << 20 });
    await cache.set('gone', row(1), 50);
    await cache.set('kept', row(1), 60_000);
    await new Promise((r) => setTimeout(r, 120));
    expect(cache.size).toBe(2);
    expect(await cache.get('gone')).toBeUndefined();
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(cachedBytes('kept', row(1)));
  });

  it('charges the values bytes plus a small fixed overhead', () => {
    const big: CachedTensors = {
      y: { datatype: 'FP32', shape: [1000], data: new Float32Array(1000) },
    };
    const bytes = cachedBytes('k', big);
    expect(bytes).toBeGreaterThanOrEqual(4000);
    expect(bytes).toBeLessThan(4000 + 256);
  });

  it('is the in-process cache without a Redis URL, and counts into the given metrics', async () => {
    const metrics = new PredictionCacheMetrics(new Registry());
    const cache = createPredictionCache({ maxEntries: 10, maxBytes: 1 << 20, metrics });
    expect(cache.kind).toBe('memory');
    await cache.get('nothing');
    expect(await counted(metrics, 'memory', 'miss')).toBe(1);
    await cache.close();
  });
});

describe('binary tensor encoding', () => {
  it('round-trips every datatype bit for bit, from an array at any offset', () => {
    const shared = new Float64Array([9, 1.5, -0, 9]);
    const value: CachedTensors = {
      ...everyDatatype(),
      view: { datatype: 'FP64', shape: [2], data: shared.subarray(1, 3) },
    };
    const buf = encodeTensors(value);
    // A Buffer at an odd offset of a larger one, as a socket read may hand it over.
    const unaligned = Buffer.concat([Buffer.from([0xff]), buf]).subarray(1);
    expectSameTensors(decodeTensors(unaligned), value);
  });

  it('stores numbers as raw bytes, not text', () => {
    const n = 10_000;
    const buf = encodeTensors({
      y: { datatype: 'FP32', shape: [n], data: new Float32Array(n).fill(Math.PI) },
    });
    expect(buf.length).toBeLessThan(4 * n + 100);
  });

  it('refuses a corrupt or foreign entry', () => {
    const good = encodeTensors(everyDatatype());
    const wrongVersion = Buffer.from(good);
    wrongVersion[0] = 2;
    for (const bad of [
      Buffer.alloc(0),
      wrongVersion,
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from('{"json":"from another writer"}'),
    ]) {
      expect(() => decodeTensors(bad)).toThrow(CorruptCacheEntryError);
    }
  });
});
