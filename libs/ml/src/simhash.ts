/**
 * 64-bit SimHash (Charikar 2002; Manku, Jain & Das Sarma 2007) of short free text, for
 * near-duplicate detection by Hamming distance.
 *
 * Fingerprint: `{ hi, lo }`, two unsigned 32-bit halves (bit i of the 64 is bit i of `lo` for
 * i < 32, bit i − 32 of `hi` otherwise). Chosen over bigint because every hot operation (feature
 * hashing, vote counting, XOR + popcount for the distance, band extraction for LSH) is then plain
 * 32-bit integer arithmetic, which V8 compiles to machine instructions, whereas each bigint
 * operation allocates; and because the object is JSON as it stands, so snapshots need no codec.
 * {@link fingerprintToHex} / {@link fingerprintFromHex} give a compact 16-digit form.
 *
 * Tokenizer (see {@link simhashFeatures}): Unicode-normalised (NFKD, combining marks removed,
 * lower-cased), split into words of letters and digits, each word padded with a space on both
 * sides and cut into character bigrams; every occurrence is one feature of weight 1.
 *
 * Why this tokenizer. A SimHash bit flips with probability about θ/π, θ the angle between the
 * two feature-count vectors, so an edit that changes m of n features moves the fingerprint by
 * about 64·arccos(1 − m/n)/π bits: staying within 3 needs fewer than ~1 % of the features
 * changed. Hence:
 * - Features never span two words, so reordering words changes nothing (distance 0); case,
 *   accents, punctuation and spacing are normalised away (distance 0).
 * - Bigrams rather than trigrams, words or word shingles: one typo (substitution, insertion,
 *   deletion, transposition) changes 2–3 bigrams, but 3–4 trigrams, or one word of far fewer
 *   words; the changed fraction m/n is smallest with bigrams. In the exploration behind this
 *   choice, one typo in a ~50-character memo stayed within 3 for ~26 % of pairs with in-word
 *   bigrams, 8 % with in-word trigrams, 10 % with trigrams across the text, 7 % with words +
 *   trigrams, 4 % with words and 2 % with word 2-shingles, while unrelated texts stayed as far
 *   apart with bigrams as with the others.
 *
 * Measured by simhash.spec.ts on generated card memos (asserted there, a little below these):
 * - one typo in a ~52-character memo: median distance 4; within 3 for 33 % of pairs, within 6
 *   for 81 %, within 8 for 95 %;
 * - one typo in a ~160-character memo: median 2; within 3 for 87 %, within 5 for 98 %;
 * - reordered words, changed case, punctuation, spacing, accents: 0, always;
 * - memos from different templates: median 25, none of 466,000 pairs within 7; random word
 *   salads from the same vocabulary: none of 1.1 M pairs within 8. Memos of one template that
 *   differ in a single filled-in word are textually near duplicates, and fall close.
 * So at the default k = 3 this catches re-sent, re-cased, re-ordered and re-spaced text always
 * and typos in longer text mostly; for typos in very short text, a field's spec should raise k
 * to 6–8 (no unrelated pair came within 7 here), which the LSH index supports at the price of
 * more candidates per lookup. That limit is SimHash's, not the tokenizer's: 64 bits and ~50
 * features leave no room for ≤ 3 on a changed word.
 *
 * Feature hash: FNV-1a 64 over the feature's UTF-8 bytes, followed by MurmurHash3's fmix64
 * finaliser, both on 32-bit halves. FNV-1a alone is a poor bit source for SimHash: multiplying by
 * its prime only carries low bits upwards, so bit 0 of an FNV-1a hash is the XOR of bit 0 of
 * every byte, and bigrams that share low bits would vote alike (the spec shows it). fmix64 is a
 * bijection with full avalanche. Speed (simhash.bench.ts, `npx vitest bench --run libs/ml
 * --project unit`, Node 20, 2-core machine): the feature hash runs at ~20 M bigrams/s on 32-bit
 * halves against ~2.9 M/s for the same function on bigint (7× slower, and it allocates); a
 * 58-character ASCII memo takes ~2.6 µs (~390,000 memos/s per core), about twice that when it
 * holds non-ASCII text and needs Unicode normalisation.
 */

/** A 64-bit fingerprint as two unsigned 32-bit halves. */
export interface Fingerprint64 {
  /** Bits 32–63, as an unsigned 32-bit integer. */
  readonly hi: number;
  /** Bits 0–31, as an unsigned 32-bit integer. */
  readonly lo: number;
}

