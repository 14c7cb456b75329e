// The large case: a 512-1024-1024-1 binary MLP (random weights, seeded), every compressed
// variant loaded and run in onnxruntime-node on 2,000 random rows. Sizes and agreement only:
// timings belong to the benchmark, not to tests.
import { describe, expect, it } from 'vitest';
import {
  type DenseLayer,
  type NetworkLayer,
  denseNetworkModel,
  exportDenseNetwork,
  validateGraph,
} from '../onnx';
import { Rng } from '../rng';
import { pruneStructured } from './prune';
import {
  exportDenseInt4,
  exportDenseInt8Dynamic,
  exportDenseInt8Static,
  int4Strategy,
  int8DynamicStrategy,
  int8StaticStrategy,
} from './quantize';
import { maxAbsDiff, mlp1024, normals, runModel } from './spec-helpers';

const FEATURES = 512;
const ROWS = 2000;
const CALIBRATION_ROWS = 256;

/** Share of rows whose argmax class (over `probabilities` [N, 2]) agrees. */
function agreement(a: Float32Array, b: Float32Array): number {
  let same = 0;
  for (let r = 0; r < a.length / 2; r += 1) {
    if (a[2 * r + 1] > a[2 * r] === b[2 * r + 1] > b[2 * r]) same += 1;
  }
  return same / (a.length / 2);
}

const weightCount = (layers: readonly NetworkLayer[]) =>
  layers.reduce((n, l) => n + (l.kind === 'dense' ? l.weights.length : 0), 0);

describe('512-1024-1024-1 binary MLP', () => {
  const rng = new Rng(1024);
  const layers = mlp1024(rng);
  const options = { task: 'binary' as const };
  const x = normals(rng, ROWS * FEATURES);
  const calibration = normals(rng, CALIBRATION_ROWS * FEATURES);
  const fp32 = exportDenseNetwork(layers, options);

  it('quantized: INT8 ≤ 1/3.9 and INT4 ≤ 1/6 of the FP32 bytes, INT8 top-1 agreement ≥ 99 %', async () => {
    const variants: [string, Uint8Array][] = [
      ['int8 dynamic', exportDenseInt8Dynamic(layers, options)],
      ['int8 dynamic per-channel', exportDenseInt8Dynamic(layers, options, { perChannel: true })],
      ['int8 static qdq', exportDenseInt8Static(layers, options, calibration)],
      [
        'int8 static qdq per-channel',
        exportDenseInt8Static(layers, options, calibration, { perChannel: true }),
      ],
      ['int4 block 32', exportDenseInt4(layers, options)],
      ['int4 block 32 accuracy 4', exportDenseInt4(layers, options, { accuracyLevel: 4 })],
    ];
    // The graphs pass our structural validation (the exports ran it too, on encoding).
    for (const strategy of [
      int8DynamicStrategy({ perChannel: true }),
      int8StaticStrategy(layers, calibration, { perChannel: true }),
      int4Strategy(),
    ]) {
      const model = denseNetworkModel(layers, options, strategy);
      expect(() => validateGraph(model.graph, model.opsetImports)).not.toThrow();
    }

    const want = await runModel(fp32, x, FEATURES);
    const summary: Record<string, Record<string, string | number>> = {
      fp32: { bytes: fp32.length, ratio: '1.00' },
    };
    for (const [name, bytes] of variants) {
      const got = await runModel(bytes, x, FEATURES);
      const agree = agreement(got.probabilities, want.probabilities);
      const ratio = fp32.length / bytes.length;
      summary[name] = {
        bytes: bytes.length,
        ratio: ratio.toFixed(2),
        'max |Δ| P(1)': maxAbsDiff(got.probability, want.probability).toExponential(1),
        'top-1 agreement': `${(100 * agree).toFixed(2)} %`,
      };
      if (name.startsWith('int8')) {
        expect(ratio, name).toBeGreaterThanOrEqual(3.9);
        expect(agree, name).toBeGreaterThanOrEqual(0.99);
      } else {
        expect(ratio, name).toBeGreaterThanOrEqual(6);
      }
    }
    console.info(`${ROWS} random rows, ${CALIBRATION_ROWS} calibration rows:`);
    console.table(summary);
  });

  it('structured pruning of 50 % of the hidden units: smaller matrices, ≈ 3× fewer weights', async () => {
    const { layers: pruned, kept } = pruneStructured(layers, 0.5);
    expect(kept.map((k) => k.units.length)).toEqual([512, 512]);
    expect(
      pruned.filter((l): l is DenseLayer => l.kind === 'dense').map((l) => l.weights.length),
    ).toEqual([512 * 512, 512 * 512, 512]);
    const bytes = exportDenseNetwork(pruned, options);
    const weights = weightCount(layers) / weightCount(pruned);
    const fileRatio = fp32.length / bytes.length;
    // The 512 input features cannot be pruned, so the first kernel only halves: 1,573,888 →
    // 524,800 weights is 2.999×, whatever the method (the 1024 × 1024 kernel alone shrinks 4×).
    expect(weights).toBeCloseTo(1_573_888 / 524_800, 10);
    expect(fileRatio).toBeGreaterThanOrEqual(2.99);
    const out = await runModel(bytes, x.subarray(0, 64 * FEATURES), FEATURES);
    expect(out.probability).toHaveLength(64);
    console.info(
      `structured 50 %: ${weightCount(pruned)} weights (${weights.toFixed(3)}× fewer), ` +
        `${bytes.length} bytes (${fileRatio.toFixed(3)}× smaller than FP32's ${fp32.length})`,
    );
  });
});
