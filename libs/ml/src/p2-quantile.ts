/**
 * Streaming quantiles in O(1) memory with the P² algorithm (Jain & Chlamtac, "The P² algorithm
 * for dynamic calculation of quantiles and histograms without storing observations", CACM 28(10),
 * 1985).
 *
 * Five markers hold the minimum, the p/2, p and (1+p)/2 quantiles and the maximum. Each new value
 * shifts the markers' positions; a marker that drifts a whole position from where it should be
 * moves one step, its height adjusted by a piecewise-parabolic (P²) fit through its neighbours,
 * or linearly when the parabola would break monotonicity.
 *
 * Memory: 5 heights and 5 positions per quantile, whatever the stream length. Cost: O(1) per
 * value (a few comparisons, at most three parabolic steps).
 *
 * ## Documented error
 *
 * Measured against the exact linear quantile of the same values (p2-quantile.spec.ts asserts the
 * bounds of {@link P2_ERROR_BOUNDS}, for Q1, median and Q3, over 10 seeds per case; the observed
 * worsts below are from 30 seeds). Two measures:
 * - rank error, `quantileRankError` (robust.ts): how far the estimate's level in the data is
 *   from p. It needs no scale, so it is the bound to use for an arbitrary field;
 * - |estimate − exact| / IQR: the value error in units of the data's spread.
 *
 * | values  | rank error, all 8 distributions | / IQR: uniform, normal, lognormal, exponential | / IQR: bimodal, 4σ apart |
 * | ------- | ------------------------------- | ---------------------------------------------- | ------------------------ |
 * | ≥ 10 k  | ≤ 0.05 (worst seen 0.039)       | ≤ 2 % (worst seen 1.3 %)                       | ≤ 5 % (3.8 %)            |
 * | ≥ 50 k  | ≤ 0.015 (worst seen 0.009)      | ≤ 0.5 % (worst seen 0.38 %)                    | ≤ 3 % (2.5 %)            |
 *
 * The eight distributions: uniform, normal, lognormal, exponential, Pareto (α 1.5), an even
 * mixture of unit normals 4σ apart, the same 6σ apart, and 0.3·N(−5, 1) + 0.7·N(5, 2). Typical
 * rank errors are far below the bounds (≤ 0.004 on the unimodal ones at 10 k). The worst
 * rank errors come from quantiles at the edge of a gap between modes (0.039 at 10 k for the
 * last mixture's Q1). In value terms a median in a nearly empty trough is ill-conditioned:
 * modes 6σ apart gave up to 25 % of the IQR at 10 k (16 % at 100 k) while the rank error stayed
 * ≤ 0.012; heavy tails (Pareto) gave up to 4.6 % of the IQR for Q3 at 50 k.
 *
 * The bounds assume the values arrive in no particular order. P² moves each marker at most one
 * rank per value and fits parabolas through stale neighbours, so sorted or trending input
 * breaks them: on sorted input the median's rank error reached 0.16 and Q1's 0.23; adding 2 to
 * the second half of a stream gave median rank errors of 0.03 (standard normal) to 0.10
 * (lognormal). A field that drifts should be estimated per window (a fresh estimator per
 * window) rather than over its whole history.
 */
import { quantileSorted } from './robust';

/** One row of the documented error table (see the module comment). */
export interface P2ErrorBound {
  /** The row applies from this many values on. */
  readonly minCount: number;
  /** Largest rank error (`quantileRankError` in robust.ts) on any measured distribution. */
  readonly rank: number;
  /** Largest |estimate − exact| / IQR on uniform, normal, lognormal and exponential data. */
  readonly iqrUnimodal: number;
  /** Largest |estimate − exact| / IQR on an even mixture of unit normals 4σ apart. */
  readonly iqrBimodal: number;
}

/**
 * The documented error of {@link P2Quantile} for p ∈ {0.25, 0.5, 0.75} on randomly ordered
 * streams, ascending by `minCount`; asserted by p2-quantile.spec.ts.
 */
export const P2_ERROR_BOUNDS: readonly P2ErrorBound[] = [
  { minCount: 10_000, rank: 0.05, iqrUnimodal: 0.02, iqrBimodal: 0.05 },
  { minCount: 50_000, rank: 0.015, iqrUnimodal: 0.005, iqrBimodal: 0.03 },
];

/** The tightest documented bound that applies after `count` values; none below 10,000. */
export function p2ErrorBound(count: number): P2ErrorBound | undefined {
  let found: P2ErrorBound | undefined;
  for (const row of P2_ERROR_BOUNDS) if (count >= row.minCount) found = row;
  return found;
}

