import { Redis } from 'ioredis';

/** The latest vector of one entity, as the online store keeps it. */
export interface OnlineFeatures {
  featuresetVersion: string;
  vector: number[];
  label: number | string | null;
  eventTime: string | null;
  /** The event that produced it (its `ce_id`). */
  eventId: string;
  updatedAt: string;
}

/**
 * The online feature store: the latest vector per dataset and entity, for lookups at serving
 * time. In-process by default, Redis when REDIS_URL is set (shared by every instance and
 * surviving restarts). Writes happen after the stream's transaction commits, so the store never
 * holds a vector that Kafka does not; it may briefly lag.
 */
export interface OnlineStore {
  putMany(dataset: string, rows: ReadonlyMap<string, OnlineFeatures>): Promise<void>;
  get(dataset: string, entityId: string): Promise<OnlineFeatures | undefined>;
  close(): Promise<void>;
}

/** A bounded map: the least recently written entity leaves first. */
export class InProcessOnlineStore implements OnlineStore {
  private readonly rows = new Map<string, OnlineFeatures>();

  constructor(readonly capacity = 1_000_000) {}

  putMany(dataset: string, rows: ReadonlyMap<string, OnlineFeatures>): Promise<void> {
    for (const [entity, value] of rows) {
      const key = `${dataset}\u0000${entity}`;
      this.rows.delete(key);
      this.rows.set(key, value);
      if (this.rows.size > this.capacity) {
        this.rows.delete(this.rows.keys().next().value as string);
      }
    }
    return Promise.resolve();
  }

  get(dataset: string, entityId: string): Promise<OnlineFeatures | undefined> {
    return Promise.resolve(this.rows.get(`${dataset}\u0000${entityId}`));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Redis: one string key per entity, `<prefix>features:<dataset>:<entity>`, JSON, with an
 * optional TTL; a batch is one pipelined MSET-like round trip.
 */
export class RedisOnlineStore implements OnlineStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = '',
    private readonly ttlSeconds: number | null = null,
  ) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  }

  async putMany(dataset: string, rows: ReadonlyMap<string, OnlineFeatures>): Promise<void> {
    if (rows.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [entity, value] of rows) {
      const key = this.key(dataset, entity);
      if (this.ttlSeconds) pipeline.set(key, JSON.stringify(value), 'EX', this.ttlSeconds);
      else pipeline.set(key, JSON.stringify(value));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null);
    if (failed) throw failed[0] as Error;
  }

  async get(dataset: string, entityId: string): Promise<OnlineFeatures | undefined> {
    const raw = await this.redis.get(this.key(dataset, entityId));
    return raw === null ? undefined : (JSON.parse(raw) as OnlineFeatures);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(dataset: string, entity: string): string {
    return `${this.prefix}features:${dataset}:${entity}`;
  }
}
