import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelSection, TrainingSection } from '@mlops/contracts';
import {
  buildSchedule,
  ClassSampler,
  classWeightVector,
  EarlyStopping,
  epochPermutation,
  naturalShares,
  adjustSamplingShares,
  Rng,
  type Schedule,
  type ScheduleSpec,
} from '@mlops/ml';
import {
  evaluateOutputs,
  metricMode,
  outputLoss,
  resolveWatchedMetric,
  watchedValue,
  type Outputs,
  type WatchedMetric,
} from './evaluation';
import { buildNetwork, outputUnits, applyHead, type Task } from './network';
import { clipByGlobalNorm, createOptimizer } from './optimizers';

/** A training matrix in memory: float32 rows and the row indices of each split. */
export interface TrainingData {
  values: Float32Array;
  columns: number;
  /** Class index (classification) or target (regression), per row of `values`. */
  labels: Float64Array;
  train: Uint32Array;
  validation: Uint32Array;
}

export interface TrainOptions {
  task: Task;
  /** Class labels by index (classification); their count fixes the output width. */
  classes: readonly string[] | null;
  model: ModelSection;
  training: TrainingSection;
  /** Called after every epoch (awaited: a caller may report progress or yield). */
  onEpoch?: (e: EpochRecord) => void | Promise<void>;
  /** Called after every optimizer step with its 0-based index and learning rate. */
  onStep?: (step: number, learningRate: number) => void;
  /** Checked before every optimizer step. */
  signal?: AbortSignal;
  /** Start from these weights (tests: the same start for two runs). */
  initialWeights?: Float32Array[];
  /** Train this network instead of building one from `model` (fine-tuning a pruned network). */
  network?: tfl.Sequential;
  /**
   * Per dense layer of the network, in order (null: none): kernel entries whose mask is 0 are
   * held at 0 after every step (fine-tuning after unstructured pruning).
   */
  kernelMasks?: readonly (Uint8Array | null)[];
  /** Knowledge distillation from a teacher's logits (or regression outputs) per row of `values`. */
  teacher?: Teacher;
}

/**
 * Distillation (Hinton et al. 2015): loss = α · τ² · KL(teacher_τ ‖ student_τ) + (1 − α) · the
 * task's loss on the labels, where _τ is the softmax (sigmoid for binary) of logits / τ. For
 * regression the soft term is the squared distance to the teacher's prediction (no τ).
 */
export interface Teacher {
  /** Rows × width (1 for binary and regression, K for multiclass), row-major, by row of `values`. */
  logits: Float32Array;
  temperature: number;
  alpha: number;
}

export interface EpochRecord {
  epoch: number;
  /** Optimizer steps so far. */
  steps: number;
  /** Mean weighted training loss over the epoch's micro-batches. */
  trainLoss: number;
  validationLoss: number;
  /** The watched metric on validation. */
  validationMetric: number;
  /** Learning rate of the epoch's last step. */
  learningRate: number;
  /** Sampling shares per class at the epoch's end (dynamic sampling), else null. */
  samplingShares: number[] | null;
  /** Validation recall per class at the last adjustment (dynamic sampling), else null. */
  samplingRecall: number[] | null;
  seconds: number;
}

export interface TrainOutcome {
  network: tfl.Sequential;
  metric: { name: WatchedMetric; mode: 'min' | 'max' };
  curves: EpochRecord[];
  /** 1-based epoch whose weights the network holds (the best one when restored). */
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  steps: number;
  /** Rows passed forward and backward in training. */
  samples: number;
  seconds: number;
  classWeights: number[] | null;
}

/** Thrown when the signal aborts the loop. */
export class TrainingAborted extends Error {
  constructor() {
    super('training aborted');
    this.name = 'TrainingAborted';
  }
}

