import { describe, expect, it } from 'vitest';
import type { CardRecord } from './cards-spec';
import { CARD_FIELDS, MERCHANT_CATEGORIES } from './cards-spec';
import { generateCards } from './generate';
import { MAX_NEAR_DUPLICATE_DISTANCE, editDistance } from './memo';
import { AMOUNT_STATS } from './model';
import { DEFECT_KINDS, type DefectKind, defectsByIndex, scoreDetections } from './truth';

const N = 50_000;
const RATES: Record<DefectKind, number> = {
  duplicate: 0.02,
  duplicate_id: 0.01,
  near_duplicate: 0.02,
  missing: 0.03,
  outlier: 0.01,
  label_conflict: 0.005,
};
const WINDOW = 800;

const g = generateCards({
  n: N,
  seed: 2026,
  duplicateRate: RATES.duplicate,
  duplicateIdRate: RATES.duplicate_id,
  nearDuplicateRate: RATES.near_duplicate,
  missingRate: RATES.missing,
  outlierRate: RATES.outlier,
  labelConflictRate: RATES.label_conflict,
  referenceWindow: WINDOW,
});
const { records, ids, truth } = g;
const byIndex = defectsByIndex(truth);

/** The record without the fields that a copy may change. */
function without(record: CardRecord, ...fields: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...record };
  for (const f of fields) delete copy[f];
  return copy;
}

describe('injected defects', () => {
  it('hit each requested rate within 10 % relative on 50,000 records', () => {
    for (const kind of DEFECT_KINDS) {
      const count = truth.defects.filter((d) => d.kind === kind).length;
      expect(count).toBe(truth.counts[kind]);
      expect(Math.abs(count / N - RATES[kind]) / RATES[kind]).toBeLessThanOrEqual(0.1);
    }
  });

  it('are sorted by index, one per record, none in the clean prefix', () => {
    const indices = truth.defects.map((d) => d.index);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    expect(new Set(indices).size).toBe(indices.length);
    expect(Math.min(...indices)).toBeGreaterThanOrEqual(truth.cleanPrefix);
    expect(truth.cleanPrefix).toBe(100);
  });

  it('point at earlier clean records within the reference window', () => {
    for (const d of truth.defects) {
      if (!('of' in d)) continue;
      expect(d.of).toBeLessThan(d.index);
      expect(d.index - d.of).toBeLessThanOrEqual(WINDOW);
      expect(byIndex.has(d.of)).toBe(false);
    }
  });

  it('leave every other record complete', () => {
    records.forEach((r, i) => {
      if (byIndex.get(i)?.kind === 'missing') return;
      for (const f of CARD_FIELDS) expect(r[f], `${i}.${f}`).not.toBeNull();
      expect(Object.keys(r)).toEqual([...CARD_FIELDS]);
    });
  });

  it('duplicate: equals its original in every field, with an id of its own', () => {
    for (const d of truth.defects) {
      if (d.kind !== 'duplicate') continue;
      expect(records[d.index]).toEqual(records[d.of]);
      expect(JSON.stringify(records[d.index])).toBe(JSON.stringify(records[d.of]));
      expect(ids[d.index]).not.toBe(ids[d.of]);
    }
  });

  it('duplicate_id: repeats its original id on different content', () => {
    for (const d of truth.defects) {
      if (d.kind !== 'duplicate_id') continue;
      expect(ids[d.index]).toBe(ids[d.of]);
      expect(d.id).toBe(ids[d.of]);
      expect(records[d.index]).not.toEqual(records[d.of]);
      expect(ids.indexOf(d.id)).toBe(d.of);
    }
  });

  it('near_duplicate: a memo a small edit away, the other fields equal or nearly', () => {
    const edits = new Set<string>();
    for (const d of truth.defects) {
      if (d.kind !== 'near_duplicate') continue;
      const copy = records[d.index];
      const source = records[d.of];
      edits.add(d.edit);
      expect(copy.memo).not.toBe(source.memo);
      expect(editDistance(copy.memo!, source.memo!)).toBe(d.distance);
      expect(d.distance).toBeGreaterThan(0);
      expect(d.distance).toBeLessThanOrEqual(MAX_NEAR_DUPLICATE_DISTANCE);
      expect(without(copy, ...d.changed)).toEqual(without(source, ...d.changed));
      expect(copy.ts > source.ts).toBe(true);
      if (d.changed.includes('amount')) {
        expect(copy.amount).not.toBe(source.amount);
        expect(Math.abs(copy.amount! / source.amount! - 1)).toBeLessThan(0.025);
      } else {
        expect(copy.amount).toBe(source.amount);
      }
    }
    expect(edits.size).toBe(6);
  });

  it('missing: the listed fields null or absent, their original values recorded', () => {
    let absent = 0;
    let twoFields = 0;
    for (const d of truth.defects) {
      if (d.kind !== 'missing') continue;
      const r = records[d.index] as unknown as Record<string, unknown>;
      if (d.fields.length === 2) twoFields += 1;
      for (const f of CARD_FIELDS) {
        if ((d.fields as string[]).includes(f)) {
          if (d.how === 'null') expect(r[f]).toBeNull();
          else expect(f in r).toBe(false);
          expect((d.original as Record<string, unknown>)[f]).toBeDefined();
          expect((d.original as Record<string, unknown>)[f]).not.toBeNull();
        } else {
          expect(r[f]).not.toBeNull();
          expect(r[f]).toBeDefined();
        }
      }
      for (const f of d.fields) expect(['amount', 'device', 'memo']).toContain(f);
      if (d.how === 'absent') absent += 1;
    }
    expect(absent / truth.counts.missing).toBeGreaterThan(0.4);
    expect(absent / truth.counts.missing).toBeLessThan(0.6);
    expect(twoFields / truth.counts.missing).toBeGreaterThan(0.15);
  });

  it('outlier: beyond 6 sd of its category, beyond any clean amount, stats honest', () => {
    for (const d of truth.defects) {
      if (d.kind !== 'outlier') continue;
      const r = records[d.index];
      expect(r.amount).toBe(d.value);
      expect(r.merchant_category).toBe(d.category);
      expect(d.mean).toBeCloseTo(AMOUNT_STATS[d.category].mean, 9);
      expect(d.sd).toBeCloseTo(AMOUNT_STATS[d.category].sd, 9);
      expect(d.z).toBeCloseTo((d.value - d.mean) / d.sd, 9);
      expect(d.z).toBeGreaterThan(6);
      expect(d.value).toBeGreaterThanOrEqual(4 * d.cleanMax);
      expect(d.original).toBeLessThanOrEqual(d.cleanMax);
    }
    // The stated mean and sd are those of the clean amounts of the category, and the clean
    // amounts never pass the stated maximum.
    for (const c of MERCHANT_CATEGORIES) {
      const amounts = records
        .filter((r, i) => !byIndex.has(i) && r.merchant_category === c)
        .map((r) => r.amount!);
      const mean = amounts.reduce((s, a) => s + a, 0) / amounts.length;
      const sd = Math.sqrt(amounts.reduce((s, a) => s + (a - mean) ** 2, 0) / amounts.length);
      expect(Math.abs(mean - AMOUNT_STATS[c].mean) / AMOUNT_STATS[c].mean).toBeLessThan(0.03);
      expect(Math.abs(sd - AMOUNT_STATS[c].sd) / AMOUNT_STATS[c].sd).toBeLessThan(0.08);
      expect(Math.max(...amounts)).toBeLessThanOrEqual(AMOUNT_STATS[c].max + 0.005);
    }
  });

  it('label_conflict: equal features, opposite label', () => {
    for (const d of truth.defects) {
      if (d.kind !== 'label_conflict') continue;
      const copy = records[d.index];
      const source = records[d.of];
      expect(without(copy, 'ts', 'is_fraud')).toEqual(without(source, 'ts', 'is_fraud'));
      expect(copy.is_fraud).toBe(1 - source.is_fraud!);
    }
  });
});

