import { createHash } from 'node:crypto';
import {
  canonicalJson,
  resolveFeatureSpec,
  type DatasetSpec,
  type FeatureCross,
  type ResolvedFeature,
  type ResolvedFeatureSpec,
  type TextEmbedding,
} from '@mlops/contracts';
import {
  applyClip,
  applyHashing,
  applyMinMax,
  applyOneHot,
  applyRobust,
  applyStandard,
  chi2,
  crossKey,
  fitClip,
  fitMinMax,
  fitOneHot,
  fitRobust,
  fitStandard,
  fitTfidf,
  loadEmbedder,
  mutualInfoDiscrete,
  selectTopK,
  tfidfTransform,
  varianceThreshold,
  type ClipState,
  type MinMaxState,
  type OneHotState,
  type RobustState,
  type StandardState,
  type TextEmbedder,
  type TfidfState,
} from '@mlops/ml';

/**
 * A featureset: a dataset spec's `features` section resolved against its fields, plus the state
 * fitted on exact records (scaler statistics, vocabularies, idf, selected columns). One
 * implementation turns a record into its vector for the stream (feature service) and for
 * serving (inference), so training and serving cannot disagree.
 *
 * Columns come in blocks, one per feature field (spec order), then one per cross:
 * - numeric: log1p (optional) → clip to fitted quantiles (optional) → scaler; a missing value
 *   becomes the scaler's center (0 after scaling);
 * - boolean: 1 / 0, missing 0;
 * - categorical one-hot: top-K columns + one for every other value (missing: all zero);
 *   hashed: `buckets` signed columns (FeatureHasher);
 * - text: TF-IDF columns, then embedding columns (missing text: the empty string);
 * - crosses: hashed `a × b` (buckets columns) or the product of two numeric columns' values.
 * Selection then keeps the columns whose variance on the fitting rows exceeds the threshold
 * and, when asked, the top-K by χ² (columns shifted to be non-negative) or by mutual
 * information (columns cut into at most 10 equal-frequency bins).
 */

export const FEATURESET_FORMAT = 1;

type NumericScaler =
  | { kind: 'standard'; state: StandardState }
  | { kind: 'robust'; state: RobustState }
  | { kind: 'minmax'; state: MinMaxState }
  | { kind: 'none' };

export type FittedBlock =
  | {
      kind: 'numeric';
      field: string;
      log1p: boolean;
      clip: ClipState | null;
      scaler: NumericScaler;
    }
  | { kind: 'boolean'; field: string }
  | { kind: 'onehot'; field: string; state: OneHotState }
  | { kind: 'hash'; field: string; buckets: number }
  | {
      kind: 'text';
      field: string;
      tfidf: TfidfState | null;
      embedding: TextEmbedding | null;
      embeddingDim: number;
    }
  | { kind: 'cross'; fields: [string, string]; buckets: number }
  | { kind: 'product'; fields: [string, string] };

export interface FeaturesetState {
  format: typeof FEATURESET_FORMAT;
  dataset: string;
  specVersion: number;
  spec: ResolvedFeatureSpec;
  blocks: FittedBlock[];
  /** Names of every column before selection. */
  allNames: string[];
  /** Indices (into allNames) of the columns kept, ascending. */
  selected: number[];
  /** Label values by class index (classification), sorted; null for regression or no label. */
  classes: string[] | null;
  /** Records the state was fitted on. */
  records: number;
}

export interface Featureset extends FeaturesetState {
  /** `fs-` + the first 16 hex digits of the sha256 of the state's canonical JSON. */
  version: string;
  /** Column names of the vectors, in order. */
  names: string[];
}

type Row = Record<string, unknown>;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const num = (v: unknown): number | null =>
  isNum(v) ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null;
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const cat = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);

/** Fits a featureset on records (in the order given: the order is part of the result). */
export function fitFeatureset(
  spec: DatasetSpec,
  records: readonly Row[],
  embedders: EmbedderCache = new EmbedderCache(),
): Featureset {
  const resolved = resolveFeatureSpec(spec);
  const blocks: FittedBlock[] = [];
  for (const f of resolved.features) blocks.push(fitBlock(f, records, embedders));
  for (const c of resolved.crosses) blocks.push(crossBlock(c));
  const allNames = blocks.flatMap((b) => blockNames(b));
  const classes = classesOf(resolved, records);

  // Selection on the fitting rows.
  const all = records.map((r) => blocks.flatMap((b) => applyBlock(b, r, embedders)));
  let selected = allNames.map((_, i) => i);
  const threshold = resolved.selection.varianceThreshold;
  if (records.length > 0 && threshold !== null) selected = varianceThreshold(all, threshold);
  const topK = resolved.selection.topK;
  if (topK && resolved.labelField && records.length > 0) {
    const rows = records
      .map((r, i) => ({ y: labelOf(resolved, classes, r), x: all[i] }))
      .filter((r): r is { y: number; x: number[] } => r.y !== null);
    const X = rows.map((r) => selected.map((j) => r.x[j]));
    const y = rows.map((r) => r.y);
    const scores =
      topK.method === 'chi2' ? chi2(shiftNonNegative(X), y).scores : mutualInfoDiscrete(bin(X), y);
    selected = selectTopK(scores, Math.min(topK.k, selected.length)).map((i) => selected[i]);
  }

  const state: FeaturesetState = {
    format: FEATURESET_FORMAT,
    dataset: spec.name,
    specVersion: spec.version,
    spec: resolved,
    blocks,
    allNames,
    selected,
    classes,
    records: records.length,
  };
  return withVersion(state);
}

