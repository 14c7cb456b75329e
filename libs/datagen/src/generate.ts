import { Rng } from '@mlops/ml';
import type { BlankableField, CardRecord, Device, MerchantCategory } from './cards-spec';
import {
  BLANKABLE_FIELDS,
  DEFAULT_MISSING_FIELDS,
  DEVICES,
  MERCHANT_CATEGORIES,
} from './cards-spec';
import { isRiskyMemo, makeMemo, nearDuplicateMemo } from './memo';
import {
  AMOUNT_LOGNORMAL,
  AMOUNT_OVERALL,
  AMOUNT_STATS,
  AMOUNT_TRUNCATION,
  CATEGORY_WEIGHTS,
  CITIES,
  CROSS_BORDER_PROBABILITY,
  DESTINATION_WEIGHTS,
  DEVICE_WEIGHTS,
  HOME_COUNTRY_WEIGHTS,
  HOUR_WEIGHTS,
  NIGHT_HOURS,
  RISKY_MEMO_PROBABILITY,
  deviceAllowed,
  deviceProbabilities,
  fraudIntercept,
  fraudLogit,
  sigmoid,
} from './model';
import type {
  Defect,
  DefectKind,
  DriftOptions,
  DriftShifts,
  DriftTruth,
  GenerationTruth,
} from './truth';
import { DEFECT_KINDS } from './truth';

export interface GenerateCardsOptions {
  /** Number of records. */
  n: number;
  /** Any integer; the same options give the same records, ids and truth, byte for byte. 1 by default. */
  seed?: number;
  /** Fraud rate of the base population, 0.02 by default. */
  fraudRate?: number;
  /** Number of distinct cards; max(50, n / 25) by default. */
  cards?: number;
  /** The first record's time: ISO 8601 or epoch ms; 2026-01-01T00:00:00Z by default. */
  start?: string | number;
  /** Mean gap between consecutive timestamps in ms (exponential, at least 1 ms); 1000 by default. */
  meanGapMs?: number;
  /** Share of records that exactly repeat an earlier record (with an id of their own). */
  duplicateRate?: number;
  /** Share of records, otherwise new but of the same card, that repeat an earlier record's id. */
  duplicateIdRate?: number;
  /** Share of records that re-enter an earlier record with a slightly edited memo. */
  nearDuplicateRate?: number;
  /** Share of records with one or two of `missingFields` null or absent. */
  missingRate?: number;
  /** Share of records with an outlying amount. */
  outlierRate?: number;
  /** Share of records that repeat an earlier record's features with the opposite label. */
  labelConflictRate?: number;
  /** The fields a `missing` defect may blank; the spec's nullable ones (amount, device, memo) by default. */
  missingFields?: readonly BlankableField[];
  /** The first records carry no defect (warm-up for running statistics); min(100, n / 10) by default, at least 1. */
  cleanPrefix?: number;
  /** Originals of duplicates, near duplicates and label conflicts lie at most this far back; 1000 by default. */
  referenceWindow?: number;
  /** Covariate or prior drift from a record index on. */
  drift?: DriftOptions;
  /** Ids are `<idPrefix>-<index, 8 digits>`; `cards-<seed>` by default. */
  idPrefix?: string;
}

/**
 * The data-quality acceptance workload (seed 7): 2 % exact duplicates, 1 % repeated ids, 2 %
 * near duplicates, 2 % missing values, 1 % outliers, 1 % label conflicts. The rules' unit
 * acceptance, the stage's e2e test and the data-quality benchmark all use it with n = 50,000.
 */
export const QUALITY_WORKLOAD = {
  seed: 7,
  duplicateRate: 0.02,
  duplicateIdRate: 0.01,
  nearDuplicateRate: 0.02,
  missingRate: 0.02,
  outlierRate: 0.01,
  labelConflictRate: 0.01,
} as const satisfies Omit<GenerateCardsOptions, 'n'>;

export interface GeneratedCards {
  records: CardRecord[];
  /** The CloudEvents id of each record (a `duplicate_id` defect repeats an earlier one). */
  ids: string[];
  truth: GenerationTruth;
}

const RATE_OPTION: Record<DefectKind, keyof GenerateCardsOptions> = {
  duplicate: 'duplicateRate',
  duplicate_id: 'duplicateIdRate',
  near_duplicate: 'nearDuplicateRate',
  missing: 'missingRate',
  outlier: 'outlierRate',
  label_conflict: 'labelConflictRate',
};

