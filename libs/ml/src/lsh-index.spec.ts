import { describe, expect, it } from 'vitest';
import { LshIndex } from './lsh-index';
import { Rng } from './rng';
import { type Fingerprint64, fingerprintFromHex, hamming, simhash } from './simhash';

function randomFp(rng: Rng): Fingerprint64 {
  return { hi: rng.nextUint32(), lo: rng.nextUint32() };
}

/** `fp` with exactly `d` distinct bits flipped, chosen at random. */
function flipBits(rng: Rng, fp: Fingerprint64, d: number): Fingerprint64 {
  const bits = rng.shuffle(Array.from({ length: 64 }, (_, i) => i)).slice(0, d);
  return flipAt(fp, bits);
}

function flipAt(fp: Fingerprint64, bits: readonly number[]): Fingerprint64 {
  let { hi, lo } = fp;
  for (const b of bits) {
    if (b < 32) lo = (lo ^ (1 << b)) >>> 0;
    else hi = (hi ^ (1 << (b - 32))) >>> 0;
  }
  return { hi, lo };
}

/** The answer by scanning everything: [id, distance] within k, sorted like query(). */
function bruteForce(
  stored: ReadonlyMap<number, Fingerprint64>,
  q: Fingerprint64,
  k: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (const [id, fp] of stored) {
    const d = hamming(q, fp);
    if (d <= k) out.push([id, d]);
  }
  // Ids are inserted in ascending order, so id order is age order.
  return out.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

describe('LshIndex finds exactly the brute-force neighbours', () => {
  for (const k of [0, 1, 3, 5, 8]) {
    it(`k = ${k}: planted neighbours at distance 0..k+3 among random fingerprints`, () => {
      const rng = new Rng(100 + k);
      const index = new LshIndex<number>({ maxDistance: k });
      const stored = new Map<number, Fingerprint64>();
      const queries: Fingerprint64[] = [];
      let id = 0;
      const add = (fp: Fingerprint64): void => {
        index.insert(id, fp);
        stored.set(id, fp);
        id += 1;
      };
      for (let i = 0; i < 5000; i += 1) add(randomFp(rng));
      // Each query gets neighbours at every distance up to k + 3, some at the same distance
      // twice, so that both sides of the threshold are exercised.
      for (let q = 0; q < 300; q += 1) {
        const center = randomFp(rng);
        queries.push(center);
        for (let d = 0; d <= Math.min(k + 3, 64); d += 1) {
          add(flipBits(rng, center, d));
          if (rng.bernoulli(0.3)) add(flipBits(rng, center, d));
        }
      }
      let found = 0;
      for (const q of queries) {
        const expected = bruteForce(stored, q, k);
        const got = index.query(q).map((m) => [m.id, m.distance]);
        expect(got).toEqual(expected);
        found += expected.length;
        // findAny: some true neighbour exactly when there is one.
        const any = index.findAny(q);
        if (expected.length === 0) expect(any).toBeUndefined();
        else expect(expected).toContainEqual([any?.id, any?.distance]);
      }
      // Every query had at least its own planted neighbours at distances 0..k.
      expect(found).toBeGreaterThanOrEqual(300 * (k + 1));
    });
  }

  it('finds neighbours whose differing bits sit on band boundaries', () => {
    // k = 3: bands [0,16), [16,32), [32,48), [48,64). Put the flipped bits at every band edge.
    const index = new LshIndex<string>({ maxDistance: 3 });
    const base = fingerprintFromHex('0123456789abcdef');
    const edges = [0, 15, 16, 31, 32, 47, 48, 63];
    index.insert('base', base);
    for (let a = 0; a < edges.length; a += 1) {
      for (let b = a + 1; b < edges.length; b += 1) {
        for (let c = b + 1; c < edges.length; c += 1) {
          const q = flipAt(base, [edges[a], edges[b], edges[c]]);
          expect(index.query(q)).toEqual([{ id: 'base', fingerprint: base, distance: 3 }]);
          // One more flipped bit: out of range, and not returned.
          const far = flipAt(q, [edges.find((e) => ![a, b, c].map((i) => edges[i]).includes(e))!]);
          expect(index.query(far)).toEqual([]);
        }
      }
    }
  });

  it('answers a smaller radius than k, and refuses a larger one', () => {
    const index = new LshIndex<string>({ maxDistance: 4 });
    const base = fingerprintFromHex('ffff0000ffff0000');
    index.insert('a', flipAt(base, [1]));
    index.insert('b', flipAt(base, [1, 2, 3]));
    expect(index.query(base, 1).map((m) => m.id)).toEqual(['a']);
    expect(index.query(base).map((m) => m.id)).toEqual(['a', 'b']);
    expect(() => index.query(base, 5)).toThrow(RangeError);
    expect(index.nearest(base)?.id).toBe('a');
    expect(index.nearest(flipAt(base, [10, 11, 12, 13, 14, 15, 16]))).toBeUndefined();
  });
});

describe('LshIndex stays sub-linear', () => {
  it('examines a handful of candidates per query among 100,000 random fingerprints (k = 3)', () => {
    const rng = new Rng(7);
    const index = new LshIndex<number>({ maxDistance: 3 });
    for (let i = 0; i < 100_000; i += 1) index.insert(i, randomFp(rng));
    const queries = 2000;
    for (let q = 0; q < queries; q += 1) index.query(randomFp(rng));
    const perQuery = index.stats.candidates / queries;
    // Expected 4 bands · 100,000 / 2^16 ≈ 6.1 (a scan would examine 100,000).
    expect(perQuery).toBeGreaterThan(3);
    expect(perQuery).toBeLessThan(10);
    expect(index.stats.queries).toBe(queries);
  });

  it('pays for a larger k with narrower bands, still far below a scan (k = 7)', () => {
    const rng = new Rng(8);
    const index = new LshIndex<number>({ maxDistance: 7 });
    for (let i = 0; i < 100_000; i += 1) index.insert(i, randomFp(rng));
    for (let q = 0; q < 500; q += 1) index.query(randomFp(rng));
    // 8 bands of 8 bits: 8 · 100,000 / 256 ≈ 3,125 per query, 3 % of the window.
    const perQuery = index.stats.candidates / 500;
    expect(perQuery).toBeGreaterThan(2500);
    expect(perQuery).toBeLessThan(3800);
  });
});

describe('LshIndex.findAny', () => {
  it('stops at the first match among many similar entries', () => {
    const rng = new Rng(9);
    const index = new LshIndex<number>({ maxDistance: 3 });
    const base = randomFp(rng);
    // 5,000 near copies: they share buckets, so query() has to look at every one of them.
    for (let i = 0; i < 5000; i += 1) index.insert(i, flipBits(rng, base, rng.int(0, 4)));
    const before = index.stats.candidates;
    expect(index.findAny(base)?.distance).toBeLessThanOrEqual(3);
    expect(index.stats.candidates - before).toBe(1);
    expect(index.query(base)).toHaveLength(5000);
    expect(() => index.findAny(base, 4)).toThrow(RangeError);
  });
});

describe('LshIndex as a bounded window', () => {
  it('evicts the oldest entry beyond capacity, and forgets it', () => {
    const rng = new Rng(3);
    const index = new LshIndex<number>({ capacity: 100 });
    const fps = Array.from({ length: 250 }, () => randomFp(rng));
    const evicted: number[] = [];
    fps.forEach((fp, i) => {
      const out = index.insert(i, fp);
      if (out !== undefined) evicted.push(out);
    });
    expect(index.size).toBe(100);
    expect(evicted).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(index.oldest()).toBe(150);
    expect(index.query(fps[0])).toEqual([]);
    expect(index.query(fps[149])).toEqual([]);
    expect(index.query(fps[150]).map((m) => m.id)).toEqual([150]);
    expect(index.has(149)).toBe(false);
    expect(index.get(249)).toEqual(fps[249]);
  });

  it('removes ids, drops empty buckets, and re-inserting an id makes it the newest', () => {
    const index = new LshIndex<string>();
    const a = fingerprintFromHex('00000000000000ff');
    index.insert('x', a);
    index.insert('y', a);
    index.insert('x', fingerprintFromHex('ffffffffffffff00'));
    expect(index.oldest()).toBe('y');
    expect(index.query(a).map((m) => m.id)).toEqual(['y']);
    expect(index.remove('y')).toBe(true);
    expect(index.remove('y')).toBe(false);
    expect(index.query(a)).toEqual([]);
    expect(index.evictOldest()).toBe('x');
    expect(index.evictOldest()).toBeUndefined();
    expect(index.size).toBe(0);
    // No bucket is left behind once everything is gone.
    expect(index.stats.buckets).toBe(0);
    expect(JSON.stringify(index)).toBe('{"maxDistance":3,"capacity":null,"entries":[]}');
  });

  it('does not grow while sliding: buckets of evicted entries are freed', () => {
    const rng = new Rng(4);
    const index = new LshIndex<number>({ capacity: 1000 });
    for (let i = 0; i < 20_000; i += 1) index.insert(i, randomFp(rng));
    // Four bands, each with at most one bucket per stored entry: never more than 4,000 buckets,
    // against ~80,000 if evicted entries left empty buckets behind.
    expect(index.size).toBe(1000);
    expect(index.stats.buckets).toBeLessThanOrEqual(4000);
    expect(index.stats.buckets).toBeGreaterThan(3900);
  });

  it('round-trips through JSON with the same entries, order and answers', () => {
    const rng = new Rng(5);
    const index = new LshIndex<string>({ maxDistance: 5, capacity: 50 });
    const texts = Array.from({ length: 80 }, (_, i) => `memo ${i} paid at shop ${i % 7}`);
    texts.forEach((t, i) => index.insert(`r${i}`, simhash(t)));
    const copy = LshIndex.fromJSON<string>(JSON.parse(JSON.stringify(index.toJSON())));
    expect(copy.size).toBe(50);
    expect([...copy]).toEqual([...index]);
    expect(copy.maxDistance).toBe(5);
    expect(copy.capacity).toBe(50);
    for (let i = 0; i < 30; i += 1) {
      const q = simhash(texts[rng.int(0, texts.length)]);
      expect(copy.query(q)).toEqual(index.query(q));
    }
    // And it keeps evicting where the original would.
    expect(copy.insert('new', simhash('x'))).toBe(index.insert('new', simhash('x')));
  });

  it('rejects bad settings and malformed fingerprints', () => {
    expect(() => new LshIndex({ maxDistance: 64 })).toThrow(RangeError);
    expect(() => new LshIndex({ maxDistance: -1 })).toThrow(RangeError);
    expect(() => new LshIndex({ capacity: 0 })).toThrow(RangeError);
    const index = new LshIndex();
    expect(() => index.insert('a', { hi: -1, lo: 0 })).toThrow(RangeError);
    expect(() => index.query({ hi: 0, lo: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('LshIndex scopes', () => {
  it('answers a scoped query from its scope only, and never examines other scopes', () => {
    const rng = new Rng(5);
    const fp = (): Fingerprint64 => ({ hi: rng.nextUint32(), lo: rng.nextUint32() });
    const index = new LshIndex<number>({ maxDistance: 10 });
    const base = fp();
    // 2,000 entries: the same fingerprint under 400 scopes, and random ones.
    for (let i = 0; i < 400; i += 1) index.insert(i, base, `card-${i}`);
    for (let i = 400; i < 2000; i += 1) index.insert(i, fp(), `card-${i % 400}`);
    const before = index.stats.candidates;
    const found = index.query(base, undefined, 'card-7');
    expect(found.map((m) => m.id)).toEqual([7]);
    // card-7 holds 5 entries; eleven bands see each at most once per band.
    expect(index.stats.candidates - before).toBeLessThanOrEqual(5 * 11);
    // Unscoped entries and queries live apart from scoped ones.
    expect(index.query(base)).toEqual([]);
    index.insert(5000, base);
    expect(index.query(base).map((m) => m.id)).toEqual([5000]);
    expect(index.findAny(base, 0, 'card-9')?.id).toBe(9);
  });

  it('keeps scopes through a JSON round trip and frees them on removal', () => {
    const index = new LshIndex<string>({ maxDistance: 3, capacity: 2 });
    const a = simhash('a card payment at the grocery');
    index.insert('x', a, 'card-1');
    index.insert('y', a);
    const back = LshIndex.fromJSON<string>(JSON.parse(JSON.stringify(index.toJSON())));
    expect(back.query(a, 3, 'card-1').map((m) => m.id)).toEqual(['x']);
    expect(back.query(a).map((m) => m.id)).toEqual(['y']);
    back.insert('z', a, 'card-2'); // evicts x
    expect(back.query(a, 3, 'card-1')).toEqual([]);
    expect([...back].map(([id]) => id)).toEqual(['y', 'z']);
  });

  it('bands a scope that outgrows a scan, and answers exactly like a scan', () => {
    const rng = new Rng(9);
    const index = new LshIndex<number>({ maxDistance: 3 });
    const stored: Fingerprint64[] = [];
    for (let i = 0; i < 5000; i += 1) {
      const fp = { hi: rng.nextUint32(), lo: rng.nextUint32() };
      stored.push(fp);
      index.insert(i, fp, 'hot');
    }
    expect(index.stats.buckets).toBeGreaterThan(0);
    for (let q = 0; q < 200; q += 1) {
      const base = stored[q * 7];
      const probe = { hi: (base.hi ^ (1 << (q % 32))) >>> 0, lo: base.lo };
      const want = stored
        .map((fp, id) => ({ id, d: hamming(fp, probe) }))
        .filter((x) => x.d <= 3)
        .map((x) => x.id)
        .sort((a, b) => a - b);
      expect(
        index
          .query(probe, 3, 'hot')
          .map((m) => m.id)
          .sort((a, b) => a - b),
      ).toEqual(want);
    }
    // Far fewer candidates than 200 scans of 5,000.
    expect(index.stats.candidates).toBeLessThan(200 * 5000 * 0.01);
    // Shrinking back below the scan limit drops the bands.
    for (let i = 0; i < 4990; i += 1) index.remove(i);
    expect(index.stats.buckets).toBe(0);
    expect(index.query(stored[4995], 0, 'hot').map((m) => m.id)).toEqual([4995]);
  });
});
