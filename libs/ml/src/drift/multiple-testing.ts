/**
 * Adjusted p-values for testing many features at once, as statsmodels'
 * multipletests(p, method='bonferroni' | 'fdr_bh')[1].
 */

function check(fn: string, pvalues: readonly number[]): void {
  for (let i = 0; i < pvalues.length; i += 1) {
    const p = pvalues[i];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn}: p-value ${i} is ${p}, not in [0, 1]`);
  }
}

/** min(1, p·m) for m tests: controls the family-wise error rate. */
export function bonferroni(pvalues: readonly number[]): number[] {
  check('bonferroni', pvalues);
  const m = pvalues.length;
  return pvalues.map((p) => Math.min(1, p * m));
}

/**
 * Benjamini–Hochberg step-up adjusted p-values: with p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted p₍ᵢ₎ is
 * min over j ≥ i of p₍ⱼ₎ / (j/m), capped at 1, returned in the input order. Rejecting where it
 * is ≤ α controls the false discovery rate at α (independent or positively dependent tests).
 */
export function benjaminiHochberg(pvalues: readonly number[]): number[] {
  check('benjaminiHochberg', pvalues);
  const m = pvalues.length;
  const order = Array.from(pvalues.keys()).sort((a, b) => pvalues[a] - pvalues[b]);
  const adjusted = new Array<number>(m);
  let running = Infinity;
  for (let r = m - 1; r >= 0; r -= 1) {
    // statsmodels divides by the ECDF value (r + 1)/m rather than multiplying by m/(r + 1).
    running = Math.min(running, pvalues[order[r]] / ((r + 1) / m));
    adjusted[order[r]] = Math.min(1, running);
  }
  return adjusted;
}
