/**
 * Schedules as JSON, for training configurations: `buildSchedule(spec)` turns a `ScheduleSpec`
 * into the function the combinators in schedules.ts would build by hand.
 */

import {
  constant,
  cosineWarmRestarts,
  type CosineWarmRestartsOptions,
  linearWarmup,
  perEpoch,
  perStepOfEpochs,
  type Schedule,
  sequential,
  stepDecay,
  type StepDecayOptions,
} from './schedules';

/** A schedule described as plain JSON; see the function of the same name for each type. */
export type ScheduleSpec =
  | { readonly type: 'constant'; readonly lr: number }
  | ({ readonly type: 'cosineWarmRestarts' } & CosineWarmRestartsOptions)
  | ({ readonly type: 'stepDecay' } & StepDecayOptions)
  | {
      readonly type: 'linearWarmup';
      readonly steps: number;
      readonly startFactor?: number;
      readonly then: ScheduleSpec;
    }
  | {
      readonly type: 'sequential';
      readonly schedules: readonly ScheduleSpec[];
      readonly milestones: readonly number[];
    }
  /** Epoch schedule `schedule` driven by steps: fractional epochs (`perStepOfEpochs`). */
  | { readonly type: 'perStep'; readonly stepsPerEpoch: number; readonly schedule: ScheduleSpec }
  /** Epoch schedule `schedule` driven by steps: whole epochs (`perEpoch`). */
  | { readonly type: 'perEpoch'; readonly stepsPerEpoch: number; readonly schedule: ScheduleSpec };

export function buildSchedule(spec: ScheduleSpec): Schedule {
  switch (spec.type) {
    case 'constant':
      return constant(spec.lr);
    case 'cosineWarmRestarts':
      return cosineWarmRestarts(spec);
    case 'stepDecay':
      return stepDecay(spec);
    case 'linearWarmup':
      return linearWarmup(spec, buildSchedule(spec.then));
    case 'sequential':
      return sequential(spec.schedules.map(buildSchedule), spec.milestones);
    case 'perStep':
      return perStepOfEpochs(buildSchedule(spec.schedule), spec.stepsPerEpoch);
    case 'perEpoch':
      return perEpoch(buildSchedule(spec.schedule), spec.stepsPerEpoch);
  }
  // Specs come from configuration, so the type is checked at runtime too.
  throw new Error(
    `buildSchedule: unknown type ${JSON.stringify((spec as { type?: unknown }).type)}`,
  );
}
