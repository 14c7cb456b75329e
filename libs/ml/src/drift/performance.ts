/** A model metric of a recent window against the one the version was registered with. */

export interface PerformanceDropOptions {
  /** Alert at a relative drop of at least this many percent. Default 3. */
  readonly maxDropPct?: number;
  /** false for errors (RMSE, log loss): then a rise is the drop. Default true. */
  readonly higherIsBetter?: boolean;
}

export interface PerformanceDrop {
  /** 100 · (reference − current) / |reference| (the sign flipped when lower is better). */
  readonly dropPct: number;
  readonly alert: boolean;
}

// A drop of exactly maxDropPct must alert although 0.1 → 0.103 computes as 2.999999999999989 %:
// equality is judged to this relative tolerance, far below any metric's precision.
const TIE = 1e-9;

/**
 * Relative degradation of a metric in percent, and whether it reaches `maxDropPct`:
 * 0.90 → 0.87 is a 3.33 % drop (alert at 3 %); an RMSE going from 1.00 to 1.03 with
 * `higherIsBetter: false` is a 3 % drop. An improvement gives a negative dropPct. Throws on a
 * non-finite metric or a reference of 0 (no relative change exists).
 */
export function performanceDrop(
  referenceMetric: number,
  current: number,
  options: PerformanceDropOptions = {},
): PerformanceDrop {
  const { maxDropPct = 3, higherIsBetter = true } = options;
  if (!Number.isFinite(referenceMetric) || referenceMetric === 0) {
    throw new RangeError(
      `performanceDrop: reference metric ${referenceMetric} has no relative change`,
    );
  }
  if (!Number.isFinite(current)) throw new RangeError(`performanceDrop: current metric ${current}`);
  if (!(maxDropPct >= 0)) throw new RangeError(`performanceDrop: bad maxDropPct ${maxDropPct}`);
  const change = ((current - referenceMetric) / Math.abs(referenceMetric)) * 100;
  const dropPct = higherIsBetter ? -change : change;
  return { dropPct, alert: dropPct >= maxDropPct * (1 - TIE) };
}
