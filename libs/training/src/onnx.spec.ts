import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainingSpec } from '@mlops/contracts';
import { Rng } from '@mlops/ml';
import { selectBackend } from './backend';
import { predictOutputs, trainNetwork, type TrainingData } from './loop';
import type { Task } from './network';
import { exportNetwork, onnxParity } from './onnx';

/** Rows with a target of each task: binary and multiclass by the argmax of linear scores. */
function data(task: Task, rows: number, columns: number, seed: number): TrainingData {
  const rng = new Rng(seed);
  const k = task === 'multiclass' ? 3 : 2;
  const w = Array.from({ length: k * columns }, () => rng.normal());
  const values = new Float32Array(rows * columns);
  const labels = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) values[r * columns + c] = rng.normal() * 2;
    const scores = Array.from({ length: k }, (_, j) => {
      let s = rng.normal() * 0.3;
      for (let c = 0; c < columns; c++) s += values[r * columns + c] * w[j * columns + c];
      return s;
    });
    labels[r] = task === 'regression' ? scores[0] * 3 + 10 : scores.indexOf(Math.max(...scores));
  }
  const all = Uint32Array.from({ length: rows }, (_, i) => i);
  return { values, columns, labels, train: all.subarray(300), validation: all.subarray(0, 300) };
}

const CASES: {
  name: string;
  task: Task;
  classes: string[] | null;
  model: Record<string, unknown>;
}[] = [
  {
    name: 'logistic regression',
    task: 'binary',
    classes: ['0', '1'],
    model: { type: 'logistic_regression' },
  },
  {
    name: 'binary MLP with batch norm and dropout',
    task: 'binary',
    classes: ['0', '1'],
    model: { hidden: [32, 16], batchNorm: true, dropout: 0.2, activation: 'selu' },
  },
  {
    name: 'multiclass MLP (tanh, batch norm)',
    task: 'multiclass',
    classes: ['a', 'b', 'c'],
    model: { hidden: [24], activation: 'tanh', batchNorm: true },
  },
  {
    name: 'regression MLP (elu)',
    task: 'regression',
    classes: null,
    model: { hidden: [16, 8], activation: 'elu' },
  },
  {
    name: 'sigmoid MLP',
    task: 'binary',
    classes: ['0', '1'],
    model: { hidden: [8], activation: 'sigmoid' },
  },
];

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('ONNX export of trained networks', () => {
  for (const c of CASES) {
    it(`${c.name}: onnxruntime-node computes what tfjs computed (max |Δ| ≤ 1e-4)`, async () => {
      const d = data(c.task, 1500, 7, 11);
      const { model, training } = resolveTrainingSpec({
        name: 'onnx',
        model: c.model,
        training: {
          epochs: 3,
          batchSize: 64,
          earlyStopping: { enabled: false },
          optimizer: { type: 'adamw', learningRate: 0.01 },
        },
      });
      const outcome = await trainNetwork(d, { task: c.task, classes: c.classes, model, training });
      const k = c.classes?.length ?? 0;
      const tfjs = predictOutputs(outcome.network, d.values, d.columns, d.validation, c.task, k);
      const bytes = exportNetwork(outcome.network, c.task, { 'mlops.test': c.name });
      const parity = await onnxParity(
        bytes,
        c.task,
        d.values,
        d.columns,
        d.validation,
        tfjs.values,
      );
      expect(parity.rows).toBe(300);
      expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      expect(parity.passed).toBe(true);
      // The comparison is of real outputs: they vary across rows.
      const v = Array.from(tfjs.values);
      expect(Math.max(...v) - Math.min(...v)).toBeGreaterThan(0.05);
    });
  }

  it('reports a broken export: a changed weight fails parity with the row it shows on', async () => {
    const d = data('binary', 800, 5, 12);
    const { model, training } = resolveTrainingSpec({
      name: 'onnx',
      model: { hidden: [8] },
      training: { epochs: 1, earlyStopping: { enabled: false } },
    });
    const outcome = await trainNetwork(d, { task: 'binary', classes: ['0', '1'], model, training });
    const tfjs = predictOutputs(outcome.network, d.values, d.columns, d.validation, 'binary', 2);
    const skewed = Float32Array.from(tfjs.values, (p, i) => (i === 17 ? p + 0.01 : p));
    const bytes = exportNetwork(outcome.network, 'binary');
    const parity = await onnxParity(bytes, 'binary', d.values, d.columns, d.validation, skewed);
    expect(parity.passed).toBe(false);
    expect(parity.worst?.row).toBe(17);
    expect(parity.maxAbsDiff).toBeGreaterThan(0.009);
  });
});
