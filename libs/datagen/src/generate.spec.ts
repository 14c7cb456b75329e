import { createHash } from 'node:crypto';
import { DatasetSpec, validateRecord } from '@mlops/contracts';
import { describe, expect, it } from 'vitest';
import type { CardRecord } from './cards-spec';
import { CARD_FIELDS, COUNTRIES, DEVICES, MERCHANT_CATEGORIES, cardsSpec } from './index';
import { type GenerateCardsOptions, type GeneratedCards, generateCards } from './generate';
import { defectIndices } from './truth';

const DIRTY: GenerateCardsOptions = {
  n: 20_000,
  seed: 7,
  duplicateRate: 0.02,
  duplicateIdRate: 0.01,
  nearDuplicateRate: 0.02,
  missingRate: 0.03,
  outlierRate: 0.01,
  labelConflictRate: 0.01,
  drift: { from: 15_000, shifts: { amount: { meanShiftSd: 0.5 } } },
};

function sha256(g: GeneratedCards): string {
  return createHash('sha256').update(JSON.stringify(g)).digest('hex');
}

function cleanIndices(g: GeneratedCards): number[] {
  const dirty = new Set(g.truth.defects.map((d) => d.index));
  return g.records.map((_, i) => i).filter((i) => !dirty.has(i));
}