// FNV-1a 64 parameters: offset basis 0xcbf29ce484222325, prime 2^40 + 0x1b3.
const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_LO = 0x1b3;
// Multiplying by 2^−32 is exact (a power of two) and cheaper than dividing by 2^32.
const INV_2_32 = 1 / 4294967296;

/** High 32 bits of the 64-bit product of two uint32 (16-bit limbs keep every step exact). */
function mulHi32(a: number, b: number): number {
  const a1 = a >>> 16;
  const a0 = a & 0xffff;
  const b1 = b >>> 16;
  const b0 = b & 0xffff;
  // (a1·b0 + a0·b1)·2^16 + a0·b0 < 2^50, exact in a double.
  const mid = a1 * b0 + a0 * b1;
  return (a1 * b1 + Math.floor((mid * 65536 + a0 * b0) * INV_2_32)) >>> 0;
}

// The hot path passes 64-bit values around as two locals and returns them through this
// two-word scratch buffer, so hashing a feature allocates nothing.
const OUT = new Uint32Array(2);
// UTF-8 bytes of the feature being hashed (a bigram is at most 8 bytes; longer strings go
// through fnvString).
const BYTES = new Uint8Array(8);

/** Writes the UTF-8 (WTF-8 for lone surrogates) bytes of a code point at `at`; returns the end. */
function utf8(cp: number, at: number): number {
  if (cp < 0x80) {
    BYTES[at] = cp;
    return at + 1;
  }
  if (cp < 0x800) {
    BYTES[at] = 0xc0 | (cp >>> 6);
    BYTES[at + 1] = 0x80 | (cp & 0x3f);
    return at + 2;
  }
  if (cp < 0x10000) {
    BYTES[at] = 0xe0 | (cp >>> 12);
    BYTES[at + 1] = 0x80 | ((cp >>> 6) & 0x3f);
    BYTES[at + 2] = 0x80 | (cp & 0x3f);
    return at + 3;
  }
  BYTES[at] = 0xf0 | (cp >>> 18);
  BYTES[at + 1] = 0x80 | ((cp >>> 12) & 0x3f);
  BYTES[at + 2] = 0x80 | ((cp >>> 6) & 0x3f);
  BYTES[at + 3] = 0x80 | (cp & 0x3f);
  return at + 4;
}

/**
 * FNV-1a 64 over BYTES[0..len) continuing from (hi, lo), then (when `mix`) fmix64; into OUT.
 */
function fnvBytes(hi: number, lo: number, len: number, mix: boolean): void {
  for (let i = 0; i < len; i += 1) {
    lo = (lo ^ BYTES[i]) >>> 0;
    // × (2^40 + 0x1b3): the low half times 0x1b3 is < 2^41 (exact); 2^40 moves the low half
    // 8 bits up into the high half.
    const p = lo * FNV_PRIME_LO;
    hi = (Math.imul(hi, FNV_PRIME_LO) + (lo << 8) + Math.floor(p * INV_2_32)) >>> 0;
    lo = p >>> 0;
  }
  if (mix) fmix64(hi, lo);
  else {
    OUT[0] = hi;
    OUT[1] = lo;
  }
}

/** MurmurHash3's fmix64 of (hi, lo) into OUT. */
function fmix64(hi: number, lo: number): void {
  // k ^= k >>> 33: the shifted value has 31 bits, all in the low half.
  lo = (lo ^ (hi >>> 1)) >>> 0;
  // k *= 0xff51afd7ed558ccd (mod 2^64)
  let h = (mulHi32(lo, 0xed558ccd) + Math.imul(lo, 0xff51afd7) + Math.imul(hi, 0xed558ccd)) >>> 0;
  let l = Math.imul(lo, 0xed558ccd) >>> 0;
  l = (l ^ (h >>> 1)) >>> 0;
  // k *= 0xc4ceb9fe1a85ec53
  const h2 = (mulHi32(l, 0x1a85ec53) + Math.imul(l, 0xc4ceb9fe) + Math.imul(h, 0x1a85ec53)) >>> 0;
  l = Math.imul(l, 0x1a85ec53) >>> 0;
  h = h2;
  OUT[0] = h;
  OUT[1] = (l ^ (h >>> 1)) >>> 0;
}

