import type {
  FieldSummary,
  QualityCounts,
  QualityRates,
  QualityReportEvent,
  RejectionReason,
  ValidatedEvent,
} from '@mlops/contracts';
import {
  QualityEngine,
  type FieldStats,
  type QualityReport,
  type QualityResult,
  type QualitySnapshot,
} from '../rules/engine';
import type { QualityConfig } from '../rules/quality-config';

/**
 * Everything data-quality knows about one input partition: a rules engine per dataset and the
 * report window of each. Pure: records in (in offset order), decisions and reports out. The
 * Kafka stage holds one per partition it owns, snapshots it into the changelog and, after a
 * restart or a rebalance, rebuilds it from the snapshot plus a replay of the input after it —
 * which gives the same state because nothing here depends on the wall clock: windows close by
 * record count or by the records' ingest times.
 */

/** How many closed windows each report carries as its trend. */
export const HISTORY = 24;

/** One record to judge: what the stage decodes from events.validated.v1. */
export interface QualityInput {
  offset: string;
  id: string;
  data: ValidatedEvent;
}

export type Decision =
  | { kind: 'clean'; input: QualityInput; result: QualityResult }
  | { kind: 'reject'; input: QualityInput; reasons: RejectionReason[] };

interface WindowState {
  index: number;
  /** Cumulative counts when the window opened: the window's own counts are now − then. */
  start: QualityReport;
  fromOffset: string | null;
  toOffset: string | null;
  openedAt: string | null;
  closedAt: string | null;
  history: QualityReportEvent['history'];
}

interface DatasetState {
  specVersion: number;
  engine: QualityEngine;
  window: WindowState;
  /** The configuration object last compared equal to the engine's (saves a deep compare). */
  checked?: QualityConfig;
}

export interface PartitionSnapshot {
  version: 1;
  partition: number;
  /** The first input offset the snapshot has not seen. */
  nextOffset: string;
  datasets: [string, { specVersion: number; engine: QualitySnapshot; window: WindowState }][];
}

/** The configuration a dataset's records are judged by; undefined for an unknown dataset. */
export type ConfigLookup = (
  dataset: string,
) => { config: QualityConfig; specVersion: number } | { error: RejectionReason } | undefined;

const emptyCounts = (): QualityReport => ({
  records: 0,
  verdicts: { pass: 0, drop: 0, reject: 0 },
  flags: {},
});

function diff(now: QualityReport, then: QualityReport): QualityCounts {
  const flags: Record<string, number> = {};
  for (const [k, v] of Object.entries(now.flags)) {
    const d = v - (then.flags[k] ?? 0);
    if (d > 0) flags[k] = d;
  }
  return {
    records: now.records - then.records,
    verdicts: {
      pass: now.verdicts.pass - then.verdicts.pass,
      drop: now.verdicts.drop - then.verdicts.drop,
      reject: now.verdicts.reject - then.verdicts.reject,
    },
    flags,
  };
}