/** The sampling parameters of one segment of the stream (before or after the drift point). */
interface Segment {
  categoryWeights: number[];
  hourWeights: number[];
  hourShift: number;
  /** When set, every transaction's country comes from here instead of home / destination. */
  countries: { items: string[]; weights: number[] } | null;
  deviceWeights: Record<MerchantCategory, number[]>;
  amountScale: number;
  amountAdd: number;
  intercept: number;
  /** Raw-space mean and sd of a clean amount per category, and the largest clean amount overall. */
  amountMean: Record<MerchantCategory, number>;
  amountSd: Record<MerchantCategory, number>;
  cleanMax: number;
}

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const NIGHT = new Set(NIGHT_HOURS);
const HOME_ITEMS = Object.keys(HOME_COUNTRY_WEIGHTS);
const HOME_WEIGHTS = HOME_ITEMS.map((c) => HOME_COUNTRY_WEIGHTS[c]);
const DEST_ITEMS = Object.keys(DESTINATION_WEIGHTS);
const DEST_WEIGHTS = DEST_ITEMS.map((c) => DESTINATION_WEIGHTS[c]);
const MAX_AMOUNT = 1_000_000;

function normalise(weights: readonly number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  return weights.map((w) => w / total);
}

/** The base country distribution: home with 1 − p, a destination with p. */
function baseCountryShares(): Record<string, number> {
  const home = normalise(HOME_WEIGHTS);
  const dest = normalise(DEST_WEIGHTS);
  const shares: Record<string, number> = {};
  HOME_ITEMS.forEach(
    (c, k) => (shares[c] = (shares[c] ?? 0) + (1 - CROSS_BORDER_PROBABILITY) * home[k]),
  );
  DEST_ITEMS.forEach((c, k) => (shares[c] = (shares[c] ?? 0) + CROSS_BORDER_PROBABILITY * dest[k]));
  return shares;
}

function checkWeight(field: string, key: string, w: unknown): number {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
    throw new RangeError(`drift.shifts.${field}.weights.${key} must be a finite number >= 0`);
  }
  return w;
}

/** Base weights with the named ones replaced; checks the names. */
function reweighted<K extends string>(
  field: string,
  base: Readonly<Record<K, number>>,
  shift: Partial<Record<K, number>>,
): Record<K, number> {
  const out = { ...base } as Record<K, number>;
  for (const [key, w] of Object.entries(shift)) {
    if (!Object.prototype.hasOwnProperty.call(base, key)) {
      throw new RangeError(`drift.shifts.${field}.weights: unknown value "${key}"`);
    }
    out[key as K] = checkWeight(field, key, w);
  }
  if (Object.values<number>(out).reduce((s, w) => s + w, 0) <= 0) {
    throw new RangeError(`drift.shifts.${field}.weights sum to zero`);
  }
  return out;
}

function shares<K extends string>(weights: Record<K, number>): Record<K, number> {
  const total = Object.values<number>(weights).reduce((s, w) => s + w, 0);
  return Object.fromEntries(
    Object.entries<number>(weights).map(([k, w]) => [k, w / total]),
  ) as Record<K, number>;
}

