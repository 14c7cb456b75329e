/**
 * The hashing trick as scikit-learn's `FeatureHasher(n_features=n, input_type='string',
 * alternate_sign=True)` does it, and feature crosses hashed the same way.
 *
 * scikit-learn (`feature_extraction/_hashing_fast.pyx`) hashes each token's UTF-8 bytes with
 * MurmurHash3 x86_32, seed 0, read as a signed int32 h; the column is |h| mod n and the value
 * +1 when h ≥ 0, −1 otherwise; repeated tokens and collisions add up. For h = −2³¹ it takes
 * 2³¹ mod n, which is what `Math.abs` gives in JavaScript without a special case.
 */

import type { Category } from '../robust';
import { murmur3Bytes } from '../text/murmur3';

const encoder = new TextEncoder();
// Reused across calls: hashing a token allocates nothing once the buffer is big enough.
let scratch = new Uint8Array(256);

function utf8(s: string): Uint8Array {
  // encodeInto writes at most 3 bytes per UTF-16 code unit.
  if (scratch.length < s.length * 3) scratch = new Uint8Array(s.length * 3);
  const { written } = encoder.encodeInto(s, scratch);
  return scratch.subarray(0, written);
}

/**
 * MurmurHash3 x86_32 (Appleby) as a signed int32, = `sklearn.utils.murmurhash3_32(key, seed)`.
 * A string is hashed as its UTF-8 bytes; a lone surrogate becomes U+FFFD (TextEncoder's rule)
 * where Python would refuse to encode it.
 */
export function murmurHash32(key: string | Uint8Array, seed = 0): number {
  const bytes = typeof key === 'string' ? utf8(key) : key;
  return murmur3Bytes(bytes, 0, bytes.length, seed) | 0;
}

/** Where a token lands: its column and the sign of its contribution. */
export interface HashedFeature {
  readonly index: number;
  readonly sign: 1 | -1;
}

function checkBuckets(n: number): void {
  // scikit-learn's bounds: indices are int32.
  if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) {
    throw new RangeError(`number of buckets must be an integer in [1, 2^31 − 1], got ${n}`);
  }
}

/** Column |h| mod n and sign (h ≥ 0 ? 1 : −1) of a signed 32-bit hash. */
export function bucketOf(h: number, n: number): HashedFeature {
  return { index: Math.abs(h) % n, sign: h >= 0 ? 1 : -1 };
}

/** The column and sign `FeatureHasher` gives the token `s` with n features. */
export function hashString(s: string, n: number): HashedFeature {
  checkBuckets(n);
  return bucketOf(murmurHash32(s), n);
}

export interface HashingOptions {
  /** scikit-learn's `alternate_sign`; default true. Off, every token adds +1. */
  readonly alternateSign?: boolean;
}

/**
 * One `FeatureHasher` row (input_type 'string') as a dense vector of length n: each token adds
 * ±1 at its column, so repeats count and colliding tokens of opposite sign cancel.
 */
export function applyHashing(
  tokens: readonly string[],
  n: number,
  options: HashingOptions = {},
): number[] {
  checkBuckets(n);
  const alternate = options.alternateSign ?? true;
  const out = new Array<number>(n).fill(0);
  for (const t of tokens) {
    const h = murmurHash32(t);
    out[Math.abs(h) % n] += alternate && h < 0 ? -1 : 1;
  }
  return out;
}

/**
 * U+001F (ASCII unit separator) between the two parts of a cross: a character no real
 * category contains, so `crossKey('a b', 'c')` and `crossKey('a', 'b c')` differ, which any
 * printable separator would not guarantee.
 */
export const CROSS_SEPARATOR = '\u001f';

/**
 * The token for the pair (a, b): `${a}\u001f${b}`, order-sensitive. Numbers and booleans appear
 * in their JavaScript string form (1 → "1", true → "true"). Missing values have no cross: skip
 * the pair rather than hashing "null".
 */
export function crossKey(a: Category, b: Category): string {
  return `${String(a)}${CROSS_SEPARATOR}${String(b)}`;
}

/** `hashString(crossKey(a, b), n)`: the cross as one hashed feature. */
export function hashCross(a: Category, b: Category, n: number): HashedFeature {
  return hashString(crossKey(a, b), n);
}

/** a · b, the numeric cross; missing (null or NaN) when either side is. */
export function numericProduct(a: number | null, b: number | null): number | null {
  if (a === null || b === null || Number.isNaN(a) || Number.isNaN(b)) return null;
  return a * b;
}