/**
 * The training loop. Per epoch, micro-batches of `batchSize` rows — a seeded permutation of the
 * training rows, or (dynamic sampling) as many rows drawn by class toward the sampling shares —
 * give gradients of the weighted mean loss; `accumulationSteps` of them are summed with the
 * denominator of their combined rows, so k micro-batches of b rows make exactly the step one
 * batch of k·b rows makes; the sum is clipped to `clipNorm`, and the optimizer steps at the
 * schedule's rate for that step. Every `adjustEvery` steps dynamic sampling scores a validation
 * sample and moves the shares by per-class recall. After every epoch the validation set is
 * scored; early stopping watches the chosen metric and restores the best weights.
 */
export async function trainNetwork(data: TrainingData, o: TrainOptions): Promise<TrainOutcome> {
  const started = performance.now();
  const t = o.training;
  const classCount = o.task === 'regression' ? 0 : (o.classes?.length ?? 2);
  if (o.task === 'binary' && classCount !== 2)
    throw new Error(`a binary task needs 2 classes, got ${classCount}`);
  if (data.train.length === 0) throw new Error('no training rows');
  if (data.validation.length === 0) throw new Error('no validation rows');
  const rng = new Rng(t.seed);

  const network =
    o.network ??
    buildNetwork({
      model: o.model,
      task: o.task,
      inputs: data.columns,
      outputs: outputUnits(o.task, classCount),
      seed: t.seed,
    });
  if (o.initialWeights)
    network.setWeights(
      o.initialWeights.map((w, i) => tf.tensor(w, network.weights[i].shape as number[])),
    );
  const trainable = network.trainableWeights.map((w) => w.read() as tf.Variable);
  const isKernel = network.trainableWeights.map((w) => /\/kernel(_\d+)?$/.test(w.originalName));
  const kernels = trainable.filter((_, i) => isKernel[i]);
  const optimizer = createOptimizer(t.optimizer, isKernel);
  const masks = (o.kernelMasks ?? []).map((m, i) => {
    if (!m) return null;
    if (i >= kernels.length || m.length !== kernels[i].size)
      throw new Error(`kernelMasks[${i}] does not fit dense kernel ${i}`);
    return tf.tensor(Float32Array.from(m), kernels[i].shape);
  });
  const applyMasks = () =>
    tf.tidy(() => masks.forEach((m, i) => m && kernels[i].assign(tf.mul(kernels[i], m))));
  applyMasks();
  const dropouts = network.layers.filter(
    (l) => l.getClassName() === 'Dropout',
  ) as (tfl.layers.Layer & {
    seed?: number;
  })[];

  // Class weights and sampling.
  const trainLabels = Int32Array.from(data.train, (r) => data.labels[r]);
  let weights: Float32Array | null = null;
  let sampler: ClassSampler | null = null;
  let target: number[] | null = null;
  let shares: number[] | null = null;
  let lastRecall: number[] | null = null;
  if (classCount > 0) {
    const counts = new Array<number>(classCount).fill(0);
    for (const y of trainLabels) counts[y] += 1;
    const cw = classWeightVector(t.classWeights, o.classes ?? ['0', '1'], counts);
    if (t.classWeights !== 'none') weights = cw;
    if (t.sampling.strategy === 'dynamic') {
      sampler = new ClassSampler(trainLabels, classCount, rng);
      target = (o.classes ?? ['0', '1']).map((c) => t.sampling.target?.[c] ?? 1 / classCount);
      shares = naturalShares(counts);
      sampler.setShares(shares);
    }
  }
  const samplingValidation = sampler
    ? seededSubset(data.validation, t.sampling.validationRows, new Rng(t.seed ^ 0x5a5a5a5a))
    : null;

  const micro = t.batchSize;
  const microPerEpoch = Math.ceil(data.train.length / micro);
  const stepsPerEpoch = Math.ceil(microPerEpoch / t.accumulationSteps);
  const schedule = makeSchedule(t);
  const metricName = resolveWatchedMetric(o.task, t.earlyStopping.metric);
  const mode = metricMode(metricName);
  const stopper = new EarlyStopping({
    mode,
    patience: t.earlyStopping.patience,
    minDelta: t.earlyStopping.minDelta,
  });
  let best: Float32Array[] | null = null;
  const validationLabels = Array.from(data.validation, (r) => data.labels[r]);

  const curves: EpochRecord[] = [];
  let steps = 0;
  let samples = 0;
  let stoppedEarly = false;
  let epoch = 0;
  try {
    for (epoch = 1; epoch <= t.epochs; epoch++) {
      const epochStart = performance.now();
      const rows = sampler
        ? sampler.draw(data.train.length)
        : permute(data.train, epochPermutation(data.train.length, rng));
      let lossSum = 0;
      let lossBatches = 0;
      let lr = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (o.signal?.aborted) throw new TrainingAborted();
        const firstMicro = s * t.accumulationSteps;
        const lastMicro = Math.min(microPerEpoch, firstMicro + t.accumulationSteps);
        const from = firstMicro * micro;
        const to = Math.min(rows.length, lastMicro * micro);
        const denominator = to - from;
        let acc: tf.Tensor[] | null = null;
        for (let m = firstMicro; m < lastMicro; m++) {
          const batch = rows.subarray(m * micro, Math.min(rows.length, (m + 1) * micro));
          for (const d of dropouts) d.seed = rng.int(0, 0x7fffffff);
          const { loss, grads } = microBatchGradients(network, trainable, kernels, data, batch, {
            task: o.task,
            classCount,
            weights,
            denominator,
            l2: o.model.l2,
            teacher: o.teacher,
          });
          lossSum += (loss * denominator) / batch.length;
          lossBatches += 1;
          samples += batch.length;
          if (acc === null) acc = grads;
          else {
            const next: tf.Tensor[] = acc.map((a, i) => tf.add(a, grads[i]));
            tf.dispose([...acc, ...grads]);
            acc = next;
          }
        }
        if (t.clipNorm !== undefined) clipByGlobalNorm(acc!, t.clipNorm);
        lr = schedule(t.scheduleUnit === 'step' ? steps : epoch - 1 + s / stepsPerEpoch);
        optimizer.step(trainable, acc!, lr);
        tf.dispose(acc!);
        if (masks.length > 0) applyMasks();
        o.onStep?.(steps, lr);
        steps += 1;
        if (sampler && samplingValidation && steps % t.sampling.adjustEvery === 0) {
          lastRecall = classRecall(network, data, samplingValidation, o.task, classCount);
          shares = adjustSamplingShares({
            target: target!,
            recall: lastRecall,
            strength: t.sampling.strength,
          });
          sampler.setShares(shares);
        }
      }

      const validation = predictOutputs(
        network,
        data.values,
        data.columns,
        data.validation,
        o.task,
        classCount,
      );
      const validationLoss = outputLoss(validation, validationLabels);
      const report = evaluateOutputs(validation, validationLabels, t.threshold);
      const value = watchedValue(metricName, report, validationLoss);
      const { improved, stop } = stopper.update(epoch, value);
      if (improved || best === null) best = snapshot(network);
      const record: EpochRecord = {
        epoch,
        steps,
        trainLoss: lossSum / Math.max(1, lossBatches),
        validationLoss,
        validationMetric: value,
        learningRate: lr,
        samplingShares: shares ? [...shares] : null,
        samplingRecall: lastRecall ? [...lastRecall] : null,
        seconds: (performance.now() - epochStart) / 1000,
      };
      curves.push(record);
      await o.onEpoch?.(record);
      if (stop && t.earlyStopping.enabled) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    optimizer.dispose();
    tf.dispose(masks.filter((m): m is tf.Tensor => m !== null));
  }
  const epochsRun = curves.length;
  let bestEpoch = epochsRun;
  const bestSeen = stopper.bestEpoch;
  if (t.earlyStopping.enabled && t.earlyStopping.restoreBest && best && bestSeen > 0) {
    network.setWeights(best.map((w, i) => tf.tensor(w, network.weights[i].shape as number[])));
    bestEpoch = bestSeen;
  }
  return {
    network,
    metric: { name: metricName, mode },
    curves,
    bestEpoch,
    epochsRun,
    stoppedEarly,
    steps,
    samples,
    seconds: (performance.now() - started) / 1000,
    classWeights: weights ? Array.from(weights) : null,
  };
}

