/**
 * Canary routing: a routing key (the entity id, else the request id) is hashed into one of
 * 10,000 buckets; the canary takes the buckets below its share. Deterministic, so one entity
 * always meets the same version while the share holds, and raising the share only moves
 * entities from production to the canary, never back.
 */

export const BUCKETS = 10_000;

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser so near keys spread. */
export function routingHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function bucketOf(key: string): number {
  return routingHash(key) % BUCKETS;
}

/** Whether a key falls in the canary's share (0..1). */
export function inCanary(key: string, share: number): boolean {
  return bucketOf(key) < Math.round(share * BUCKETS);
}
