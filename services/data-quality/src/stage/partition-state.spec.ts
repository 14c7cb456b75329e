import { describe, expect, it } from 'vitest';
import { DatasetSpec, type ValidatedEvent } from '@mlops/contracts';
import { generateCards, cardsSpec } from '@mlops/datagen';
import { parseQualityConfig, type QualitySectionInput } from '../rules/quality-config';
import { PartitionState, type ConfigLookup, type QualityInput } from './partition-state';

function lookupFor(quality: QualitySectionInput = {}, version = 1): ConfigLookup {
  const config = parseQualityConfig(DatasetSpec.parse({ ...cardsSpec('cards', version), quality }));
  return (dataset) => (dataset === 'cards' ? { config, specVersion: version } : undefined);
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function input(
  offset: number,
  record: Record<string, unknown>,
  id = `e-${offset}`,
  atMs = T0 + offset * 1000,
): QualityInput {
  const data: ValidatedEvent = {
    dataset: 'cards',
    specVersion: 1,
    entityId: String(record.card_id),
    record,
    ingestedAt: new Date(atMs).toISOString(),
    via: 'kafka',
    source: 'test',
  };
  return { offset: String(offset), id, data };
}

const card = (i: number, extra: Record<string, unknown> = {}) => ({
  card_id: `c${i % 50}`,
  amount: 10 + (i % 17),
  hour: i % 24,
  merchant_category: 'grocery',
  country: 'DE',
  device: 'mobile',
  memo: `weekly groceries number ${i}`,
  ts: new Date(T0 + i * 1000).toISOString(),
  is_fraud: 0,
  ...extra,
});

describe('PartitionState.process', () => {
  it('passes clean records, dead-letters duplicates with their reason codes, flags and imputes', () => {
    const p = new PartitionState(0);
    const { decisions } = p.process(
      [
        input(0, card(0)),
        input(1, card(0), 'e-0'), // same id again: a retry
        input(2, card(0), 'other'), // same content, new id
        input(3, card(3, { amount: null })),
      ],
      lookupFor(),
    );
    expect(decisions.map((d) => d.kind)).toEqual(['clean', 'reject', 'reject', 'clean']);
    expect(decisions[1]).toMatchObject({ reasons: [{ code: 'duplicate_id' }] });
    expect(decisions[2]).toMatchObject({ reasons: [{ code: 'duplicate_content' }] });
    const last = decisions[3];
    if (last.kind !== 'clean') throw new Error('expected clean');
    expect(last.result.flags).toEqual(['missing:amount', 'imputed:amount']);
    expect(last.result.record.amount).toBe(10); // the median of the one amount seen
    expect(p.nextOffset).toBe('4');
  });

  it('dead-letters records of an unknown dataset or an invalid quality section', () => {
    const p = new PartitionState(0);
    const other = input(0, card(0));
    other.data = { ...other.data, dataset: 'loans' };
    const bad: ConfigLookup = () => ({ error: { code: 'quality_config_invalid', message: 'x' } });
    expect(p.process([other], lookupFor()).decisions[0]).toMatchObject({
      kind: 'reject',
      reasons: [{ code: 'unknown_dataset' }],
    });
    expect(p.process([input(1, card(1))], bad).decisions[0]).toMatchObject({
      kind: 'reject',
      reasons: [{ code: 'quality_config_invalid' }],
    });
    expect(p.nextOffset).toBe('2');
  });

  it('closes a window every `everyRecords` records, with its own counts and the trend', () => {
    const p = new PartitionState(2);
    const lookup = lookupFor({ report: { everyRecords: 4 } });
    const inputs = Array.from({ length: 10 }, (_, i) =>
      input(100 + i, card(i, i === 5 ? { device: null } : {}), i === 6 ? 'e-100' : undefined),
    );
    const { reports } = p.process(inputs, lookup);
    expect(reports.map((r) => r.window.index)).toEqual([0, 1]);
    expect(reports.map((r) => [r.window.fromOffset, r.window.toOffset])).toEqual([
      ['100', '103'],
      ['104', '107'],
    ]);
    expect(reports[0].counts).toEqual({
      records: 4,
      verdicts: { pass: 4, drop: 0, reject: 0 },
      flags: {},
    });
    // Window 1: a missing device (imputed with the mode) and a duplicate id.
    expect(reports[1].counts).toEqual({
      records: 4,
      verdicts: { pass: 3, drop: 1, reject: 0 },
      flags: {
        duplicate_id: 1,
        missing: 1,
        'missing:device': 1,
        imputed: 1,
        'imputed:device': 1,
      },
    });
    expect(reports[1].rates).toMatchObject({ duplicate: 0.25, missing: 0.25, imputed: 0.25 });
    expect(reports[1].cumulative.records).toBe(8);
    expect(reports[1].history).toEqual([
      { index: 0, closedAt: reports[0].window.closedAt, records: 4, rates: reports[0].rates },
    ]);
    expect(reports[1].partition).toBe(2);
    // Statistics learn from records that pass: the duplicate is not one.
    expect(reports[1].stats.amount.count).toBe(7);
    // The open window holds the last two.
    expect(p.live()[0].counts.records).toBe(2);
    expect(p.live()[0].window.index).toBe(2);
  });

  it('closes a window at the first record ingested `intervalSeconds` after its first', () => {
    const p = new PartitionState(0);
    const lookup = lookupFor({ report: { everyRecords: 1000, intervalSeconds: 60 } });
    const at = [0, 30, 59, 60, 61, 200].map((s) => T0 + s * 1000);
    const { reports } = p.process(
      at.map((ms, i) => input(i, card(i), undefined, ms)),
      lookup,
    );
    // [0, 30, 59] close when 60 arrives; [60, 61] when 200 arrives.
    expect(reports.map((r) => r.counts.records)).toEqual([3, 2]);
    expect(reports[0].window.closedAt).toBe(new Date(at[2]).toISOString());
  });

  it('starts a dataset again from empty state when its rules change', () => {
    const p = new PartitionState(0);
    p.process([input(0, card(0))], lookupFor());
    const { decisions, resets } = p.process(
      [input(1, card(0), 'e-0')],
      lookupFor({ duplicates: { window: { count: 10 } } }, 2),
    );
    expect(resets).toEqual(['cards']);
    // The new engine has not seen e-0.
    expect(decisions[0].kind).toBe('clean');
  });
});

describe('PartitionState snapshots', () => {
  it('restored from its JSON snapshot, it decides and reports exactly as if never stopped', () => {
    const gen = generateCards({
      n: 6000,
      seed: 11,
      duplicateRate: 0.02,
      duplicateIdRate: 0.01,
      nearDuplicateRate: 0.02,
      missingRate: 0.02,
      outlierRate: 0.01,
      labelConflictRate: 0.01,
      cleanPrefix: 600,
    });
    const lookup = lookupFor({
      ...(cardsSpec().quality as QualitySectionInput),
      report: { everyRecords: 700, intervalSeconds: 1_000_000 },
    });
    const inputs = gen.records.map((r, i) =>
      input(i, r as unknown as Record<string, unknown>, gen.ids[i]),
    );
    const whole = new PartitionState(1);
    const all = whole.process(inputs, lookup);

    const first = new PartitionState(1);
    const a = first.process(inputs.slice(0, 3500), lookup);
    const restored = PartitionState.restore(JSON.parse(JSON.stringify(first.snapshot())));
    expect(restored.nextOffset).toBe('3500');
    const b = restored.process(inputs.slice(3500), lookup);

    const view = (d: (typeof all.decisions)[number]) =>
      d.kind === 'clean'
        ? ['clean', d.input.id, d.result.flags, d.result.record]
        : ['reject', d.input.id, d.reasons];
    expect([...a.decisions, ...b.decisions].map(view)).toEqual(all.decisions.map(view));
    expect([...a.reports, ...b.reports]).toEqual(all.reports);
    expect(all.reports).toHaveLength(8);
    // The defects are seen: at least the injected duplicates are dead-lettered.
    const rejected = all.decisions.filter((d) => d.kind === 'reject').length;
    const injectedDrops = gen.truth.defects.filter((d) =>
      ['duplicate', 'duplicate_id', 'near_duplicate'].includes(d.kind),
    ).length;
    expect(rejected).toBeGreaterThanOrEqual(Math.floor(injectedDrops * 0.95));
  });
});