interface LossOptions {
  task: Task;
  classCount: number;
  weights: Float32Array | null;
  denominator: number;
  l2: number;
  teacher?: Teacher;
}

/**
 * Gradients of Σ wᵢ·lossᵢ / denominator (+ the L2 penalty's share of this micro-batch) for one
 * micro-batch, computed on logits: binary max(z,0) − z·y + log(1 + e^−|z|), multiclass
 * −log softmax(z)_y, regression (z − y)².
 */
export function microBatchGradients(
  network: tfl.LayersModel,
  trainable: tf.Variable[],
  kernels: tf.Variable[],
  data: Pick<TrainingData, 'values' | 'columns' | 'labels'>,
  batch: Uint32Array,
  o: LossOptions,
): { loss: number; grads: tf.Tensor[] } {
  const n = batch.length;
  const xs = gatherRows(data.values, data.columns, batch);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = o.weights ? o.weights[data.labels[batch[i]]] : 1;
  return tf.tidy(() => {
    const x = tf.tensor2d(xs, [n, data.columns]);
    const weight = tf.tensor1d(w);
    const f = (): tf.Scalar => {
      const z = network.apply(x, { training: true }) as tf.Tensor2D;
      let per: tf.Tensor;
      if (o.task === 'binary') {
        const y = tf.tensor2d(
          Float32Array.from(batch, (r) => data.labels[r]),
          [n, 1],
        );
        per = tf.reshape(
          tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z))))),
          [n],
        );
      } else if (o.task === 'multiclass') {
        const y = tf.oneHot(
          tf.tensor1d(
            Int32Array.from(batch, (r) => data.labels[r]),
            'int32',
          ),
          o.classCount,
        );
        per = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(z)), 1));
      } else {
        const y = tf.tensor2d(
          Float32Array.from(batch, (r) => data.labels[r]),
          [n, 1],
        );
        per = tf.mean(tf.square(tf.sub(z, y)), 1);
      }
      if (o.teacher) per = distilled(per, z, batch, o.teacher, o.task, n);
      let loss = tf.div<tf.Scalar>(tf.sum(tf.mul(per, weight)), o.denominator);
      if (o.l2 > 0 && kernels.length > 0) {
        const penalty = tf.addN(kernels.map((k) => tf.sum(tf.square(k))));
        loss = tf.add<tf.Scalar>(loss, tf.mul(penalty, (o.l2 * n) / o.denominator));
      }
      return loss;
    };
    const { value, grads } = tf.variableGrads(f, trainable);
    return { loss: value.dataSync()[0], grads: trainable.map((v) => grads[v.name]) };
  });
}

