/**
 * Magnitude pruning of a trained dense network (tfjs layout: kernel [in, out] row-major).
 * Both functions are pure: they return new layers and leave theirs untouched (arrays they do
 * not change are shared). The output head (the last dense layer) is never pruned: its units
 * are the task's outputs.
 *
 * - {@link pruneUnstructured} zeroes individual weights; the kernels keep their shape, so the
 *   FP32 export is as large as before (the zeros compress well, and a caller can fine-tune with
 *   the masks). It pays off combined with a sparse-aware runtime or with compression.
 * - {@link pruneStructured} removes whole units, so every matrix shrinks and so does the export.
 */
import {
  type DenseLayer,
  type NetworkLayer,
  denseShape,
  denseUnits,
  lastDenseIndex,
} from '../onnx';

export interface UnstructuredPruning {
  readonly layers: NetworkLayer[];
  /**
   * One per dense layer, in order (the layout of the trainer's `kernelMasks`): 1 = kept,
   * 0 = pruned, in the kernel's layout; null for the head, which is never pruned.
   */
  readonly masks: (Uint8Array | null)[];
  /** Weights zeroed (among the prunable ones: the kernels of all dense layers but the head). */
  readonly pruned: number;
  /** `pruned` over the prunable weights. */
  readonly sparsity: number;
}

/**
 * Global magnitude pruning: over the kernels of every dense layer except the head, zeroes the
 * ⌊sparsity · n⌋ weights of smallest |w| (ties broken by layer, then position, so the count is
 * exact). Biases, batch norms and the head are untouched.
 */
export function pruneUnstructured(
  layers: readonly NetworkLayer[],
  sparsity: number,
): UnstructuredPruning {
  if (!(sparsity >= 0 && sparsity < 1))
    throw new RangeError(`sparsity must be in [0, 1), got ${sparsity}`);
  denseShape(layers);
  const head = lastDenseIndex(layers);
  const prunable = denseIndices(layers).filter((i) => i !== head);
  const total = prunable.reduce((n, i) => n + (layers[i] as DenseLayer).weights.length, 0);
  const target = Math.floor(sparsity * total);

  // The threshold: the target-th smallest |w| (a typed-array sort is numeric and fast).
  let threshold = -1;
  if (target > 0) {
    const magnitudes = new Float32Array(total);
    let k = 0;
    for (const i of prunable) {
      for (const w of (layers[i] as DenseLayer).weights) magnitudes[k++] = Math.abs(w);
    }
    magnitudes.sort();
    threshold = magnitudes[target - 1];
  }
  // Everything below the threshold goes; ties at the threshold go in order until the count is met.
  let below = 0;
  for (const i of prunable) {
    for (const w of (layers[i] as DenseLayer).weights) if (Math.abs(w) < threshold) below += 1;
  }
  let tiesLeft = target - below;

  const out = [...layers];
  const masks: (Uint8Array | null)[] = [];
  let pruned = 0;
  for (const i of denseIndices(layers)) {
    if (i === head) {
      masks.push(null);
      continue;
    }
    const layer = layers[i] as DenseLayer;
    const mask = new Uint8Array(layer.weights.length).fill(1);
    if (target > 0) {
      const weights = Float32Array.from(layer.weights);
      for (let k = 0; k < weights.length; k += 1) {
        const m = Math.abs(weights[k]);
        if (m < threshold || (m === threshold && tiesLeft > 0)) {
          if (m === threshold) tiesLeft -= 1;
          weights[k] = 0;
          mask[k] = 0;
          pruned += 1;
        }
      }
      out[i] = { ...layer, weights };
    }
    masks.push(mask);
  }
  return { layers: out, masks, pruned, sparsity: total === 0 ? 0 : pruned / total };
}

/** The units of one pruned dense layer that remain, as indices of the original layer's units. */
export interface KeptUnits {
  readonly layerIndex: number;
  /** Ascending: the pruned layer's unit u is the original's unit `units[u]`. */
  readonly units: Int32Array;
  readonly originalUnits: number;
}

export interface StructuredPruning {
  readonly layers: NetworkLayer[];
  /** One per hidden dense layer (not the head), in order. */
  readonly kept: readonly KeptUnits[];
}

