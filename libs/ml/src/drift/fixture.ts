// Typed view of fixtures/drift.json (written by fixtures/make_drift_fixtures.py; versions in
// `_versions`). null stands for NaN (JSON has none).
import reference from '../../fixtures/drift.json';

export interface KsReference {
  readonly statistic: number;
  readonly pvalue: number | null;
  readonly method: 'exact' | 'asymp';
}

export interface SampleCase {
  readonly name: string;
  readonly a: number[];
  readonly b: number[];
  readonly ks: Partial<Record<'auto' | 'exact' | 'asymp', KsReference>>;
  readonly wasserstein: number;
  readonly normalisedWasserstein: number;
}

export interface ChiSquareReference {
  readonly statistic: number;
  readonly pvalue: number;
  readonly dof: number;
}

export interface DriftFixture {
  readonly _versions: Record<'python' | 'numpy' | 'scipy' | 'statsmodels', string>;
  readonly samples: SampleCase[];
  /** [n, d, kstwo.sf(d, n)] */
  readonly kstwo: [number, number, number][];
  /** [dof, x, chdtrc(dof, x)] */
  readonly chi2: [number, number, number][];
  readonly chi2TwoSample: ({ reference: number[]; current: number[] } & ChiSquareReference)[];
  readonly contingency: ({ table: number[][] } & ChiSquareReference)[];
  readonly fisher: { table: [[number, number], [number, number]]; pvalue: number }[];
  readonly jensenShannon: {
    p: number[];
    q: number[];
    /** scipy's jensenshannon(p, q, base=2) and jensenshannon(p, q). */
    base2: number;
    natural: number;
    /** The base-2 distance evaluated with mpmath at 50 digits. */
    exactBase2: number;
  }[];
  readonly psi: { reference: number[]; current: number[]; psi: Record<string, number> }[];
  readonly binned: {
    name: string;
    reference: number[];
    current: number[];
    bins: number;
    edges: number[];
    referenceCounts: number[];
    currentCounts: number[];
    psi: number;
  }[];
  readonly multipleTesting: { pvalues: number[]; bonferroni: number[]; fdr_bh: number[] }[];
}

export const fixture = reference as unknown as DriftFixture;

/** The brief's tolerance: 1e-9 relative, 1e-12 absolute near zero. */
export const REL = 1e-9;
export const ABS = 1e-12;

/** Whether `actual` equals `expected` (null = NaN) within {@link REL} / {@link ABS}. */
export function close(actual: number, expected: number | null, rel = REL, abs = ABS): boolean {
  if (expected === null || Number.isNaN(expected)) return Number.isNaN(actual);
  if (actual === expected) return true;
  const diff = Math.abs(actual - expected);
  return diff <= abs || diff <= rel * Math.abs(expected);
}