export function ratesOf(c: QualityCounts): QualityRates {
  const n = c.records;
  const r = (k: number) => (n === 0 ? 0 : Math.min(1, k / n));
  const f = (k: string) => c.flags[k] ?? 0;
  return {
    duplicate: r(f('duplicate_id') + f('duplicate_content')),
    nearDuplicate: r(f('near_duplicate')),
    missing: r(f('missing')),
    imputed: r(f('imputed')),
    outlier: r(f('outlier')),
    labelConflict: r(f('label_conflict')),
    rejected: r(c.verdicts.reject),
  };
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function summaryOf(s: FieldStats): FieldSummary {
  return {
    count: s.count,
    mean: finite(s.mean),
    std: finite(s.std),
    min: finite(s.min),
    max: finite(s.max),
    q1: finite(s.q1),
    median: finite(s.median),
    q3: finite(s.q3),
    iqr: finite(s.iqr),
  };
}

/** Why a record was dropped or rejected, as dead-letter reasons. */
function reasonsOf(result: QualityResult): RejectionReason[] {
  const out: RejectionReason[] = [];
  result.flags.forEach((flag, i) => {
    const message = result.reasons[i] ?? flag;
    if (flag === 'duplicate_id' || flag === 'duplicate_content') out.push({ code: flag, message });
    else if (flag.startsWith('near_duplicate:')) out.push({ code: 'near_duplicate', message });
    else if (flag === 'label_conflict') out.push({ code: 'label_conflict', message });
    else if (flag.startsWith('outlier:'))
      out.push({ code: 'outlier', message, field: flag.slice('outlier:'.length) });
  });
  // Reasons line up with flags except where one flag has no sentence of its own (imputed,
  // clipped); a drop or reject always has at least one of the codes above.
  return out.length > 0 ? out : [{ code: 'handler_rejected', message: result.reasons.join('; ') }];
}

export class PartitionState {
  private readonly datasets = new Map<string, DatasetState>();
  /** Records since the last snapshot (not part of the snapshot). */
  sinceSnapshot = 0;

  constructor(
    readonly partition: number,
    /** The first input offset not yet seen. */
    public nextOffset = '0',
  ) {}

  /**
   * Judges records in order; returns a decision per record and the reports of the windows
   * that closed. `lookup` gives each dataset's configuration; an engine whose configuration
   * changed (a new spec version with other rules) starts again from empty state.
   */
  process(
    inputs: readonly QualityInput[],
    lookup: ConfigLookup,
  ): { decisions: Decision[]; reports: QualityReportEvent[]; resets: string[] } {
    const decisions: Decision[] = [];
    const reports: QualityReportEvent[] = [];
    const resets: string[] = [];
    for (const input of inputs) {
      const { dataset } = input.data;
      const found = lookup(dataset);
      if (found === undefined || 'error' in found) {
        decisions.push({
          kind: 'reject',
          input,
          reasons: [
            found?.error ?? {
              code: 'unknown_dataset',
              message: `no dataset spec named "${dataset}"`,
            },
          ],
        });
        this.advance(input.offset);
        continue;
      }
      let state = this.datasets.get(dataset);
      if (state && state.checked !== found.config) {
        if (JSON.stringify(state.engine.config) === JSON.stringify(found.config)) {
          state.checked = found.config;
        } else {
          resets.push(dataset);
          state = undefined;
        }
      }
      if (!state) {
        state = {
          specVersion: found.specVersion,
          engine: new QualityEngine(found.config),
          window: newWindow(0, emptyCounts(), []),
          checked: found.config,
        };
        this.datasets.set(dataset, state);
      }
      state.specVersion = found.specVersion;
      const w = state.window;
      const interval = found.config.report.intervalSeconds * 1000;
      if (
        w.openedAt !== null &&
        Date.parse(input.data.ingestedAt) - Date.parse(w.openedAt) >= interval
      ) {
        reports.push(this.close(dataset, state));
      }
      const result = state.engine.process(input.data.record, {
        id: input.id,
        entityId: input.data.entityId,
      });
      const win = state.window;
      win.fromOffset ??= input.offset;
      win.openedAt ??= input.data.ingestedAt;
      win.toOffset = input.offset;
      win.closedAt = input.data.ingestedAt;
      if (result.verdict === 'pass') decisions.push({ kind: 'clean', input, result });
      else decisions.push({ kind: 'reject', input, reasons: reasonsOf(result) });
      if (state.engine.records - win.start.records >= found.config.report.everyRecords) {
        reports.push(this.close(dataset, state));
      }
      this.advance(input.offset);
    }
    return { decisions, reports, resets };
  }

  /** The open window's report so far, per dataset (what a live view shows). */
  live(): QualityReportEvent[] {
    return [...this.datasets].map(([dataset, s]) => this.reportOf(dataset, s));
  }

  snapshot(): PartitionSnapshot {
    return {
      version: 1,
      partition: this.partition,
      nextOffset: this.nextOffset,
      datasets: [...this.datasets].map(([name, s]) => [
        name,
        { specVersion: s.specVersion, engine: s.engine.snapshot(), window: s.window },
      ]),
    };
  }

  static restore(s: PartitionSnapshot): PartitionState {
    const version: unknown = s.version;
    if (version !== 1) throw new Error(`unknown partition snapshot version ${String(version)}`);
    const state = new PartitionState(s.partition, s.nextOffset);
    for (const [name, d] of s.datasets) {
      state.datasets.set(name, {
        specVersion: d.specVersion,
        engine: QualityEngine.restore(d.engine),
        window: structuredClone(d.window),
      });
    }
    return state;
  }

  private advance(offset: string): void {
    const next = BigInt(offset) + 1n;
    if (next > BigInt(this.nextOffset)) this.nextOffset = next.toString();
    this.sinceSnapshot += 1;
  }

  private close(dataset: string, state: DatasetState): QualityReportEvent {
    const report = this.reportOf(dataset, state);
    const history = [
      ...state.window.history,
      {
        index: report.window.index,
        closedAt: report.window.closedAt,
        records: report.counts.records,
        rates: report.rates,
      },
    ].slice(-HISTORY);
    state.window = newWindow(state.window.index + 1, state.engine.report(), history);
    return report;
  }

  private reportOf(dataset: string, state: DatasetState): QualityReportEvent {
    const w = state.window;
    const cumulative = state.engine.report();
    const counts = diff(cumulative, w.start);
    const stats: Record<string, FieldSummary> = {};
    for (const [field, s] of Object.entries(state.engine.robustStats())) {
      stats[field] = summaryOf(s);
    }
    return {
      dataset,
      specVersion: state.specVersion,
      partition: this.partition,
      window: {
        index: w.index,
        fromOffset: w.fromOffset ?? this.nextOffset,
        toOffset: w.toOffset ?? this.nextOffset,
        openedAt: w.openedAt ?? new Date(0).toISOString(),
        closedAt: w.closedAt ?? new Date(0).toISOString(),
      },
      counts,
      rates: ratesOf(counts),
      cumulative,
      stats,
      history: w.history,
    };
  }
}

function newWindow(
  index: number,
  start: QualityReport,
  history: QualityReportEvent['history'],
): WindowState {
  return {
    index,
    start: structuredClone(start),
    fromOffset: null,
    toOffset: null,
    openedAt: null,
    closedAt: null,
    history,
  };
}
