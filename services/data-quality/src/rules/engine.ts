import {
  type FieldSummary,
  type Fingerprint64,
  hash53,
  LshIndex,
  type LshIndexState,
  RunningStats,
  type RunningStatsState,
  simhash,
  StreamingQuartiles,
  type StreamingQuartilesState,
} from '@mlops/ml';
import { normalizedEditDistance } from './edit-distance';
import type { QualityConfig, QualityField } from './quality-config';

/**
 * The data-quality rules of one dataset as a pure state machine: records go in one at a time,
 * in stream order, and come out with a verdict, a repaired copy and flags. No I/O; the whole
 * state is a JSON snapshot, so the Kafka stage can changelog it and continue after a restart
 * exactly where it stopped.
 *
 * Rules, in order (a drop ends the evaluation):
 * 1. exact duplicates — the event id, then a hash of the content (every field, timestamp
 *    included), each against a count window (oldest out) → drop;
 * 2. near duplicates — SimHash of the configured text fields, LSH lookup within `maxHamming`,
 *    then the same entity (when `sameEntity`) and a normalised edit distance ≤
 *    `verifyEditDistance` on the text → drop or flag. A candidate whose label differs from the
 *    record's is not a re-entry of the same event but (near-)identical features with another
 *    label: it is reported by the label rule instead (step 5) rather than dropped;
 * 3. missing values (null or absent) — flagged `missing:<field>`, imputed when the field's
 *    strategy says so from statistics over the values seen so far (`imputed:<field>`);
 * 4. outliers — |z| by Welford over earlier non-outlier values (on the raw scale, or ln(1 + x)
 *    for a field configured 'log'), once the field's `warmup` values were seen (see
 *    NumericField for how outliers inside the warm-up are kept out) → flag, clip to
 *    mean ± zThreshold·σ (on the same scale), or reject;
 * 5. label consistency — the record's features (every field but the label, the timestamp and
 *    the entity id: a model sees neither the time nor the key, so equal features with two
 *    labels contradict each other whoever the entity is) hashed as they arrived (before
 *    imputation or clipping: repaired values are estimates, not observations); the first label
 *    seen for a hash wins; a later different label → `label_conflict` (flag or reject).
 *
 * What updates the state: every record that is not dropped enters the exact-duplicate windows
 * (an event is judged once; its retry is a duplicate). Only records that pass update the
 * statistics, the near-duplicate index and the label map; their statistics take the values as
 * they arrived, never imputed ones, and never outliers (so outliers do not inflate σ).
 */

export type Verdict = 'pass' | 'drop' | 'reject';
export type QualityRecord = Record<string, unknown>;

export interface RecordMeta {
  /** The event id (CloudEvents `id`). */
  id: string;
  /** The record's entity id (the spec's entity_id field). */
  entityId: string;
}

export interface QualityResult {
  verdict: Verdict;
  /** A repaired copy (imputed, clipped); the input is never mutated. */
  record: QualityRecord;
  flags: string[];
  /** One sentence per flag or decision, for people. */
  reasons: string[];
}

/**
 * Robust statistics of one numeric field over the values the engine learned from: the summary
 * libs/ml merges across partitions, with the IQR and the warm-up's excluded outliers.
 */
export interface FieldStats extends FieldSummary {
  iqr: number;
  /** Values of the warm-up left out of the statistics as outliers. */
  warmupExcluded: number;
}

export interface QualityReport {
  records: number;
  verdicts: Record<Verdict, number>;
  /**
   * Records per rule (`missing`, `outlier`, `near_duplicate`, …) and per rule and field
   * (`missing:amount`).
   */
  flags: Record<string, number>;
}

interface NearEntry {
  id: string;
  entityId: string;
  text: string;
  label: string | null;
}

interface NumericState {
  stats: RunningStatsState | null;
  quartiles: StreamingQuartilesState;
  z: RunningStatsState | null;
  warm: number[] | null;
  warmupExcluded: number;
}