/** FNV-1a 64 (and fmix64 when `mix`) of a whole string's UTF-8 bytes into OUT. */
function fnvString(s: string, mix: boolean): void {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  for (let i = 0; i < s.length; i += 1) {
    const cp = s.codePointAt(i) as number;
    if (cp > 0xffff) i += 1;
    const len = utf8(cp, 0);
    fnvBytes(hi, lo, len, false);
    hi = OUT[0];
    lo = OUT[1];
  }
  if (mix) fmix64(hi, lo);
  else {
    OUT[0] = hi;
    OUT[1] = lo;
  }
}

/**
 * FNV-1a 64 of the string's UTF-8 bytes, without finaliser (the published function; exported
 * so that it can be checked against the published test vectors). Lone surrogates are encoded
 * like code points (WTF-8), so no input throws.
 */
export function fnv1a64(s: string): Fingerprint64 {
  fnvString(s, false);
  return { hi: OUT[0], lo: OUT[1] };
}

/** The feature hash used by {@link simhash}: fmix64(FNV-1a 64(UTF-8 bytes)). */
export function hash64(s: string): Fingerprint64 {
  fnvString(s, true);
  return { hi: OUT[0], lo: OUT[1] };
}

/**
 * A fast 53-bit hash of a string's UTF-16 code units, as a safe integer: two 32-bit
 * multiplicative lanes mixed at the end (the public-domain cyrb53 construction). For set
 * membership of whole records (content and feature hashes), where FNV-1a 64 over UTF-8 costs a
 * 64-bit multiply per byte. Not for fingerprints (use {@link hash64}) and not cryptographic: n
 * distinct keys collide with probability about n² / 2⁵⁴ (5·10⁻⁷ for 100,000).
 */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The canonical form features are cut from: lower-cased, compatibility-decomposed (NFKD: "ﬁ" →
 * "fi", full-width → ASCII) and stripped of combining marks ("é" → "e"). Lower-casing comes first
 * because it can itself produce combining marks ("İ" → "i̇").
 */
export function normalizeText(text: string): string {
  const lower = text.toLowerCase();
  // Pure ASCII has nothing to decompose; skipping ICU saves most of the time on typical memos.
  if (/^[\t\n\r\x20-\x7e]*$/.test(lower)) return lower;
  return lower.normalize('NFKD').replace(/\p{M}+/gu, '');
}

// Maximal runs of letters and digits; everything else separates words.
const WORD = /[\p{L}\p{N}]+/gu;
const PAD = 0x20;

/** The words of the normalised text, in order. */
export function words(text: string): string[] {
  return normalizeText(text).match(WORD) ?? [];
}

/**
 * The features SimHash votes with, in order: for every word, the bigrams of " word " (space
 * padded, so "ab" gives " a", "ab", "b "). Exported for inspection and tests; {@link simhash}
 * computes the same features without building strings.
 */
export function simhashFeatures(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    const cps = Array.from(` ${w} `);
    for (let i = 0; i + 1 < cps.length; i += 1) out.push(cps[i] + cps[i + 1]);
  }
  return out;
}

// Vote counters in bit-sliced form: plane j holds bit j of all 64 per-position counts, so adding
// a 64-bit hash is a ripple-carry over a few planes (about two on average) instead of 64
// separate increments, and the majority test at the end is a bit-sliced comparison. 32 planes
// count up to 2^32 − 1 features.
const PLANES = 32;
const planeHi = new Uint32Array(PLANES);
const planeLo = new Uint32Array(PLANES);
let planesUsed = 0;
let featureCount = 0;

function voteReset(): void {
  planeHi.fill(0, 0, planesUsed);
  planeLo.fill(0, 0, planesUsed);
  planesUsed = 0;
  featureCount = 0;
}

/** Adds OUT (one feature hash) to the counts. */
function vote(): void {
  let cHi = OUT[0];
  let cLo = OUT[1];
  let j = 0;
  while ((cHi | cLo) !== 0) {
    const pHi = planeHi[j];
    const pLo = planeLo[j];
    planeHi[j] = pHi ^ cHi;
    planeLo[j] = pLo ^ cLo;
    cHi &= pHi;
    cLo &= pLo;
    j += 1;
  }
  if (j > planesUsed) planesUsed = j;
  featureCount += 1;
}

/**
 * Bit b of the fingerprint is 1 when more than half of the votes had bit b set (a tie gives 0):
 * count_b > T with T = ⌊n/2⌋, evaluated for all 64 positions at once by comparing the
 * bit-sliced counts with T from the most significant plane down.
 */
