import { describe, expect, it } from 'vitest';
import { exportDenseInt8Dynamic, exportDenseNetwork, Rng, type NetworkLayer } from '@mlops/ml';
import { measureOnnx } from './measure';

/** A 16-32-1 sigmoid MLP with seeded weights. */
function network(): NetworkLayer[] {
  const rng = new Rng(3);
  const dense = (n: number, m: number, activation: 'relu' | 'sigmoid'): NetworkLayer => ({
    kind: 'dense',
    weights: Float32Array.from({ length: n * m }, () => rng.normal(0, Math.sqrt(2 / n))),
    bias: Float32Array.from({ length: m }, () => rng.normal(0, 0.05)),
    activation,
  });
  return [dense(16, 32, 'relu'), dense(32, 1, 'sigmoid')];
}

describe('measureOnnx', () => {
  const layers = network();
  const rows = 512;
  const rng = new Rng(9);
  const x = Float32Array.from({ length: rows * 16 }, () => rng.normal());
  // One outlier, as real traffic has: row 300 holds a value 400σ out.
  x[300 * 16 + 2] = 400;
  const labels = Array.from({ length: rows }, (_, i) => i % 2);
  const measure = (bytes: Uint8Array, evalBatch?: number) =>
    measureOnnx(bytes, {
      task: 'binary',
      classes: 0,
      x,
      columns: 16,
      labels,
      metric: 'pr_auc',
      latencyRuns: 1,
      ...(evalBatch !== undefined ? { evalBatch } : {}),
    });

  it('scores a dynamically quantized model in the batches it is told, as the server would', async () => {
    const int8 = exportDenseInt8Dynamic(layers, { task: 'binary' });
    const [served, whole] = [await measure(int8, 64), await measure(int8)];
    // The rows of a batch without the outlier: scored at 64 they are what the server answers
    // for that batch; scored with all 512 rows at once, the outlier's range coarsens them.
    const first = await measureOnnx(int8, {
      task: 'binary',
      classes: 0,
      x: x.subarray(0, 64 * 16),
      columns: 16,
      labels: labels.slice(0, 64),
      metric: 'pr_auc',
      latencyRuns: 1,
    });
    expect(Array.from(served.outputs.subarray(0, 64))).toEqual(Array.from(first.outputs));
    const fp32 = (await measure(exportDenseNetwork(layers, { task: 'binary' }))).outputs;
    const error = (o: Float32Array) => {
      let worst = 0;
      for (let i = 0; i < 64; i++) worst = Math.max(worst, Math.abs(o[i] - fp32[i]));
      return worst;
    };
    console.log(
      `INT8 dynamic, worst |Δ| from FP32 on rows 0–63: ${error(served.outputs).toExponential(2)} in batches of 64, ${error(whole.outputs).toExponential(2)} in one batch with the outlier`,
    );
    expect(error(whole.outputs)).toBeGreaterThan(10 * error(served.outputs));
  });

  it('gives a float model the same outputs at any batch size', async () => {
    const fp32 = exportDenseNetwork(layers, { task: 'binary' });
    const [a, b] = [await measure(fp32, 7), await measure(fp32)];
    expect(Array.from(a.outputs)).toEqual(Array.from(b.outputs));
  });
});
