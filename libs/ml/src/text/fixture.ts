// Typed view of fixtures/tfidf.json (written by fixtures/make_text_fixtures.py with
// scikit-learn), shared by the text specs. JSON imports infer tuples as arrays and nulls too
// loosely, hence the one cast here.
import reference from '../../fixtures/tfidf.json';
import type { AnalyzerOptions } from './tokenize';
import type { TfidfOptions } from './tfidf';

/** One sparse row: every column not listed is exactly 0. */
export interface SparseRow {
  readonly indices: readonly number[];
  readonly values: readonly number[];
}

export interface TfidfCase {
  readonly name: string;
  readonly sklearn: Readonly<Record<string, string>>;
  readonly options: TfidfOptions;
  readonly vocabulary: readonly string[];
  readonly idf: readonly number[] | null;
  readonly corpus: readonly SparseRow[];
  readonly unseen: readonly SparseRow[];
  readonly tie_at_cutoff?: boolean;
  readonly sklearn_vocabulary?: readonly string[];
  readonly term_frequency?: Readonly<Record<string, number>>;
}

export interface TextFixture {
  readonly _sklearn: string;
  readonly corpus: readonly string[];
  readonly unseen: readonly string[];
  readonly analyzer: readonly {
    readonly options: AnalyzerOptions;
    readonly outputs: readonly { readonly text: string; readonly tokens: readonly string[] }[];
  }[];
  readonly cases: readonly TfidfCase[];
  readonly errors: readonly {
    readonly name: string;
    readonly options: TfidfOptions;
    readonly corpus?: readonly string[];
    readonly message: string;
  }[];
  readonly murmur3: readonly {
    readonly input: string;
    readonly seed: number;
    readonly hash: number;
  }[];
  readonly hashing: {
    readonly texts: readonly string[];
    readonly normalised: readonly string[];
    readonly configs: readonly {
      readonly dim: number;
      readonly minN: number;
      readonly maxN: number;
      readonly seed: number;
      readonly rows: readonly SparseRow[];
    }[];
  };
}

export const fixture = reference as unknown as TextFixture;

/** A sparse row as the dense vector of `size` columns. */
export function dense(row: SparseRow, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  row.indices.forEach((j, k) => {
    out[j] = row.values[k];
  });
  return out;
}

/** Largest |a[i] − b[i]|; Infinity when the lengths differ. */
export function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i += 1) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
