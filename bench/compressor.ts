// `npm run bench -- compressor`: the compressor's variants of a 512-1024-1024-1 MLP against the
// FP32 model, measured in one run in onnxruntime-node (one intra-op thread, as inference runs).
//
// The network is trained (libs/training, wasm backend) on generated data: 512 features, a
// binary label from a non-linear function of 32 of them. The variants are built by the same
// library the service uses (libs/training/compression.ts on libs/ml/compress): INT8 dynamic
// (per tensor and per channel), INT8 static QDQ, INT4 MatMulNBits, 50 % structured pruning with
// one fine-tuning epoch, a distilled student (one hidden layer of 384), and 95 % unstructured pruning
// without fine-tuning (the gate must reject it). Each is measured RUNS times (latency: median of
// LATENCY_RUNS `run()`s at batch 1 and 32 after 10 warm-ups); the metric is PR-AUC on the test
// rows.
import { resolveCompressionSpec, resolveTrainingSpec } from '@mlops/contracts';
import { exportDenseNetwork, Rng } from '@mlops/ml';
import {
  buildVariant,
  measureOnnx,
  networkLayers,
  selectBackend,
  trainNetwork,
  type BuildContext,
  type TrainingData,
} from '@mlops/training';
import { intEnv } from './lib/measure';
import { Recorder, type BenchResult } from './lib/report';

const RUNS = intEnv('BENCH_RUNS', 3);
const LATENCY_RUNS = intEnv('BENCH_COMPRESSOR_LATENCY_RUNS', 200);
const ROWS = intEnv('BENCH_COMPRESSOR_ROWS', 12_000);
const FEATURES = 512;

/** 512 standard-normal features; y = 1 when a noisy non-linear score of 32 of them is high. */
function generate(rows: number, seed: number): TrainingData & { test: Uint32Array } {
  const rng = new Rng(seed);
  const values = new Float32Array(rows * FEATURES);
  const labels = new Float64Array(rows);
  const w = Array.from({ length: 32 }, () => rng.normal());
  const scores: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < FEATURES; c++) values[r * FEATURES + c] = rng.normal();
    let s = 0;
    for (let j = 0; j < 32; j += 2) {
      const a = values[r * FEATURES + j];
      const b = values[r * FEATURES + j + 1];
      s += w[j] * a + w[j + 1] * Math.tanh(a * b);
    }
    scores.push(s + rng.normal());
  }
  const cut = [...scores].sort((a, b) => a - b)[Math.floor(rows * 0.7)];
  scores.forEach((s, r) => (labels[r] = s >= cut ? 1 : 0));
  const all = Uint32Array.from({ length: rows }, (_, i) => i);
  const nTest = Math.floor(rows * 0.2);
  const nVal = Math.floor(rows * 0.1);
  return {
    values,
    columns: FEATURES,
    labels,
    test: all.subarray(0, nTest),
    validation: all.subarray(nTest, nTest + nVal),
    train: all.subarray(nTest + nVal),
  };
}

const VARIANTS = [
  ['int8', 'int8_dynamic', {}],
  ['int8_pc', 'int8_dynamic', { int8: { perChannel: true } }],
  ['int8_static', 'int8_static', {}],
  ['int4', 'int4', {}],
  ['pruned50', 'prune_structured', { pruning: { fraction: 0.5, fineTuneEpochs: 1 } }],
  ['student', 'distill', { distillation: { hidden: [384], epochs: 10 } }],
  ['pruned95_raw', 'prune_unstructured', { pruning: { sparsity: 0.95, fineTuneEpochs: 0 } }],
] as const;