describe('generateCards: reproducibility', () => {
  it('gives byte-identical records, ids and truth for the same options', () => {
    const a = sha256(generateCards(DIRTY));
    const b = sha256(generateCards({ ...DIRTY }));
    expect(a).toBe(b);
  });

  it('gives different data for another seed', () => {
    expect(sha256(generateCards({ ...DIRTY, seed: 8 }))).not.toBe(sha256(generateCards(DIRTY)));
  });

  it('keeps the clean records independent of the defect rates', () => {
    const clean = generateCards({ n: 5000, seed: 3 });
    const dirty = generateCards({ ...DIRTY, n: 5000, seed: 3, drift: undefined });
    const replaced = new Set(dirty.truth.defects.map((d) => d.index));
    let compared = 0;
    for (let i = 0; i < 5000; i += 1) {
      if (replaced.has(i)) continue;
      expect(dirty.records[i]).toEqual(clean.records[i]);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(4000);
  });

  it('generates the records before the drift point as an undrifted run does', () => {
    const drifted = generateCards(DIRTY);
    const plain = generateCards({ ...DIRTY, drift: undefined });
    expect(drifted.records.slice(0, 15_000)).toEqual(plain.records.slice(0, 15_000));
    expect(drifted.records.slice(15_000)).not.toEqual(plain.records.slice(15_000));
  });
});

describe('generateCards: records', () => {
  const g = generateCards({ n: 50_000, seed: 11 });
  const spec = DatasetSpec.parse(cardsSpec());

  it('makes every clean record valid under the cards spec, with every field present', () => {
    for (const record of g.records) {
      const result = validateRecord(spec, record);
      if (!result.ok) throw new Error(JSON.stringify({ record, problems: result.problems }));
      expect(Object.keys(record)).toEqual([...CARD_FIELDS]);
    }
  });

  it('also makes every record valid when the defaults inject every defect', () => {
    const dirty = generateCards(DIRTY);
    const invalid = dirty.records.filter((r) => !validateRecord(spec, r).ok);
    expect(invalid).toEqual([]);
  });

  it('has about 2 % fraud, and the requested rate when another is given', () => {
    const rate = (records: CardRecord[]) =>
      records.filter((r) => r.is_fraud === 1).length / records.length;
    expect(rate(g.records)).toBeGreaterThan(0.017);
    expect(rate(g.records)).toBeLessThan(0.023);
    const fivePercent = generateCards({ n: 50_000, seed: 11, fraudRate: 0.05 });
    expect(rate(fivePercent.records)).toBeGreaterThan(0.045);
    expect(rate(fivePercent.records)).toBeLessThan(0.055);
  });

  it('uses every category, device and country, and online purchases never at a pos', () => {
    expect(new Set(g.records.map((r) => r.merchant_category))).toEqual(
      new Set(MERCHANT_CATEGORIES),
    );
    expect(new Set(g.records.map((r) => r.device))).toEqual(new Set(DEVICES));
    expect(new Set(g.records.map((r) => r.country))).toEqual(new Set(COUNTRIES));
    expect(g.records.some((r) => r.merchant_category === 'online' && r.device === 'pos')).toBe(
      false,
    );
  });

  it('spreads transactions over many cards and keeps each card at one home country mostly', () => {
    const byCard = new Map<string, Map<string, number>>();
    for (const r of g.records) {
      const countries = byCard.get(r.card_id) ?? new Map<string, number>();
      countries.set(r.country!, (countries.get(r.country!) ?? 0) + 1);
      byCard.set(r.card_id, countries);
    }
    expect(byCard.size).toBeGreaterThan(1500);
    let home = 0;
    for (const countries of byCard.values()) home += Math.max(...countries.values());
    expect(home / g.records.length).toBeGreaterThan(0.85);
  });

  it('orders timestamps strictly increasing from the start and numbers ids by index', () => {
    expect(g.records[0].ts).toBe('2026-01-01T00:00:00.000Z');
    for (let i = 1; i < g.records.length; i += 1) {
      expect(g.records[i].ts > g.records[i - 1].ts).toBe(true);
    }
    expect(g.ids[42]).toBe('cards-11-00000042');
    expect(new Set(g.ids).size).toBe(g.ids.length);
  });

  it('keeps clean timestamps increasing and ids unique but for the injected repeats', () => {
    const dirty = generateCards(DIRTY);
    const clean = cleanIndices(dirty);
    for (let k = 1; k < clean.length; k += 1) {
      expect(dirty.records[clean[k]].ts > dirty.records[clean[k - 1]].ts).toBe(true);
    }
    const repeats = defectIndices(dirty.truth, 'duplicate_id');
    const unique = new Set(dirty.ids.filter((_, i) => !repeats.has(i)));
    expect(unique.size).toBe(dirty.ids.length - repeats.size);
  });

  it('has a signal a logistic regression learns clearly, but not perfectly', () => {
    // Raw features as a baseline model would see them: ln amount, hour, one-hot categoricals.
    const features = (r: CardRecord): number[] => [
      Math.log(r.amount!),
      r.hour!,
      ...MERCHANT_CATEGORIES.map((c) => (r.merchant_category === c ? 1 : 0)),
      ...DEVICES.map((d) => (r.device === d ? 1 : 0)),
      ...COUNTRIES.map((c) => (r.country === c ? 1 : 0)),
    ];
    const x = g.records.map(features);
    const y = g.records.map((r) => r.is_fraud!);
    const train = 35_000;
    const d = x[0].length;
    const mean = new Array<number>(d).fill(0);
    const sd = new Array<number>(d).fill(0);
    for (let i = 0; i < train; i += 1) for (let j = 0; j < d; j += 1) mean[j] += x[i][j] / train;
    for (let i = 0; i < train; i += 1) {
      for (let j = 0; j < d; j += 1) sd[j] += (x[i][j] - mean[j]) ** 2 / train;
    }
    for (const row of x)
      for (let j = 0; j < d; j += 1) row[j] = (row[j] - mean[j]) / (Math.sqrt(sd[j]) || 1);
    const w = new Array<number>(d).fill(0);
    let b = 0;
    for (let it = 0; it < 250; it += 1) {
      const gw = new Array<number>(d).fill(0);
      let gb = 0;
      for (let i = 0; i < train; i += 1) {
        let z = b;
        for (let j = 0; j < d; j += 1) z += w[j] * x[i][j];
        const e = 1 / (1 + Math.exp(-z)) - y[i];
        gb += e;
        for (let j = 0; j < d; j += 1) gw[j] += e * x[i][j];
      }
      b -= gb / train;
      for (let j = 0; j < d; j += 1) w[j] -= gw[j] / train;
    }
    const scored = x.slice(train).map((row, k) => ({
      score: row.reduce((s, v, j) => s + v * w[j], b),
      label: y[train + k],
    }));
    expect(auc(scored)).toBeGreaterThan(0.7);
    expect(auc(scored)).toBeLessThan(0.95);
  });
});

/** ROC AUC by the rank-sum formula (ties broken by order; scores are continuous). */
function auc(scored: { score: number; label: number }[]): number {
  const sorted = scored.slice().sort((a, b) => a.score - b.score);
  let rankSum = 0;
  let positives = 0;
  sorted.forEach((s, k) => {
    if (s.label === 1) {
      rankSum += k + 1;
      positives += 1;
    }
  });
  const negatives = sorted.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

describe('generateCards: options', () => {
  it('refuses bad options with a RangeError', () => {
    expect(() => generateCards({ n: -1 })).toThrow(RangeError);
    expect(() => generateCards({ n: 10, seed: 1.5 })).toThrow(RangeError);
    expect(() => generateCards({ n: 100, duplicateRate: 1.5 })).toThrow(RangeError);
    expect(() => generateCards({ n: 100, duplicateRate: 0.6, missingRate: 0.6 })).toThrow(
      /do not fit/,
    );
    expect(() => generateCards({ n: 100, fraudRate: 0 })).toThrow(RangeError);
    expect(() =>
      generateCards({ n: 100, missingRate: 0.1, missingFields: ['card_id' as never] }),
    ).toThrow(/cannot be blanked/);
    expect(() => generateCards({ n: 100, drift: { from: 101, shifts: {} } })).toThrow(/beyond/);
    expect(() =>
      generateCards({ n: 100, drift: { from: 10, shifts: { colour: {} } as never } }),
    ).toThrow(/unknown field/);
    expect(() =>
      generateCards({
        n: 100,
        drift: { from: 10, shifts: { merchant_category: { weights: { casino: 1 } as never } } },
      }),
    ).toThrow(/unknown value/);
    expect(() =>
      generateCards({ n: 100, drift: { from: 10, shifts: { amount: { scale: 0 } } } }),
    ).toThrow(/scale/);
  });

  it('handles empty and tiny streams', () => {
    expect(generateCards({ n: 0 }).records).toEqual([]);
    const one = generateCards({ n: 1, duplicateRate: 0.4 });
    expect(one.records).toHaveLength(1);
    expect(one.truth.defects).toEqual([]);
  });

  it('honours start, meanGapMs, cards and idPrefix', () => {
    const g = generateCards({
      n: 1000,
      start: '2025-06-01T12:00:00Z',
      meanGapMs: 0,
      cards: 3,
      idPrefix: 'x',
    });
    expect(g.records[0].ts).toBe('2025-06-01T12:00:00.000Z');
    expect(g.records[999].ts).toBe('2025-06-01T12:00:00.999Z');
    expect(new Set(g.records.map((r) => r.card_id)).size).toBe(3);
    expect(g.ids[7]).toBe('x-00000007');
  });
});
