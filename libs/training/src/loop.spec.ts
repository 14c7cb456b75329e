import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainingSpec, type TrainingSection } from '@mlops/contracts';
import { Rng } from '@mlops/ml';
import { selectBackend } from './backend';
import { buildNetwork } from './network';
import { outputLoss } from './evaluation';
import {
  microBatchGradients,
  predictOutputs,
  snapshot,
  trainNetwork,
  type TrainingData,
} from './loop';
import { createOptimizer } from './optimizers';

/** A separable-ish binary problem: y = 1 when a noisy linear score is high (≈ 20 % positives). */
function data(rows: number, columns: number, seed: number, positiveShare = 0.2): TrainingData {
  const rng = new Rng(seed);
  const values = new Float32Array(rows * columns);
  const labels = new Float64Array(rows);
  const w = Array.from({ length: columns }, () => rng.normal());
  const scores: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < columns; c++) {
      const v = rng.normal();
      values[r * columns + c] = v;
      s += v * w[c];
    }
    scores.push(s + rng.normal() * 0.5);
  }
  const cut = [...scores].sort((a, b) => a - b)[Math.floor(rows * (1 - positiveShare))];
  scores.forEach((s, r) => (labels[r] = s >= cut ? 1 : 0));
  const all = Uint32Array.from({ length: rows }, (_, i) => i);
  const nVal = Math.floor(rows * 0.2);
  return { values, columns, labels, train: all.subarray(nVal), validation: all.subarray(0, nVal) };
}

const spec = (model: Record<string, unknown>, training: Record<string, unknown>) =>
  resolveTrainingSpec({ name: 'unit', model, training });

