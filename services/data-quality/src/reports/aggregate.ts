import type {
  FieldSummary,
  QualityCounts,
  QualityRates,
  QualityReportEvent,
} from '@mlops/contracts';
import { mergeSummaries } from '@mlops/ml';
import { ratesOf } from '../stage/partition-state';

/** The quality of one dataset across its input partitions: what `GET …/quality` answers. */
export interface DatasetQuality {
  dataset: string;
  specVersion: number;
  /** Since the start: every partition's cumulative counts added up, and their rates. */
  total: { counts: QualityCounts; rates: QualityRates };
  /** The current windows (open or last closed) of every partition, added up. */
  current: { counts: QualityCounts; rates: QualityRates };
  /**
   * The trend: rates over the most recent closed window of each partition against the
   * windows before them (record-weighted), and the closed windows themselves, oldest first.
   */
  trend: {
    latest: QualityRates | null;
    previous: QualityRates | null;
    delta: QualityRates | null;
    windows: {
      partition: number;
      index: number;
      closedAt: string;
      records: number;
      rates: QualityRates;
    }[];
  };
  /** Robust statistics per numeric field, merged across partitions (see libs/ml README). */
  stats: Record<string, FieldSummary & { iqr: number | null }>;
  partitions: {
    partition: number;
    /** `live`: this instance holds the partition; `report`: its latest report on the bus. */
    from: 'live' | 'report';
    window: QualityReportEvent['window'];
    records: number;
  }[];
}

const RATE_KEYS = [
  'duplicate',
  'nearDuplicate',
  'missing',
  'imputed',
  'outlier',
  'labelConflict',
  'rejected',
] as const;

function addCounts(parts: readonly QualityCounts[]): QualityCounts {
  const out: QualityCounts = { records: 0, verdicts: { pass: 0, drop: 0, reject: 0 }, flags: {} };
  for (const c of parts) {
    out.records += c.records;
    out.verdicts.pass += c.verdicts.pass;
    out.verdicts.drop += c.verdicts.drop;
    out.verdicts.reject += c.verdicts.reject;
    for (const [k, v] of Object.entries(c.flags)) out.flags[k] = (out.flags[k] ?? 0) + v;
  }
  return out;
}

/** Record-weighted mean of rates; null when no records. */
function weighted(items: readonly { records: number; rates: QualityRates }[]): QualityRates | null {
  const n = items.reduce((s, i) => s + i.records, 0);
  if (n === 0) return null;
  const out = {} as QualityRates;
  for (const k of RATE_KEYS) out[k] = items.reduce((s, i) => s + i.rates[k] * i.records, 0) / n;
  return out;
}

const nan = (x: number | null) => (x === null ? NaN : x);
const orNull = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * Combines the latest report of each partition with the live state of the partitions this
 * instance holds (a live view wins when it has seen at least as many records). Undefined when
 * nothing is known about the dataset.
 */
export function aggregate(
  dataset: string,
  reports: readonly QualityReportEvent[],
  live: readonly QualityReportEvent[],
): DatasetQuality | undefined {
  const chosen = new Map<number, { report: QualityReportEvent; from: 'live' | 'report' }>();
  for (const r of reports)
    if (r.dataset === dataset) chosen.set(r.partition, { report: r, from: 'report' });
  for (const r of live) {
    if (r.dataset !== dataset) continue;
    const prev = chosen.get(r.partition);
    if (!prev || r.cumulative.records >= prev.report.cumulative.records) {
      chosen.set(r.partition, { report: r, from: 'live' });
    }
  }
  if (chosen.size === 0) return undefined;
  const all = [...chosen.values()].sort((a, b) => a.report.partition - b.report.partition);

  const total = addCounts(all.map((c) => c.report.cumulative));
  const current = addCounts(all.map((c) => c.report.counts));

  // Closed windows: the history of every partition, plus a report that is itself a closed
  // window (from the bus; a live one is still open).
  const windows = all.flatMap(({ report, from }) => [
    ...report.history.map((h) => ({ partition: report.partition, ...h })),
    ...(from === 'report'
      ? [
          {
            partition: report.partition,
            index: report.window.index,
            closedAt: report.window.closedAt,
            records: report.counts.records,
            rates: report.rates,
          },
        ]
      : []),
  ]);
  windows.sort((a, b) => a.closedAt.localeCompare(b.closedAt) || a.partition - b.partition);
  const lastIndex = new Map<number, number>();
  for (const w of windows)
    lastIndex.set(w.partition, Math.max(lastIndex.get(w.partition) ?? -1, w.index));
  const latestWindows = windows.filter((w) => lastIndex.get(w.partition) === w.index);
  const earlier = windows.filter((w) => lastIndex.get(w.partition) !== w.index);
  const latest = weighted(latestWindows);
  const previous = weighted(earlier);
  let delta: QualityRates | null = null;
  if (latest && previous) {
    delta = {} as QualityRates;
    for (const k of RATE_KEYS) delta[k] = latest[k] - previous[k];
  }

  const fields = new Set(all.flatMap((c) => Object.keys(c.report.stats)));
  const stats: DatasetQuality['stats'] = {};
  for (const field of fields) {
    const parts = all
      .map((c) => c.report.stats[field])
      .filter((s): s is FieldSummary => s !== undefined && s.count > 0)
      .map((s) => ({
        count: s.count,
        mean: nan(s.mean),
        std: nan(s.std),
        min: nan(s.min),
        max: nan(s.max),
        q1: nan(s.q1),
        median: nan(s.median),
        q3: nan(s.q3),
      }));
    const m = mergeSummaries(parts);
    stats[field] = {
      count: m.count,
      mean: orNull(m.mean),
      std: orNull(m.std),
      min: orNull(m.min),
      max: orNull(m.max),
      q1: orNull(m.q1),
      median: orNull(m.median),
      q3: orNull(m.q3),
      iqr: orNull(m.iqr),
    };
  }

  return {
    dataset,
    specVersion: Math.max(...all.map((c) => c.report.specVersion)),
    total: { counts: total, rates: ratesOf(total) },
    current: { counts: current, rates: ratesOf(current) },
    trend: { latest, previous, delta, windows: windows.slice(-48) },
    stats,
    partitions: all.map(({ report, from }) => ({
      partition: report.partition,
      from,
      window: report.window,
      records: report.cumulative.records,
    })),
  };
}