/**
 * Removes ⌊fraction · units⌋ units (at least one stays) of every hidden dense layer (all but the
 * head): those whose incoming weights (their kernel column) have the smallest L1 norm, ties
 * going to the lower index. The remaining units keep their order. Their kernel columns and
 * biases are kept; the batch-norm vectors that follow the layer and the next dense layer's
 * kernel rows are sliced to match. Scores come from the original kernels, so each layer's
 * choice is independent of the others'.
 *
 * What it computes exactly: the pruned network equals the original with the removed units'
 * outgoing weights (the next dense layer's kernel rows) zeroed, whatever the activations and
 * batch norms, since a removed unit reaches the rest of the network only through them. When
 * activation(0) = 0 (relu, tanh, linear, elu, selu) and no batch norm follows, that is also the
 * original with the removed units' incoming weights and bias zeroed. With a batch norm, a
 * silenced unit's normalized output would be β − mean · γ / √(var + ε), not 0: pruning drops
 * that constant (fine-tuning, or folding it into the next bias, recovers it).
 */
export function pruneStructured(
  layers: readonly NetworkLayer[],
  fraction: number,
): StructuredPruning {
  if (!(fraction >= 0 && fraction < 1))
    throw new RangeError(`fraction must be in [0, 1), got ${fraction}`);
  denseShape(layers);
  const head = lastDenseIndex(layers);
  const kept: KeptUnits[] = [];
  const keptByLayer = new Map<number, Int32Array>();
  for (const i of denseIndices(layers)) {
    if (i === head) continue;
    const layer = layers[i] as DenseLayer;
    const units = denseUnits(layer);
    const inputs = layer.weights.length / units;
    const scores = new Float64Array(units);
    for (let r = 0; r < inputs; r += 1) {
      for (let j = 0; j < units; j += 1) scores[j] += Math.abs(layer.weights[r * units + j]);
    }
    const remove = Math.min(Math.floor(fraction * units), units - 1);
    const order = Array.from({ length: units }, (_, j) => j).sort(
      (a, b) => scores[a] - scores[b] || a - b,
    );
    const keep = Int32Array.from(order.slice(remove)).sort();
    kept.push({ layerIndex: i, units: keep, originalUnits: units });
    keptByLayer.set(i, keep);
  }

  // Rows kept of the current layer's input (null: all of them).
  let rows: Int32Array | null = null;
  const out = layers.map((layer, i): NetworkLayer => {
    switch (layer.kind) {
      case 'dense': {
        const units = denseUnits(layer);
        const inputs = layer.weights.length / units;
        const columns = keptByLayer.get(i) ?? null;
        const rowIndex = rows ?? range(inputs);
        const columnIndex = columns ?? range(units);
        rows = columns;
        if (rowIndex.length === inputs && columnIndex.length === units) return layer;
        const weights = new Float32Array(rowIndex.length * columnIndex.length);
        rowIndex.forEach((r, a) => {
          columnIndex.forEach((c, b) => {
            weights[a * columnIndex.length + b] = layer.weights[r * units + c];
          });
        });
        const bias = layer.bias && pick(layer.bias, columnIndex);
        const sliced: DenseLayer = { ...layer, weights, ...(bias ? { bias } : {}) };
        return layer.units === undefined ? sliced : { ...sliced, units: columnIndex.length };
      }
      case 'batchNorm': {
        const keep = rows;
        if (keep === null) return layer;
        return {
          ...layer,
          movingMean: pick(layer.movingMean, keep),
          movingVariance: pick(layer.movingVariance, keep),
          ...(layer.gamma ? { gamma: pick(layer.gamma, keep) } : {}),
          ...(layer.beta ? { beta: pick(layer.beta, keep) } : {}),
        };
      }
      case 'dropout':
        return layer;
      default:
        return assertNever(layer);
    }
  });
  return { layers: out, kept };
}

function denseIndices(layers: readonly NetworkLayer[]): number[] {
  return layers.flatMap((layer, i) => (layer.kind === 'dense' ? [i] : []));
}

function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function pick(values: Float32Array, indices: Int32Array): Float32Array {
  return Float32Array.from(indices, (i) => values[i]);
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
