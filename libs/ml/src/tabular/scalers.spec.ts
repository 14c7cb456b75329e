import { describe, expect, it } from 'vitest';
import reference from '../../fixtures/tabular.json';
import {
  applyClip,
  applyMinMax,
  applyRobust,
  applyStandard,
  fitClip,
  fitMinMax,
  fitRobust,
  fitStandard,
  log1p,
} from './scalers';

// Agreement with scikit-learn: |ours − theirs| ≤ 1e-9 · max(1, |theirs|), i.e. absolute for
// values below 1 (transformed features, which sit around 0) and relative above.
const TOL = 1e-9;
const err = (actual: number, expected: number): number =>
  Math.abs(actual - expected) / Math.max(1, Math.abs(expected));

type Column = readonly (number | null)[];
const columns = reference.columns as Record<string, Column>;

interface ScalerCase {
  column: string;
  kind: 'standard' | 'robust' | 'minmax';
  options: { quantileRange?: number[]; featureRange?: number[] };
  params: Record<string, number | undefined>;
  transform: (number | null)[];
  probes: number[];
}
const cases = reference.scalers as ScalerCase[];

const pair = (xs: number[] | undefined): [number, number] | undefined =>
  xs === undefined ? undefined : [xs[0], xs[1]];

function fitApply(c: ScalerCase): {
  params: Record<string, number>;
  apply: (v: number | null) => number;
} {
  const column = columns[c.column];
  switch (c.kind) {
    case 'standard': {
      const s = fitStandard(column);
      return { params: { ...s }, apply: (v) => applyStandard(v, s) };
    }
    case 'robust': {
      const s = fitRobust(column, { quantileRange: pair(c.options.quantileRange) });
      return { params: { ...s }, apply: (v) => applyRobust(v, s) };
    }
    case 'minmax': {
      const s = fitMinMax(column, { featureRange: pair(c.options.featureRange) });
      return { params: { ...s }, apply: (v) => applyMinMax(v, s) };
    }
  }
}

describe('scalers against scikit-learn', () => {
  for (const c of cases) {
    it(`${c.kind} ${JSON.stringify(c.options)} on ${c.column}: parameters and transform`, () => {
      const { params, apply } = fitApply(c);
      expect(Object.keys(params).sort()).toEqual(Object.keys(c.params).sort());
      for (const [name, expected] of Object.entries(c.params)) {
        expect(err(params[name], expected!)).toBeLessThanOrEqual(TOL);
      }
      const column = columns[c.column];
      column.forEach((v, i) => {
        const expected = c.transform[i];
        if (expected === null) {
          // scikit-learn passes NaN through; we put the fitted center, 0 after scaling.
          expect(v).toBeNull();
          expect(apply(v)).toBe(0);
        } else {
          expect(err(apply(v), expected)).toBeLessThanOrEqual(TOL);
        }
      });
      reference.probes.forEach((v, i) => {
        expect(err(apply(v), c.probes[i])).toBeLessThanOrEqual(TOL);
      });
    });
  }

  it('treats a constant column as scale 1, as scikit-learn does', () => {
    const constant = columns.constant;
    expect(fitStandard(constant).scale).toBe(1);
    expect(fitRobust(constant)).toEqual({ center: 0.1, scale: 1 });
    expect(fitMinMax(constant).scale).toBe(1);
    expect(applyMinMax(0.1, fitMinMax(constant))).toBe(0);
    // Its mean is 0.6999999999999998, so the variance is rounding noise (1e-32), not 0.
    expect(fitStandard([0.7, 0.7, 0.7]).scale).toBe(1);
  });

  it('keeps full precision around 1e6 (compensated mean)', () => {
    const s = fitStandard(columns.offset);
    const c = cases.find((x) => x.column === 'offset' && x.kind === 'standard')!;
    expect(Math.abs(s.mean - c.params.mean!)).toBeLessThan(1e-9);
  });
});

