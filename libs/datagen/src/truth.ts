import type { BlankableField, CardRecord, Device, MerchantCategory } from './cards-spec';
import type { MemoEdit } from './memo';

/**
 * What the generator injected, per record index, so a detector's output can be scored. Each
 * record carries at most one defect; its original (`of`) is always an earlier clean record.
 */

export const DEFECT_KINDS = [
  'duplicate',
  'duplicate_id',
  'near_duplicate',
  'missing',
  'outlier',
  'label_conflict',
] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** The record repeats record `of` exactly (every field, `ts` included); its id is its own. */
export interface DuplicateDefect {
  index: number;
  kind: 'duplicate';
  of: number;
}

/** The record is a fresh transaction whose id repeats record `of`'s id. */
export interface DuplicateIdDefect {
  index: number;
  kind: 'duplicate_id';
  of: number;
  id: string;
}

/**
 * The record is record `of` re-entered: its memo is a small edit of the original's (`edit`,
 * Levenshtein `distance` ≥ 1), `ts` is new, `amount` sometimes slightly changed; every other
 * field, the label included, is equal. `changed` lists the fields that differ.
 */
export interface NearDuplicateDefect {
  index: number;
  kind: 'near_duplicate';
  of: number;
  edit: MemoEdit;
  distance: number;
  changed: string[];
}

/** `fields` are null (`how: 'null'`) or left out (`'absent'`); `original` holds their values. */
export interface MissingDefect {
  index: number;
  kind: 'missing';
  fields: BlankableField[];
  how: 'null' | 'absent';
  original: Partial<CardRecord>;
}

/**
 * `field` holds `value` instead of `original`. `mean` and `sd` are the raw-space mean and
 * standard deviation of a clean amount of the record's category at that point of the stream
 * (drift included), `z` = (value − mean) / sd; `cleanMax` is the largest amount any clean
 * record of any category could have there, and `value` is at least 4× it.
 */
export interface OutlierDefect {
  index: number;
  kind: 'outlier';
  field: 'amount';
  value: number;
  original: number;
  category: MerchantCategory;
  mean: number;
  sd: number;
  z: number;
  cleanMax: number;
}

/** The record repeats record `of`'s features (every field but `ts`) with the opposite label. */
export interface LabelConflictDefect {
  index: number;
  kind: 'label_conflict';
  of: number;
}

export type Defect =
  | DuplicateDefect
  | DuplicateIdDefect
  | NearDuplicateDefect
  | MissingDefect
  | OutlierDefect
  | LabelConflictDefect;

/** Drift as requested, and the concrete distributions it produced from `from` on. */
export interface DriftTruth {
  from: number;
  shifts: DriftShifts;
  /** amount' = amount × scale + add (before rounding to cents; at least 0.01). */
  amount: { scale: number; add: number; baseSd: number } | null;
  /** The distributions (normalised to 1) used from `from` on, for the shifted fields. */
  merchant_category: Record<MerchantCategory, number> | null;
  country: Record<string, number> | null;
  /** The device weights (before excluding `pos` online). */
  device: Record<Device, number> | null;
  hour: number[] | null;
  /** The fraud intercept used from `from` on (the features' effect is unchanged). */
  fraudIntercept: number;
}

/** A numeric shift: x' = x × scale + meanShiftSd × (the field's base standard deviation). */
export interface NumericShift {
  meanShiftSd?: number;
  scale?: number;
}

/** New weights for the named values; the others keep their base weight. Then normalised. */
export interface CategoricalShift<K extends string = string> {
  weights: Partial<Record<K, number>>;
}

export interface DriftShifts {
  amount?: NumericShift;
  merchant_category?: CategoricalShift<MerchantCategory>;
  /** Every transaction's country is drawn from the shifted distribution (home no longer applies). */
  country?: CategoricalShift;
  device?: CategoricalShift<Device>;
  /** `weights`: 24 new hour weights; `shiftHours`: every hour moved by that many, modulo 24. */
  hour?: { weights?: readonly number[]; shiftHours?: number };
  /** Prior drift: the base population's fraud rate becomes `rate` (features' effect unchanged). */
  is_fraud?: { rate: number };
}

export interface DriftOptions {
  /** The first record index that is drifted. */
  from: number;
  shifts: DriftShifts;
}

export interface GenerationTruth {
  seed: number;
  n: number;
  /** The requested fraud rate of the base population, and the logit intercept that gives it. */
  fraudRate: number;
  fraudIntercept: number;
  /** Records [0, cleanPrefix) carry no defect. */
  cleanPrefix: number;
  /** Originals lie at most this many records before their copy. */
  referenceWindow: number;
  rates: Record<DefectKind, number>;
  counts: Record<DefectKind, number>;
  /** Sorted by index. */
  defects: Defect[];
  drift: DriftTruth | null;
}

/** The defects by record index. */
export function defectsByIndex(truth: GenerationTruth): Map<number, Defect> {
  return new Map(truth.defects.map((d) => [d.index, d]));
}

/** Indices of the records carrying one of `kinds`. */
export function defectIndices(
  truth: GenerationTruth,
  kinds: DefectKind | readonly DefectKind[],
): Set<number> {
  const wanted = new Set<DefectKind>(typeof kinds === 'string' ? [kinds] : kinds);
  return new Set(truth.defects.filter((d) => wanted.has(d.kind)).map((d) => d.index));
}

export interface DetectionScore {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** tp / (tp + fp); 1 when nothing counted was flagged. */
  precision: number;
  /** tp / (tp + fn); 1 when there was nothing to find. */
  recall: number;
}

/**
 * Scores a detector that flagged `flagged` record indices against the injected `kind`. Flags
 * on records of the `ignore` kinds count neither way: a near-duplicate detector also sees the
 * exact duplicates and the label conflicts (whose memo is the original's), so it would pass
 * `ignore: ['duplicate', 'label_conflict']`.
 */
export function scoreDetections(
  truth: GenerationTruth,
  kind: DefectKind | readonly DefectKind[],
  flagged: Iterable<number>,
  options: { ignore?: readonly DefectKind[] } = {},
): DetectionScore {
  const expected = defectIndices(truth, kind);
  const ignored = defectIndices(truth, options.ignore ?? []);
  let tp = 0;
  let fp = 0;
  const seen = new Set<number>();
  for (const index of flagged) {
    if (seen.has(index)) continue;
    seen.add(index);
    if (expected.has(index)) tp += 1;
    else if (!ignored.has(index)) fp += 1;
  }
  const fn = expected.size - tp;
  return {
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: expected.size === 0 ? 1 : tp / expected.size,
  };
}
