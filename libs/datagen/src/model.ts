import type { Device, MerchantCategory } from './cards-spec';
import { DEVICES, MERCHANT_CATEGORIES } from './cards-spec';

/**
 * The generative model of a card transaction, in one place so that the tests, the drift
 * arithmetic and the fraud calibration read the same numbers.
 *
 * - merchant category: {@link CATEGORY_WEIGHTS};
 * - amount: lognormal per category ({@link AMOUNT_LOGNORMAL}: median and log-sd), the normal
 *   truncated to ±{@link AMOUNT_TRUNCATION} so a clean amount never strays into outlier land;
 * - hour (local, at the merchant): {@link HOUR_WEIGHTS}, a day-heavy profile;
 * - country: the card's home country ({@link HOME_COUNTRY_WEIGHTS}), or with probability
 *   {@link CROSS_BORDER_PROBABILITY} a destination ({@link DESTINATION_WEIGHTS}); "abroad" when
 *   that destination is not home;
 * - device: {@link DEVICE_WEIGHTS}, except that an online purchase is never `pos`;
 * - memo: contains a risky phrase (gift card, crypto…) with {@link RISKY_MEMO_PROBABILITY};
 * - label: fraud with probability σ(logit), the logit a fixed function of the features above
 *   ({@link fraudLogit}) plus an intercept calibrated so that the base population has the
 *   requested fraud rate. Features come first and the label from them, so P(fraud | features)
 *   is the same before and after a covariate drift.
 */

export const CATEGORY_WEIGHTS: Readonly<Record<MerchantCategory, number>> = {
  grocery: 0.3,
  travel: 0.07,
  online: 0.25,
  fuel: 0.15,
  dining: 0.23,
};

/** Lognormal amount per category: `median` = e^μ, `sigma` the standard deviation of ln(amount). */
export const AMOUNT_LOGNORMAL: Readonly<
  Record<MerchantCategory, { readonly median: number; readonly sigma: number }>
> = {
  grocery: { median: 42, sigma: 0.6 },
  travel: { median: 220, sigma: 0.75 },
  online: { median: 55, sigma: 0.8 },
  fuel: { median: 50, sigma: 0.35 },
  dining: { median: 32, sigma: 0.55 },
};

/** The normal behind a clean amount is truncated to ±this many standard deviations. */
export const AMOUNT_TRUNCATION = 3;

/** Relative weights of the local hour 0–23: quiet nights, busy lunch and evening. */
export const HOUR_WEIGHTS: readonly number[] = [
  1.2, 0.9, 0.7, 0.6, 0.7, 1.0, 1.5, 3, 4.5, 5, 5.5, 6, 7, 6.5, 5.5, 5.5, 6, 6.5, 7, 6.5, 5, 4, 2.5,
  1.5,
];

/** Hours counted as night for the fraud model. */
export const NIGHT_HOURS: readonly number[] = [0, 1, 2, 3, 4, 5];

export const HOME_COUNTRY_WEIGHTS: Readonly<Record<string, number>> = {
  US: 0.26,
  GB: 0.12,
  FR: 0.12,
  DE: 0.12,
  ES: 0.06,
  IT: 0.06,
  NL: 0.05,
  CA: 0.06,
  JP: 0.05,
  AU: 0.05,
  BR: 0.05,
};

/** Where cross-border transactions go. */
export const DESTINATION_WEIGHTS: Readonly<Record<string, number>> = {
  US: 0.12,
  GB: 0.1,
  FR: 0.12,
  ES: 0.1,
  IT: 0.1,
  DE: 0.05,
  MX: 0.08,
  TH: 0.08,
  AE: 0.07,
  TR: 0.06,
  PT: 0.06,
  GR: 0.06,
};

export const CROSS_BORDER_PROBABILITY = 0.1;

export const CITIES: Readonly<Record<string, readonly string[]>> = {
  US: ['New York', 'Chicago', 'Austin', 'Seattle', 'Denver', 'Boston'],
  GB: ['London', 'Leeds', 'Bristol', 'Glasgow', 'York', 'Cardiff'],
  FR: ['Paris', 'Lyon', 'Nantes', 'Lille', 'Toulouse', 'Nice'],
  DE: ['Berlin', 'Munich', 'Hamburg', 'Cologne', 'Leipzig', 'Bremen'],
  ES: ['Madrid', 'Seville', 'Valencia', 'Bilbao', 'Malaga', 'Granada'],
  IT: ['Rome', 'Milan', 'Turin', 'Bologna', 'Naples', 'Verona'],
  NL: ['Amsterdam', 'Utrecht', 'Rotterdam', 'Leiden', 'Delft'],
  CA: ['Toronto', 'Montreal', 'Calgary', 'Ottawa', 'Halifax'],
  JP: ['Tokyo', 'Osaka', 'Kyoto', 'Sapporo', 'Nagoya'],
  AU: ['Sydney', 'Perth', 'Brisbane', 'Adelaide', 'Hobart'],
  BR: ['Sao Paulo', 'Recife', 'Curitiba', 'Salvador', 'Manaus'],
  MX: ['Cancun', 'Oaxaca', 'Merida'],
  TH: ['Bangkok', 'Phuket', 'Chiang Mai'],
  AE: ['Dubai', 'Abu Dhabi', 'Sharjah'],
  TR: ['Istanbul', 'Izmir', 'Antalya'],
  PT: ['Lisbon', 'Porto', 'Faro'],
  GR: ['Athens', 'Rhodes', 'Thessaloniki'],
};

