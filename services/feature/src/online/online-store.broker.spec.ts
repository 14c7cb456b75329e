import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  InProcessOnlineStore,
  RedisOnlineStore,
  type OnlineFeatures,
  type OnlineStore,
} from './online-store';

const REDIS_URL = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';

const row = (i: number, version = 'fs-0000000000000001'): OnlineFeatures => ({
  featuresetVersion: version,
  vector: [i, i / 3, 0.1 + 0.2, 1e-300, -1.5e300],
  label: i % 2,
  eventTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  eventId: `e-${i}`,
  updatedAt: new Date(Date.UTC(2026, 0, 2)).toISOString(),
});

/** The same contract, whichever store. */
function contract(name: string, make: () => OnlineStore) {
  describe(`${name} online store`, () => {
    const store = make();
    afterAll(() => store.close());

    it('returns the latest vector per entity, exactly as written', async () => {
      await store.putMany(
        'cards',
        new Map([
          ['c1', row(1)],
          ['c2', row(2)],
        ]),
      );
      await store.putMany('cards', new Map([['c1', row(3, 'fs-0000000000000002')]]));
      expect(await store.get('cards', 'c1')).toEqual(row(3, 'fs-0000000000000002'));
      expect(await store.get('cards', 'c2')).toEqual(row(2));
    });

    it('keeps datasets apart and knows nothing of an unseen entity', async () => {
      await store.putMany('loans', new Map([['c1', row(9)]]));
      expect((await store.get('loans', 'c1'))?.eventId).toBe('e-9');
      expect((await store.get('cards', 'c1'))?.eventId).toBe('e-3');
      expect(await store.get('cards', 'nobody')).toBeUndefined();
    });

    it('takes a large batch in one call', async () => {
      const rows = new Map(Array.from({ length: 5000 }, (_, i) => [`bulk-${i}`, row(i)] as const));
      await store.putMany('cards', rows);
      expect((await store.get('cards', 'bulk-4999'))?.vector[0]).toBe(4999);
      expect((await store.get('cards', 'bulk-0'))?.vector[1]).toBe(0);
    });
  });
}

contract('in-process', () => new InProcessOnlineStore());
contract('Redis', () => new RedisOnlineStore(REDIS_URL, `test-${randomUUID()}:`));

describe('in-process online store bounds', () => {
  it('forgets the least recently written entity beyond its capacity', async () => {
    const store = new InProcessOnlineStore(2);
    await store.putMany(
      'd',
      new Map([
        ['a', row(1)],
        ['b', row(2)],
      ]),
    );
    await store.putMany('d', new Map([['a', row(3)]]));
    await store.putMany('d', new Map([['c', row(4)]]));
    expect(await store.get('d', 'b')).toBeUndefined();
    expect((await store.get('d', 'a'))?.eventId).toBe('e-3');
  });
});
