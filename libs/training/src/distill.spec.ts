import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainingSpec } from '@mlops/contracts';
import { forwardDense, Rng } from '@mlops/ml';
import { selectBackend } from './backend';
import { networkFromLayers } from './from-layers';
import {
  gatherRows,
  microBatchGradients,
  predictOutputs,
  snapshot,
  trainNetwork,
  type TrainingData,
} from './loop';
import { buildNetwork, networkLayers } from './network';

function data(rows: number, columns: number, classes: number, seed: number): TrainingData {
  const rng = new Rng(seed);
  const w = Array.from({ length: classes * columns }, () => rng.normal());
  const values = new Float32Array(rows * columns);
  const labels = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) values[r * columns + c] = rng.normal();
    const s = Array.from({ length: Math.max(2, classes) }, (_, k) => {
      let v = rng.normal() * 0.5;
      for (let c = 0; c < columns; c++) v += values[r * columns + c] * (w[k * columns + c] ?? 0);
      return v;
    });
    labels[r] = s.indexOf(Math.max(...s));
  }
  const all = Uint32Array.from({ length: rows }, (_, i) => i);
  return { values, columns, labels, train: all.subarray(200), validation: all.subarray(0, 200) };
}

const spec = (model: Record<string, unknown>, training: Record<string, unknown>) =>
  resolveTrainingSpec({ name: 'd', model, training });

/** The network's raw outputs (logits) of some rows. */
function logits(net: ReturnType<typeof buildNetwork>, d: TrainingData, rows: Uint32Array) {
  const x = tf.tensor2d(gatherRows(d.values, d.columns, rows), [rows.length, d.columns]);
  const z = net.apply(x, { training: false }) as tf.Tensor;
  const out = Array.from(z.dataSync());
  tf.dispose([x, z]);
  return out;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('distillation loss', () => {
  it('binary: α·τ²·KL(Bernoulli(σ(t/τ)) ‖ Bernoulli(σ(z/τ))) + (1 − α)·BCE, as computed by hand', () => {
    const d = data(40, 4, 2, 1);
    const net = buildNetwork({
      model: spec({ hidden: [5] }, {}).model,
      task: 'binary',
      inputs: 4,
      outputs: 1,
      seed: 9,
    });
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const rows = Uint32Array.from({ length: 16 }, (_, i) => i);
    const teacherLogits = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3);
    const tau = 2;
    const alpha = 0.7;
    const { loss } = microBatchGradients(net, vars, [], d, rows, {
      task: 'binary',
      classCount: 2,
      weights: null,
      denominator: 16,
      l2: 0,
      teacher: { logits: teacherLogits, temperature: tau, alpha },
    });
    const z = logits(net, d, rows);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    let expected = 0;
    rows.forEach((r, i) => {
      const q = sig(teacherLogits[r] / tau);
      const p = sig(z[i] / tau);
      const kl = q * Math.log(q / p) + (1 - q) * Math.log((1 - q) / (1 - p));
      const y = d.labels[r];
      const pHard = sig(z[i]);
      const bce = -(y * Math.log(pHard) + (1 - y) * Math.log(1 - pHard));
      expected += alpha * tau * tau * kl + (1 - alpha) * bce;
    });
    expect(loss).toBeCloseTo(expected / 16, 5);
  });

  it('multiclass: α·τ²·KL(softmax(t/τ) ‖ softmax(z/τ)) + (1 − α)·CE, as computed by hand', () => {
    const d = data(30, 3, 3, 2);
    const net = buildNetwork({
      model: spec({ type: 'logistic_regression' }, {}).model,
      task: 'multiclass',
      inputs: 3,
      outputs: 3,
      seed: 4,
    });
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const rows = Uint32Array.from({ length: 10 }, (_, i) => i + 5);
    const teacherLogits = Float32Array.from({ length: 90 }, (_, i) => Math.cos(i * 1.7) * 2);
    const tau = 3;
    const alpha = 0.5;
    const { loss } = microBatchGradients(net, vars, [], d, rows, {
      task: 'multiclass',
      classCount: 3,
      weights: null,
      denominator: 10,
      l2: 0,
      teacher: { logits: teacherLogits, temperature: tau, alpha },
    });
    const z = logits(net, d, rows);
    const softmax = (v: number[]) => {
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    };
    let expected = 0;
    rows.forEach((r, i) => {
      const t = [0, 1, 2].map((k) => teacherLogits[r * 3 + k] / tau);
      const s = [0, 1, 2].map((k) => z[i * 3 + k] / tau);
      const q = softmax(t);
      const p = softmax(s);
      const kl = q.reduce((a, qk, k) => a + qk * Math.log(qk / p[k]), 0);
      const ce = -Math.log(softmax([0, 1, 2].map((k) => z[i * 3 + k]))[d.labels[r]]);
      expected += alpha * tau * tau * kl + (1 - alpha) * ce;
    });
    expect(loss).toBeCloseTo(expected / 10, 5);
  });

  it('a student distilled from a teacher follows it more closely than one trained on labels alone', async () => {
    const d = data(3000, 8, 2, 3);
    const teacher = await trainNetwork(d, {
      task: 'binary',
      classes: ['0', '1'],
      ...spec({ hidden: [64, 32] }, { epochs: 8, earlyStopping: { enabled: false } }),
    });
    const all = Uint32Array.from({ length: 3000 }, (_, i) => i);
    const tLogits = Float32Array.from(logits(teacher.network, d, all));
    const student = (distil: boolean) =>
      trainNetwork(d, {
        task: 'binary',
        classes: ['0', '1'],
        ...spec({ hidden: [4] }, { epochs: 6, earlyStopping: { enabled: false } }),
        ...(distil ? { teacher: { logits: tLogits, temperature: 2, alpha: 0.9 } } : {}),
      });
    const tOut = predictOutputs(
      teacher.network,
      d.values,
      d.columns,
      d.validation,
      'binary',
      2,
    ).values;
    const gap = async (distil: boolean) => {
      const s = await student(distil);
      const out = predictOutputs(s.network, d.values, d.columns, d.validation, 'binary', 2).values;
      return out.reduce((a, p, i) => a + Math.abs(p - tOut[i]), 0) / out.length;
    };
    const distilled = await gap(true);
    const plain = await gap(false);
    expect(distilled).toBeLessThan(plain);
  });
});