/** Every country a record can carry, sorted. */
export const COUNTRIES: readonly string[] = Object.keys(CITIES).sort();

/** Device preference; the device of a purchase is drawn from these, `pos` excluded online. */
export const DEVICE_WEIGHTS: Readonly<Record<Device, number>> = { mobile: 0.4, web: 0.2, pos: 0.4 };

/** Whether a device is possible for a category. */
export function deviceAllowed(category: MerchantCategory, device: Device): boolean {
  return !(category === 'online' && device === 'pos');
}

/** Probability that a memo carries a risky phrase, per category. */
export const RISKY_MEMO_PROBABILITY: Readonly<Record<MerchantCategory, number>> = {
  grocery: 0.01,
  travel: 0.03,
  online: 0.07,
  fuel: 0.01,
  dining: 0.01,
};

/** Coefficients of the fraud logit (the intercept is calibrated; see {@link fraudIntercept}). */
export const FRAUD_COEFFICIENTS = {
  /** Per standard deviation of ln(amount) above the category's median. */
  amountZ: 0.8,
  category: { grocery: -0.4, travel: 0.5, online: 0.8, fuel: 0, dining: -0.3 } as Readonly<
    Record<MerchantCategory, number>
  >,
  night: 1.4,
  nightOnline: 0.6,
  abroad: 1.1,
  device: { mobile: 0.1, web: 0.5, pos: -0.4 } as Readonly<Record<Device, number>>,
  riskyMemo: 1.6,
} as const;

/** The features the label depends on. */
export interface FraudFeatures {
  category: MerchantCategory;
  /** (ln amount − μ_category) / σ_category, with the base (undrifted) μ and σ. */
  amountZ: number;
  night: boolean;
  abroad: boolean;
  device: Device;
  riskyMemo: boolean;
}

/** The logit of fraud without its intercept. */
export function fraudLogit(f: FraudFeatures): number {
  const b = FRAUD_COEFFICIENTS;
  return (
    b.amountZ * f.amountZ +
    b.category[f.category] +
    (f.night ? b.night + (f.category === 'online' ? b.nightOnline : 0) : 0) +
    (f.abroad ? b.abroad : 0) +
    b.device[f.device] +
    (f.riskyMemo ? b.riskyMemo : 0)
  );
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

// --- Truncated standard normal quadrature -----------------------------------------------------

/**
 * Simpson nodes and weights for E[g(Z)], Z a standard normal truncated to ±T: the weights are
 * the Simpson coefficients times the density, normalised to sum to 1 (so they integrate against
 * the truncated, renormalised density). 600 intervals: error far below 1e-9 for the smooth
 * integrands used here.
 */
const QUADRATURE = (() => {
  const intervals = 600;
  const t = AMOUNT_TRUNCATION;
  const h = (2 * t) / intervals;
  const nodes: number[] = [];
  const weights: number[] = [];
  let total = 0;
  for (let j = 0; j <= intervals; j += 1) {
    const z = -t + j * h;
    const coefficient = j === 0 || j === intervals ? 1 : j % 2 === 1 ? 4 : 2;
    const w = coefficient * Math.exp(-0.5 * z * z);
    nodes.push(z);
    weights.push(w);
    total += w;
  }
  return { nodes, weights: weights.map((w) => w / total) };
})();

/** E[g(Z)] for the truncated standard normal behind clean amounts. */
function expectTruncatedNormal(g: (z: number) => number): number {
  let sum = 0;
  for (let j = 0; j < QUADRATURE.nodes.length; j += 1) {
    sum += QUADRATURE.weights[j] * g(QUADRATURE.nodes[j]);
  }
  return sum;
}

/** Raw-space statistics of a category's clean amount (before rounding to cents). */
export interface AmountStats {
  /** e^μ. */
  readonly median: number;
  /** σ of ln(amount). */
  readonly sigma: number;
  readonly mean: number;
  readonly sd: number;
  /** The largest clean amount: e^(μ + Tσ). */
  readonly max: number;
}

function statsOf(median: number, sigma: number): AmountStats {
  const m1 = expectTruncatedNormal((z) => Math.exp(sigma * z));
  const m2 = expectTruncatedNormal((z) => Math.exp(2 * sigma * z));
  return {
    median,
    sigma,
    mean: median * m1,
    sd: median * Math.sqrt(m2 - m1 * m1),
    max: median * Math.exp(AMOUNT_TRUNCATION * sigma),
  };
}

/** Base (undrifted) amount statistics per category. */
export const AMOUNT_STATS: Readonly<Record<MerchantCategory, AmountStats>> = Object.fromEntries(
  MERCHANT_CATEGORIES.map((c) => [
    c,
    statsOf(AMOUNT_LOGNORMAL[c].median, AMOUNT_LOGNORMAL[c].sigma),
  ]),
) as Record<MerchantCategory, AmountStats>;

/** Mean and standard deviation of the clean amount over all categories (base weights). */
export const AMOUNT_OVERALL: { readonly mean: number; readonly sd: number } = (() => {
  const total = MERCHANT_CATEGORIES.reduce((s, c) => s + CATEGORY_WEIGHTS[c], 0);
  let mean = 0;
  let second = 0;
  for (const c of MERCHANT_CATEGORIES) {
    const w = CATEGORY_WEIGHTS[c] / total;
    const { mean: m, sd } = AMOUNT_STATS[c];
    mean += w * m;
    second += w * (sd * sd + m * m);
  }
  return { mean, sd: Math.sqrt(second - mean * mean) };
})();

// --- Fraud intercept calibration --------------------------------------------------------------

/** P(device | category) under the given device weights. */
export function deviceProbabilities(
  category: MerchantCategory,
  weights: Readonly<Record<Device, number>> = DEVICE_WEIGHTS,
): Record<Device, number> {
  let total = 0;
  for (const d of DEVICES) if (deviceAllowed(category, d)) total += weights[d];
  const out = {} as Record<Device, number>;
  for (const d of DEVICES) out[d] = deviceAllowed(category, d) ? weights[d] / total : 0;
  return out;
}

function normalised(weights: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(weights).reduce((s, w) => s + w, 0);
  return Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, w / total]));
}

