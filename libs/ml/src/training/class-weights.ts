/**
 * Per-class loss weights for the trainer: none, scikit-learn's "balanced" rule, or explicit
 * weights by label.
 */

/** How the trainer weights classes: not at all, inversely to frequency, or by label. */
export type ClassWeightSpec = 'none' | 'balanced' | Readonly<Record<string, number>>;

function checkCounts(fn: string, counts: readonly number[]): void {
  counts.forEach((c, i) => {
    if (!(c >= 0) || !Number.isFinite(c)) {
      throw new RangeError(`${fn}: count of class ${i} must be finite and ≥ 0, got ${c}`);
    }
  });
}

/**
 * scikit-learn's `compute_class_weight('balanced', ...)`:
 *
 *     w_c = n_samples / (n_classes · count_c)
 *
 * so that every class contributes the same total weight n_samples / n_classes, and a dataset
 * that is already balanced gets weight 1 everywhere.
 *
 * A class with no rows has no loss term to weight. scikit-learn raises when `classes` names a
 * label absent from y; here such a class gets weight 0 and is left out of n_classes, which
 * gives the present classes exactly the weights scikit-learn computes on them alone. Counts
 * may be fractional (weighted counts); they must be finite and ≥ 0. All zero gives all zeros.
 */
export function balancedClassWeights(counts: readonly number[]): number[] {
  checkCounts('balancedClassWeights', counts);
  let total = 0;
  let present = 0;
  for (const c of counts) {
    total += c;
    if (c > 0) present += 1;
  }
  return counts.map((c) => (c > 0 ? total / (present * c) : 0));
}

/**
 * One weight per class index, for the trainer's per-row loss weights:
 *
 * - `'none'`: 1 for every class;
 * - `'balanced'`: {@link balancedClassWeights} of `counts`;
 * - a record `{ label: weight }`: the named classes get their weight, the others 1. A label that
 *   is not in `classes` throws a RangeError naming it (a typo would otherwise silently weight
 *   nothing); weights must be finite and ≥ 0.
 *
 * `classes[i]` is the label of class index i and `counts[i]` its number of training rows.
 */
export function classWeightVector(
  spec: ClassWeightSpec,
  classes: readonly string[],
  counts: readonly number[],
): Float32Array {
  if (counts.length !== classes.length) {
    throw new RangeError(
      `classWeightVector: ${classes.length} classes but ${counts.length} counts`,
    );
  }
  checkCounts('classWeightVector', counts);
  if (spec === 'none') return new Float32Array(classes.length).fill(1);
  if (spec === 'balanced') return Float32Array.from(balancedClassWeights(counts));
  const out = new Float32Array(classes.length).fill(1);
  const index = new Map(classes.map((label, i) => [label, i]));
  for (const [label, weight] of Object.entries(spec)) {
    const i = index.get(label);
    if (i === undefined) {
      throw new RangeError(
        `classWeightVector: unknown class label "${label}" (classes: ${classes.join(', ')})`,
      );
    }
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new RangeError(
        `classWeightVector: weight of class "${label}" must be finite and ≥ 0, got ${weight}`,
      );
    }
    out[i] = weight;
  }
  return out;
}