/** A snapshot of {@link P2Quantile}; plain JSON. */
export interface P2QuantileState {
  /** The quantile tracked, in (0, 1). */
  readonly p: number;
  /** Number of values seen. */
  readonly count: number;
  /**
   * Marker heights, ascending. While count < 5 these are the values seen so far, sorted (fewer
   * than five entries).
   */
  readonly heights: readonly number[];
  /** Marker positions (0-based ranks), integers; empty while count < 5. */
  readonly positions: readonly number[];
}

/**
 * One streaming quantile estimate. Exact (numpy 'linear') while at most five values have been
 * seen, an estimate afterwards.
 */
export class P2Quantile {
  /** The quantile tracked. */
  readonly p: number;
  private n = 0;
  private readonly q = new Float64Array(5);
  // Positions are integer ranks (0-based) of the markers among the values seen.
  private readonly pos = new Float64Array(5);
  // Marker i should sit at rank (n − 1)·frac[i]. The paper adds increments of frac[i] per value;
  // computing the product from n instead gives the same numbers without accumulated rounding and
  // keeps them out of the snapshot. (For p that are not k/2^m, a position that is mathematically
  // an integer can round to either side of it, so a marker may move one value earlier or later
  // than in the paper's running sums; both are valid P² steps.)
  private readonly frac: Float64Array;

  /** @param p the quantile, strictly between 0 and 1; 0.5 (the median) by default. */
  constructor(p = 0.5) {
    if (!(p > 0 && p < 1)) throw new RangeError(`P2Quantile: p must be in (0, 1), got ${p}`);
    this.p = p;
    this.frac = Float64Array.of(0, p / 2, p, (1 + p) / 2, 1);
  }

  /** Number of values seen. */
  get count(): number {
    return this.n;
  }

  /** Adds one value; non-finite values throw (they would corrupt every marker). */
  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`P2Quantile.push: not a finite number: ${x}`);
    const q = this.q;
    if (this.n < 5) {
      // Insertion into the sorted buffer of the first five values.
      let i = this.n;
      while (i > 0 && q[i - 1] > x) {
        q[i] = q[i - 1];
        i -= 1;
      }
      q[i] = x;
      this.n += 1;
      if (this.n === 5) for (let j = 0; j < 5; j += 1) this.pos[j] = j;
      return;
    }

    // Find the cell k with q[k] ≤ x < q[k+1], stretching the extremes when x is outside them.
    let k: number;
    if (x < q[0]) {
      q[0] = x;
      k = 0;
    } else if (x < q[1]) k = 0;
    else if (x < q[2]) k = 1;
    else if (x < q[3]) k = 2;
    else if (x <= q[4]) k = 3;
    else {
      q[4] = x;
      k = 3;
    }
    const pos = this.pos;
    for (let i = k + 1; i < 5; i += 1) pos[i] += 1;
    this.n += 1;

    const last = this.n - 1;
    for (let i = 1; i <= 3; i += 1) {
      const d = last * this.frac[i] - pos[i];
      const pi = pos[i];
      if ((d >= 1 && pos[i + 1] - pi > 1) || (d <= -1 && pos[i - 1] - pi < -1)) {
        const s = d > 0 ? 1 : -1;
        const candidate = this.parabolic(i, s);
        if (q[i - 1] < candidate && candidate < q[i + 1]) q[i] = candidate;
        else q[i] = this.linear(i, s);
        pos[i] = pi + s;
      }
    }
  }

  /** Adds every value of an iterable, in order. */
  pushAll(values: Iterable<number>): void {
    for (const x of values) this.push(x);
  }

  /** The current estimate; NaN before any value. */
  get value(): number {
    if (this.n === 0) return NaN;
    if (this.n <= 5) return quantileSorted(this.q.subarray(0, this.n), this.p);
    return this.q[2];
  }

  /** The smallest value seen; NaN before any value. */
  get min(): number {
    return this.n === 0 ? NaN : this.q[0];
  }

  /** The largest value seen; NaN before any value. */
  get max(): number {
    return this.n === 0 ? NaN : this.q[Math.min(this.n, 5) - 1];
  }

  /** A JSON-safe snapshot; {@link P2Quantile.fromJSON} continues from it exactly. */
  toJSON(): P2QuantileState {
    const m = Math.min(this.n, 5);
    return {
      p: this.p,
      count: this.n,
      heights: Array.from(this.q.subarray(0, m)),
      positions: this.n >= 5 ? Array.from(this.pos) : [],
    };
  }

  /** Rebuilds an estimator from {@link P2Quantile.toJSON}; rejects impossible states. */
  static fromJSON(state: P2QuantileState): P2Quantile {
    const out = new P2Quantile(state.p);
    const { count, heights, positions } = state;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`P2Quantile state: bad count ${count}`);
    }
    const m = Math.min(count, 5);
    if (heights.length !== m) throw new RangeError('P2Quantile state: wrong number of heights');
    for (let i = 0; i < m; i += 1) {
      const h = heights[i];
      if (!Number.isFinite(h) || (i > 0 && h < heights[i - 1])) {
        throw new RangeError('P2Quantile state: heights must be finite and ascending');
      }
      out.q[i] = h;
    }
    if (count >= 5) {
      if (positions.length !== 5) throw new RangeError('P2Quantile state: need 5 positions');
      for (let i = 0; i < 5; i += 1) {
        const r = positions[i];
        if (!Number.isSafeInteger(r) || (i > 0 && r <= positions[i - 1])) {
          throw new RangeError('P2Quantile state: positions must be strictly ascending integers');
        }
        out.pos[i] = r;
      }
      if (positions[0] !== 0 || positions[4] !== count - 1) {
        throw new RangeError('P2Quantile state: end markers must sit at ranks 0 and count − 1');
      }
    } else if (positions.length !== 0) {
      throw new RangeError('P2Quantile state: positions before the fifth value');
    }
    out.n = count;
    return out;
  }

  // The P² formula: the parabola through markers i−1, i, i+1 (heights against positions),
  // evaluated one position to the side s.
  private parabolic(i: number, s: number): number {
    const q = this.q;
    const n = this.pos;
    const qi = q[i];
    const ni = n[i];
    const nPrev = n[i - 1];
    const nNext = n[i + 1];
    return (
      qi +
      (s / (nNext - nPrev)) *
        ((ni - nPrev + s) * ((q[i + 1] - qi) / (nNext - ni)) +
          (nNext - ni - s) * ((qi - q[i - 1]) / (ni - nPrev)))
    );
  }

  private linear(i: number, s: number): number {
    const qi = this.q[i];
    return qi + (s * (this.q[i + s] - qi)) / (this.pos[i + s] - this.pos[i]);
  }
}

