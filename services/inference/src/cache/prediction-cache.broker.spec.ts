import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictionCache, PredictionCacheMetrics, RedisCache } from './prediction-cache';
import {
  counted,
  everyDatatype,
  expectSameTensors,
  predictionCacheContract,
} from './prediction-cache.contract';

const REDIS_URL = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';
const prefix = `test-${randomUUID()}:`;

async function connected(
  options: ConstructorParameters<typeof RedisCache>[0],
): Promise<RedisCache> {
  const cache = new RedisCache(options);
  if (!(await cache.ready(10_000))) throw new Error(`no Redis at ${options.url}`);
  return cache;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

predictionCacheContract('Redis', (metrics) => connected({ url: REDIS_URL, prefix, metrics }));

describe('Redis prediction cache failures', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('writes under its prefix, with the TTL, in binary', async () => {
    const cache = await connected({ url: REDIS_URL, prefix });
    await cache.set('k1', everyDatatype(), 60_000);
    const ttl = await admin.pttl(`${prefix}k1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const raw = (await admin.getBuffer(`${prefix}k1`))!;
    expect(raw[0]).toBe(1);
    await cache.close();
  });

  it('answers a miss and drops writes when Redis is not there, counting each as an error', async () => {
    const metrics = new PredictionCacheMetrics(new Registry());
    const cache = createPredictionCache({
      redisUrl: `redis://127.0.0.1:${await closedPort()}`,
      maxEntries: 10,
      maxBytes: 1 << 20,
      metrics,
    });
    expect(cache.kind).toBe('redis');
    for (let i = 0; i < 3; i++) {
      await expect(cache.get(`k${i}`)).resolves.toBeUndefined();
      await expect(cache.set(`k${i}`, everyDatatype(), 60_000)).resolves.toBeUndefined();
    }
    expect(await counted(metrics, 'redis', 'error')).toBe(3);
    expect(await counted(metrics, 'redis', 'write_error')).toBe(3);
    expect(await counted(metrics, 'redis', 'miss')).toBe(0);
    await cache.close();
  });

  it('gives up on a Redis that does not answer within the command timeout', async () => {
    const metrics = new PredictionCacheMetrics(new Registry());
    const cache = await connected({ url: REDIS_URL, prefix, metrics, commandTimeoutMs: 50 });
    await cache.set('slow', everyDatatype(), 60_000);
    expectSameTensors(await cache.get('slow'), everyDatatype());
    // Every client of the server waits for 400 ms; ours must not.
    await admin.client('PAUSE', 400, 'ALL');
    expect(await cache.get('slow')).toBeUndefined();
    await cache.set('slow-write', everyDatatype(), 60_000);
    expect(await counted(metrics, 'redis', 'error')).toBe(1);
    expect(await counted(metrics, 'redis', 'write_error')).toBe(1);
    // Once Redis answers again, so does the cache.
    await admin.ping();
    expectSameTensors(await cache.get('slow'), everyDatatype());
    await cache.close();
  });

  it('answers an error-miss for an entry it cannot read', async () => {
    const metrics = new PredictionCacheMetrics(new Registry());
    const cache = await connected({ url: REDIS_URL, prefix, metrics });
    await admin.set(`${prefix}foreign`, JSON.stringify({ y: [1, 2, 3] }), 'PX', 60_000);
    expect(await cache.get('foreign')).toBeUndefined();
    expect(await counted(metrics, 'redis', 'error')).toBe(1);
    await cache.close();
  });
});