/** P(a transaction is abroad) in the base population: a cross-border draw that is not home. */
export const ABROAD_PROBABILITY: number = (() => {
  const home = normalised(HOME_COUNTRY_WEIGHTS);
  const dest = normalised(DESTINATION_WEIGHTS);
  let same = 0;
  for (const [c, p] of Object.entries(home)) same += p * (dest[c] ?? 0);
  return CROSS_BORDER_PROBABILITY * (1 - same);
})();

/** P(night hour) under the base hour weights. */
export const NIGHT_PROBABILITY: number =
  NIGHT_HOURS.reduce((s, h) => s + HOUR_WEIGHTS[h], 0) / HOUR_WEIGHTS.reduce((s, w) => s + w, 0);

/**
 * Every distinct (logit without intercept, probability) of the base population, the amount
 * integrated by quadrature: the exact expected fraud rate for an intercept b is
 * Σ p · σ(b + logit).
 */
let logitMass: { logits: Float64Array; masses: Float64Array } | undefined;

function buildLogitMass(): { logits: Float64Array; masses: Float64Array } {
  const logits: number[] = [];
  const masses: number[] = [];
  const categories = normalised(CATEGORY_WEIGHTS);
  for (const category of MERCHANT_CATEGORIES) {
    const pc = categories[category];
    const devices = deviceProbabilities(category);
    for (const device of DEVICES) {
      const pd = devices[device];
      if (pd === 0) continue;
      for (const riskyMemo of [false, true]) {
        const pr = riskyMemo
          ? RISKY_MEMO_PROBABILITY[category]
          : 1 - RISKY_MEMO_PROBABILITY[category];
        for (const night of [false, true]) {
          const pn = night ? NIGHT_PROBABILITY : 1 - NIGHT_PROBABILITY;
          for (const abroad of [false, true]) {
            const pa = abroad ? ABROAD_PROBABILITY : 1 - ABROAD_PROBABILITY;
            const mass = pc * pd * pr * pn * pa;
            for (let j = 0; j < QUADRATURE.nodes.length; j += 1) {
              logits.push(
                fraudLogit({
                  category,
                  amountZ: QUADRATURE.nodes[j],
                  night,
                  abroad,
                  device,
                  riskyMemo,
                }),
              );
              masses.push(mass * QUADRATURE.weights[j]);
            }
          }
        }
      }
    }
  }
  return { logits: Float64Array.from(logits), masses: Float64Array.from(masses) };
}

/** The expected fraud rate of the base population for an intercept. */
export function expectedFraudRate(intercept: number): number {
  logitMass ??= buildLogitMass();
  const { logits, masses } = logitMass;
  let rate = 0;
  for (let j = 0; j < logits.length; j += 1) rate += masses[j] * sigmoid(intercept + logits[j]);
  return rate;
}

const interceptCache = new Map<number, number>();

/**
 * The intercept that gives the base population the fraud rate `rate` (0 < rate < 1), by
 * bisection on the exact expectation; cached per rate. Pure: no random draws.
 */
export function fraudIntercept(rate: number): number {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`fraud rate must be in (0, 1), got ${rate}`);
  const cached = interceptCache.get(rate);
  if (cached !== undefined) return cached;
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 60; i += 1) {
    const mid = (lo + hi) / 2;
    if (expectedFraudRate(mid) < rate) lo = mid;
    else hi = mid;
  }
  const b = (lo + hi) / 2;
  interceptCache.set(rate, b);
  return b;
}
