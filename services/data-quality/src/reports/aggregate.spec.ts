import { describe, expect, it } from 'vitest';
import { DatasetSpec, type QualityReportEvent, type ValidatedEvent } from '@mlops/contracts';
import { cardsSpec } from '@mlops/datagen';
import { parseQualityConfig } from '../rules/quality-config';
import { PartitionState, type ConfigLookup } from '../stage/partition-state';
import { aggregate } from './aggregate';

const config = parseQualityConfig(
  DatasetSpec.parse({ ...cardsSpec(), quality: { report: { everyRecords: 100 } } }),
);
const lookup: ConfigLookup = () => ({ config, specVersion: 1 });
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** `n` records of one partition; every `missingEvery`-th has no amount. */
function run(partition: number, n: number, missingEvery: number, amountBase: number) {
  const state = new PartitionState(partition);
  const inputs = Array.from({ length: n }, (_, i) => {
    const data: ValidatedEvent = {
      dataset: 'cards',
      specVersion: 1,
      entityId: `c${i}`,
      record: {
        card_id: `c${i}`,
        amount: i % missingEvery === 0 ? null : amountBase + (i % 50),
        hour: i % 24,
        merchant_category: 'grocery',
        country: 'DE',
        device: 'mobile',
        memo: `p${partition} record ${i}`,
        ts: new Date(T0 + i).toISOString(),
        is_fraud: 0,
      },
      ingestedAt: new Date(T0 + i).toISOString(),
      via: 'kafka',
      source: 'test',
    };
    return { offset: String(i), id: `${partition}-${i}`, data };
  });
  const { reports } = state.process(inputs, lookup);
  return { state, reports };
}

describe('aggregate', () => {
  it('adds up partitions, prefers a live view that has seen more, and merges statistics', () => {
    const a = run(0, 250, 10, 10); // windows of 100: 2 closed, 50 open; 10 % missing
    const b = run(1, 300, 5, 100); // 3 closed; 20 % missing
    const published: QualityReportEvent[] = [a.reports.at(-1)!, b.reports.at(-1)!];
    // This instance holds partition 0 live (250 records seen, more than its last report's 200).
    const q = aggregate('cards', published, a.state.live())!;
    expect(q.partitions.map((p) => [p.partition, p.from, p.records])).toEqual([
      [0, 'live', 250],
      [1, 'report', 300],
    ]);
    expect(q.total.counts.records).toBe(550);
    expect(q.total.counts.flags.missing).toBe(25 + 60);
    expect(q.total.rates.missing).toBeCloseTo(85 / 550, 12);
    // Current windows: partition 0's open window (50) and partition 1's last closed one (100).
    expect(q.current.counts.records).toBe(150);
    // Trend: latest closed windows (p0 #1, p1 #2) against the earlier ones (p0 #0, p1 #0, #1).
    expect(q.trend.windows).toHaveLength(2 + 3);
    expect(q.trend.latest!.missing).toBeCloseTo((10 + 20) / 200, 12);
    expect(q.trend.previous!.missing).toBeCloseTo((10 + 20 + 20) / 300, 12);
    expect(q.trend.delta!.missing).toBeCloseTo(30 / 200 - 50 / 300, 12);
    // Statistics: counts and means merge exactly.
    const sa = a.state.live()[0].stats.amount;
    const sb = b.reports.at(-1)!.stats.amount;
    expect(q.stats.amount.count).toBe(sa.count + sb.count);
    expect(q.stats.amount.mean).toBeCloseTo(
      (sa.mean! * sa.count + sb.mean! * sb.count) / (sa.count + sb.count),
      9,
    );
    expect(q.stats.amount.min).toBe(Math.min(sa.min!, sb.min!));
    expect(q.stats.amount.median!).toBeGreaterThan(sa.median!);
    expect(q.stats.amount.median!).toBeLessThan(sb.median!);
  });

  it('knows nothing of a dataset without reports', () => {
    expect(aggregate('loans', [], [])).toBeUndefined();
  });
});