/** The engine's state as plain JSON; see {@link QualityEngine.snapshot}. */
export interface QualitySnapshot {
  version: 1;
  config: QualityConfig;
  seq: number;
  ids: string[];
  contents: number[];
  near: LshIndexState<number> | null;
  nearEntries: [number, NearEntry][];
  numeric: [string, NumericState][];
  /** Per categorical field: [JSON of the value, count], in first-seen order. */
  counts: [string, [string, number][]][];
  labels: [number, string][];
  report: QualityReport;
}

/** A count-bounded set: the oldest member leaves when one more would not fit. */
class CountWindow<K extends string | number> {
  private readonly members = new Set<K>();
  constructor(private readonly capacity: number) {}
  has(key: K): boolean {
    return this.members.has(key);
  }
  add(key: K): void {
    this.members.delete(key);
    this.members.add(key);
    if (this.members.size > this.capacity) {
      this.members.delete(this.members.values().next().value as K);
    }
  }
  toJSON(): K[] {
    return [...this.members];
  }
  static from<K extends string | number>(capacity: number, keys: readonly K[]): CountWindow<K> {
    const w = new CountWindow<K>(capacity);
    for (const k of keys) w.add(k);
    return w;
  }
}

type Transform = 'none' | 'log';
const forward = (t: Transform, x: number): number => (t === 'log' ? Math.log1p(x) : x);
const inverse = (t: Transform, y: number): number => (t === 'log' ? Math.expm1(y) : y);
const canTransform = (t: Transform, x: number): boolean => t === 'none' || x > -1;

/**
 * One numeric field's statistics. `stats` and `quartiles` are over the raw values learned from
 * (for imputation and {@link QualityEngine.robustStats}); `z` is Welford over the transformed
 * values the outlier rule scores against.
 *
 * Warm-up: the first `warmup` values of a checked field cannot be scored (no σ yet), so they are
 * buffered as well as learned from. When the buffer is full, iterated clipping (Welford on the
 * buffer, drop |z| > zThreshold, repeat until nothing is dropped) removes the outliers among them
 * and every statistic is rebuilt, in order, from the values kept: a single 40× value in the
 * warm-up would otherwise inflate σ for the rest of the stream and hide later outliers. Those
 * warm-up outliers are not flagged themselves (the record has gone by).
 */
class NumericField {
  stats = new RunningStats();
  quartiles = new StreamingQuartiles();
  z = new RunningStats();
  warm: number[] | null;
  /** How many warm-up values the clipping left out (0 until the warm-up ends). */
  warmupExcluded = 0;

  constructor(
    readonly checked: boolean,
    readonly transform: Transform,
  ) {
    this.warm = checked ? [] : null;
  }

  /** True once the field's outliers are scored (warm-up over, or a field never checked). */
  get warmedUp(): boolean {
    return this.warm === null;
  }

  learn(x: number, warmup: number, zThreshold: number): void {
    this.stats.push(x);
    this.quartiles.push(x);
    if (!this.checked) return;
    if (this.warm === null) {
      if (canTransform(this.transform, x)) this.z.push(forward(this.transform, x));
      return;
    }
    this.warm.push(x);
    if (this.warm.length >= warmup) this.endWarmup(zThreshold);
  }

  /** |z| of x against the learned values; NaN when x cannot be transformed. */
  zScore(x: number): number {
    return canTransform(this.transform, x) ? this.z.zScore(forward(this.transform, x)) : NaN;
  }

  /** The value zThreshold standard deviations from the mean, on x's side, in raw units. */
  clip(z: number, zThreshold: number): number {
    const bound = zThreshold * this.z.populationStd;
    return inverse(this.transform, z > 0 ? this.z.mean + bound : this.z.mean - bound);
  }

