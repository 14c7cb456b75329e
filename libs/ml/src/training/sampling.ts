/**
 * Dynamic class sampling for the trainer: which share of each batch every class gets, and the
 * seeded draws that realise those shares.
 *
 * The trainer starts from a target distribution (natural, balanced or configured), and after
 * each validation pass moves sampling toward the classes the model still misses
 * ({@link adjustSamplingShares}); {@link ClassSampler} then draws row indices accordingly.
 */

import type { Rng } from '../rng';

function checkNonNegative(fn: string, what: string, values: readonly number[]): number {
  let total = 0;
  values.forEach((v, i) => {
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: ${what}[${i}] must be finite and ≥ 0, got ${v}`);
    }
    total += v;
  });
  if (!(total > 0)) throw new RangeError(`${fn}: ${what} must have a positive sum`);
  return total;
}

/** The natural class distribution, count_c / Σ counts; throws unless the counts sum to > 0. */
export function naturalShares(counts: readonly number[]): number[] {
  const total = checkNonNegative('naturalShares', 'counts', counts);
  return counts.map((c) => c / total);
}

export interface AdjustSamplingSharesInput {
  /** Target distribution, non-negative with a positive sum; normalised here. */
  readonly target: readonly number[];
  /** Per-class recall on the last validation pass, in [0, 1]; NaN when the class was absent. */
  readonly recall: readonly number[];
  /** How hard to push toward poorly recalled classes, ≥ 0; 0 returns the normalised target. */
  readonly strength: number;
}

/**
 * Sampling shares tilted toward the classes the model recalls badly:
 *
 *     share_c ∝ target_c · (1 + strength · (1 − recall_c)),   Σ share_c = 1
 *
 * so a class recalled perfectly keeps its target weight and one never recalled gets
 * (1 + strength) times it, before renormalisation. A NaN recall (the class had no row in the
 * validation sample, so its recall is unknown, not bad) gets factor 1, as if recalled
 * perfectly: no evidence, no boost. A class with target 0 stays at 0.
 */
export function adjustSamplingShares({
  target,
  recall,
  strength,
}: AdjustSamplingSharesInput): number[] {
  const fn = 'adjustSamplingShares';
  const total = checkNonNegative(fn, 'target', target);
  if (recall.length !== target.length) {
    throw new RangeError(`${fn}: ${target.length} target shares but ${recall.length} recalls`);
  }
  if (!(strength >= 0) || !Number.isFinite(strength)) {
    throw new RangeError(`${fn}: strength must be finite and ≥ 0, got ${strength}`);
  }
  const raw = target.map((t, c) => {
    const r = recall[c];
    if (Number.isNaN(r)) return t / total;
    if (!(r >= 0 && r <= 1))
      throw new RangeError(`${fn}: recall[${c}] must be in [0, 1], got ${r}`);
    return (t / total) * (1 + strength * (1 - r));
  });
  // The sum is ≥ Σ target/total = 1 > 0, so the division is safe.
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((v) => v / sum);
}

/**
 * Draws training rows by class share: each draw picks a class with probability share_c
 * (inverse CDF on one `rng.next()`), then one of that class's rows uniformly (`rng.int`), with
 * replacement. With the natural shares this is uniform sampling of rows with replacement; with
 * balanced shares a 2 % class fills half the batch.
 *
 * Deterministic: the same labels, shares and generator state give the same indices.
 */
export class ClassSampler {
  /** Rows of each class, concatenated in class order; class c is rows[offsets[c]..offsets[c+1]). */
  private readonly rows: Uint32Array;
  private readonly offsets: Uint32Array;
  private readonly cdf: Float64Array;
  private current: number[];

  /**
   * @param labels the class index of every training row, integers in [0, classCount)
   * @param classCount number of classes (some may have no rows)
   * @param rng the generator every draw advances
   */
  constructor(
    labels: ArrayLike<number>,
    readonly classCount: number,
    private readonly rng: Rng,
  ) {
    if (!Number.isInteger(classCount) || classCount < 1) {
      throw new RangeError(`ClassSampler: classCount must be an integer ≥ 1, got ${classCount}`);
    }
    if (labels.length === 0) throw new RangeError('ClassSampler: no rows');
    if (labels.length > 0xffffffff) throw new RangeError('ClassSampler: more than 2^32 rows');
    const counts = new Uint32Array(classCount);
    for (let i = 0; i < labels.length; i += 1) {
      const y = labels[i];
      if (!Number.isInteger(y) || y < 0 || y >= classCount) {
        throw new RangeError(
          `ClassSampler: label of row ${i} must be in [0, ${classCount}), got ${y}`,
        );
      }
      counts[y] += 1;
    }
    // Counting sort: rows of each class in their original order.
    this.offsets = new Uint32Array(classCount + 1);
    for (let c = 0; c < classCount; c += 1) this.offsets[c + 1] = this.offsets[c] + counts[c];
    this.rows = new Uint32Array(labels.length);
    const fill = this.offsets.slice(0, classCount);
    for (let i = 0; i < labels.length; i += 1) this.rows[fill[labels[i]]++] = i;
    this.cdf = new Float64Array(classCount);
    this.current = [];
    this.setShares(Array.from(counts));
  }

  /** Rows per class in the training split. */
  get classCounts(): number[] {
    return Array.from({ length: this.classCount }, (_, c) => this.countOf(c));
  }

  /** The shares in effect: those last set, empty classes dropped, renormalised. */
  get shares(): number[] {
    return [...this.current];
  }

  /**
   * Sets the class shares for the next draws (the constructor starts with the natural ones).
   * Shares need not sum to 1. A class with no rows cannot be drawn: its share is dropped and
   * the rest renormalised; throws RangeError when nothing with rows is left.
   */
  setShares(shares: readonly number[]): void {
    if (shares.length !== this.classCount) {
      throw new RangeError(
        `ClassSampler.setShares: ${shares.length} shares for ${this.classCount} classes`,
      );
    }
    const kept = shares.map((s, c) => {
      if (!(s >= 0) || !Number.isFinite(s)) {
        throw new RangeError(`ClassSampler.setShares: share ${c} must be finite and ≥ 0, got ${s}`);
      }
      return this.countOf(c) > 0 ? s : 0;
    });
    const total = kept.reduce((a, b) => a + b, 0);
    if (!(total > 0)) {
      throw new RangeError('ClassSampler.setShares: no share left on a class with rows');
    }
    this.current = kept.map((s) => s / total);
    let acc = 0;
    let last = 0;
    for (let c = 0; c < this.classCount; c += 1) {
      acc += this.current[c];
      this.cdf[c] = acc;
      if (this.current[c] > 0) last = c;
    }
    // Rounding can leave the running sum a hair below 1: the last drawable class owns the rest,
    // and the classes after it (all share 0) can never be reached.
    for (let c = last; c < this.classCount; c += 1) this.cdf[c] = 1;
  }

  /** `n` row indices drawn with replacement by the current shares. */
  draw(n: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`ClassSampler.draw: n must be an integer ≥ 0, got ${n}`);
    }
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i += 1) {
      const c = this.classAt(this.rng.next());
      out[i] = this.rows[this.offsets[c] + this.rng.int(0, this.countOf(c))];
    }
    return out;
  }

  private countOf(c: number): number {
    return this.offsets[c + 1] - this.offsets[c];
  }

  /** The first class whose cumulative share exceeds u, by binary search. */
  private classAt(u: number): number {
    let lo = 0;
    let hi = this.classCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < this.cdf[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * A uniformly random permutation of 0..n−1 (Fisher–Yates, as `Rng.shuffle`: from the end, swap
 * i with `rng.int(0, i + 1)`), for shuffling the training rows each epoch. Same draws as
 * `rng.shuffle` on [0, 1, …, n−1], in a typed array.
 */
export function epochPermutation(n: number, rng: Rng): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`epochPermutation: n must be an integer in [0, 2^32 − 1], got ${n}`);
  }
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i += 1) out[i] = i;
  for (let i = n - 1; i > 0; i -= 1) {
    const j = rng.int(0, i + 1);
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}