/** α · τ² · KL(teacher_τ ‖ student_τ) + (1 − α) · hard, per row (see {@link Teacher}). */
function distilled(
  hard: tf.Tensor,
  z: tf.Tensor2D,
  batch: Uint32Array,
  teacher: Teacher,
  task: Task,
  n: number,
): tf.Tensor {
  const width = z.shape[1];
  const t = tf.tensor2d(gatherRows(teacher.logits, width, batch), [n, width]);
  const tau = teacher.temperature;
  let soft: tf.Tensor;
  if (task === 'binary') {
    // KL of Bernoulli(q) from Bernoulli(p): the sigmoid cross-entropy of z/τ on q minus H(q).
    const zt = tf.div(z, tau);
    const q = tf.sigmoid(tf.div(t, tau));
    const ce = tf.add(tf.sub(tf.relu(zt), tf.mul(zt, q)), tf.log1p(tf.exp(tf.neg(tf.abs(zt)))));
    const eps = 1e-12;
    const entropy = tf.neg(
      tf.add(
        tf.mul(q, tf.log(tf.add(q, eps))),
        tf.mul(tf.sub(1, q), tf.log(tf.add(tf.sub(1, q), eps))),
      ),
    );
    soft = tf.mul(tf.reshape(tf.sub(ce, entropy), [n]), tau * tau);
  } else if (task === 'multiclass') {
    const logQ = tf.logSoftmax(tf.div(t, tau));
    const logP = tf.logSoftmax(tf.div(z, tau));
    soft = tf.mul(tf.sum(tf.mul(tf.exp(logQ), tf.sub(logQ, logP)), 1), tau * tau);
  } else {
    soft = tf.mean(tf.square(tf.sub(z, t)), 1);
  }
  return tf.add(tf.mul(soft, teacher.alpha), tf.mul(hard, 1 - teacher.alpha));
}