/** A snapshot of {@link StreamingQuartiles}. */
export interface StreamingQuartilesState {
  readonly q1: P2QuantileState;
  readonly median: P2QuantileState;
  readonly q3: P2QuantileState;
}

/**
 * First quartile, median and third quartile of a stream: three independent P² estimators
 * (15 markers), so the robust scaling of a field (median, IQR) costs constant memory.
 */
export class StreamingQuartiles {
  private e1 = new P2Quantile(0.25);
  private e2 = new P2Quantile(0.5);
  private e3 = new P2Quantile(0.75);

  /** Adds one finite value. */
  push(x: number): void {
    this.e1.push(x);
    this.e2.push(x);
    this.e3.push(x);
  }

  /** Adds every value of an iterable, in order. */
  pushAll(values: Iterable<number>): void {
    for (const x of values) this.push(x);
  }

  /** Number of values seen. */
  get count(): number {
    return this.e2.count;
  }

  /**
   * [Q1, median, Q3]. The three estimators are independent, so on rare inputs their estimates
   * could cross; they are returned sorted, since the true quartiles never cross and a negative
   * IQR would break a scaler dividing by it.
   */
  get quartiles(): [number, number, number] {
    const v = [this.e1.value, this.e2.value, this.e3.value].sort((a, b) => a - b);
    return [v[0], v[1], v[2]];
  }

  /** First quartile (p = 0.25); NaN before any value. */
  get q1(): number {
    return this.quartiles[0];
  }

  /** Median; NaN before any value. */
  get median(): number {
    return this.quartiles[1];
  }

  /** Third quartile (p = 0.75); NaN before any value. */
  get q3(): number {
    return this.quartiles[2];
  }

  /** Interquartile range Q3 − Q1, never negative; NaN before any value. */
  get iqr(): number {
    const [a, , c] = this.quartiles;
    return c - a;
  }

  /** A JSON-safe snapshot. */
  toJSON(): StreamingQuartilesState {
    return { q1: this.e1.toJSON(), median: this.e2.toJSON(), q3: this.e3.toJSON() };
  }

  /** Rebuilds from {@link StreamingQuartiles.toJSON}. */
  static fromJSON(state: StreamingQuartilesState): StreamingQuartiles {
    const e1 = P2Quantile.fromJSON(state.q1);
    const e2 = P2Quantile.fromJSON(state.median);
    const e3 = P2Quantile.fromJSON(state.q3);
    if (e1.p !== 0.25 || e2.p !== 0.5 || e3.p !== 0.75) {
      throw new RangeError('StreamingQuartiles state: estimators must track 0.25, 0.5, 0.75');
    }
    if (e1.count !== e2.count || e2.count !== e3.count) {
      throw new RangeError('StreamingQuartiles state: estimators saw different counts');
    }
    const out = new StreamingQuartiles();
    out.e1 = e1;
    out.e2 = e2;
    out.e3 = e3;
    return out;
  }
}