function makeSegment(
  intercept: number,
  shifts: DriftShifts = {},
): { segment: Segment; truth: Omit<DriftTruth, 'from' | 'shifts'> } {
  const known = new Set(['amount', 'merchant_category', 'country', 'device', 'hour', 'is_fraud']);
  for (const key of Object.keys(shifts)) {
    if (!known.has(key)) throw new RangeError(`drift.shifts: unknown field "${key}"`);
  }
  const categoryWeights = shifts.merchant_category
    ? reweighted('merchant_category', CATEGORY_WEIGHTS, shifts.merchant_category.weights)
    : { ...CATEGORY_WEIGHTS };
  const deviceWeights = shifts.device
    ? reweighted('device', DEVICE_WEIGHTS, shifts.device.weights)
    : { ...DEVICE_WEIGHTS };
  for (const c of MERCHANT_CATEGORIES) {
    if (!DEVICES.some((d) => deviceAllowed(c, d) && deviceWeights[d] > 0)) {
      throw new RangeError(`drift.shifts.device.weights leave no device for ${c}`);
    }
  }
  let countries: Segment['countries'] = null;
  let countryShares: Record<string, number> | null = null;
  if (shifts.country) {
    countryShares = shares(reweighted('country', baseCountryShares(), shifts.country.weights));
    const items = Object.keys(countryShares).sort();
    countries = { items, weights: items.map((c) => countryShares![c]) };
  }
  let hourWeights = HOUR_WEIGHTS.slice();
  let hourShift = 0;
  if (shifts.hour) {
    if (shifts.hour.weights !== undefined) {
      const w = shifts.hour.weights;
      if (
        w.length !== 24 ||
        w.some((x) => !(Number.isFinite(x) && x >= 0)) ||
        w.every((x) => x === 0)
      ) {
        throw new RangeError('drift.shifts.hour.weights must be 24 finite weights >= 0, not all 0');
      }
      hourWeights = w.slice();
    }
    if (shifts.hour.shiftHours !== undefined) {
      if (!Number.isInteger(shifts.hour.shiftHours)) {
        throw new RangeError('drift.shifts.hour.shiftHours must be an integer');
      }
      hourShift = ((shifts.hour.shiftHours % 24) + 24) % 24;
    }
  }
  const scale = shifts.amount?.scale ?? 1;
  const meanShiftSd = shifts.amount?.meanShiftSd ?? 0;
  if (!(Number.isFinite(scale) && scale > 0))
    throw new RangeError('drift.shifts.amount.scale must be > 0');
  if (!Number.isFinite(meanShiftSd))
    throw new RangeError('drift.shifts.amount.meanShiftSd must be finite');
  const add = meanShiftSd * AMOUNT_OVERALL.sd;
  if (shifts.is_fraud) intercept = fraudIntercept(shifts.is_fraud.rate);

  const amountMean = {} as Record<MerchantCategory, number>;
  const amountSd = {} as Record<MerchantCategory, number>;
  let cleanMax = 0;
  for (const c of MERCHANT_CATEGORIES) {
    amountMean[c] = AMOUNT_STATS[c].mean * scale + add;
    amountSd[c] = AMOUNT_STATS[c].sd * scale;
    cleanMax = Math.max(cleanMax, AMOUNT_STATS[c].max * scale + add);
  }
  const segment: Segment = {
    categoryWeights: MERCHANT_CATEGORIES.map((c) => categoryWeights[c]),
    hourWeights,
    hourShift,
    countries,
    deviceWeights: Object.fromEntries(
      MERCHANT_CATEGORIES.map((c) => {
        const p = deviceProbabilities(c, deviceWeights);
        return [c, DEVICES.map((d) => p[d])];
      }),
    ) as Record<MerchantCategory, number[]>,
    amountScale: scale,
    amountAdd: add,
    intercept,
    amountMean,
    amountSd,
    cleanMax,
  };
  const hourShares = normalise(hourWeights);
  return {
    segment,
    truth: {
      amount: shifts.amount ? { scale, add, baseSd: AMOUNT_OVERALL.sd } : null,
      merchant_category: shifts.merchant_category ? shares(categoryWeights) : null,
      country: countryShares,
      device: shifts.device ? shares(deviceWeights) : null,
      hour: shifts.hour ? HOURS.map((h) => hourShares[(h - hourShift + 24) % 24]) : null,
      fraudIntercept: intercept,
    },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function checkRate(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!(typeof v === 'number' && v >= 0 && v <= 1))
    throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  return v;
}

function checkInt(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function startMillis(start: string | number | undefined): number {
  if (start === undefined) return Date.UTC(2026, 0, 1);
  const ms = typeof start === 'number' ? start : Date.parse(start);
  if (!Number.isFinite(ms)) throw new RangeError(`start is not a valid time: ${start}`);
  return ms;
}

/**
 * Card transactions with known, injected defects and optional drift. Pure and reproducible:
 * the same options give byte-identical records, ids and truth on every platform.
 *
 * Every index first gets a base transaction from its own stream, so the clean records do not
 * depend on the defect rates: changing `duplicateRate` changes which records are replaced, not
 * what the others look like. Defects take exactly round(rate × n) records each, at positions
 * drawn uniformly from [cleanPrefix, n).
 */
export function generateCards(options: GenerateCardsOptions): GeneratedCards {
  const n = checkInt('n', options.n, 0);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const fraudRate = options.fraudRate ?? 0.02;
  const intercept = fraudIntercept(fraudRate);
  const nCards = checkInt('cards', options.cards ?? Math.max(50, Math.round(n / 25)), 1);
  const meanGapMs = options.meanGapMs ?? 1000;
  if (!(Number.isFinite(meanGapMs) && meanGapMs >= 0))
    throw new RangeError('meanGapMs must be >= 0');
  const referenceWindow = checkInt('referenceWindow', options.referenceWindow ?? 1000, 1);
  const cleanPrefix = Math.min(
    n,
    checkInt(
      'cleanPrefix',
      options.cleanPrefix ?? Math.max(1, Math.min(100, Math.floor(n / 10))),
      0,
    ),
  );
  const missingFields = [...(options.missingFields ?? DEFAULT_MISSING_FIELDS)];
  for (const f of missingFields) {
    if (!(BLANKABLE_FIELDS as readonly string[]).includes(f)) {
      throw new RangeError(`missingFields: "${f}" cannot be blanked`);
    }
  }
  const idPrefix = options.idPrefix ?? `cards-${seed}`;

  const rates = {} as Record<DefectKind, number>;
  const counts = {} as Record<DefectKind, number>;
  let total = 0;
  for (const kind of DEFECT_KINDS) {
    rates[kind] = checkRate(RATE_OPTION[kind], options[RATE_OPTION[kind]] as number | undefined);
    counts[kind] = Math.round(rates[kind] * n);
    total += counts[kind];
  }
  if (counts.missing > 0 && missingFields.length === 0)
    throw new RangeError('missingRate > 0 needs missingFields');
  const referencing =
    counts.duplicate + counts.duplicate_id + counts.near_duplicate + counts.label_conflict;
  if (referencing > 0 && cleanPrefix < 1)
    throw new RangeError('duplicates and label conflicts need cleanPrefix >= 1');
  if (total > n - cleanPrefix) {
    throw new RangeError(
      `${total} defects do not fit in the ${n - cleanPrefix} records after cleanPrefix`,
    );
  }

  let driftFrom = n;
  let driftTruth: DriftTruth | null = null;
  const base = makeSegment(intercept).segment;
  let drifted = base;
  if (options.drift) {
    driftFrom = checkInt('drift.from', options.drift.from, 0);
    if (driftFrom > n) throw new RangeError(`drift.from ${driftFrom} is beyond n = ${n}`);
    const made = makeSegment(intercept, options.drift.shifts);
    drifted = made.segment;
    driftTruth = { from: driftFrom, shifts: structuredClone(options.drift.shifts), ...made.truth };
  }

  // Independent streams: the base transactions, the defects, the cards.
  const master = new Rng(seed);
  const rng = new Rng(master.nextUint32());
  const defectRng = new Rng(master.nextUint32());
  const cardRng = new Rng(master.nextUint32());

  const width = Math.max(5, String(nCards - 1).length);
  const cards = Array.from({ length: nCards }, (_, k) => ({
    id: `card-${String(k).padStart(width, '0')}`,
    home: cardRng.choice(HOME_ITEMS, HOME_WEIGHTS),
  }));

  // Defect positions: exactly counts[kind] of each, shuffled over [cleanPrefix, n).
  const plan: (DefectKind | null)[] = new Array<DefectKind | null>(n - cleanPrefix).fill(null);
  let at = 0;
  for (const kind of DEFECT_KINDS) for (let k = 0; k < counts[kind]; k += 1) plan[at++] = kind;
  defectRng.shuffle(plan);

  const records: CardRecord[] = new Array<CardRecord>(n);
  const ids: string[] = new Array<string>(n);
  const defects: Defect[] = [];
  const clean: number[] = [];
  let t = startMillis(options.start);

  // An earlier clean record within the reference window (the latest clean one if none is).
  const original = (i: number): number => {
    const lo = i - referenceWindow;
    let a = 0;
    let b = clean.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (clean[mid] < lo) a = mid + 1;
      else b = mid;
    }
    if (a === clean.length) return clean[clean.length - 1];
    return clean[defectRng.int(a, clean.length)];
  };

  for (let i = 0; i < n; i += 1) {
    const seg = i >= driftFrom ? drifted : base;
    const gap = 1 + Math.floor(-Math.log(1 - rng.next()) * meanGapMs);
    if (i > 0) t += gap;
    const record = baseRecord(rng, seg, cards, t);
    ids[i] = `${idPrefix}-${String(i).padStart(8, '0')}`;
    const kind = i < cleanPrefix ? null : plan[i - cleanPrefix]!;
    switch (kind) {
      case null:
        records[i] = record;
        clean.push(i);
        break;
      case 'duplicate': {
        const of = original(i);
        records[i] = { ...records[of] };
        defects.push({ index: i, kind, of });
        break;
      }
      case 'duplicate_id': {
        // A producer re-sending an event under its old id with changed content. The card stays
        // the same: an event's duplicates travel under its key (`dataset:entityId`), so they
        // meet the original in its partition, where de-duplication state lives.
        const of = original(i);
        records[i] = { ...record, card_id: records[of].card_id };
        ids[i] = ids[of]!;
        defects.push({ index: i, kind, of, id: ids[of] });
        break;
      }
      case 'near_duplicate': {
        const of = original(i);
        const source = records[of];
        const edited = nearDuplicateMemo(defectRng, source.memo!);
        const copy: CardRecord = { ...source, memo: edited.memo, ts: record.ts };
        const changed = ['memo', 'ts'];
        if (defectRng.bernoulli(0.3)) {
          const factor = 1 + (defectRng.bernoulli(0.5) ? 1 : -1) * defectRng.uniform(0.005, 0.02);
          let amount = round2(source.amount! * factor);
          if (amount === source.amount) amount = round2(source.amount + 0.01);
          copy.amount = amount;
          changed.splice(0, 0, 'amount');
        }
        records[i] = copy;
        defects.push({ index: i, kind, of, edit: edited.edit, distance: edited.distance, changed });
        break;
      }
      case 'label_conflict': {
        const of = original(i);
        const source = records[of];
        records[i] = { ...source, ts: record.ts, is_fraud: source.is_fraud === 1 ? 0 : 1 };
        defects.push({ index: i, kind, of });
        break;
      }
      case 'missing': {
        const k = missingFields.length > 1 && defectRng.bernoulli(0.25) ? 2 : 1;
        const fields = defectRng.shuffle(missingFields.slice()).slice(0, k);
        fields.sort((x, y) => BLANKABLE_FIELDS.indexOf(x) - BLANKABLE_FIELDS.indexOf(y));
        const how = defectRng.bernoulli(0.5) ? 'null' : 'absent';
        const originalValues: Partial<CardRecord> = {};
        for (const f of fields) {
          (originalValues as Record<string, unknown>)[f] = record[f];
          if (how === 'null') record[f] = null;
          else delete record[f];
        }
        records[i] = record;
        defects.push({ index: i, kind, fields, how, original: originalValues });
        break;
      }
      case 'outlier': {
        const category = record.merchant_category!;
        const factor = Math.exp(defectRng.uniform(Math.log(4), Math.log(40)));
        const value = Math.min(MAX_AMOUNT, round2(seg.cleanMax * factor));
        const mean = seg.amountMean[category];
        const sd = seg.amountSd[category];
        defects.push({
          index: i,
          kind,
          field: 'amount',
          value,
          original: record.amount!,
          category,
          mean,
          sd,
          z: (value - mean) / sd,
          cleanMax: seg.cleanMax,
        });
        record.amount = value;
        records[i] = record;
        break;
      }
    }
  }

  return {
    records,
    ids,
    truth: {
      seed,
      n,
      fraudRate,
      fraudIntercept: intercept,
      cleanPrefix,
      referenceWindow,
      rates,
      counts,
      defects,
      drift: driftTruth,
    },
  };
}

/** One clean transaction at time `t`. The draws happen in a fixed order. */
function baseRecord(
  rng: Rng,
  seg: Segment,
  cards: readonly { id: string; home: string }[],
  t: number,
): CardRecord {
  // Busier cards first: a mild skew over the card population.
  const card = cards[Math.floor(cards.length * rng.next() ** 1.5)];
  const category = rng.choice(MERCHANT_CATEGORIES, seg.categoryWeights);
  const { median, sigma } = AMOUNT_LOGNORMAL[category];
  let z = rng.normal();
  while (Math.abs(z) > AMOUNT_TRUNCATION) z = rng.normal();
  const amount = Math.max(
    0.01,
    round2(median * Math.exp(sigma * z) * seg.amountScale + seg.amountAdd),
  );
  const hour = (rng.choice(HOURS, seg.hourWeights) + seg.hourShift) % 24;
  let country: string;
  if (seg.countries) country = rng.choice(seg.countries.items, seg.countries.weights);
  else if (rng.bernoulli(CROSS_BORDER_PROBABILITY)) country = rng.choice(DEST_ITEMS, DEST_WEIGHTS);
  else country = card.home;
  const device: Device = rng.choice(DEVICES, seg.deviceWeights[category]);
  const risky = rng.bernoulli(RISKY_MEMO_PROBABILITY[category]);
  const memo = makeMemo(rng, category, rng.choice(CITIES[country]), risky);
  const logit = fraudLogit({
    category,
    amountZ: (Math.log(amount) - Math.log(median)) / sigma,
    night: NIGHT.has(hour),
    abroad: country !== card.home,
    device,
    riskyMemo: isRiskyMemo(memo),
  });
  const isFraud = rng.bernoulli(sigmoid(seg.intercept + logit)) ? 1 : 0;
  return {
    card_id: card.id,
    amount,
    hour,
    merchant_category: category,
    country,
    device,
    memo,
    ts: new Date(t).toISOString(),
    is_fraud: isFraud,
  };
}