function maxAbs(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('gradient accumulation', () => {
  for (const optimizer of [
    { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
    { type: 'adam', learningRate: 0.01 },
  ]) {
    it(`k micro-batches of b rows make the ${optimizer.type} step one batch of k·b makes (1e-5)`, async () => {
      const d = data(256, 6, 1);
      const k = 4;
      const b = 16;
      const one = await trainNetwork(
        { ...d, train: d.train.subarray(0, k * b) },
        {
          task: 'binary',
          classes: ['0', '1'],
          ...spec(
            { hidden: [8] },
            { epochs: 1, batchSize: k * b, optimizer, earlyStopping: { enabled: false } },
          ),
        },
      );
      const accumulated = await trainNetwork(
        { ...d, train: d.train.subarray(0, k * b) },
        {
          task: 'binary',
          classes: ['0', '1'],
          ...spec(
            { hidden: [8] },
            {
              epochs: 1,
              batchSize: b,
              accumulationSteps: k,
              optimizer,
              earlyStopping: { enabled: false },
            },
          ),
        },
      );
      expect(one.steps).toBe(1);
      expect(accumulated.steps).toBe(1);
      // Same seed: same start and the same permutation of the same 64 rows.
      const a = snapshot(one.network);
      const c = snapshot(accumulated.network);
      expect(maxAbs(a, c)).toBeLessThan(1e-5);
      // And the step moved the weights (the comparison is not of two untouched networks).
      const start = snapshot(
        buildNetwork({
          model: spec({ hidden: [8] }, {}).model,
          task: 'binary',
          inputs: 6,
          outputs: 1,
          seed: 42,
        }),
      );
      expect(maxAbs(a, start)).toBeGreaterThan(1e-3);
    });
  }

  it('sums micro-batch gradients to the full batch gradient, weighted and with L2', () => {
    const d = data(64, 5, 2);
    const net = buildNetwork({
      model: spec({ hidden: [4] }, {}).model,
      task: 'binary',
      inputs: 5,
      outputs: 1,
      seed: 3,
    });
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const kernels = vars.filter((v) => v.name.includes('kernel'));
    const weights = Float32Array.from([1, 7]);
    const rows = Uint32Array.from({ length: 64 }, (_, i) => i);
    const opts = { task: 'binary' as const, classCount: 2, weights, denominator: 64, l2: 0.01 };
    const full = microBatchGradients(net, vars, kernels, d, rows, opts);
    const parts = [0, 1, 2, 3].map((p) =>
      microBatchGradients(net, vars, kernels, d, rows.subarray(p * 16, p * 16 + 16), opts),
    );
    full.grads.forEach((g, i) => {
      const sum = tf.addN(parts.map((p) => p.grads[i]));
      const diff = tf.max(tf.abs(tf.sub(sum, g))).dataSync()[0];
      expect(diff).toBeLessThan(1e-6);
    });
    const lossSum = parts.reduce((s, p) => s + p.loss, 0);
    expect(lossSum).toBeCloseTo(full.loss, 5);
  });
});

describe('optimizers', () => {
  const g0 = [0.5, -0.25, 0.125];
  const g1 = [-0.1, 0.3, 0.2];
  const w0 = [1, -2, 3];

  function run(section: TrainingSection['optimizer'], decays = [true], lrs = [0.1, 0.05]) {
    const w = tf.variable(tf.tensor1d(w0));
    const opt = createOptimizer(section, decays);
    opt.step([w], [tf.tensor1d(g0)], lrs[0]);
    opt.step([w], [tf.tensor1d(g1)], lrs[1]);
    return Array.from(w.dataSync());
  }

  /** The same two steps in plain arithmetic (PyTorch's update rules). */
  function adamByHand(decay: number, b1 = 0.9, b2 = 0.999, eps = 1e-7, lrs = [0.1, 0.05]) {
    let w = [...w0];
    let m = [0, 0, 0];
    let v = [0, 0, 0];
    [g0, g1].forEach((g, k) => {
      const t = k + 1;
      const lr = lrs[k];
      w = w.map((x) => x * (1 - lr * decay));
      m = m.map((x, i) => b1 * x + (1 - b1) * g[i]);
      v = v.map((x, i) => b2 * x + (1 - b2) * g[i] * g[i]);
      w = w.map(
        (x, i) => x - (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps),
      );
    });
    return w;
  }

  it('Adam follows m̂ / (√v̂ + ε) with bias correction', () => {
    const got = run({ type: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    adamByHand(0).forEach((x, i) => expect(got[i]).toBeCloseTo(x, 6));
  });

  it('AdamW decays decoupled from the gradient, and only what it is told to decay', () => {
    const section = {
      type: 'adamw' as const,
      learningRate: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      weightDecay: 0.1,
    };
    const decayed = run(section, [true]);
    adamByHand(0.1).forEach((x, i) => expect(decayed[i]).toBeCloseTo(x, 6));
    const plain = run(section, [false]);
    adamByHand(0).forEach((x, i) => expect(plain[i]).toBeCloseTo(x, 6));
  });

  it('SGD with momentum and with Nesterov momentum', () => {
    const mu = 0.9;
    const classic = run({ type: 'sgd', learningRate: 0.1, momentum: mu, nesterov: false });
    const b1 = g1.map((g, i) => mu * g0[i] + g);
    const expected = w0.map((w, i) => w - 0.1 * g0[i] - 0.05 * b1[i]);
    expected.forEach((x, i) => expect(classic[i]).toBeCloseTo(x, 6));
    const nesterov = run({ type: 'sgd', learningRate: 0.1, momentum: mu, nesterov: true });
    const n = w0.map((w, i) => w - 0.1 * (g0[i] + mu * g0[i]) - 0.05 * (g1[i] + mu * b1[i]));
    n.forEach((x, i) => expect(nesterov[i]).toBeCloseTo(x, 6));
  });
});

describe('the loop', () => {
  it('steps at the cosine warm-restart rate of the formula at every step', async () => {
    const d = data(640, 4, 3);
    const lrs: number[] = [];
    const outcome = await trainNetwork(d, {
      task: 'binary',
      classes: ['0', '1'],
      ...spec(
        { type: 'logistic_regression' },
        {
          epochs: 7,
          batchSize: 64,
          schedule: { type: 'cosineWarmRestarts', lr: 0.05, t0: 1, tMult: 2, etaMin: 0.001 },
          earlyStopping: { enabled: false },
        },
      ),
      onStep: (_s, lr) => lrs.push(lr),
    });
    // 512 training rows / 64 = 8 steps per epoch; epoch e + i/8 at step 8e + i.
    expect(outcome.steps).toBe(56);
    expect(lrs).toHaveLength(56);
    lrs.forEach((lr, step) => {
      const epoch = Math.floor(step / 8) + (step % 8) / 8;
      // Cycles of 1, 2, 4 epochs start at epochs 0, 1, 3.
      const start = epoch >= 3 ? 3 : epoch >= 1 ? 1 : 0;
      const length = epoch >= 3 ? 4 : epoch >= 1 ? 2 : 1;
      const expected =
        0.001 + ((0.05 - 0.001) * (1 + Math.cos((Math.PI * (epoch - start)) / length))) / 2;
      expect(lr).toBeCloseTo(expected, 12);
    });
  });

  it('is deterministic for a seed (dropout included) and differs for another seed', async () => {
    const d = data(600, 5, 4);
    const run = (seed: number) =>
      trainNetwork(d, {
        task: 'binary',
        classes: ['0', '1'],
        ...spec(
          { hidden: [16, 8], dropout: 0.3, batchNorm: true },
          { epochs: 2, batchSize: 50, seed, earlyStopping: { enabled: false } },
        ),
      });
    const a = snapshot((await run(7)).network);
    const b = snapshot((await run(7)).network);
    const c = snapshot((await run(8)).network);
    expect(maxAbs(a, b)).toBe(0);
    expect(maxAbs(a, c)).toBeGreaterThan(1e-3);
  });

  it('stops early and restores the weights of the best epoch', async () => {
    const d = data(800, 6, 5);
    const outcome = await trainNetwork(d, {
      task: 'binary',
      classes: ['0', '1'],
      ...spec(
        { hidden: [32] },
        {
          epochs: 40,
          batchSize: 32,
          // Far too large a rate: the metric wanders, so a best epoch exists before the stop.
          optimizer: { type: 'sgd', learningRate: 3, momentum: 0.9 },
          earlyStopping: { patience: 2, metric: 'loss' },
        },
      ),
    });
    const network = outcome.network;
    expect(outcome.stoppedEarly).toBe(true);
    expect(outcome.epochsRun).toBeLessThan(40);
    const losses = outcome.curves.map((c) => c.validationLoss);
    const bestIndex = losses.indexOf(Math.min(...losses));
    expect(outcome.bestEpoch).toBe(bestIndex + 1);
    expect(outcome.epochsRun - outcome.bestEpoch).toBe(2);
    // The restored network scores the best epoch's validation loss again.
    const out = predictOutputs(network, d.values, d.columns, d.validation, 'binary', 2);
    const labels = Array.from(d.validation, (r) => d.labels[r]);
    expect(outputLoss(out, labels)).toBeCloseTo(losses[bestIndex], 5);
  });

  it('dynamic sampling moves the shares from the natural distribution toward the target by recall', async () => {
    const d = data(4000, 6, 6, 0.03);
    const outcome = await trainNetwork(d, {
      task: 'binary',
      classes: ['0', '1'],
      ...spec(
        { hidden: [16] },
        {
          epochs: 2,
          batchSize: 64,
          sampling: { target: { '0': 0.5, '1': 0.5 }, adjustEvery: 10, validationRows: 800 },
          earlyStopping: { enabled: false },
        },
      ),
    });
    const last = outcome.curves.at(-1)!;
    const [r0, r1] = last.samplingRecall!;
    const w0 = 0.5 * (1 + (1 - r0));
    const w1 = 0.5 * (1 + (1 - r1));
    expect(last.samplingShares![0]).toBeCloseTo(w0 / (w0 + w1), 12);
    expect(last.samplingShares![1]).toBeCloseTo(w1 / (w0 + w1), 12);
    // Far above the natural 3 %.
    expect(last.samplingShares![1]).toBeGreaterThan(0.4);
  });
});
