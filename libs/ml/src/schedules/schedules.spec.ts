import { describe, expect, it } from 'vitest';
import { fixture } from '../metrics/fixture';
import {
  constant,
  cosineWarmRestarts,
  linearWarmup,
  perEpoch,
  perStepOfEpochs,
  sequential,
  stepDecay,
} from './schedules';
import { buildSchedule, type ScheduleSpec } from './spec';

// References: PyTorch's formulas transcribed in fixtures/make_metrics_fixtures.py. Agreement
// within 1e-12 of the peak rate: |ours − theirs| ≤ 1e-12 · lr.
const TOL = 1e-12;
const {
  cosineWarmRestarts: cosineCases,
  stepDecay: stepCases,
  warmupThenCosine,
} = fixture.schedules;

describe('cosineWarmRestarts against PyTorch', () => {
  for (const c of cosineCases) {
    const name = `T_0 ${c.t0}, T_mult ${c.tMult}, eta_min ${c.etaMin}`;
    const schedule = cosineWarmRestarts(c);

    it(`${name}: step(epoch) at whole epochs, except where its logarithm rounds down`, () => {
      c.closedForm.forEach((expected, epoch) => {
        if (c.logRoundsDown.includes(epoch)) return;
        expect(Math.abs(schedule(epoch) - expected)).toBeLessThanOrEqual(TOL * c.lr);
      });
    });

    it(`${name}: plain step() at every whole epoch, restarts included`, () => {
      c.stepped.forEach((expected, epoch) => {
        expect(Math.abs(schedule(epoch) - expected)).toBeLessThanOrEqual(TOL * c.lr);
      });
      for (const epoch of c.logRoundsDown) {
        // PyTorch's step(epoch) stays in the old cycle (T_cur = T_i: eta_min); a restart it is.
        expect(c.closedForm[epoch]).toBeCloseTo(c.etaMin, 15);
        expect(schedule(epoch)).toBeCloseTo(c.lr, 15);
      }
    });

    it(`${name}: fractional epochs epoch + i / ${c.itersPerEpoch}, per optimizer step`, () => {
      const perStep = perStepOfEpochs(schedule, c.itersPerEpoch);
      c.fractional.forEach(([t, expected], step) => {
        expect(Math.abs(schedule(t) - expected)).toBeLessThanOrEqual(TOL * c.lr);
        expect(perStep(step)).toBe(schedule(t));
      });
    });
  }

  it('covers restarts where PyTorch rounds down', () => {
    expect(cosineCases.flatMap((c) => c.logRoundsDown)).toEqual([121, 111]);
  });

  it('anneals from lr to etaMin and restarts', () => {
    const s = cosineWarmRestarts({ lr: 0.1, t0: 10, etaMin: 0.02 });
    expect(s(0)).toBe(0.1);
    expect(s(5)).toBeCloseTo(0.06, 15);
    expect(s(9.999999)).toBeCloseTo(0.02, 10);
    expect(s(10)).toBe(0.1);
    const doubling = cosineWarmRestarts({ lr: 1, t0: 2, tMult: 2 });
    // Cycles [0, 2), [2, 6), [6, 14): mid-points at 1, 4 and 10.
    expect([doubling(1), doubling(4), doubling(10)].map((v) => v.toFixed(12))).toEqual([
      '0.500000000000',
      '0.500000000000',
      '0.500000000000',
    ]);
    expect([doubling(2), doubling(6), doubling(14)]).toEqual([1, 1, 1]);
  });
});

describe('stepDecay against PyTorch StepLR', () => {
  for (const c of stepCases) {
    it(`lr ${c.lr}, step size ${c.stepSize}, gamma ${c.gamma}`, () => {
      const s = stepDecay(c);
      c.values.forEach((expected, epoch) => {
        expect(Math.abs(s(epoch) - expected)).toBeLessThanOrEqual(TOL * c.lr);
      });
    });
  }
});