describe('scoreDetections', () => {
  it('scores a perfect detector 1/1 and counts misses and false alarms', () => {
    const outliers = truth.defects.filter((d) => d.kind === 'outlier').map((d) => d.index);
    expect(scoreDetections(truth, 'outlier', outliers)).toMatchObject({
      precision: 1,
      recall: 1,
      falsePositives: 0,
    });
    const half = outliers.slice(0, outliers.length / 2);
    const clean = [0, 1, 2, 3, 4];
    const score = scoreDetections(truth, 'outlier', [...half, ...clean]);
    expect(score.truePositives).toBe(half.length);
    expect(score.falsePositives).toBe(5);
    expect(score.falseNegatives).toBe(outliers.length - half.length);
    expect(score.recall).toBeCloseTo(0.5, 9);
  });

  it('lets flags on ignored kinds count neither way', () => {
    const near = truth.defects.filter((d) => d.kind === 'near_duplicate').map((d) => d.index);
    const dups = truth.defects.filter((d) => d.kind === 'duplicate').map((d) => d.index);
    expect(scoreDetections(truth, 'near_duplicate', [...near, ...dups]).precision).toBeLessThan(1);
    expect(
      scoreDetections(truth, 'near_duplicate', [...near, ...dups], { ignore: ['duplicate'] }),
    ).toMatchObject({ precision: 1, recall: 1 });
    expect(scoreDetections(truth, ['duplicate', 'duplicate_id'], []).recall).toBe(0);
  });
});
