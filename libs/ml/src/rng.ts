/**
 * A small seeded pseudo-random generator for synthetic data, tests and benchmarks.
 *
 * The core is xoshiro128** (Blackman & Vigna, 2018): 128 bits of state, period 2^128 − 1, and
 * only 32-bit integer operations, so it needs no BigInt and gives the same sequence on every
 * platform and Node version. mulberry32 is smaller, but its whole period is 2^32: a few thousand
 * seeded streams of a million draws each would likely overlap, which a 2^128 period rules out.
 *
 * Seeding expands one 32-bit integer through splitmix32 (the seeding scheme the xoshiro authors
 * recommend), so nearby seeds (1, 2, 3…) give unrelated streams.
 *
 * Not for cryptography.
 */

/** The four 32-bit words of the generator plus the cached second Box–Muller value, if any. */
export interface RngState {
  readonly s: readonly [number, number, number, number];
  readonly spareNormal: number | null;
}

const TWO_PI = 2 * Math.PI;
// 2^-53: turns a 53-bit integer into a double in [0, 1) with every representable step.
const INV_2_53 = 1 / 9007199254740992;

/** splitmix32 step: expands a seed into well-mixed state words (Vigna's recommended seeding). */
function splitmix32(seed: number): () => number {
  let z = seed >>> 0;
  return () => {
    z = (z + 0x9e3779b9) >>> 0;
    let x = z;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
}

/** Seeded generator: every method advances one deterministic stream. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  // Box–Muller yields two independent normals per pair of uniforms; the second is kept so that
  // normal() costs one logarithm every other call.
  private spare: number | null = null;

  /** @param seed any integer; only its low 32 bits are used. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng seed must be an integer, got ${seed}`);
    const next = splitmix32(seed);
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is the one state xoshiro can never leave; splitmix32 cannot emit four
    // zeros in a row, but a restored state could hold them.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Rebuilds a generator from {@link Rng.state}; it continues exactly where that one was. */
  static fromState(state: RngState): Rng {
    const [a, b, c, d] = state.s;
    for (const w of state.s) {
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) {
        throw new RangeError('Rng state words must be uint32');
      }
    }
    if ((a | b | c | d) === 0) throw new RangeError('Rng state must not be all zero');
    const rng = new Rng(0);
    rng.s0 = a;
    rng.s1 = b;
    rng.s2 = c;
    rng.s3 = d;
    rng.spare = state.spareNormal;
    return rng;
  }

  /** A copy of the state, for snapshots; JSON-serialisable. */
  state(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spare };
  }

  /** The next 32 random bits as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** A double uniform on [0, 1) with 53 random bits (two draws), like Python's random(). */
  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * INV_2_53;
  }

  /** Uniform on [min, max). */
  uniform(min = 0, max = 1): number {
    return min + (max - min) * this.next();
  }

  /**
   * A uniform integer in [min, max), without modulo bias: draws are masked to the next power of
   * two and redrawn when out of range (fewer than two draws on average). The range must hold at
   * most 2^32 values.
   */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) {
      throw new RangeError(`int(min, max) needs integers with min < max, got ${min}, ${max}`);
    }
    const range = max - min;
    if (range > 0x100000000) throw new RangeError('int(): range larger than 2^32');
    if (range === 0x100000000) return min + this.nextUint32();
    const mask = 0xffffffff >>> Math.clz32(range - 1 || 1);
    for (;;) {
      const x = (this.nextUint32() & mask) >>> 0;
      if (x < range) return min + x;
    }
  }

  /** Normal (Gaussian) with the given mean and standard deviation, by Box–Muller. */
  normal(mean = 0, sd = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + sd * z;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(TWO_PI * u2);
    return mean + sd * r * Math.cos(TWO_PI * u2);
  }

  /** Lognormal: exp of a normal with mean `mu` and standard deviation `sigma` (numpy's convention). */
  lognormal(mu = 0, sigma = 1): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** true with probability p. */
  bernoulli(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli(p) needs p in [0, 1], got ${p}`);
    return this.next() < p;
  }

  /**
   * One element, uniformly or with the given non-negative weights (need not sum to 1). Linear in
   * the number of items: meant for the handful of categories a record field has.
   */
  choice<T>(items: readonly T[], weights?: readonly number[]): T {
    if (items.length === 0) throw new RangeError('choice() from an empty list');
    if (weights === undefined) return items[this.int(0, items.length)];
    if (weights.length !== items.length) {
      throw new RangeError('choice(): weights and items differ in length');
    }
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError('choice(): bad weight');
      total += w;
    }
    if (total <= 0) throw new RangeError('choice(): weights sum to zero');
    const target = this.next() * total;
    let acc = 0;
    let last = 0;
    for (let i = 0; i < items.length; i += 1) {
      const w = weights[i];
      if (w === 0) continue;
      acc += w;
      last = i;
      if (target < acc) return items[i];
    }
    // Rounding can leave target a hair above the running sum; the last non-zero weight owns it.
    return items[last];
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = this.int(0, i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
