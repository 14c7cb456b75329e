/**
 * Running mean, variance, min and max in O(1) memory (Welford 1962), mergeable across partitions
 * (Chan, Golub & LeVeque 1979) and serialisable for a changelog snapshot.
 *
 * Why Welford rather than sums of x and x²: with values near 1e9 and a spread near 1, Σx² is
 * about 1e24 and its rounding error (~1e8) swamps the variance; Welford updates the mean and
 * the sum of squared deviations (M2) directly, so the error stays relative to the spread.
 *
 * Why a shift: Welford alone still rounds the running mean at the magnitude of the data (an ulp
 * of 1e9 is 1.2e-7), and those roundings leak into M2. The accumulator therefore works on x − K,
 * K the first value ("shifted data", Chan, Golub & LeVeque 1983): for data clustered far from
 * zero (timestamps, amounts around a large offset) the differences are exact and small, and the
 * mean is K plus a small number. On 1e6 values 1e9 + N(0, 1) the variance's relative error
 * against an exact two-pass reference is ~1e-15 with the shift and ~4e-8 without it, while the
 * Σx² formula is wrong by a factor of ~3.6e4 (welford.spec.ts).
 */

/** A snapshot of {@link RunningStats}; plain JSON (no NaN or Infinity, which JSON cannot hold). */
export interface RunningStatsState {
  /** Number of values seen. */
  readonly count: number;
  /** The shift K (the first value pushed, or the first side's K after a merge); 0 when empty. */
  readonly shift: number;
  /** Mean of x − K; 0 when count is 0. The mean is shift + shiftedMean. */
  readonly shiftedMean: number;
  /** Sum of squared deviations from the mean; 0 when count < 2. */
  readonly m2: number;
  /** Smallest value; 0 when count is 0. */
  readonly min: number;
  /** Largest value; 0 when count is 0. */
  readonly max: number;
}

/** Which denominator a variance uses: n (population, ddof 0) or n − 1 (sample, ddof 1). */
export type Ddof = 0 | 1;

/**
 * Accumulates finite numbers one at a time. Getters answer NaN where the statistic is undefined
 * (mean of nothing, sample variance of one value), as numpy does.
 */
export class RunningStats {
  private n = 0;
  private k = 0;
  // Mean of x − k.
  private mu = 0;
  private m2 = 0;
  private lo = 0;
  private hi = 0;

  /**
   * Adds one value. Non-finite values are refused: one NaN would make every later statistic NaN
   * and be carried into every snapshot; missing values are the caller's to impute or skip.
   */
  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`RunningStats.push: not a finite number: ${x}`);
    this.n += 1;
    if (this.n === 1) {
      this.k = x;
      this.mu = 0;
      this.m2 = 0;
      this.lo = x;
      this.hi = x;
      return;
    }
    const delta = x - this.k - this.mu;
    this.mu += delta / this.n;
    // delta × (x − new mean) rather than delta² × (n−1)/n: same value, one rounding fewer.
    this.m2 += delta * (x - this.k - this.mu);
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
  }

  /** Adds every value of an iterable, in order. */
  pushAll(values: Iterable<number>): void {
    for (const x of values) this.push(x);
  }

  /** Number of values seen. */
  get count(): number {
    return this.n;
  }

  /** Arithmetic mean; NaN when empty. */
  get mean(): number {
    return this.n === 0 ? NaN : this.k + this.mu;
  }

  /** Smallest value; NaN when empty. */
  get min(): number {
    return this.n === 0 ? NaN : this.lo;
  }

  /** Largest value; NaN when empty. */
  get max(): number {
    return this.n === 0 ? NaN : this.hi;
  }

  /** Variance with n − ddof in the denominator (numpy's `var(ddof=…)`); NaN when n ≤ ddof. */
  variance(ddof: Ddof): number {
    if (this.n <= ddof) return NaN;
    return this.m2 / (this.n - ddof);
  }

  /** Population variance (divides by n, numpy ddof=0). */
  get populationVariance(): number {
    return this.variance(0);
  }

  /** Sample variance (divides by n − 1, numpy ddof=1, unbiased). */
  get sampleVariance(): number {
    return this.variance(1);
  }

  /** Population standard deviation (ddof 0). */
  get populationStd(): number {
    return Math.sqrt(this.variance(0));
  }

  /** Sample standard deviation (ddof 1). */
  get sampleStd(): number {
    return Math.sqrt(this.variance(1));
  }

  /**
   * Standard score (x − mean) / std, with the population std by default as scipy.stats.zscore.
   * NaN while the std is undefined (n ≤ ddof). When every value so far was equal (std 0), x equal
   * to them scores 0 and any other x ±Infinity: on a field that never varied, any change is an
   * outlier, which is what a |z| threshold should say.
   */
  zScore(x: number, ddof: Ddof = 0): number {
    const sd = Math.sqrt(this.variance(ddof));
    if (Number.isNaN(sd)) return NaN;
    const d = x - this.k - this.mu;
    if (sd === 0) return d === 0 ? 0 : d > 0 ? Infinity : -Infinity;
    return d / sd;
  }

  /**
   * The statistics of both inputs' values together, as if pushed into one accumulator (Chan et
   * al.'s pairwise update). Neither input changes. Useful to combine per-partition statistics.
   */
  merge(other: RunningStats): RunningStats {
    if (this.n === 0) return RunningStats.fromJSON(other.toJSON());
    if (other.n === 0) return RunningStats.fromJSON(this.toJSON());
    const out = new RunningStats();
    const n = this.n + other.n;
    // The other side's mean re-expressed against this side's shift, minus this side's mean.
    const delta = other.k - this.k + other.mu - this.mu;
    out.n = n;
    out.k = this.k;
    // Weighted by the other side's share so the result moves only as far as that side pulls it.
    out.mu = this.mu + (delta * other.n) / n;
    out.m2 = this.m2 + other.m2 + ((delta * delta * this.n) / n) * other.n;
    out.lo = Math.min(this.lo, other.lo);
    out.hi = Math.max(this.hi, other.hi);
    return out;
  }

  /** A JSON-safe snapshot; {@link RunningStats.fromJSON} continues from it exactly. */
  toJSON(): RunningStatsState {
    return {
      count: this.n,
      shift: this.k,
      shiftedMean: this.mu,
      m2: this.m2,
      min: this.lo,
      max: this.hi,
    };
  }

  /** Rebuilds an accumulator from {@link RunningStats.toJSON}; rejects impossible states. */
  static fromJSON(state: RunningStatsState): RunningStats {
    const { count, shift, shiftedMean, m2, min, max } = state;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`RunningStats state: bad count ${count}`);
    }
    for (const v of [shift, shiftedMean, m2, min, max]) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError('RunningStats state: non-finite field');
      }
    }
    if (m2 < 0 || min > max) throw new RangeError('RunningStats state: m2 < 0 or min > max');
    const out = new RunningStats();
    out.n = count;
    out.k = shift;
    out.mu = shiftedMean;
    out.m2 = m2;
    out.lo = min;
    out.hi = max;
    return out;
  }
}