function voteResult(): Fingerprint64 {
  const t = featureCount >>> 1;
  let gtHi = 0;
  let gtLo = 0;
  let eqHi = -1;
  let eqLo = -1;
  // Planes above both the highest used plane and T's top bit are zero on both sides.
  const top = Math.max(planesUsed, 32 - Math.clz32(t));
  for (let j = top - 1; j >= 0; j -= 1) {
    const pHi = planeHi[j];
    const pLo = planeLo[j];
    if ((t >>> j) & 1) {
      eqHi &= pHi;
      eqLo &= pLo;
    } else {
      gtHi |= eqHi & pHi;
      gtLo |= eqLo & pLo;
      eqHi &= ~pHi;
      eqLo &= ~pLo;
    }
  }
  return { hi: gtHi >>> 0, lo: gtLo >>> 0 };
}

/**
 * SimHash of a text with the tokenizer described at the top of this module. A text without
 * letters or digits has no features and gets the all-zero fingerprint.
 */
export function simhash(text: string): Fingerprint64 {
  voteReset();
  const norm = normalizeText(text);
  WORD.lastIndex = 0;
  for (let m = WORD.exec(norm); m !== null; m = WORD.exec(norm)) {
    const word = m[0];
    let prev = PAD;
    for (let i = 0; i < word.length; i += 1) {
      const cp = word.codePointAt(i) as number;
      if (cp > 0xffff) i += 1;
      bigram(prev, cp);
      prev = cp;
    }
    bigram(prev, PAD);
  }
  return voteResult();
}

/** Hashes the bigram (a, b) exactly as hash64 would hash its string, and votes with it. */
function bigram(a: number, b: number): void {
  if ((a | b) < 0x80) {
    // Two ASCII bytes, the common case: FNV-1a's two steps written out.
    let lo = (FNV_OFFSET_LO ^ a) >>> 0;
    let p = lo * FNV_PRIME_LO;
    let hi = (Math.imul(FNV_OFFSET_HI, FNV_PRIME_LO) + (lo << 8) + Math.floor(p * INV_2_32)) >>> 0;
    lo = ((p >>> 0) ^ b) >>> 0;
    p = lo * FNV_PRIME_LO;
    hi = (Math.imul(hi, FNV_PRIME_LO) + (lo << 8) + Math.floor(p * INV_2_32)) >>> 0;
    fmix64(hi, p >>> 0);
  } else {
    fnvBytes(FNV_OFFSET_HI, FNV_OFFSET_LO, utf8(b, utf8(a, 0)), true);
  }
  vote();
}

/**
 * SimHash of arbitrary features (each hashed with {@link hash64}, each occurrence one vote), for
 * callers that tokenise differently.
 */
export function simhashOf(features: Iterable<string>): Fingerprint64 {
  voteReset();
  for (const f of features) {
    fnvString(f, true);
    vote();
  }
  return voteResult();
}

/** Number of set bits of a uint32 (SWAR popcount). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Hamming distance between two fingerprints: how many of the 64 bits differ. */
export function hamming(a: Fingerprint64, b: Fingerprint64): number {
  return popcount32((a.hi ^ b.hi) >>> 0) + popcount32((a.lo ^ b.lo) >>> 0);
}

/** 16 lower-case hex digits, most significant first (the form a changelog stores). */
export function fingerprintToHex(f: Fingerprint64): string {
  return f.hi.toString(16).padStart(8, '0') + f.lo.toString(16).padStart(8, '0');
}

/** Parses {@link fingerprintToHex}'s output; throws on anything but 16 hex digits. */
export function fingerprintFromHex(hex: string): Fingerprint64 {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new RangeError(`not a 64-bit hex fingerprint: ${hex}`);
  return { hi: parseInt(hex.slice(0, 8), 16), lo: parseInt(hex.slice(8), 16) };
}

/** The fingerprint as an unsigned bigint, for interop (not used on hot paths). */
export function fingerprintToBigInt(f: Fingerprint64): bigint {
  return (BigInt(f.hi) << 32n) | BigInt(f.lo);
}

/** The fingerprint of an unsigned 64-bit bigint. */
export function fingerprintFromBigInt(v: bigint): Fingerprint64 {
  if (v < 0n || v >= 1n << 64n) throw new RangeError('fingerprint bigint must be in [0, 2^64)');
  return { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) };
}
