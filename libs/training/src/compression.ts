import * as tf from '@tensorflow/tfjs-core';
import {
  TrainingSection,
  type CompressionMethod,
  type CompressionSection,
  type ModelSection,
} from '@mlops/contracts';
import {
  exportDenseInt4,
  columnRanges,
  exportDenseInt8Dynamic,
  exportDenseInt8Static,
  exportDenseNetwork,
  pruneStructured,
  pruneUnstructured,
  type NetworkLayer,
} from '@mlops/ml';
import { selectBackend } from './backend';
import { networkFromLayers } from './from-layers';
import { gatherRows, trainNetwork, type Teacher, type TrainingData } from './loop';
import { networkLayers, type Task } from './network';

/**
 * Compressed variants of a trained dense network, built from its layers: quantised exports
 * (libs/ml/compress), pruning with optional fine-tuning through the training loop, and
 * distillation into a smaller student. The compressor service and its benchmark both build
 * variants here.
 */

export interface BuildContext {
  c: CompressionSection;
  /** The parent network's layers (as the trainer stored them). */
  layers: NetworkLayer[];
  task: Task;
  classes: string[] | null;
  /** Every row of the training matrix (the teacher scores them all) and its splits. */
  data: TrainingData;
  /** The parent's model and training sections (fine-tuning and students train like it). */
  model: ModelSection;
  training: TrainingSection;
  exportOptions: { task: Task; metadata?: Record<string, string> };
}

export interface Built {
  bytes: Uint8Array;
  params: Record<string, unknown>;
}

export async function buildVariant(method: CompressionMethod, ctx: BuildContext): Promise<Built> {
  const { c, layers, exportOptions } = ctx;
  switch (method) {
    case 'int8_dynamic': {
      const inputRange = trainingInputRange(ctx, layers);
      return {
        bytes: exportDenseInt8Dynamic(layers, exportOptions, {
          perChannel: c.int8.perChannel,
          ...(inputRange ? { inputRange } : {}),
        }),
        params: { perChannel: c.int8.perChannel, inputClamp: inputRange !== undefined },
      };
    }
    case 'int8_static': {
      const rows = ctx.data.train.subarray(0, c.int8.calibrationRows);
      const calibration = gatherRows(ctx.data.values, ctx.data.columns, rows);
      return {
        bytes: exportDenseInt8Static(layers, exportOptions, calibration, {
          perChannel: c.int8.perChannel,
        }),
        params: { perChannel: c.int8.perChannel, calibrationRows: rows.length },
      };
    }
    case 'int4':
      return {
        bytes: exportDenseInt4(layers, exportOptions, {
          blockSize: c.int4.blockSize,
          accuracyLevel: c.int4.accuracyLevel,
        }),
        params: { blockSize: c.int4.blockSize, accuracyLevel: c.int4.accuracyLevel },
      };
    case 'prune_unstructured': {
      const pruned = pruneUnstructured(layers, c.pruning.sparsity);
      const tuned = await fineTune(ctx, pruned.layers, pruned.masks);
      return {
        bytes: exportDenseNetwork(tuned, exportOptions),
        params: { sparsity: c.pruning.sparsity, fineTuneEpochs: c.pruning.fineTuneEpochs },
      };
    }
    case 'prune_structured':
    case 'prune_structured+int8_dynamic': {
      const pruned = pruneStructured(layers, c.pruning.fraction);
      const tuned = await fineTune(ctx, pruned.layers, null);
      const params = { fraction: c.pruning.fraction, fineTuneEpochs: c.pruning.fineTuneEpochs };
      return method === 'prune_structured'
        ? { bytes: exportDenseNetwork(tuned, exportOptions), params }
        : int8Of(tuned, params);
    }
    case 'distill':
      return distill(ctx);
  }

  function int8Of(tuned: NetworkLayer[], params: Record<string, unknown>): Built {
    const inputRange = trainingInputRange(ctx, tuned);
    return {
      bytes: exportDenseInt8Dynamic(tuned, exportOptions, {
        perChannel: c.int8.perChannel,
        ...(inputRange ? { inputRange } : {}),
      }),
      params: { ...params, perChannel: c.int8.perChannel, inputClamp: inputRange !== undefined },
    };
  }
}

/**
 * Each input column's range over the training rows, which INT8 dynamic clamps its input to (an
 * outlier would otherwise set the activation scale of its whole batch); none when the network
 * does not start with a dense layer.
 */
function trainingInputRange(ctx: BuildContext, layers: readonly NetworkLayer[]) {
  if (layers[0]?.kind !== 'dense') return undefined;
  const { values, columns, train } = ctx.data;
  return columnRanges(gatherRows(values, columns, train), columns);
}

