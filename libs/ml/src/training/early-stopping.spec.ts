import { describe, expect, it } from 'vitest';
import { EarlyStopping } from './early-stopping';

/** Feeds values for epochs 1, 2, … and returns the per-epoch [improved, stop] flags. */
function run(es: EarlyStopping, values: readonly number[]): [boolean, boolean][] {
  return values.map((v, i) => {
    const { improved, stop } = es.update(i + 1, v);
    return [improved, stop];
  });
}

describe('EarlyStopping', () => {
  it("'min' with minDelta: improvements need to beat the best by more than minDelta", () => {
    const es = new EarlyStopping({ mode: 'min', patience: 2, minDelta: 0.01 });
    const flags = run(es, [1.0, 0.95, 0.945, 0.93, 0.925, 0.94]);
    expect(flags).toEqual([
      [true, false], // 1.0 vs +∞
      [true, false], // 0.95 + 0.01 < 1.0
      [false, false], // 0.945 + 0.01 = 0.955 ≥ 0.95: wait 1
      [true, false], // 0.93 + 0.01 = 0.94 < 0.95: wait reset
      [false, false], // 0.925 + 0.01 = 0.935 ≥ 0.93: wait 1
      [false, true], // worse: wait 2 ≥ patience 2
    ]);
    expect(es.bestEpoch).toBe(4);
    expect(es.bestValue).toBe(0.93);
    expect(es.wait).toBe(2);
  });

  it("'max' with minDelta 0: any strict increase improves, a tie does not", () => {
    const es = new EarlyStopping({ mode: 'max', patience: 3, minDelta: 0 });
    const flags = run(es, [0.7, 0.8, 0.8, 0.79, 0.81, 0.5, 0.6, 0.7]);
    expect(flags.map(([imp]) => imp)).toEqual([
      true,
      true,
      false,
      false,
      true,
      false,
      false,
      false,
    ]);
    expect(flags.map(([, stop]) => stop)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(es.bestEpoch).toBe(5);
    expect(es.bestValue).toBe(0.81);
  });

  it('never counts NaN as an improvement, even as the first value', () => {
    const es = new EarlyStopping({ mode: 'min', patience: 2, minDelta: 0 });
    expect(es.update(1, NaN)).toEqual({ improved: false, stop: false });
    expect(es.bestEpoch).toBe(-1);
    expect(es.bestValue).toBe(Infinity);
    expect(es.update(2, 0.5)).toEqual({ improved: true, stop: false });
    expect(es.update(3, NaN)).toEqual({ improved: false, stop: false });
    expect(es.update(4, NaN)).toEqual({ improved: false, stop: true });
    expect(es.bestValue).toBe(0.5);
    expect(es.bestEpoch).toBe(2);

    const max = new EarlyStopping({ mode: 'max', patience: 1, minDelta: 0 });
    max.update(0, 0.9);
    expect(max.update(1, NaN)).toEqual({ improved: false, stop: true });
  });

  it('patience 0 stops at the first epoch without improvement', () => {
    const es = new EarlyStopping({ mode: 'min', patience: 0, minDelta: 0 });
    expect(es.update(0, 1)).toEqual({ improved: true, stop: false });
    expect(es.update(1, 1)).toEqual({ improved: false, stop: true });
  });

  it('patience Infinity never stops', () => {
    const es = new EarlyStopping({ mode: 'max', patience: Infinity, minDelta: 0 });
    expect(es.bestValue).toBe(-Infinity);
    const flags = run(es, [0.5, ...new Array<number>(1000).fill(0.4), NaN]);
    expect(flags.some(([, stop]) => stop)).toBe(false);
    expect(es.wait).toBe(1001);
    expect(es.bestEpoch).toBe(1);
  });

  it('rejects bad options', () => {
    expect(() => new EarlyStopping({ mode: 'min', patience: -1, minDelta: 0 })).toThrow(RangeError);
    expect(() => new EarlyStopping({ mode: 'min', patience: NaN, minDelta: 0 })).toThrow(
      RangeError,
    );
    expect(() => new EarlyStopping({ mode: 'min', patience: 1.5, minDelta: 0 })).toThrow(
      RangeError,
    );
    expect(() => new EarlyStopping({ mode: 'max', patience: 1, minDelta: -0.1 })).toThrow(
      RangeError,
    );
    expect(() => new EarlyStopping({ mode: 'max', patience: 1, minDelta: NaN })).toThrow(
      RangeError,
    );
    expect(() => new EarlyStopping({ mode: 'up' as 'min', patience: 1, minDelta: 0 })).toThrow(
      RangeError,
    );
  });
});