describe('linear warm-up, then cosine (LinearLR + SequentialLR)', () => {
  for (const c of warmupThenCosine) {
    it(`${c.steps} steps from ${c.startFactor.toFixed(3)} of the rate`, () => {
      const s = linearWarmup(c, cosineWarmRestarts(c.then));
      c.values.forEach((expected, t) => {
        expect(Math.abs(s(t) - expected)).toBeLessThanOrEqual(TOL * c.then.lr);
      });
    });
  }

  it('hands over at the rate the next schedule starts at', () => {
    const s = linearWarmup({ steps: 4 }, stepDecay({ lr: 0.2, stepSize: 10, gamma: 0.5 }));
    const expected = [0, 0.05, 0.1, 0.15, 0.2, 0.2, 0.1];
    [0, 1, 2, 3, 4, 13, 14].forEach((t, i) => expect(s(t)).toBeCloseTo(expected[i], 15));
  });
});

describe('composition', () => {
  it('sequential restarts each schedule at its milestone', () => {
    const s = sequential(
      [constant(1), stepDecay({ lr: 0.5, stepSize: 2 }), constant(0.01)],
      [3, 7],
    );
    expect([0, 2, 3, 4, 5, 6, 7, 100].map(s)).toEqual([1, 1, 0.5, 0.5, 0.05, 0.05, 0.01, 0.01]);
  });

  it('perEpoch holds an epoch schedule for a whole epoch of steps', () => {
    const s = perEpoch(stepDecay({ lr: 1, stepSize: 1, gamma: 0.5 }), 3);
    expect([0, 1, 2, 3, 5, 6].map(s)).toEqual([1, 1, 1, 0.5, 0.5, 0.25]);
  });

  it('builds the same functions from a JSON spec', () => {
    const spec: ScheduleSpec = {
      type: 'linearWarmup',
      steps: 50,
      startFactor: 0.1,
      then: {
        type: 'perStep',
        stepsPerEpoch: 20,
        schedule: { type: 'cosineWarmRestarts', lr: 3e-4, t0: 3, tMult: 2, etaMin: 1e-6 },
      },
    };
    const built = buildSchedule(JSON.parse(JSON.stringify(spec)) as ScheduleSpec);
    const byHand = linearWarmup(
      { steps: 50, startFactor: 0.1 },
      perStepOfEpochs(cosineWarmRestarts({ lr: 3e-4, t0: 3, tMult: 2, etaMin: 1e-6 }), 20),
    );
    for (let step = 0; step < 500; step += 1) expect(built(step)).toBe(byHand(step));
    const seq = buildSchedule({
      type: 'sequential',
      schedules: [
        { type: 'constant', lr: 0.1 },
        {
          type: 'perEpoch',
          stepsPerEpoch: 10,
          schedule: { type: 'stepDecay', lr: 0.1, stepSize: 2 },
        },
      ],
      milestones: [5],
    });
    expect([0, 4, 5, 24, 25].map(seq)).toEqual([0.1, 0.1, 0.1, 0.1, 0.1 * 0.1]);
  });

  it('throws on bad parameters and times', () => {
    expect(() => cosineWarmRestarts({ lr: 0.1, t0: 2.5 })).toThrow(/t0 must be a positive integer/);
    expect(() => cosineWarmRestarts({ lr: 0.1, t0: 2, tMult: 1.5 })).toThrow(/tMult/);
    expect(() => cosineWarmRestarts({ lr: 0.1, t0: 2 })(-1)).toThrow(/time must be ≥ 0/);
    expect(() => stepDecay({ lr: 0.1, stepSize: 0 })).toThrow(/stepSize/);
    expect(() => sequential([constant(1), constant(2)], [])).toThrow(/need 1 milestones/);
    expect(() => sequential([constant(1), constant(2), constant(3)], [4, 2])).toThrow(/increase/);
    expect(() => perStepOfEpochs(constant(1), 10)(1.5)).toThrow(/integer/);
    expect(() => buildSchedule({ type: 'cyclic' } as unknown as ScheduleSpec)).toThrow(
      /unknown type "cyclic"/,
    );
  });
});