  private endWarmup(zThreshold: number): void {
    const all = this.warm!;
    let kept = all;
    for (let round = 0; round < 50; round += 1) {
      const s = new RunningStats();
      for (const x of kept) if (canTransform(this.transform, x)) s.push(forward(this.transform, x));
      const next = kept.filter(
        (x) =>
          !canTransform(this.transform, x) ||
          !(Math.abs(s.zScore(forward(this.transform, x))) > zThreshold),
      );
      if (next.length === kept.length) break;
      kept = next;
    }
    if (kept.length !== all.length) {
      this.stats = new RunningStats();
      this.quartiles = new StreamingQuartiles();
      for (const x of kept) {
        this.stats.push(x);
        this.quartiles.push(x);
      }
    }
    this.z = new RunningStats();
    for (const x of kept)
      if (canTransform(this.transform, x)) this.z.push(forward(this.transform, x));
    this.warmupExcluded = all.length - kept.length;
    this.warm = null;
  }

  toJSON(): NumericState {
    return {
      stats: this.stats.count === 0 ? null : this.stats.toJSON(),
      quartiles: this.quartiles.toJSON(),
      z: this.z.count === 0 ? null : this.z.toJSON(),
      warm: this.warm === null ? null : [...this.warm],
      warmupExcluded: this.warmupExcluded,
    };
  }

  static from(state: NumericState, checked: boolean, transform: Transform): NumericField {
    const f = new NumericField(checked, transform);
    if (state.stats) f.stats = RunningStats.fromJSON(state.stats);
    f.quartiles = StreamingQuartiles.fromJSON(state.quartiles);
    if (state.z) f.z = RunningStats.fromJSON(state.z);
    f.warm = state.warm === null ? null : [...state.warm];
    f.warmupExcluded = state.warmupExcluded;
    return f;
  }
}

/** Counts per value and the current mode (highest count; ties: the value seen first). */
class ModeCounter {
  private readonly counts = new Map<string, number>();
  private best: string | undefined;
  push(value: unknown): void {
    const key = JSON.stringify(value);
    const c = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, c);
    if (this.best === undefined || c > this.counts.get(this.best)!) this.best = key;
  }
  get mode(): unknown {
    return this.best === undefined ? undefined : (JSON.parse(this.best) as unknown);
  }
  toJSON(): [string, number][] {
    return [...this.counts];
  }
  static from(entries: readonly [string, number][]): ModeCounter {
    const m = new ModeCounter();
    for (const [k, c] of entries) {
      m.counts.set(k, c);
      if (m.best === undefined || c > m.counts.get(m.best)!) m.best = k;
    }
    return m;
  }
}

const isMissing = (v: unknown): boolean => v === null || v === undefined;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const labelKey = (v: unknown): string | null => (isMissing(v) ? null : JSON.stringify(v));

function emptyReport(): QualityReport {
  return { records: 0, verdicts: { pass: 0, drop: 0, reject: 0 }, flags: {} };
}

export class QualityEngine {
  private seq = 0;
  private ids: CountWindow<string>;
  /** Content hashes (hash53: see libs/ml for the collision odds). */
  private contents: CountWindow<number>;
  private near: LshIndex<number> | null;
  private nearEntries = new Map<number, NearEntry>();
  private numeric = new Map<string, NumericField>();
  private counts = new Map<string, ModeCounter>();
  private labels = new Map<number, string>();
  private counters: QualityReport = emptyReport();
  private readonly outlierFields: Set<string>;
  private readonly featureFields: string[];
  /** Spec fields in spec order, and as a set (content hashes take extra keys sorted after). */
  private readonly fieldNames: string[];
  private readonly known: Set<string>;

