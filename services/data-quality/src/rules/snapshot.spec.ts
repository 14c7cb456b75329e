import { DatasetSpec } from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import { describe, expect, it } from 'vitest';
import { QualityEngine, type QualityRecord, type QualityResult } from './engine';
import { parseQualityConfig } from './quality-config';

const gen = generateCards({
  n: 6000,
  seed: 11,
  duplicateRate: 0.02,
  duplicateIdRate: 0.01,
  nearDuplicateRate: 0.02,
  missingRate: 0.02,
  outlierRate: 0.01,
  labelConflictRate: 0.01,
});

// Every rule on, with the paths that change records: clip, reject, small windows that evict.
const config = parseQualityConfig(
  DatasetSpec.parse({
    ...cardsSpec(),
    quality: {
      duplicates: { window: { count: 1500 } },
      nearDuplicates: { maxHamming: 8, window: { count: 800 } },
      outliers: { warmup: 300, action: 'clip', transform: { amount: 'log' }, zThreshold: 5.5 },
      labels: { conflicts: 'reject', window: { count: 2000 } },
    },
  }),
);

const step = (e: QualityEngine, i: number): QualityResult =>
  e.process(gen.records[i] as unknown as QualityRecord, {
    id: gen.ids[i],
    entityId: gen.records[i].card_id,
  });

/** Through the changelog: the snapshot must survive JSON. */
const roundTrip = (e: QualityEngine): QualityEngine =>
  QualityEngine.restore(JSON.parse(JSON.stringify(e.snapshot())));

describe('snapshot / restore', () => {
  it('continues exactly as an uninterrupted run, cut in and after the warm-up', () => {
    const straight = new QualityEngine(config);
    const expected = gen.records.map((_, i) => step(straight, i));

    const cuts = new Set([0, 150, 2500, 4000, 5999]);
    let e = new QualityEngine(config);
    const actual: QualityResult[] = [];
    for (let i = 0; i < gen.records.length; i += 1) {
      if (cuts.has(i)) e = roundTrip(e);
      actual.push(step(e, i));
    }

    expect(actual).toEqual(expected);
    expect(e.snapshot()).toEqual(straight.snapshot());
    expect(e.report()).toEqual(straight.report());
    expect(e.robustStats()).toEqual(straight.robustStats());
    // The run did exercise every rule.
    const flags = straight.report().flags;
    for (const f of ['duplicate_id', 'duplicate_content', 'near_duplicate', 'imputed:amount']) {
      expect(flags[f]).toBeGreaterThan(0);
    }
    expect(flags['clipped:amount']).toBeGreaterThan(0);
    expect(straight.report().verdicts.reject).toBeGreaterThan(0);
  });

  it('is plain JSON and independent of the engine it came from', () => {
    const e = new QualityEngine(config);
    for (let i = 0; i < 500; i += 1) step(e, i);
    const snap = e.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    step(e, 500);
    expect(e.snapshot()).not.toEqual(snap);
    expect(QualityEngine.restore(snap).report().records).toBe(500);
  });

  it('refuses an unknown snapshot version', () => {
    const snap = { ...new QualityEngine(config).snapshot(), version: 2 };
    expect(() => QualityEngine.restore(snap as never)).toThrow('unknown snapshot version 2');
  });
});
