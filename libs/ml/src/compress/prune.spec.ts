import { afterAll, describe, expect, it } from 'vitest';
import {
  type DenseLayer,
  type NetworkLayer,
  denseNetworkModel,
  denseShape,
  exportDenseNetwork,
  forwardDense,
  validateGraph,
} from '../onnx';
import { Rng } from '../rng';
import { pruneStructured, pruneUnstructured } from './prune';
import {
  batchNorm,
  createSession,
  dense,
  maxAbsDiff,
  networkCases,
  normals,
  runModel,
} from './spec-helpers';

const deltas: Record<string, Record<string, string>> = {};
afterAll(() => {
  console.info('pruning, max |Δ| in onnxruntime:');
  console.table(deltas);
});

const denseOf = (layers: readonly NetworkLayer[]) =>
  layers.filter((l): l is DenseLayer => l.kind === 'dense');

describe('pruneUnstructured', () => {
  const hand = (): NetworkLayer[] => [
    {
      kind: 'dense',
      weights: new Float32Array([0.1, -0.5, 0.3, -0.05, 0.2, 0.4]),
      bias: new Float32Array([1, 2, 3]),
      activation: 'relu',
    },
    { kind: 'dropout', rate: 0.5 },
    {
      kind: 'dense',
      weights: new Float32Array([0.01, -0.02, 0.03]),
      units: 1,
      activation: 'linear',
    },
  ];

  it('zeroes the smallest |w| of the hidden kernels, never the head (hand-computed)', () => {
    // 6 prunable weights, sparsity 0.5 → the 3 smallest: 0.05, 0.1, 0.2.
    const layers = hand();
    const { layers: pruned, masks, pruned: count, sparsity } = pruneUnstructured(layers, 0.5);
    expect(Array.from((pruned[0] as DenseLayer).weights)).toEqual([
      0,
      -0.5,
      Math.fround(0.3),
      0,
      0,
      Math.fround(0.4),
    ]);
    expect(masks).toHaveLength(2);
    expect(Array.from(masks[0]!)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(masks[1]).toBeNull();
    expect(count).toBe(3);
    expect(sparsity).toBe(0.5);
    // The head, biases and other layers are untouched, and so is the input (a pure function).
    expect(pruned[2]).toBe(layers[2]);
    expect(pruned[1]).toBe(layers[1]);
    expect((pruned[0] as DenseLayer).bias).toBe((layers[0] as DenseLayer).bias);
    expect((layers[0] as DenseLayer).weights[0]).toBe(Math.fround(0.1));
  });

  it('breaks ties in order, so the count is exact', () => {
    const layers: NetworkLayer[] = [
      { kind: 'dense', weights: new Float32Array([1, -1, 1, -1]), units: 2, activation: 'relu' },
      { kind: 'dense', weights: new Float32Array([1, 1]), units: 1, activation: 'linear' },
    ];
    const { layers: pruned, pruned: count } = pruneUnstructured(layers, 0.5);
    expect(count).toBe(2);
    expect(Array.from((pruned[0] as DenseLayer).weights)).toEqual([0, 0, 1, -1]);
  });

  it('prunes globally across layers: the exact share, the smallest magnitudes', () => {
    const rng = new Rng(3);
    const layers: NetworkLayer[] = [
      dense(rng, 16, 32, 'relu'),
      batchNorm(rng, 32),
      { ...dense(rng, 32, 8, 'tanh'), weights: normals(rng, 32 * 8, 0.05) }, // small weights
      dense(rng, 8, 1, 'sigmoid'),
    ];
    const total = 16 * 32 + 32 * 8;
    const result = pruneUnstructured(layers, 0.4);
    expect(result.pruned).toBe(Math.floor(0.4 * total));
    let maxPruned = 0;
    let minKept = Infinity;
    denseOf(layers).forEach((layer, d) => {
      const mask = result.masks[d];
      const after = denseOf(result.layers)[d].weights;
      if (mask === null) {
        expect(after).toBe(layer.weights);
        return;
      }
      expect(mask.length).toBe(layer.weights.length);
      layer.weights.forEach((w, k) => {
        // The pruned kernel is the original times its mask.
        expect(after[k]).toBe(mask[k] ? w : 0);
        if (mask[k]) minKept = Math.min(minKept, Math.abs(w));
        else maxPruned = Math.max(maxPruned, Math.abs(w));
      });
    });
    expect(maxPruned).toBeLessThanOrEqual(minKept);
    // The layer of small weights lost more than its share.
    const zeros = (m: Uint8Array) => m.reduce((n, v) => n + (v ? 0 : 1), 0);
    expect(zeros(result.masks[1]!) / (32 * 8)).toBeGreaterThan(0.4);
    expect(result.layers[1]).toBe(layers[1]);
  });

  it('refuses a sparsity outside [0, 1)', () => {
    expect(() => pruneUnstructured(hand(), 1)).toThrow(/sparsity/);
    expect(() => pruneUnstructured(hand(), -0.1)).toThrow(/sparsity/);
    expect(pruneUnstructured(hand(), 0).pruned).toBe(0);
  });

  it.each(networkCases)(
    '$name: the FP32 export of the pruned layers runs in onnxruntime',
    async (c) => {
      const rng = new Rng(c.name.length * 31 + 1);
      const layers = c.layers(rng);
      const { inputSize } = denseShape(layers);
      const x = normals(rng, 128 * inputSize);
      const model = denseNetworkModel(layers, c.options);
      expect(() => validateGraph(model.graph, model.opsetImports)).not.toThrow();
      const input = c.options.inputName ?? 'features';
      const original = await runModel(exportDenseNetwork(layers, c.options), x, inputSize, input);
      const head = Object.keys(original).find((k) => k !== 'probabilities') ?? 'probabilities';
      const row: Record<string, string> = {};
      for (const sparsity of [0.1, 0.3, 0.5]) {
        const pruned = pruneUnstructured(layers, sparsity).layers;
        const bytes = exportDenseNetwork(pruned, c.options);
        const model = denseNetworkModel(pruned, c.options);
        expect(() => validateGraph(model.graph, model.opsetImports)).not.toThrow();
        const out = await runModel(bytes, x, inputSize, input);
        // Exactly the pruned network (FP32 parity), and some distance from the unpruned one.
        expect(maxAbsDiff(out[head], forwardDense(pruned, x))).toBeLessThanOrEqual(1e-5);
        row[`sparsity ${sparsity}`] = maxAbsDiff(out[head], original[head]).toExponential(1);
      }
      deltas[`unstructured: ${c.name}`] = row;
    },
  );
});

describe('pruneStructured', () => {
  it('removes the units of smallest incoming L1 norm and slices what follows (hand-computed)', () => {
    // Kernel [2, 4]: column L1 norms 3, 1, 2, 0.5 → removing half drops units 3 and 1.
    const layers: NetworkLayer[] = [
      {
        kind: 'dense',
        weights: new Float32Array([1, 0.5, -1, 0.25, -2, 0.5, 1, -0.25]),
        bias: new Float32Array([0.1, 0.2, 0.3, 0.4]),
        activation: 'relu',
      },
      {
        kind: 'batchNorm',
        gamma: new Float32Array([1, 2, 3, 4]),
        movingMean: new Float32Array([5, 6, 7, 8]),
        movingVariance: new Float32Array([1, 1, 2, 2]),
      },
      { kind: 'dropout' },
      {
        kind: 'dense',
        weights: new Float32Array([10, 11, 20, 21, 30, 31, 40, 41]),
        units: 2,
        activation: 'linear',
      },
    ];
    const { layers: pruned, kept } = pruneStructured(layers, 0.5);
    expect(kept).toEqual([{ layerIndex: 0, units: Int32Array.from([0, 2]), originalUnits: 4 }]);
    const [d0, bn, drop, d1] = pruned as [DenseLayer, NetworkLayer, NetworkLayer, DenseLayer];
    expect(Array.from(d0.weights)).toEqual([1, -1, -2, 1]);
    expect(Array.from(d0.bias!)).toEqual([0.1, 0.3].map(Math.fround));
    expect(bn).toMatchObject({ kind: 'batchNorm' });
    if (bn.kind !== 'batchNorm') throw new Error('unreachable');
    expect(Array.from(bn.gamma!)).toEqual([1, 3]);
    expect(bn.beta).toBeUndefined();
    expect(Array.from(bn.movingMean)).toEqual([5, 7]);
    expect(Array.from(bn.movingVariance)).toEqual([1, 2]);
    expect(drop).toBe(layers[2]);
    // The head keeps its units (2, `units` unchanged) and loses the rows of units 1 and 3.
    expect(Array.from(d1.weights)).toEqual([10, 11, 30, 31]);
    expect(d1.units).toBe(2);
    expect(denseShape(pruned)).toEqual({ inputSize: 2, outputSize: 2 });
  });

  it('keeps at least one unit, updates `units` of bias-free layers, and is the identity at 0', () => {
    const rng = new Rng(8);
    const layers: NetworkLayer[] = [dense(rng, 4, 3, 'relu', false), dense(rng, 3, 1, 'sigmoid')];
    const { layers: pruned, kept } = pruneStructured(layers, 0.9);
    expect(kept[0].units.length).toBe(1);
    expect((pruned[0] as DenseLayer).units).toBe(1);
    expect(denseShape(pruned)).toEqual({ inputSize: 4, outputSize: 1 });
    const same = pruneStructured(layers, 0);
    same.layers.forEach((layer, i) => expect(layer).toBe(layers[i]));
    expect(() => pruneStructured(layers, 1)).toThrow(/fraction/);
  });

  /** The original with the given units' incoming weights (kernel columns) and biases zeroed. */
  function silenceIncoming(layers: readonly NetworkLayer[], removed: Map<number, Set<number>>) {
    return layers.map((layer, i): NetworkLayer => {
      const units = removed.get(i);
      if (layer.kind !== 'dense' || !units) return layer;
      const width = layer.bias?.length ?? layer.units!;
      const weights = layer.weights.map((w, k) => (units.has(k % width) ? 0 : w));
      const bias = layer.bias?.map((b, j) => (units.has(j) ? 0 : b));
      return { ...layer, weights, ...(bias ? { bias } : {}) };
    });
  }

  /** The original with the given units' outgoing weights (next dense kernel rows) zeroed. */
  function silenceOutgoing(layers: readonly NetworkLayer[], removed: Map<number, Set<number>>) {
    let pending: Set<number> | undefined;
    return layers.map((layer, i): NetworkLayer => {
      if (layer.kind !== 'dense') return layer;
      const rows = pending;
      pending = removed.get(i);
      if (!rows) return layer;
      const width = layer.bias?.length ?? layer.units!;
      return {
        ...layer,
        weights: layer.weights.map((w, k) => (rows.has(Math.floor(k / width)) ? 0 : w)),
      };
    });
  }

  function removedUnits(layers: readonly NetworkLayer[], fraction: number) {
    const result = pruneStructured(layers, fraction);
    const removed = new Map<number, Set<number>>();
    for (const k of result.kept) {
      const keep = new Set(k.units);
      const gone = new Set<number>();
      for (let u = 0; u < k.originalUnits; u += 1) if (!keep.has(u)) gone.add(u);
      removed.set(k.layerIndex, gone);
    }
    return { result, removed };
  }

  it('without batch norm and with activation(0) = 0: the original with incoming weights zeroed', () => {
    const rng = new Rng(12);
    const layers: NetworkLayer[] = [
      dense(rng, 12, 40, 'relu'),
      { kind: 'dropout', rate: 0.2 },
      dense(rng, 40, 24, 'tanh'),
      dense(rng, 24, 3, 'softmax'),
    ];
    const { result, removed } = removedUnits(layers, 0.5);
    expect(result.kept.map((k) => k.units.length)).toEqual([20, 12]);
    const x = normals(rng, 64 * 12);
    // Exactly equal: a silenced unit adds 0 · w = 0 to the same sums in the same order.
    expect(forwardDense(result.layers, x)).toEqual(
      forwardDense(silenceIncoming(layers, removed), x),
    );
  });

  it.each(networkCases)(
    '$name: always the original with outgoing weights zeroed, in JS and onnxruntime',
    async (c) => {
      const rng = new Rng(c.name.length * 17 + 5);
      const layers = c.layers(rng);
      const { inputSize } = denseShape(layers);
      const x = normals(rng, 128 * inputSize);
      const { result, removed } = removedUnits(layers, 0.5);
      const reference = silenceOutgoing(layers, removed);
      expect(forwardDense(result.layers, x)).toEqual(forwardDense(reference, x));

      const model = denseNetworkModel(result.layers, c.options);
      expect(() => validateGraph(model.graph, model.opsetImports)).not.toThrow();
      const input = c.options.inputName ?? 'features';
      const [got, want, original] = await Promise.all([
        runModel(exportDenseNetwork(result.layers, c.options), x, inputSize, input),
        runModel(exportDenseNetwork(reference, c.options), x, inputSize, input),
        runModel(exportDenseNetwork(layers, c.options), x, inputSize, input),
      ]);
      let vsReference = 0;
      let vsOriginal = 0;
      for (const name of Object.keys(want)) {
        vsReference = Math.max(vsReference, maxAbsDiff(got[name], want[name]));
        vsOriginal = Math.max(vsOriginal, maxAbsDiff(got[name], original[name]));
      }
      expect(vsReference).toBeLessThanOrEqual(1e-5);
      deltas[`structured 50 %: ${c.name}`] = {
        'vs silenced original': vsReference.toExponential(1),
        'vs original': vsOriginal.toExponential(1),
      };
      // Smaller matrices in the graph: every hidden kernel lost half its columns.
      for (const k of result.kept) {
        const kernel = model.graph.initializers!.find(
          (t) => t.name === `dense_${k.layerIndex}/kernel`,
        )!;
        expect(kernel.dims[1]).toBe(k.units.length);
        expect(k.units.length).toBe(k.originalUnits - Math.floor(k.originalUnits / 2));
      }
      const session = await createSession(exportDenseNetwork(result.layers, c.options));
      await session.release();
    },
  );
});