  constructor(readonly config: QualityConfig) {
    this.outlierFields = new Set(config.outliers.enabled ? config.outliers.fields : []);
    this.ids = new CountWindow(config.duplicates.window.count);
    this.contents = new CountWindow(config.duplicates.window.count);
    const nd = config.nearDuplicates;
    this.near = nd.enabled
      ? new LshIndex<number>({ maxDistance: nd.maxHamming, capacity: nd.window.count })
      : null;
    for (const f of config.fields) {
      if (f.type === 'numeric') this.numeric.set(f.name, this.numericField(f.name));
      // Value counts only where a mode is imputed: a free-text field's counts would grow with
      // every distinct text.
      else if (f.impute === 'mode') this.counts.set(f.name, new ModeCounter());
    }
    const skip = new Set([config.labelField, config.timestampField, config.entityField]);
    this.featureFields = config.fields.map((f) => f.name).filter((n) => !skip.has(n));
    this.fieldNames = config.fields.map((f) => f.name);
    this.known = new Set(this.fieldNames);
  }

  process(input: QualityRecord, meta: RecordMeta): QualityResult {
    const cfg = this.config;
    const flags: string[] = [];
    const reasons: string[] = [];
    const record: QualityRecord = { ...input };
    this.counters.records += 1;

    // 1. Exact duplicates.
    const content = this.contentHash(input);
    if (cfg.duplicates.byId && this.ids.has(meta.id)) {
      flags.push('duplicate_id');
      reasons.push(`event id ${meta.id} was seen before`);
    } else if (cfg.duplicates.byContent && this.contents.has(content)) {
      flags.push('duplicate_content');
      reasons.push('the same content was seen before');
    }
    if (flags.length > 0) return this.finish('drop', record, flags, reasons);
    if (cfg.duplicates.byId) this.ids.add(meta.id);
    if (cfg.duplicates.byContent) this.contents.add(content);

    // 2. Near duplicates.
    const label = cfg.labelField === null ? null : labelKey(input[cfg.labelField]);
    const text = this.nearText(input);
    let fingerprint: Fingerprint64 | null = null;
    let labelConflict: string | null = null;
    if (this.near && text !== null) {
      fingerprint = simhash(text);
      const match = this.findNear(fingerprint, text, meta.entityId);
      if (match) {
        if (label !== null && match.label !== null && match.label !== label) {
          labelConflict = `near-identical to event ${match.id}, which is labelled ${match.label}`;
        } else {
          flags.push(`near_duplicate:${match.id}`);
          reasons.push(`near duplicate of event ${match.id}`);
          if (cfg.nearDuplicates.action === 'drop') {
            return this.finish('drop', record, flags, reasons);
          }
        }
      }
    }

    // 3. Missing values.
    for (const f of cfg.fields) {
      if (f.name === cfg.entityField || f.name === cfg.timestampField) continue;
      if (!isMissing(input[f.name])) continue;
      flags.push(`missing:${f.name}`);
      const value = this.imputation(f);
      if (value === undefined) {
        reasons.push(`${f.name} is missing`);
        continue;
      }
      record[f.name] = value;
      flags.push(`imputed:${f.name}`);
      reasons.push(`${f.name} is missing; imputed ${JSON.stringify(value)} (${f.impute})`);
    }

    // 4. Outliers.
    let verdict: Verdict = 'pass';
    const outliers = new Set<string>();
    for (const name of this.outlierFields) {
      const x = input[name];
      const f = this.numeric.get(name)!;
      if (!isNumber(x) || !f.warmedUp) continue;
      const z = f.zScore(x);
      if (!(Math.abs(z) > cfg.outliers.zThreshold)) continue;
      outliers.add(name);
      flags.push(`outlier:${name}`);
      reasons.push(`${name} = ${x} has z = ${z.toFixed(1)}`);
      if (cfg.outliers.action === 'clip') {
        record[name] = f.clip(z, cfg.outliers.zThreshold);
        flags.push(`clipped:${name}`);
      } else if (cfg.outliers.action === 'reject') verdict = 'reject';
    }

    // 5. Label consistency.
    const features = this.featureHash(input);
    if (cfg.labels.conflicts !== 'off' && label !== null) {
      const first = this.labels.get(features);
      if (first !== undefined && first !== label) {
        labelConflict = `the same features were labelled ${first}`;
      }
      if (labelConflict !== null) {
        flags.push('label_conflict');
        reasons.push(labelConflict);
        if (cfg.labels.conflicts === 'reject') verdict = 'reject';
      }
    }
    if (verdict === 'reject') return this.finish(verdict, record, flags, reasons);

    // Learn from the record as it arrived.
    this.learn(input, outliers);
    if (fingerprint !== null && text !== null && this.near) {
      const seq = (this.seq += 1);
      this.nearEntries.set(seq, { id: meta.id, entityId: meta.entityId, text, label });
      const scope = cfg.nearDuplicates.sameEntity ? meta.entityId : undefined;
      const evicted = this.near.insert(seq, fingerprint, scope);
      if (evicted !== undefined) this.nearEntries.delete(evicted);
    }
    if (cfg.labels.conflicts !== 'off' && label !== null && !this.labels.has(features)) {
      this.labels.set(features, label);
      if (this.labels.size > cfg.labels.window.count) {
        this.labels.delete(this.labels.keys().next().value as number);
      }
    }
    return this.finish(verdict, record, flags, reasons);
  }

