import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, inCanary, routingHash } from './routing';

describe('canary routing', () => {
  it('matches FNV-1a with the murmur3 finaliser on known values', () => {
    // Independent computation: FNV-1a 32 of "a" is 0xe40c292c; then fmix32 by hand.
    let h = 0xe40c292c;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    expect(routingHash('a')).toBe(h >>> 0);
    expect(routingHash('')).not.toBe(routingHash('a'));
  });

  it('gives a share within ±1 point for sequential and random ids', () => {
    for (const make of [(i: number) => `entity-${i}`, (i: number) => `${i * 7919}:${i % 13}`]) {
      let canary = 0;
      for (let i = 0; i < 20_000; i++) if (inCanary(make(i), 0.1)) canary++;
      expect(Math.abs(canary / 20_000 - 0.1)).toBeLessThan(0.01);
    }
  });

  it('is deterministic, and a larger share only adds keys', () => {
    for (let i = 0; i < 2000; i++) {
      const key = `card-${i}`;
      expect(inCanary(key, 0.1)).toBe(inCanary(key, 0.1));
      if (inCanary(key, 0.1)) expect(inCanary(key, 0.25)).toBe(true);
    }
    expect(inCanary('x', 0)).toBe(false);
    expect(inCanary('x', 1)).toBe(true);
    expect(bucketOf('x')).toBeLessThan(BUCKETS);
  });
});
