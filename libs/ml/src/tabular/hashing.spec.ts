import { describe, expect, it } from 'vitest';
import reference from '../../fixtures/tabular.json';
import {
  applyHashing,
  bucketOf,
  CROSS_SEPARATOR,
  crossKey,
  hashCross,
  hashString,
  murmurHash32,
  numericProduct,
} from './hashing';

const { hashing } = reference;

describe('MurmurHash3 x86_32', () => {
  it('matches the published test vectors', () => {
    // From the SMHasher verification set as reproduced in many ports (unsigned shown).
    expect(murmurHash32('', 0)).toBe(0);
    expect(murmurHash32('', 1) >>> 0).toBe(0x514e28b7);
    expect(murmurHash32('', 0xffffffff) >>> 0).toBe(0x81f16f39);
    expect(murmurHash32(new Uint8Array(4), 0) >>> 0).toBe(0x2362f9de);
    expect(murmurHash32('aaaa', 0x9747b28c) >>> 0).toBe(0x5a97808a);
    expect(murmurHash32('Hello, world!', 0x9747b28c) >>> 0).toBe(0x24884cba);
  });

  it(`matches sklearn.utils.murmurhash3_32 on ${hashing.murmur.length} (string, seed) pairs`, () => {
    for (const { input, seed, hash } of hashing.murmur) {
      expect(murmurHash32(input, seed)).toBe(hash);
    }
  });

  it('hashes strings as their UTF-8 bytes', () => {
    const s = 'Zürich 🍕';
    expect(murmurHash32(s)).toBe(murmurHash32(new TextEncoder().encode(s)));
    // Long inputs grow the scratch buffer and still agree.
    const long = '日本語'.repeat(500);
    expect(murmurHash32(long)).toBe(murmurHash32(new TextEncoder().encode(long)));
  });
});

describe('FeatureHasher(input_type="string", alternate_sign=True)', () => {
  for (const n of [16, 1024] as const) {
    const expected = hashing[`n${n}`];

    it(`puts each of ${hashing.strings.length} strings in scikit-learn's column with its sign, n=${n}`, () => {
      hashing.strings.forEach((s, i) => {
        expect(hashString(s, n)).toEqual(expected.perString[i]);
      });
    });

    it(`sums repeated and colliding tokens like scikit-learn, n=${n}`, () => {
      hashing.samples.forEach((tokens, i) => {
        const row = applyHashing(tokens, n);
        expect(row).toHaveLength(n);
        const nonzero = row.flatMap((v, j) => (v !== 0 ? [[j, v]] : []));
        expect(nonzero).toEqual(expected.samples[i]);
      });
    });
  }

  it('places h = −2³¹ where scikit-learn does', () => {
    // scikit-learn's special case: (2147483647 − (n − 1)) % n, which is 2³¹ mod n.
    for (const n of [1, 3, 16, 1000, 1024, 2 ** 31 - 1]) {
      expect(bucketOf(-2147483648, n)).toEqual({ index: (2147483647 - (n - 1)) % n, sign: -1 });
    }
  });

  it('can count without signs, and rejects a bad bucket count', () => {
    const row = applyHashing(['a', 'b', 'a'], 4, { alternateSign: false });
    expect(row.reduce((a, b) => a + b, 0)).toBe(3);
    expect(() => applyHashing(['a'], 0)).toThrow(RangeError);
    expect(() => hashString('a', 2.5)).toThrow(RangeError);
  });
});

describe('crosses', () => {
  it('joins the two sides with U+001F, in order', () => {
    expect(CROSS_SEPARATOR).toBe('\u001f');
    expect(crossKey('merchant', 'Amazon')).toBe('merchant\u001fAmazon');
    expect(crossKey('FR', 7)).toBe('FR\u001f7');
    expect(crossKey(true, 1.5)).toBe('true\u001f1.5');
    expect(crossKey('a b', 'c')).not.toBe(crossKey('a', 'b c'));
    expect(crossKey('a', 'b')).not.toBe(crossKey('b', 'a'));
  });

  it('hashes a cross as FeatureHasher hashes the same key', () => {
    // The fixture's strings include the two crosses above, hashed by scikit-learn.
    for (const n of [16, 1024] as const) {
      const i = hashing.strings.indexOf('merchant\u001fAmazon');
      const j = hashing.strings.indexOf('FR\u001f7');
      expect(hashCross('merchant', 'Amazon', n)).toEqual(hashing[`n${n}`].perString[i]);
      expect(hashCross('FR', 7, n)).toEqual(hashing[`n${n}`].perString[j]);
    }
  });

  it('multiplies numbers, missing when either side is', () => {
    expect(numericProduct(3, -2.5)).toBe(-7.5);
    expect(numericProduct(null, 2)).toBeNull();
    expect(numericProduct(2, NaN)).toBeNull();
  });
});