describe('fine-tuning an edited network', () => {
  it('networkFromLayers is the inverse of networkLayers (batch norm included)', async () => {
    const d = data(500, 6, 2, 5);
    const trained = await trainNetwork(d, {
      task: 'binary',
      classes: ['0', '1'],
      ...spec(
        { hidden: [8, 4], batchNorm: true, dropout: 0.2 },
        { epochs: 2, earlyStopping: { enabled: false } },
      ),
    });
    const layers = networkLayers(trained.network, 'binary');
    const rebuilt = networkFromLayers(layers, 'binary');
    expect(networkLayers(rebuilt, 'binary')).toEqual(layers);
    const a = predictOutputs(rebuilt, d.values, d.columns, d.validation, 'binary', 2).values;
    d.validation.forEach((r, i) => {
      const expected = forwardDense(layers, d.values.subarray(r * 6, r * 6 + 6))[0];
      expect(a[i]).toBeCloseTo(expected, 5);
    });
  });

  it('holds masked kernel entries at zero while the others learn', async () => {
    const d = data(800, 6, 2, 6);
    const net = buildNetwork({
      model: spec({ hidden: [8] }, {}).model,
      task: 'binary',
      inputs: 6,
      outputs: 1,
      seed: 3,
    });
    const mask = Uint8Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const before = snapshot(net);
    const outcome = await trainNetwork(d, {
      task: 'binary',
      classes: ['0', '1'],
      ...spec(
        { hidden: [8] },
        {
          epochs: 2,
          optimizer: { type: 'adam', learningRate: 0.01 },
          earlyStopping: { enabled: false },
        },
      ),
      network: net,
      kernelMasks: [mask, null],
    });
    const kernel = snapshot(outcome.network)[0];
    mask.forEach((m, i) => {
      if (m === 0) expect(Math.abs(kernel[i])).toBe(0);
      else expect(kernel[i]).not.toBe(before[0][i]);
    });
  });
});