/** A few epochs of the trainer's loop on the edited network (masks hold pruned weights at 0). */
async function fineTune(
  ctx: BuildContext,
  layers: NetworkLayer[],
  masks: (Uint8Array | null)[] | null,
): Promise<NetworkLayer[]> {
  const { c } = ctx;
  if (c.pruning.fineTuneEpochs === 0) return layers;
  await selectBackend(ctx.training.backend);
  const network = networkFromLayers(layers, ctx.task);
  const training = fineTuneSection(
    ctx.training,
    c.pruning.fineTuneEpochs,
    c.pruning.fineTuneLearningRate,
  );
  const outcome = await trainNetwork(ctx.data, {
    task: ctx.task,
    classes: ctx.classes,
    model: ctx.model,
    training,
    network,
    ...(masks ? { kernelMasks: masks } : {}),
  });
  const tuned = networkLayers(outcome.network, ctx.task);
  outcome.network.dispose();
  return tuned;
}

/** The parent's training settings for a short, gentle run: no schedule, a small constant rate. */
function fineTuneSection(t: TrainingSection, epochs: number, lr: number): TrainingSection {
  return TrainingSection.parse({
    ...t,
    epochs,
    schedule: undefined,
    optimizer: { ...t.optimizer, learningRate: lr },
    earlyStopping: {
      ...t.earlyStopping,
      patience: Math.max(1, Math.min(t.earlyStopping.patience, epochs)),
    },
  });
}

/** A smaller student trained on the teacher's soft targets (and the labels). */
async function distill(ctx: BuildContext): Promise<Built> {
  const { c, layers } = ctx;
  await selectBackend(ctx.training.backend);
  const dense = layers.filter(
    (l): l is Extract<NetworkLayer, { kind: 'dense' }> => l.kind === 'dense',
  );
  const teacherHidden = dense.slice(0, -1).map((l) => l.bias?.length ?? l.units!);
  const hidden =
    c.distillation.hidden ??
    teacherHidden.map((u) => Math.max(1, Math.round(u / c.distillation.shrink)));
  const teacherNet = networkFromLayers(layers, ctx.task);
  const data = ctx.data;
  // The teacher's logits for every row the student may see.
  const cols = data.columns;
  const rows = data.values.length / cols;
  const width = ctx.task === 'multiclass' ? (ctx.classes?.length ?? 2) : 1;
  const logits = new Float32Array(rows * width);
  for (let start = 0; start < rows; start += 8192) {
    const end = Math.min(rows, start + 8192);
    const out = tf.tidy(
      () =>
        teacherNet.apply(
          tf.tensor2d(data.values.subarray(start * cols, end * cols), [end - start, cols]),
          {
            training: false,
          },
        ) as tf.Tensor,
    );
    logits.set(out.dataSync(), start * width);
    out.dispose();
  }
  teacherNet.dispose();
  const teacher: Teacher = {
    logits,
    temperature: c.distillation.temperature,
    alpha: c.distillation.alpha,
  };
  const model: ModelSection = {
    ...ctx.model,
    type: hidden.length > 0 ? 'mlp' : 'logistic_regression',
    hidden,
  };
  const training = TrainingSection.parse({
    ...ctx.training,
    epochs: c.distillation.epochs,
  });
  const outcome = await trainNetwork(data, {
    task: ctx.task,
    classes: ctx.classes,
    model,
    training,
    teacher,
  });
  const student = networkLayers(outcome.network, ctx.task);
  outcome.network.dispose();
  return {
    bytes: exportDenseNetwork(student, ctx.exportOptions),
    params: {
      hidden,
      temperature: c.distillation.temperature,
      alpha: c.distillation.alpha,
      epochs: outcome.epochsRun,
    },
  };
}

/** Points (×100) lost from parent to variant; for error metrics a rise is the loss. */
export function dropPoints(metric: string, parent: number, variant: number): number {
  const lowerIsBetter = metric === 'rmse';
  return (lowerIsBetter ? variant - parent : parent - variant) * 100;
}

/** Share of rows whose predicted class is the parent's. */
export function agreement(task: Task, k: number, a: Float32Array, b: Float32Array): number {
  if (task === 'binary') {
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] >= 0.5 === b[i] >= 0.5) same++;
    return same / a.length;
  }
  const n = a.length / k;
  let same = 0;
  for (let i = 0; i < n; i++) if (argmax(a, i * k, k) === argmax(b, i * k, k)) same++;
  return same / n;
}

function argmax(v: Float32Array, from: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (v[from + j] > v[from + best]) best = j;
  return best;
}
