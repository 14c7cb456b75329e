/**
 * Learning-rate schedules as pure functions of time: a `Schedule` maps t ≥ 0 (a step, or an
 * epoch that may be fractional) to a learning rate, with no state, so a trainer can resume at
 * any step and two runs agree exactly. The formulas are PyTorch's (torch/optim/lr_scheduler.py),
 * written in its operation order; combinators glue schedules together.
 */

/** A learning rate as a function of t ≥ 0: a step, or an epoch (fractional when per batch). */
export type Schedule = (t: number) => number;

export interface CosineWarmRestartsOptions {
  /** η_max, the rate at the start of every cycle (PyTorch: the optimizer's initial lr). */
  readonly lr: number;
  /** T_0, epochs in the first cycle: a positive integer. */
  readonly t0: number;
  /** T_mult, the growth of each next cycle: an integer ≥ 1. Default 1. */
  readonly tMult?: number;
  /** η_min, the floor. Default 0. */
  readonly etaMin?: number;
}

/**
 * SGDR, as PyTorch's `CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`:
 * η = η_min + (η_max − η_min)(1 + cos(π T_cur / T_i)) / 2, where cycle i lasts
 * T_i = T_0 · T_multⁱ epochs and T_cur is the time since its start. Takes the epoch, fractional
 * as in PyTorch's per-batch `scheduler.step(epoch + i / iters)`: this is the closed form of
 * `step(epoch)`, T_cur = epoch mod T_0 when T_mult = 1, and otherwise
 * n = ⌊log_{T_mult}(epoch / T_0 · (T_mult − 1) + 1)⌋, T_cur = epoch − T_0 (T_multⁿ − 1) / (T_mult − 1).
 *
 * One difference: PyTorch takes n from a float logarithm, which at some exact restart epochs
 * rounds down (T_mult = 3 at epoch 121·T_0, T_mult = 10 at 111·T_0, …), giving T_cur = T_i, so
 * η_min where the restart's η_max belongs. n is corrected here with integer cycle bounds, which
 * is what PyTorch's own plain `step()` (no epoch argument) computes there. Everywhere else the
 * arithmetic is PyTorch's, operation for operation.
 */
export function cosineWarmRestarts({
  lr,
  t0,
  tMult = 1,
  etaMin = 0,
}: CosineWarmRestartsOptions): Schedule {
  checkRate('cosineWarmRestarts', 'lr', lr);
  checkRate('cosineWarmRestarts', 'etaMin', etaMin);
  if (!Number.isInteger(t0) || t0 <= 0) {
    throw new RangeError(`cosineWarmRestarts: t0 must be a positive integer, got ${t0}`);
  }
  if (!Number.isInteger(tMult) || tMult < 1) {
    throw new RangeError(`cosineWarmRestarts: tMult must be an integer ≥ 1, got ${tMult}`);
  }
  // First epoch of cycle n: T_0 (T_multⁿ − 1) / (T_mult − 1), exact in doubles below 2⁵³.
  const cycleStart = (n: number): number => (t0 * (tMult ** n - 1)) / (tMult - 1);
  return (epoch) => {
    checkTime('cosineWarmRestarts', epoch);
    let tCur = epoch;
    let tI = t0;
    if (epoch >= t0) {
      if (tMult === 1) {
        tCur = epoch % t0;
      } else {
        let n = Math.trunc(Math.log((epoch / t0) * (tMult - 1) + 1) / Math.log(tMult));
        while (cycleStart(n + 1) <= epoch) n += 1;
        while (n > 0 && cycleStart(n) > epoch) n -= 1;
        tCur = epoch - cycleStart(n);
        tI = t0 * tMult ** n;
      }
    }
    return etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  };
}

export interface StepDecayOptions {
  /** The rate of the first `stepSize` units. */
  readonly lr: number;
  /** Units (epochs or steps) between two decays: a positive integer. */
  readonly stepSize: number;
  /** Factor of each decay. Default 0.1 (PyTorch's). */
  readonly gamma?: number;
}

/** PyTorch's `StepLR` closed form: lr · γ^⌊t / stepSize⌋. */
export function stepDecay({ lr, stepSize, gamma = 0.1 }: StepDecayOptions): Schedule {
  checkRate('stepDecay', 'lr', lr);
  if (!Number.isInteger(stepSize) || stepSize <= 0) {
    throw new RangeError(`stepDecay: stepSize must be a positive integer, got ${stepSize}`);
  }
  if (!(gamma > 0 && Number.isFinite(gamma))) {
    throw new RangeError(`stepDecay: gamma must be positive, got ${gamma}`);
  }
  return (t) => {
    checkTime('stepDecay', t);
    return lr * gamma ** Math.floor(t / stepSize);
  };
}

