/**
 * Early stopping on a validation metric, with the semantics of Keras's `EarlyStopping`
 * callback (`keras.callbacks.EarlyStopping(monitor, mode, patience, min_delta)`).
 */

export interface EarlyStoppingOptions {
  /** 'min' for a loss, 'max' for a score such as AUC. */
  readonly mode: 'min' | 'max';
  /** Epochs without improvement tolerated before stopping: an integer ≥ 0, or Infinity (never). */
  readonly patience: number;
  /** The least change that counts as an improvement, ≥ 0 (Keras takes its absolute value). */
  readonly minDelta: number;
}

export interface EarlyStoppingUpdate {
  /** The value beat the best so far by more than minDelta; it is now the best. */
  readonly improved: boolean;
  /** Stop training: `patience` epochs in a row without improvement. */
  readonly stop: boolean;
}

/**
 * Tracks the best value of a monitored metric and says when to stop, as Keras does after each
 * epoch:
 *
 * - improvement: `value − minDelta > best` in 'max' mode, `value + minDelta < best` in 'min'
 *   mode (Keras's `monitor_op(current − min_delta, best)` with min_delta negated for 'min'); the
 *   first finite value always improves on the initial ±∞;
 * - every epoch increments the wait counter, and an improvement resets it to 0 (and never
 *   stops);
 * - otherwise training stops once wait ≥ patience, i.e. after `patience` consecutive epochs
 *   without improvement (patience 0 stops at the first one).
 *
 * A NaN value is never an improvement (every comparison with NaN is false), so a diverged
 * run counts down to a stop like a stalled one. Differences from Keras: no `baseline`,
 * `start_from_epoch` or weight restoring (the trainer keeps the best weights itself via
 * {@link EarlyStopping.bestEpoch}), and no `epoch > 0` guard on stopping, since callers may
 * number epochs from 1.
 */
export class EarlyStopping {
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  private best: number;
  private bestAt = -1;
  private waited = 0;

  constructor({ mode, patience, minDelta }: EarlyStoppingOptions) {
    if (mode !== 'min' && mode !== 'max') {
      throw new RangeError(`EarlyStopping: mode must be 'min' or 'max', got ${String(mode)}`);
    }
    if (!(Number.isInteger(patience) && patience >= 0) && patience !== Infinity) {
      throw new RangeError(
        `EarlyStopping: patience must be an integer ≥ 0 or Infinity, got ${patience}`,
      );
    }
    if (!(minDelta >= 0) || !Number.isFinite(minDelta)) {
      throw new RangeError(`EarlyStopping: minDelta must be finite and ≥ 0, got ${minDelta}`);
    }
    this.mode = mode;
    this.patience = patience;
    this.minDelta = minDelta;
    this.best = mode === 'min' ? Infinity : -Infinity;
  }

  /** The epoch of the best value so far; −1 before the first improvement. */
  get bestEpoch(): number {
    return this.bestAt;
  }

  /**
   * The best value so far; before the first improvement Keras's initial best, +Infinity in
   * 'min' mode and −Infinity in 'max' mode.
   */
  get bestValue(): number {
    return this.best;
  }

  /** Epochs since the last improvement. */
  get wait(): number {
    return this.waited;
  }

  /** Records the metric of `epoch` and says whether it improved and whether to stop. */
  update(epoch: number, value: number): EarlyStoppingUpdate {
    this.waited += 1;
    const improved =
      this.mode === 'min' ? value + this.minDelta < this.best : value - this.minDelta > this.best;
    if (improved) {
      this.best = value;
      this.bestAt = epoch;
      this.waited = 0;
      return { improved: true, stop: false };
    }
    return { improved: false, stop: this.waited >= this.patience };
  }
}
