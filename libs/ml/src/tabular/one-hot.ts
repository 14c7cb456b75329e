/**
 * One-hot encoding of the K most frequent categories, with one out-of-vocabulary slot.
 *
 * Close to scikit-learn's `OneHotEncoder(handle_unknown='infrequent_if_exist',
 * max_categories=K + 1, min_frequency=minCount)` — the same categories are kept whenever no tie
 * straddles the K-th place — but not the same encoder:
 *
 * - ties at the cut go to the smaller value ({@link compareCategories}, the order `mode` uses);
 *   scikit-learn's stable ascending argsort keeps the larger ones;
 * - slots are in rank order (count descending, then value), not sorted by value, so the first
 *   k slots of a top-K state are the top-k state;
 * - the out-of-vocabulary slot is always there (vector length `categories.length + 1`), even
 *   when every category fits, where scikit-learn adds its infrequent column only when something
 *   is infrequent and otherwise encodes an unknown value as all zeros;
 * - missing values (null, undefined, NaN) are not counted and encode as all zeros, where
 *   scikit-learn makes None / NaN a category of its own.
 */

import { type Category, compareCategories } from '../robust';

/** A categorical cell; null, undefined and NaN are missing. */
export type CategoricalValue = Category | null | undefined;

/** The kept categories in rank order; slot i ↔ categories[i], slot K = out of vocabulary. */
export interface OneHotState {
  readonly categories: readonly string[];
}

export interface OneHotOptions {
  /** Keep at most this many categories (≥ 0). Default: all that pass `minCount`. */
  readonly topK?: number;
  /** Keep only categories seen at least this many times (≥ 1). Default 1. */
  readonly minCount?: number;
}

function isMissingCategory(value: CategoricalValue): value is null | undefined {
  return (
    value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))
  );
}

/**
 * A category's identity is its string form (1 and "1" are one category), because the state
 * is strings and a value that crossed JSON or a CSV may have changed type on the way.
 */
export function categoryKey(value: Category): string {
  return String(value);
}

export function fitOneHot(
  values: readonly CategoricalValue[],
  options: OneHotOptions = {},
): OneHotState {
  const { topK, minCount = 1 } = options;
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) {
    throw new RangeError(`fitOneHot: topK must be an integer ≥ 0, got ${topK}`);
  }
  if (!(Number.isInteger(minCount) && minCount >= 1)) {
    throw new RangeError(`fitOneHot: minCount must be an integer ≥ 1, got ${minCount}`);
  }
  // For each key: its count, and the smallest typed value that produced it, which orders ties
  // (numbers numerically, not "10" before "9").
  const seen = new Map<string, { count: number; value: Category }>();
  for (const v of values) {
    if (isMissingCategory(v)) continue;
    const key = categoryKey(v);
    const entry = seen.get(key);
    if (entry === undefined) {
      seen.set(key, { count: 1, value: v });
    } else {
      entry.count += 1;
      if (compareCategories(v, entry.value) < 0) entry.value = v;
    }
  }
  const ranked = [...seen.entries()]
    .filter(([, e]) => e.count >= minCount)
    .sort(([, a], [, b]) => b.count - a.count || compareCategories(a.value, b.value));
  const kept = topK === undefined ? ranked : ranked.slice(0, topK);
  return { categories: kept.map(([key]) => key) };
}

// States are plain JSON and treated as immutable: the lookup table is built once per state.
const slotTables = new WeakMap<OneHotState, Map<string, number>>();

function slotTable(state: OneHotState): Map<string, number> {
  let table = slotTables.get(state);
  if (table === undefined) {
    table = new Map(state.categories.map((c, i) => [c, i]));
    slotTables.set(state, table);
  }
  return table;
}

/** The hot slot: the category's index, K for out of vocabulary, −1 for missing. */
export function oneHotIndex(value: CategoricalValue, state: OneHotState): number {
  if (isMissingCategory(value)) return -1;
  return slotTable(state).get(categoryKey(value)) ?? state.categories.length;
}

/** The K + 1 vector: 1 in the value's slot (the last one if unknown), all zeros if missing. */
export function applyOneHot(value: CategoricalValue, state: OneHotState): number[] {
  const out = new Array<number>(state.categories.length + 1).fill(0);
  const i = oneHotIndex(value, state);
  if (i >= 0) out[i] = 1;
  return out;
}