export function constant(lr: number): Schedule {
  checkRate('constant', 'lr', lr);
  return (t) => {
    checkTime('constant', t);
    return lr;
  };
}

/**
 * `schedules[0]` until `milestones[0]`, then `schedules[1]` restarted from 0, and so on: PyTorch's
 * `SequentialLR`, where each next scheduler begins with `step(0)` at its milestone. Milestones
 * are increasing and positive, one fewer than the schedules.
 */
export function sequential(
  schedules: readonly Schedule[],
  milestones: readonly number[],
): Schedule {
  if (schedules.length === 0 || milestones.length !== schedules.length - 1) {
    throw new RangeError(
      `sequential: ${schedules.length} schedules need ${Math.max(0, schedules.length - 1)} milestones, got ${milestones.length}`,
    );
  }
  milestones.forEach((m, i) => {
    if (!(m > (i === 0 ? 0 : milestones[i - 1])) || !Number.isFinite(m)) {
      throw new RangeError(
        `sequential: milestones must increase from above 0, got [${milestones.join(', ')}]`,
      );
    }
  });
  return (t) => {
    checkTime('sequential', t);
    let i = 0;
    while (i < milestones.length && t >= milestones[i]) i += 1;
    return schedules[i](i === 0 ? t : t - milestones[i - 1]);
  };
}

export interface LinearWarmupOptions {
  /** Length of the warm-up, in the schedule's units. */
  readonly steps: number;
  /** Fraction of the target rate at t = 0. Default 0 (PyTorch's `LinearLR` uses 1/3). */
  readonly startFactor?: number;
}

/**
 * A linear ramp from `startFactor` · target to the target over `steps`, then `then` restarted
 * from 0 (so `then(t − steps)`), where the target is `then(0)`, the rate the next schedule
 * starts at. The ramp is PyTorch's `LinearLR` closed form with `end_factor` 1:
 * target · (start + (1 − start) · t / steps); with `SequentialLR` it hands over the same way.
 */
export function linearWarmup(
  { steps, startFactor = 0 }: LinearWarmupOptions,
  then: Schedule,
): Schedule {
  if (!(steps > 0 && Number.isFinite(steps))) {
    throw new RangeError(`linearWarmup: steps must be positive, got ${steps}`);
  }
  if (!(startFactor >= 0 && startFactor <= 1)) {
    throw new RangeError(`linearWarmup: startFactor must be in [0, 1], got ${startFactor}`);
  }
  const target = then(0);
  const ramp: Schedule = (t) => target * (startFactor + ((1 - startFactor) * t) / steps);
  return sequential([ramp, then], [steps]);
}

/**
 * A schedule of (fractional) epochs driven by optimizer steps: step s of an epoch of
 * `stepsPerEpoch` steps is epoch e + i / stepsPerEpoch, with e = ⌊s / stepsPerEpoch⌋ and
 * i = s − e · stepsPerEpoch, computed as PyTorch's documented `scheduler.step(epoch + i / iters)`.
 */
export function perStepOfEpochs(schedule: Schedule, stepsPerEpoch: number): Schedule {
  checkStepsPerEpoch('perStepOfEpochs', stepsPerEpoch);
  return (step) => {
    checkStep('perStepOfEpochs', step);
    const epoch = Math.floor(step / stepsPerEpoch);
    return schedule(epoch + (step - epoch * stepsPerEpoch) / stepsPerEpoch);
  };
}

/** A schedule of whole epochs driven by optimizer steps: constant within each epoch. */
export function perEpoch(schedule: Schedule, stepsPerEpoch: number): Schedule {
  checkStepsPerEpoch('perEpoch', stepsPerEpoch);
  return (step) => {
    checkStep('perEpoch', step);
    return schedule(Math.floor(step / stepsPerEpoch));
  };
}

function checkRate(fn: string, name: string, value: number): void {
  if (!(value >= 0 && Number.isFinite(value))) {
    throw new RangeError(`${fn}: ${name} must be a finite rate ≥ 0, got ${value}`);
  }
}

function checkTime(fn: string, t: number): void {
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`${fn}: time must be ≥ 0, got ${t}`);
}

function checkStep(fn: string, step: number): void {
  if (!Number.isInteger(step) || step < 0) {
    throw new RangeError(`${fn}: step must be an integer ≥ 0, got ${step}`);
  }
}

function checkStepsPerEpoch(fn: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`${fn}: stepsPerEpoch must be a positive integer, got ${n}`);
  }
}