/** A featureset from its state (an artifact read back); the version is recomputed. */
export function withVersion(state: FeaturesetState): Featureset {
  const sha = createHash('sha256').update(canonicalJson(state)).digest('hex');
  return {
    ...state,
    version: `fs-${sha.slice(0, 16)}`,
    names: state.selected.map((i) => state.allNames[i]),
  };
}

/** The artifact bytes of a featureset: its state as canonical JSON. */
export function featuresetArtifact(fs: Featureset): Buffer {
  const state: FeaturesetState = {
    format: fs.format,
    dataset: fs.dataset,
    specVersion: fs.specVersion,
    spec: fs.spec,
    blocks: fs.blocks,
    allNames: fs.allNames,
    selected: fs.selected,
    classes: fs.classes,
    records: fs.records,
  };
  return Buffer.from(canonicalJson(state), 'utf8');
}

export function parseFeaturesetArtifact(bytes: Buffer): Featureset {
  const state = JSON.parse(bytes.toString('utf8')) as FeaturesetState;
  if (state.format !== FEATURESET_FORMAT) {
    throw new Error(`unsupported featureset format ${String(state.format)}`);
  }
  return withVersion(state);
}

/** The vector of one record: the same code for the stream and for serving. */
export function transform(
  fs: Featureset,
  record: Row,
  embedders: EmbedderCache = sharedEmbedders,
): number[] {
  const all = fs.blocks.flatMap((b) => applyBlock(b, record, embedders));
  return fs.selected.map((i) => all[i]);
}

/** The record's label as a number: the class index, or the value for regression. */
export function labelOf(
  spec: ResolvedFeatureSpec,
  classes: string[] | null,
  record: Row,
): number | null {
  if (!spec.labelField) return null;
  const v = record[spec.labelField];
  if (v === null || v === undefined) return null;
  if (classes === null) return num(v);
  const i = classes.indexOf(cat(v)!);
  return i < 0 ? null : i;
}

export function recordLabel(fs: Featureset, record: Row): number | null {
  return labelOf(fs.spec, fs.classes, record);
}

function classesOf(spec: ResolvedFeatureSpec, records: readonly Row[]): string[] | null {
  if (!spec.labelField || spec.labelTask === 'regression') return null;
  const seen = new Set<string>();
  for (const r of records) {
    const c = cat(r[spec.labelField]);
    if (c !== null) seen.add(c);
  }
  return [...seen].sort();
}

function fitBlock(
  f: ResolvedFeature,
  records: readonly Row[],
  embedders: EmbedderCache,
): FittedBlock {
  switch (f.kind) {
    case 'boolean':
      return { kind: 'boolean', field: f.field };
    case 'numeric': {
      const log = f.config.log1p;
      let col = records.map((r) => prepareNumeric(num(r[f.field]), log));
      const clip = f.config.clip
        ? fitClip(col, { quantiles: [f.config.clip.lower, f.config.clip.upper] })
        : null;
      if (clip) col = col.map((x) => applyClip(x, clip));
      const scaler: NumericScaler =
        f.config.scaler === 'standard'
          ? { kind: 'standard', state: fitStandard(col) }
          : f.config.scaler === 'robust'
            ? { kind: 'robust', state: fitRobust(col) }
            : f.config.scaler === 'minmax'
              ? { kind: 'minmax', state: fitMinMax(col) }
              : { kind: 'none' };
      return { kind: 'numeric', field: f.field, log1p: log, clip, scaler };
    }
    case 'categorical':
      if (f.config.encoding === 'hash') {
        return { kind: 'hash', field: f.field, buckets: f.config.buckets };
      }
      return {
        kind: 'onehot',
        field: f.field,
        state: fitOneHot(
          records.map((r) => cat(r[f.field])),
          { topK: f.config.topK, minCount: f.config.minCount },
        ),
      };
    case 'text': {
      const docs = records.map((r) => text(r[f.field]));
      const t = f.config.tfidf;
      const tfidf =
        t === null
          ? null
          : fitTfidf(docs, {
              maxFeatures: t.maxFeatures,
              ngramRange: t.ngramRange,
              // A share (≤ 1 for maxDf, < 1 for minDf) or a count of documents.
              minDf: t.minDf,
              maxDf: t.maxDf <= 1 ? { proportion: t.maxDf } : t.maxDf,
              sublinearTf: t.sublinearTf,
            });
      const e = f.config.embedding;
      return {
        kind: 'text',
        field: f.field,
        tfidf,
        embedding: e,
        embeddingDim: e ? embedders.get(e).dim : 0,
      };
    }
  }
}