describe('scaler states and missing values', () => {
  it('ignores null and NaN when fitting', () => {
    const withMissing = [1, null, 2, NaN, 3, 4];
    expect(fitStandard(withMissing)).toEqual(fitStandard([1, 2, 3, 4]));
    expect(fitRobust(withMissing)).toEqual({ center: 2.5, scale: 1.5 });
    expect(fitMinMax(withMissing)).toEqual(fitMinMax([1, 2, 3, 4]));
  });

  it('maps a missing value to 0 when applying', () => {
    const s = fitStandard([1, 2, 3]);
    expect(applyStandard(null, s)).toBe(0);
    expect(applyStandard(NaN, s)).toBe(0);
    expect(applyStandard(2, s)).toBe(0);
    expect(applyRobust(null, fitRobust([5, 7, 100]))).toBe(0);
    expect(applyMinMax(null, fitMinMax([5, 7]))).toBe(0);
    // With range [−1, 1], 0 is the middle of the fitted data range.
    expect(applyMinMax(6, fitMinMax([5, 7], { featureRange: [-1, 1] }))).toBe(0);
  });

  it('survives a JSON round trip', () => {
    const column = columns.amounts;
    for (const state of [fitStandard(column), fitRobust(column), fitMinMax(column)]) {
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    }
    const s = JSON.parse(JSON.stringify(fitStandard(column))) as ReturnType<typeof fitStandard>;
    expect(applyStandard(42, s)).toBe(applyStandard(42, fitStandard(column)));
  });

  it('refuses to fit on nothing, on infinities and on bad options', () => {
    expect(() => fitStandard([])).toThrow(RangeError);
    expect(() => fitStandard([null, NaN])).toThrow(/no present values/);
    expect(() => fitMinMax([1, Infinity])).toThrow(/infinite value at index 1/);
    expect(() => fitRobust([1, 2], { quantileRange: [80, 20] })).toThrow(RangeError);
    expect(() => fitMinMax([1, 2], { featureRange: [1, 1] })).toThrow(RangeError);
  });
});

describe('log1p', () => {
  it('matches numpy.log1p above −1', () => {
    const { x, log1p: expected } = reference.log1p;
    let worst = 0;
    x.forEach((v, i) => {
      const e =
        Math.abs(log1p(v)! - expected[i]) / Math.max(Number.MIN_VALUE, Math.abs(expected[i]));
      worst = Math.max(worst, e);
    });
    // Relative, including tiny arguments where log1p(x) ≈ x.
    expect(worst).toBeLessThanOrEqual(1e-15);
  });

  it('makes values ≤ −1 and missing values missing (null)', () => {
    expect(log1p(-1)).toBeNull();
    expect(log1p(-5)).toBeNull();
    expect(log1p(null)).toBeNull();
    expect(log1p(NaN)).toBeNull();
    expect(log1p(0)).toBe(0);
    // Chains into a scaler, which maps the missing value to 0.
    expect(applyStandard(log1p(-2), fitStandard([0, 1, 2]))).toBe(0);
  });
});

describe('clip', () => {
  for (const c of reference.clip) {
    it(`clips ${c.column} at quantiles ${c.quantiles.join(', ')} like np.nanquantile + np.clip`, () => {
      const column = columns[c.column];
      const state = fitClip(column, { quantiles: c.quantiles as [number, number] });
      expect(err(state.lo!, c.lo)).toBeLessThanOrEqual(TOL);
      expect(err(state.hi!, c.hi)).toBeLessThanOrEqual(TOL);
      column.forEach((v, i) => {
        const expected = c.clipped[i];
        if (expected === null) expect(applyClip(v, state)).toBeNull();
        else expect(err(applyClip(v, state)!, expected)).toBeLessThanOrEqual(TOL);
      });
    });
  }

  it('takes fixed and one-sided bounds, as JSON', () => {
    const state = fitClip([], { bounds: [0, null] });
    expect(JSON.parse(JSON.stringify(state))).toEqual({ lo: 0, hi: null });
    expect(applyClip(-3, state)).toBe(0);
    expect(applyClip(1e300, state)).toBe(1e300);
    expect(applyClip(null, state)).toBeNull();
    expect(fitClip([1, 2, 3, 4, 5], { quantiles: [null, 0.5] })).toEqual({ lo: null, hi: 3 });
    expect(() => fitClip([], { bounds: [2, 1] })).toThrow(RangeError);
    expect(() => fitClip([1], { quantiles: [0, 1.5] })).toThrow(RangeError);
    expect(() => fitClip([], { bounds: [-Infinity, 1] })).toThrow(RangeError);
  });
});