  /** Robust statistics of each numeric field (over values learned from: no outliers). */
  robustStats(): Record<string, FieldStats> {
    const out: Record<string, FieldStats> = {};
    for (const [name, f] of this.numeric) {
      const [q1, median, q3] = f.quartiles.count === 0 ? [NaN, NaN, NaN] : f.quartiles.quartiles;
      out[name] = {
        count: f.stats.count,
        mean: f.stats.mean,
        std: f.stats.populationStd,
        min: f.stats.min,
        max: f.stats.max,
        q1,
        median,
        q3,
        iqr: q3 - q1,
        warmupExcluded: f.warmupExcluded,
      };
    }
    return out;
  }

  /** Records judged so far. */
  get records(): number {
    return this.counters.records;
  }

  /** Counts so far: records, verdicts, records per flag. */
  report(): QualityReport {
    return structuredClone(this.counters);
  }

  snapshot(): QualitySnapshot {
    return structuredClone({
      version: 1 as const,
      config: this.config,
      seq: this.seq,
      ids: this.ids.toJSON(),
      contents: this.contents.toJSON(),
      near: this.near ? this.near.toJSON() : null,
      nearEntries: [...this.nearEntries],
      numeric: [...this.numeric].map(([k, v]) => [k, v.toJSON()] as [string, NumericState]),
      counts: [...this.counts].map(([k, v]) => [k, v.toJSON()] as [string, [string, number][]]),
      labels: [...this.labels],
      report: this.counters,
    });
  }

  static restore(snapshot: QualitySnapshot): QualityEngine {
    const version: unknown = snapshot.version;
    if (version !== 1) throw new Error(`unknown snapshot version ${String(version)}`);
    const s = structuredClone(snapshot);
    const e = new QualityEngine(s.config);
    e.seq = s.seq;
    e.ids = CountWindow.from(s.config.duplicates.window.count, s.ids);
    e.contents = CountWindow.from(s.config.duplicates.window.count, s.contents);
    e.near = s.near ? LshIndex.fromJSON(s.near) : null;
    e.nearEntries = new Map(s.nearEntries);
    e.numeric = new Map(
      s.numeric.map(([k, v]) => [
        k,
        NumericField.from(v, e.outlierFields.has(k), s.config.outliers.transform[k] ?? 'none'),
      ]),
    );
    e.counts = new Map(s.counts.map(([k, v]) => [k, ModeCounter.from(v)]));
    e.labels = new Map(s.labels);
    e.counters = s.report;
    return e;
  }