export async function run(): Promise<BenchResult> {
  const rec = new Recorder('compressor');
  const backend = await selectBackend('wasm');
  const data = generate(ROWS, 11);
  const { model, training } = resolveTrainingSpec({
    name: 'bench',
    model: { hidden: [1024, 1024] },
    training: { epochs: 3, batchSize: 128, optimizer: { type: 'adam', learningRate: 5e-4 } },
  });
  const trained = await trainNetwork(data, {
    task: 'binary',
    classes: ['0', '1'],
    model,
    training,
  });
  const layers = networkLayers(trained.network, 'binary');
  const fp32 = exportDenseNetwork(layers, { task: 'binary' });
  const x = new Float32Array(data.test.length * FEATURES);
  data.test.forEach((r, i) =>
    x.set(data.values.subarray(r * FEATURES, (r + 1) * FEATURES), i * FEATURES),
  );
  const labels = Array.from(data.test, (r) => data.labels[r]);
  const measure = (bytes: Uint8Array) =>
    measureOnnx(bytes, {
      task: 'binary',
      classes: 2,
      x,
      columns: FEATURES,
      labels,
      metric: 'pr_auc',
      latencyRuns: LATENCY_RUNS,
    });

  const built = new Map<string, Uint8Array>([['fp32', fp32]]);
  for (const [name, method, section] of VARIANTS) {
    const ctx: BuildContext = {
      c: resolveCompressionSpec({ compression: section }),
      layers,
      task: 'binary',
      classes: ['0', '1'],
      data,
      model,
      training,
      exportOptions: { task: 'binary' },
    };
    built.set(name, (await buildVariant(method, ctx)).bytes);
  }
  for (const name of built.keys())
    rec.declare(`${name}_bytes`, `${name}_b1_ms`, `${name}_b32_ms`, `${name}_pr_auc`);
  // Interleaved: every run measures every variant, so a slow phase of the machine hits all.
  for (let i = 0; i < RUNS; i++) {
    for (const [name, bytes] of built) {
      const m = await measure(bytes);
      rec.add(`${name}_bytes`, bytes.length);
      rec.add(`${name}_b1_ms`, m.latencyB1Ms);
      rec.add(`${name}_b32_ms`, m.latencyB32Ms);
      rec.add(`${name}_pr_auc`, m.metric);
    }
  }
  const drop = (name: string) => (m: (f: string) => number) =>
    (m('fp32_pr_auc') - m(`${name}_pr_auc`)) * 100;
  rec.ratio('int8_size_ratio', 'fp32_bytes', 'int8_bytes', { min: 3.9 });
  rec.ratio('int8_speedup_b32', 'fp32_b32_ms', 'int8_b32_ms', { min: 2.5 });
  rec.derive('int8_metric_drop_pts', drop('int8'), { max: 0.5 });
  rec.ratio('int8_pc_speedup_b32', 'fp32_b32_ms', 'int8_pc_b32_ms');
  rec.ratio('int8_static_speedup_b32', 'fp32_b32_ms', 'int8_static_b32_ms');
  rec.derive('int8_static_metric_drop_pts', drop('int8_static'));
  rec.ratio('int4_size_ratio', 'fp32_bytes', 'int4_bytes', { min: 6 });
  rec.derive('int4_metric_drop_pts', drop('int4'));
  rec.ratio('pruned50_speedup_b32', 'fp32_b32_ms', 'pruned50_b32_ms', { min: 1.5 });
  rec.derive('pruned50_metric_drop_pts', drop('pruned50'));
  rec.ratio('student_size_ratio', 'fp32_bytes', 'student_bytes', { min: 4 });
  rec.derive('student_metric_drop_pts', drop('student'), { max: 1 });
  rec.derive('pruned95_raw_metric_drop_pts', drop('pruned95_raw'), { min: 1 });
  rec.note(
    `512-1024-1024-1 MLP trained ${trained.epochsRun} epochs on ${data.train.length} generated rows (${backend.name}); metric: PR-AUC on ${data.test.length} test rows (FP32 ${trained.curves.at(-1)?.validationMetric.toFixed(4)} on validation)`,
  );
  rec.note(
    'pruned95_raw: 95 % unstructured pruning without fine-tuning — the gate (budget 1 point) must reject it, so its drop target is ≥ 1',
  );
  return rec.result();
}
