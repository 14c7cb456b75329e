import { describe, expect, it } from 'vitest';
import type { CardRecord } from './cards-spec';
import { DEVICES, MERCHANT_CATEGORIES } from './cards-spec';
import { generateCards } from './generate';
import {
  AMOUNT_OVERALL,
  AMOUNT_STATS,
  CATEGORY_WEIGHTS,
  DEVICE_WEIGHTS,
  deviceProbabilities,
} from './model';
import type { DriftShifts } from './truth';

const N = 50_000;
const FROM = 25_000;

function run(shifts: DriftShifts, seed = 9) {
  const g = generateCards({ n: N, seed, drift: { from: FROM, shifts } });
  return { g, before: g.records.slice(0, FROM), after: g.records.slice(FROM) };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
};
const amounts = (rs: CardRecord[]) => rs.map((r) => r.amount!);
const hours = (rs: CardRecord[]) => rs.map((r) => r.hour!);

function shares<T extends string>(rs: CardRecord[], field: keyof CardRecord, values: readonly T[]) {
  const out = {} as Record<T, number>;
  for (const v of values) out[v] = rs.filter((r) => r[field] === v).length / rs.length;
  return out;
}

function expectSharesClose<T extends string>(
  actual: Record<T, number>,
  expected: Record<T, number>,
  tolerance = 0.012,
) {
  for (const k of Object.keys(expected) as T[]) {
    expect(Math.abs(actual[k] - expected[k]), k).toBeLessThan(tolerance);
  }
}

const CATEGORY_SHARES = Object.fromEntries(
  MERCHANT_CATEGORIES.map((c) => [c, CATEGORY_WEIGHTS[c]]),
) as Record<(typeof MERCHANT_CATEGORIES)[number], number>;