/** Served outputs (after the head) of the given rows, in chunks of `chunk` rows. */
export function predictOutputs(
  network: tfl.LayersModel,
  values: Float32Array,
  columns: number,
  rows: Uint32Array | null,
  task: Task,
  classCount: number,
  chunk = 8192,
): Outputs {
  const n = rows ? rows.length : values.length / columns;
  const width = task === 'multiclass' ? classCount : 1;
  const out = new Float32Array(n * width);
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const xs = rows
      ? gatherRows(values, columns, rows.subarray(start, end))
      : values.subarray(start * columns, end * columns);
    const y = tf.tidy(() => {
      const x = tf.tensor2d(xs, [end - start, columns]);
      return applyHead(task, network.apply(x, { training: false }) as tf.Tensor);
    });
    out.set(y.dataSync(), start * width);
    y.dispose();
  }
  return { task, rows: n, values: out, classes: width };
}

/** Recall per class of the network on `rows` (argmax, or P(1) ≥ 0.5 for binary); NaN when a class is absent. */
function classRecall(
  network: tfl.LayersModel,
  data: TrainingData,
  rows: Uint32Array,
  task: Task,
  classCount: number,
): number[] {
  const out = predictOutputs(network, data.values, data.columns, rows, task, classCount);
  const hit = new Array<number>(classCount).fill(0);
  const total = new Array<number>(classCount).fill(0);
  for (let i = 0; i < rows.length; i++) {
    const y = data.labels[rows[i]];
    let predicted: number;
    if (task === 'binary') predicted = out.values[i] >= 0.5 ? 1 : 0;
    else {
      predicted = 0;
      for (let c = 1; c < classCount; c++)
        if (out.values[i * classCount + c] > out.values[i * classCount + predicted]) predicted = c;
    }
    total[y] += 1;
    if (predicted === y) hit[y] += 1;
  }
  return total.map((t, c) => (t === 0 ? NaN : hit[c] / t));
}

/** The rows `idx` of a row-major matrix, copied into one Float32Array. */
export function gatherRows(
  values: Float32Array,
  columns: number,
  idx: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(idx.length * columns);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    out.set(values.subarray(r * columns, (r + 1) * columns), i * columns);
  }
  return out;
}

function permute(rows: Uint32Array, order: Uint32Array): Uint32Array {
  const out = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = rows[order[i]];
  return out;
}

function seededSubset(rows: Uint32Array, max: number, rng: Rng): Uint32Array {
  if (rows.length <= max) return rows;
  const order = epochPermutation(rows.length, rng);
  return Uint32Array.from(order.subarray(0, max), (i) => rows[i]).sort();
}

/** Every weight of the network (trainable or not), copied. */
export function snapshot(network: tfl.LayersModel): Float32Array[] {
  return network.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

/** The spec's schedule, or the optimizer's constant rate; its t is the step or the fractional epoch. */
function makeSchedule(t: TrainingSection): Schedule {
  const spec: ScheduleSpec = (t.schedule as ScheduleSpec | undefined) ?? {
    type: 'constant',
    lr: t.optimizer.learningRate,
  };
  return buildSchedule(spec);
}
