// `npm run bench -- trainer`: training throughput of the tfjs backends, and the cost of our
// training loop against tfjs's own `model.fit`, in one process on the same data.
//
// Data: generated card transactions through the cards spec's featureset (libs/training's
// cardsTrainingData, what the feature service would materialise), the first TRAIN_ROWS training
// rows. Model: the spec's MLP (hidden 128-64, relu), Adam, batch 256, one epoch per run.
//
//   wasm_vs_cpu    samples/s of our loop on @tensorflow/tfjs-backend-wasm ÷ on the plain-JS cpu
//                  backend;
//   loop_overhead  our loop's epoch time ÷ `model.fit`'s epoch time for the same network,
//                  optimizer and batch on wasm (fit gets the same logit loss as a custom loss).
//
// The loop's per-epoch validation is given 256 rows so that the timer covers training.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { resolveTrainingSpec } from '@mlops/contracts';
import { buildNetwork, gatherRows, selectBackend, trainNetwork } from '@mlops/training';
// The file itself: the library's index does not pull in the generator.
import { cardsTrainingData } from '../libs/training/src/cards';
import { intEnv } from './lib/measure';
import { Recorder, type BenchResult } from './lib/report';

const RUNS = intEnv('BENCH_RUNS', 3);
const TRAIN_ROWS = intEnv('BENCH_TRAINER_ROWS', 16_384);
const BATCH = 256;
const HIDDEN = [128, 64];

export async function run(): Promise<BenchResult> {
  const rec = new Recorder('trainer');
  rec.declare(
    'wasm_loop_samples_per_s',
    'cpu_loop_samples_per_s',
    'wasm_loop_epoch_s',
    'wasm_fit_epoch_s',
  );
  const all = cardsTrainingData(Math.ceil(TRAIN_ROWS / 0.8) + 4_000, 7);
  const data = {
    ...all,
    train: all.train.subarray(0, TRAIN_ROWS),
    validation: all.validation.subarray(0, 256),
  };
  const rows = data.train.length;
  const spec = resolveTrainingSpec({
    name: 'bench',
    model: { hidden: HIDDEN },
    training: { epochs: 1, batchSize: BATCH, earlyStopping: { enabled: false } },
  });

  const ours = async () => {
    const started = performance.now();
    const outcome = await trainNetwork(data, { task: 'binary', classes: ['0', '1'], ...spec });
    const seconds = (performance.now() - started) / 1000;
    outcome.network.dispose();
    return seconds;
  };

  const fit = async () => {
    const network = buildNetwork({
      model: spec.model,
      task: 'binary',
      inputs: data.columns,
      outputs: 1,
      seed: 42,
    });
    network.compile({
      optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7),
      loss: (y: tf.Tensor, z: tf.Tensor) => tf.losses.sigmoidCrossEntropy(y, z),
    });
    const x = tf.tensor2d(gatherRows(data.values, data.columns, data.train), [rows, data.columns]);
    const y = tf.tensor2d(
      Float32Array.from(data.train, (r) => data.labels[r]),
      [rows, 1],
    );
    const started = performance.now();
    await network.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0 });
    const seconds = (performance.now() - started) / 1000;
    tf.dispose([x, y]);
    network.dispose();
    return seconds;
  };

  for (const backend of ['cpu', 'wasm'] as const) {
    const info = await selectBackend(backend);
    rec.note(
      `${backend}: ${info.package}${info.simd === null ? '' : `, SIMD ${info.simd}`}, ${info.threads} thread(s)`,
    );
    await ours(); // warm-up: kernels compiled, memory grown
    for (let i = 0; i < RUNS; i++) {
      const seconds = await ours();
      rec.add(`${backend}_loop_samples_per_s`, rows / seconds);
      if (backend === 'wasm') rec.add('wasm_loop_epoch_s', seconds);
    }
    if (backend === 'wasm') {
      await fit();
      for (let i = 0; i < RUNS; i++) rec.add('wasm_fit_epoch_s', await fit());
    }
  }
  // Interleaving would be fairer to drift on a shared machine; one more alternating pass of
  // both on wasm guards the loop_overhead ratio against a slow phase.
  for (let i = 0; i < RUNS; i++) {
    rec.add('wasm_loop_epoch_s', await ours());
    rec.add('wasm_fit_epoch_s', await fit());
  }

  rec.ratio('wasm_vs_cpu', 'wasm_loop_samples_per_s', 'cpu_loop_samples_per_s', { min: 4 });
  rec.ratio('loop_overhead', 'wasm_loop_epoch_s', 'wasm_fit_epoch_s', { max: 1.2 });
  rec.note(
    `${rows} training rows × ${data.columns} columns, MLP ${HIDDEN.join('-')}, batch ${BATCH}, Adam, one epoch per run; tfjs-layers ${tfl.version_layers}`,
  );
  return rec.result();
}