describe('drift', () => {
  it('amount meanShiftSd 0.5: the mean moves by 0.5 sd from `from` on, the rest stays', () => {
    const { g, before, after } = run({ amount: { meanShiftSd: 0.5 } });
    // The sample sd of this skewed mixture wanders a few per cent on 25,000 records.
    expect(sd(amounts(before)) / AMOUNT_OVERALL.sd).toBeGreaterThan(0.9);
    expect(sd(amounts(before)) / AMOUNT_OVERALL.sd).toBeLessThan(1.1);
    const shift = (mean(amounts(after)) - mean(amounts(before))) / AMOUNT_OVERALL.sd;
    expect(shift).toBeGreaterThan(0.45);
    expect(shift).toBeLessThan(0.55);
    // The spread is unchanged: a pure location shift.
    expect(sd(amounts(after)) / AMOUNT_OVERALL.sd).toBeGreaterThan(0.9);
    expect(sd(amounts(after)) / AMOUNT_OVERALL.sd).toBeLessThan(1.1);
    const median = (rs: CardRecord[]) => amounts(rs).sort((a, b) => a - b)[rs.length >> 1];
    const medianShift = (median(after) - median(before)) / AMOUNT_OVERALL.sd;
    expect(Math.abs(medianShift - 0.5)).toBeLessThan(0.05);
    // Other fields keep their distributions.
    expect(Math.abs(mean(hours(after)) - mean(hours(before)))).toBeLessThan(0.1);
    expectSharesClose(
      shares(after, 'merchant_category', MERCHANT_CATEGORIES),
      shares(before, 'merchant_category', MERCHANT_CATEGORIES),
    );
    expectSharesClose(shares(after, 'device', DEVICES), shares(before, 'device', DEVICES));
    expect(g.truth.drift).toMatchObject({
      from: FROM,
      shifts: { amount: { meanShiftSd: 0.5 } },
      amount: { scale: 1, add: 0.5 * AMOUNT_OVERALL.sd, baseSd: AMOUNT_OVERALL.sd },
      merchant_category: null,
      country: null,
      device: null,
      hour: null,
    });
  });

  it('amount scale 1.5: mean and spread both grow by half', () => {
    const { before, after } = run({ amount: { scale: 1.5 } });
    expect(mean(amounts(after)) / mean(amounts(before))).toBeGreaterThan(1.42);
    expect(mean(amounts(after)) / mean(amounts(before))).toBeLessThan(1.58);
    expect(sd(amounts(after)) / sd(amounts(before))).toBeGreaterThan(1.38);
    expect(sd(amounts(after)) / sd(amounts(before))).toBeLessThan(1.62);
  });

  it('merchant_category weights: the new shares from `from` on, the old ones before', () => {
    const { g, before, after } = run({ merchant_category: { weights: { online: 0.75 } } });
    const expected = { ...CATEGORY_SHARES, online: 0.75 };
    const total = Object.values(expected).reduce((s, w) => s + w, 0);
    for (const c of MERCHANT_CATEGORIES) expected[c] /= total;
    expect(g.truth.drift?.merchant_category).toEqual(
      Object.fromEntries(MERCHANT_CATEGORIES.map((c) => [c, expect.closeTo(expected[c], 12)])),
    );
    expectSharesClose(shares(after, 'merchant_category', MERCHANT_CATEGORIES), expected);
    expectSharesClose(shares(before, 'merchant_category', MERCHANT_CATEGORIES), CATEGORY_SHARES);
    expect(expected.online).toBeCloseTo(0.5, 12);
  });

  it('device weights: the device mix moves as the weights say', () => {
    const weights = { ...DEVICE_WEIGHTS, mobile: 1.2 };
    const { before, after } = run({ device: { weights: { mobile: 1.2 } } });
    const expectedShares = (w: typeof weights) => {
      const out = { mobile: 0, web: 0, pos: 0 };
      for (const c of MERCHANT_CATEGORIES) {
        const p = deviceProbabilities(c, w);
        for (const d of DEVICES) out[d] += CATEGORY_SHARES[c] * p[d];
      }
      return out;
    };
    expectSharesClose(shares(after, 'device', DEVICES), expectedShares(weights));
    expectSharesClose(shares(before, 'device', DEVICES), expectedShares(DEVICE_WEIGHTS));
  });

  it('country weights: every transaction drawn from the shifted distribution', () => {
    const { g, after } = run({ country: { weights: { TH: 0.3 } } });
    const expected = g.truth.drift!.country!;
    expect(expected.TH).toBeGreaterThan(0.2);
    expectSharesClose(shares(after, 'country', Object.keys(expected)), expected);
  });

  it('hour shiftHours: the clock moves, modulo 24', () => {
    const { g, before, after } = run({ hour: { shiftHours: 3 } });
    const hist = (rs: CardRecord[]) => {
      const h = new Array<number>(24).fill(0);
      for (const r of rs) h[r.hour!] += 1 / rs.length;
      return h;
    };
    const b = hist(before);
    const a = hist(after);
    for (let h = 0; h < 24; h += 1) expect(Math.abs(a[(h + 3) % 24] - b[h])).toBeLessThan(0.01);
    const expected = g.truth.drift!.hour!;
    for (let h = 0; h < 24; h += 1) expect(Math.abs(a[h] - expected[h])).toBeLessThan(0.01);
  });

  it('is_fraud rate: the label prior moves, the features do not', () => {
    const { before, after } = run({ is_fraud: { rate: 0.06 } });
    const rate = (rs: CardRecord[]) => rs.filter((r) => r.is_fraud === 1).length / rs.length;
    expect(rate(before)).toBeGreaterThan(0.015);
    expect(rate(before)).toBeLessThan(0.025);
    expect(rate(after)).toBeGreaterThan(0.052);
    expect(rate(after)).toBeLessThan(0.068);
    expect(Math.abs(mean(amounts(after)) / mean(amounts(before)) - 1)).toBeLessThan(0.03);
  });

  it('computes outlier statistics against the drifted distribution', () => {
    const g = generateCards({
      n: 20_000,
      seed: 4,
      outlierRate: 0.01,
      drift: { from: 10_000, shifts: { amount: { scale: 2 } } },
    });
    const outliers = g.truth.defects.filter((d) => d.kind === 'outlier');
    const dirty = new Set(g.truth.defects.map((d) => d.index));
    for (const d of outliers) {
      const scale = d.index >= 10_000 ? 2 : 1;
      expect(d.mean).toBeCloseTo(scale * AMOUNT_STATS[d.category].mean, 9);
      expect(d.sd).toBeCloseTo(scale * AMOUNT_STATS[d.category].sd, 9);
      expect(d.z).toBeGreaterThan(6);
      expect(d.value).toBeGreaterThanOrEqual(4 * d.cleanMax);
    }
    const cleanMaxAfter = Math.max(
      ...outliers.filter((d) => d.index >= 10_000).map((d) => d.cleanMax),
    );
    const cleanMaxBefore = Math.max(
      ...outliers.filter((d) => d.index < 10_000).map((d) => d.cleanMax),
    );
    expect(cleanMaxAfter).toBeCloseTo(2 * cleanMaxBefore, 6);
    const largestClean = Math.max(
      ...g.records.filter((_, i) => i >= 10_000 && !dirty.has(i)).map((r) => r.amount!),
    );
    expect(largestClean).toBeLessThanOrEqual(cleanMaxAfter + 0.005);
    expect(largestClean).toBeGreaterThan(cleanMaxBefore);
  });
});
