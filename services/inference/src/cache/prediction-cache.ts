import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import {
  cachedBytes,
  cloneTensors,
  decodeTensors,
  encodeTensors,
  type CachedTensors,
} from './tensor-codec';

export type { CachedTensors } from './tensor-codec';

/**
 * The inference server's response cache. The caller builds the key (model version and a
 * canonical hash of the inputs) and owns the TTL. A cache failure is never a request failure:
 * `get` answers undefined and `set` resolves, whatever happens behind them.
 */
export interface PredictionCache {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<CachedTensors | undefined>;
  /** Stores a copy; a TTL that is not a positive number stores nothing. */
  set(key: string, value: CachedTensors, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

export type CacheKind = PredictionCache['kind'];

/** Lookups by outcome, and failed writes; shared by whichever cache the server runs. */
export class PredictionCacheMetrics {
  readonly requests: Counter<'cache' | 'result'>;
  readonly writeErrors: Counter<'cache'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'inference_cache_requests_total',
      help: 'Response cache lookups, by cache and result (hit, miss, error: answered as a miss).',
      labelNames: ['cache', 'result'],
      registers: [registry],
    });
    this.writeErrors = new Counter({
      name: 'inference_cache_write_errors_total',
      help: 'Response cache writes that failed and were dropped, by cache.',
      labelNames: ['cache'],
      registers: [registry],
    });
  }

  lookup(cache: CacheKind, result: 'hit' | 'miss' | 'error'): void {
    this.requests.inc({ cache, result });
  }

  writeFailed(cache: CacheKind): void {
    this.writeErrors.inc({ cache });
  }
}

function validTtl(ttlMs: number): boolean {
  return Number.isFinite(ttlMs) && ttlMs > 0;
}

interface MemoryEntry {
  value: CachedTensors;
  bytes: number;
  expiresAt: number;
}

export interface MemoryCacheOptions {
  maxEntries: number;
  /** Approximate bytes of keys and values together (see {@link cachedBytes}). */
  maxBytes: number;
  metrics?: PredictionCacheMetrics;
}

/**
 * An in-process LRU bounded by entries and by bytes, with a TTL per entry. A Map keeps
 * insertion order, so moving an entry to the back on access makes the front the least recently
 * used: get and set are O(1) plus the copy. An expired entry goes when it is next looked up,
 * or when the LRU order reaches it.
 */
export class MemoryCache implements PredictionCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, MemoryEntry>();
  private totalBytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly metrics: PredictionCacheMetrics | undefined;

  constructor(options: MemoryCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
    if (!Number.isFinite(options.maxBytes) || options.maxBytes < 1)
      throw new RangeError(`maxBytes must be positive, got ${options.maxBytes}`);
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes;
    this.metrics = options.metrics;
  }

  /** Entries held, expired ones not yet removed included. */
  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  async get(key: string): Promise<CachedTensors | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.metrics?.lookup(this.kind, 'miss');
      return undefined;
    }
    this.entries.delete(key);
    if (entry.expiresAt <= Date.now()) {
      this.totalBytes -= entry.bytes;
      this.metrics?.lookup(this.kind, 'miss');
      return undefined;
    }
    this.entries.set(key, entry);
    this.metrics?.lookup(this.kind, 'hit');
    return cloneTensors(entry.value);
  }

  async set(key: string, value: CachedTensors, ttlMs: number): Promise<void> {
    if (!validTtl(ttlMs)) return;
    const bytes = cachedBytes(key, value);
    this.remove(key);
    // An entry larger than the whole cache would only evict everything else, then itself.
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value: cloneTensors(value), bytes, expiresAt: Date.now() + ttlMs });
    this.totalBytes += bytes;
    while (this.entries.size > this.maxEntries || this.totalBytes > this.maxBytes) {
      this.remove(this.entries.keys().next().value as string);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.totalBytes = 0;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key. */
  prefix?: string;
  /** A command that has not answered by then counts as failed (a miss, or a dropped write). */
  commandTimeoutMs?: number;
  metrics?: PredictionCacheMetrics;
  logger?: Logger;
}

export const DEFAULT_REDIS_CACHE_PREFIX = 'mlops:inference:cache:';
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 50;

/**
 * Redis, shared by every replica: one string key per response, `SET key value PX ttl`, values in
 * the compact binary form of {@link encodeTensors}. Tuned to fail fast rather than to wait: a
 * cache that answers late costs more than no cache.
 */
export class RedisCache implements PredictionCache {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly metrics: PredictionCacheMetrics | undefined;
  private readonly logger: Logger | undefined;
  /** Logged on the way into and out of failure only: a dead Redis must not flood the logs. */
  private failing = false;

  constructor(options: RedisCacheOptions) {
    this.prefix = options.prefix ?? DEFAULT_REDIS_CACHE_PREFIX;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      // While disconnected, commands fail at once instead of queueing until Redis returns.
      enableOfflineQueue: false,
      // Commands in flight when the connection drops fail instead of being retried or resent.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    });
    // Without a listener ioredis prints every connection error; the failures are counted anyway.
    this.redis.on('error', (err: Error) => this.failed(err));
  }

  /**
   * Resolves true once connected, false after `timeoutMs`. Until then every lookup is an
   * error-miss: a server may wait here at boot, but need not.
   */
  ready(timeoutMs = 5000): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  async get(key: string): Promise<CachedTensors | undefined> {
    let raw: Buffer | null;
    try {
      raw = await this.redis.getBuffer(this.prefix + key);
    } catch (err) {
      this.failed(err as Error);
      this.metrics?.lookup(this.kind, 'error');
      return undefined;
    }
    this.recovered();
    if (raw === null) {
      this.metrics?.lookup(this.kind, 'miss');
      return undefined;
    }
    try {
      const value = decodeTensors(raw);
      this.metrics?.lookup(this.kind, 'hit');
      return value;
    } catch (err) {
      // Another build's format, or garbage under our prefix: never an answer.
      this.logger?.warn({ err, key }, 'unreadable response cache entry');
      this.metrics?.lookup(this.kind, 'error');
      return undefined;
    }
  }

  async set(key: string, value: CachedTensors, ttlMs: number): Promise<void> {
    if (!validTtl(ttlMs)) return;
    try {
      await this.redis.set(
        this.prefix + key,
        encodeTensors(value),
        'PX',
        Math.max(1, Math.round(ttlMs)),
      );
      this.recovered();
    } catch (err) {
      this.failed(err as Error);
      this.metrics?.writeFailed(this.kind);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      // Also stops the reconnection attempts of a Redis that is not there.
      this.redis.disconnect();
    }
  }

  private failed(err: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.logger?.warn({ err }, 'response cache unavailable; serving without it');
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger?.info('response cache available again');
  }
}

export interface PredictionCacheOptions {
  /** Redis when set (shared by every replica), else in-process. */
  redisUrl?: string;
  /** In-process bounds (Redis has its own `maxmemory`). */
  maxEntries: number;
  maxBytes: number;
  redisPrefix?: string;
  commandTimeoutMs?: number;
  metrics?: PredictionCacheMetrics;
  logger?: Logger;
}

export function createPredictionCache(options: PredictionCacheOptions): PredictionCache {
  if (options.redisUrl) {
    return new RedisCache({
      url: options.redisUrl,
      prefix: options.redisPrefix,
      commandTimeoutMs: options.commandTimeoutMs,
      metrics: options.metrics,
      logger: options.logger,
    });
  }
  return new MemoryCache({
    maxEntries: options.maxEntries,
    maxBytes: options.maxBytes,
    metrics: options.metrics,
  });
}