function crossBlock(c: FeatureCross): FittedBlock {
  if ('categorical' in c) return { kind: 'cross', fields: c.categorical, buckets: c.buckets };
  return { kind: 'product', fields: c.product };
}

/**
 * The source of a vector column, from its name: the record field it encodes (`amount`,
 * `country` for `country=FR` and `country=<other>`, `memo` for `memo:tfidf:card` and
 * `memo:emb:3`, `device` for `device#5`), or the derived feature it is (`amountxcountry` for
 * the buckets `amountxcountry#i` of a hashed cross, `amount*hour` for a product). Field names are
 * a letter or `_` then letters, digits or `_` (the spec's rule), so the first `=`, `#` or `:`
 * ends the source. What drift counts when it asks how many of a dataset's fields moved: one
 * field, however many columns its encoding spreads it over.
 */
export function columnSource(name: string): string {
  const end = name.search(/[=#:]/);
  return end < 0 ? name : name.slice(0, end);
}

function blockNames(b: FittedBlock): string[] {
  switch (b.kind) {
    case 'numeric':
    case 'boolean':
      return [b.field];
    case 'onehot':
      return [...b.state.categories.map((c) => `${b.field}=${c}`), `${b.field}=<other>`];
    case 'hash':
      return range(b.buckets).map((i) => `${b.field}#${i}`);
    case 'text':
      return [
        ...(b.tfidf ? b.tfidf.vocabulary.map((t) => `${b.field}:tfidf:${t}`) : []),
        ...range(b.embeddingDim).map((i) => `${b.field}:emb:${i}`),
      ];
    case 'cross':
      return range(b.buckets).map((i) => `${b.fields[0]}x${b.fields[1]}#${i}`);
    case 'product':
      return [`${b.fields[0]}*${b.fields[1]}`];
  }
}

function applyBlock(b: FittedBlock, r: Row, embedders: EmbedderCache): number[] {
  switch (b.kind) {
    case 'numeric':
      return [numericValue(b, r[b.field])];
    case 'boolean':
      return [num(r[b.field]) ?? 0];
    case 'onehot':
      return applyOneHot(cat(r[b.field]), b.state);
    case 'hash': {
      const v = cat(r[b.field]);
      return applyHashing(v === null ? [] : [v], b.buckets);
    }
    case 'text': {
      const doc = text(r[b.field]);
      const out = b.tfidf ? tfidfTransform(doc, b.tfidf) : [];
      return b.embedding ? [...out, ...embedders.get(b.embedding).embed(doc)] : out;
    }
    case 'cross': {
      const a = cat(r[b.fields[0]]);
      const c = cat(r[b.fields[1]]);
      return applyHashing(a === null || c === null ? [] : [crossKey(a, c)], b.buckets);
    }
    case 'product': {
      const a = num(r[b.fields[0]]);
      const c = num(r[b.fields[1]]);
      return [a === null || c === null ? 0 : a * c];
    }
  }
}

function prepareNumeric(x: number | null, log: boolean): number | null {
  if (x === null) return null;
  if (!log) return x;
  // ln(1 + x) is undefined at x ≤ −1: such a value counts as missing.
  return x > -1 ? Math.log1p(x) : null;
}

function numericValue(b: FittedBlock & { kind: 'numeric' }, v: unknown): number {
  let x = prepareNumeric(num(v), b.log1p);
  if (x !== null && b.clip) x = applyClip(x, b.clip);
  switch (b.scaler.kind) {
    case 'standard':
      return applyStandard(x, b.scaler.state);
    case 'robust':
      return applyRobust(x, b.scaler.state);
    case 'minmax':
      return applyMinMax(x, b.scaler.state);
    case 'none':
      return x ?? 0;
  }
}

function shiftNonNegative(X: number[][]): number[][] {
  if (X.length === 0) return X;
  const mins = X[0].map((_, j) => X.reduce((m, r) => Math.min(m, r[j]), Infinity));
  return X.map((r) => r.map((x, j) => x - Math.min(0, mins[j])));
}

/** Each column cut into at most 10 equal-frequency bins (bin = rank decile of the value). */
function bin(X: number[][]): number[][] {
  if (X.length === 0) return X;
  const cols = X[0].length;
  const out = X.map(() => new Array<number>(cols).fill(0));
  for (let j = 0; j < cols; j++) {
    const sorted = X.map((r) => r[j]).sort((a, b) => a - b);
    const cuts = range(9).map((k) => sorted[Math.floor(((k + 1) * sorted.length) / 10)]);
    for (let i = 0; i < X.length; i++) {
      let b = 0;
      for (const c of cuts) if (X[i][j] > c) b++;
      out[i][j] = b;
    }
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Embedders by configuration, made once (a module embedder may load a model). */
export class EmbedderCache {
  private readonly made = new Map<string, TextEmbedder>();
  get(config: TextEmbedding): TextEmbedder {
    const key = JSON.stringify(config);
    let e = this.made.get(key);
    if (!e) {
      e = loadEmbedder(config);
      this.made.set(key, e);
    }
    return e;
  }
}

const sharedEmbedders = new EmbedderCache();