  private finish(
    verdict: Verdict,
    record: QualityRecord,
    flags: string[],
    reasons: string[],
  ): QualityResult {
    this.counters.verdicts[verdict] += 1;
    // Per rule (`missing`) and per rule and field (`missing:amount`); a near duplicate's
    // flag names another event, so it counts under its rule only.
    const keys = new Set<string>();
    for (const f of flags) {
      const colon = f.indexOf(':');
      if (colon < 0) keys.add(f);
      else {
        keys.add(f.slice(0, colon));
        if (!f.startsWith('near_duplicate:')) keys.add(f);
      }
    }
    for (const key of keys) this.counters.flags[key] = (this.counters.flags[key] ?? 0) + 1;
    return { verdict, record, flags, reasons };
  }

  private learn(input: QualityRecord, outliers: ReadonlySet<string>): void {
    for (const [name, f] of this.numeric) {
      const x = input[name];
      if (isNumber(x) && !outliers.has(name)) {
        f.learn(x, this.config.outliers.warmup, this.config.outliers.zThreshold);
      }
    }
    for (const [name, m] of this.counts) {
      const v = input[name];
      if (!isMissing(v)) m.push(v);
    }
  }

  private numericField(name: string): NumericField {
    return new NumericField(
      this.outlierFields.has(name),
      this.config.outliers.transform[name] ?? 'none',
    );
  }

  private imputation(f: QualityField): unknown {
    switch (f.impute) {
      case 'none':
        return undefined;
      case 'constant':
        return f.constant;
      case 'mode':
        return this.counts.get(f.name)?.mode;
      case 'mean': {
        const s = this.numeric.get(f.name)!.stats;
        return s.count === 0 ? undefined : s.mean;
      }
      case 'median': {
        const q = this.numeric.get(f.name)!.quartiles;
        return q.count === 0 ? undefined : q.median;
      }
    }
  }

  /** The configured text fields, normalised (NFKC, lower case) and joined; null when all empty. */
  private nearText(input: QualityRecord): string | null {
    const parts = this.config.nearDuplicates.fields.map((n) => {
      const v = input[n];
      return typeof v === 'string' ? v.normalize('NFKC').toLowerCase().trim() : '';
    });
    return parts.every((p) => p === '') ? null : parts.join('\u241e');
  }

  private findNear(fp: Fingerprint64, text: string, entityId: string): NearEntry | undefined {
    const nd = this.config.nearDuplicates;
    // Same entity only: the entity scopes the index, so other entities' entries are not even
    // looked at.
    const scope = nd.sameEntity ? entityId : undefined;
    for (const m of this.near!.query(fp, undefined, scope)) {
      const entry = this.nearEntries.get(m.id)!;
      if (nd.sameEntity && entry.entityId !== entityId) continue;
      if (nd.verifyEditDistance === null) return entry;
      const d = normalizedEditDistance(text, entry.text, nd.verifyEditDistance);
      if (d <= nd.verifyEditDistance) return entry;
    }
    return undefined;
  }

  /** Every spec field (timestamp included) plus any extra keys, absent treated as null. */
  private contentHash(input: QualityRecord): number {
    let key = '';
    for (const k of this.fieldNames) key += valueKey(input[k]) + SEP;
    let extra: string[] | undefined;
    for (const k of Object.keys(input)) if (!this.known.has(k)) (extra ??= []).push(k);
    if (extra) {
      for (const k of extra.sort()) key += JSON.stringify(k) + '=' + valueKey(input[k]) + SEP;
    }
    return hash53(key);
  }

  private featureHash(input: QualityRecord): number {
    let key = '';
    for (const k of this.featureFields) key += valueKey(input[k]) + SEP;
    return hash53(key);
  }
}

/**
 * A value as hash input: JSON (absent as null; numbers as JSON writes them). JSON escapes
 * control characters, so {@link SEP} never occurs inside a value: the joined key is unambiguous.
 */
function valueKey(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}
const SEP = '\u0001';
