import { z } from 'zod';
import type { DatasetSpec } from './dataset-spec';
import { MODEL_NAME } from '../events';

/**
 * The `model` and `training` sections of a dataset spec: what network the trainer builds and how
 * it optimises it. Every part has a default, so no section at all trains a small MLP with Adam,
 * early stopping on the task's primary validation metric and seed 42.
 */

export const ACTIVATIONS = ['relu', 'tanh', 'elu', 'selu', 'sigmoid'] as const;

export const ModelSection = z.strictObject({
  /** The registered model's name. Default: the dataset's name. */
  name: z.string().regex(MODEL_NAME).optional(),
  /** `logistic_regression`: one dense layer onto the output; `mlp`: hidden layers before it. */
  type: z.enum(['logistic_regression', 'mlp']).default('mlp'),
  /** Units of each hidden layer (mlp). */
  hidden: z.array(z.number().int().min(1).max(16_384)).max(16).default([64, 32]),
  activation: z.enum(ACTIVATIONS).default('relu'),
  /** Dropout after each hidden layer (0: none). */
  dropout: z.number().min(0).max(0.95).default(0),
  /** Batch normalisation after each hidden layer's dense, before its activation's dropout. */
  batchNorm: z.boolean().default(false),
  /** L2 penalty λ·Σw² on every kernel (not on biases), added to the loss. */
  l2: z.number().min(0).max(10).default(0),
});
export type ModelSection = z.output<typeof ModelSection>;

const rate = z.number().positive().max(10);

/** A learning-rate schedule (libs/ml `ScheduleSpec`), in the unit of `training.scheduleUnit`. */
export type ScheduleSection =
  | { type: 'constant'; lr: number }
  | { type: 'cosineWarmRestarts'; lr: number; t0: number; tMult?: number; etaMin?: number }
  | { type: 'stepDecay'; lr: number; stepSize: number; gamma?: number }
  | { type: 'linearWarmup'; steps: number; startFactor?: number; then: ScheduleSection }
  | { type: 'sequential'; schedules: ScheduleSection[]; milestones: number[] };

export const ScheduleSection: z.ZodType<ScheduleSection> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('constant'), lr: rate }),
    z.strictObject({
      type: z.literal('cosineWarmRestarts'),
      lr: rate,
      t0: z.number().int().positive(),
      tMult: z.number().int().min(1).optional(),
      etaMin: z.number().min(0).optional(),
    }),
    z.strictObject({
      type: z.literal('stepDecay'),
      lr: rate,
      stepSize: z.number().int().positive(),
      gamma: z.number().positive().max(1).optional(),
    }),
    z.strictObject({
      type: z.literal('linearWarmup'),
      steps: z.number().positive(),
      startFactor: z.number().min(0).max(1).optional(),
      then: ScheduleSection,
    }),
    z.strictObject({
      type: z.literal('sequential'),
      schedules: z.array(ScheduleSection).min(2),
      milestones: z.array(z.number().positive()),
    }),
  ]),
);

export const OptimizerSection = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('adam'),
    learningRate: rate.default(1e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
  }),
  z.strictObject({
    type: z.literal('adamw'),
    learningRate: rate.default(1e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
    /** Decoupled weight decay (Loshchilov & Hutter): w ← w − lr·decay·w, kernels only. */
    weightDecay: z.number().min(0).max(1).default(0.01),
  }),
  z.strictObject({
    type: z.literal('sgd'),
    learningRate: rate.default(1e-2),
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(false),
  }),
]);
export type OptimizerSection = z.output<typeof OptimizerSection>;

export const EARLY_STOPPING_METRICS = [
  'auto',
  'loss',
  'pr_auc',
  'roc_auc',
  'accuracy',
  'f1',
  'log_loss',
  'rmse',
  'mae',
  'r2',
] as const;

export const TrainingSection = z
  .strictObject({
    epochs: z.number().int().min(1).max(10_000).default(20),
    /** Rows per micro-batch (one forward/backward pass). */
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .default(256),
    /** Micro-batches whose gradients are summed before one optimizer step: effective batch = steps × batchSize. */
    accumulationSteps: z.number().int().min(1).max(1024).default(1),
    optimizer: OptimizerSection.prefault({ type: 'adam' }),
    /** Default: the optimizer's constant learning rate. */
    schedule: ScheduleSection.optional(),
    /** `epoch`: the schedule's t is the fractional epoch (PyTorch per-batch style); `step`: the optimizer step. */
    scheduleUnit: z.enum(['epoch', 'step']).default('epoch'),
    /** Clip the accumulated gradients to this global L2 norm. */
    clipNorm: z.number().positive().optional(),
    /** `balanced`: n / (K · count of the class), scikit-learn's; or a weight per class label. */
    classWeights: z
      .union([z.enum(['none', 'balanced']), z.record(z.string(), z.number().positive())])
      .default('none'),
    /**
     * Dynamic sampling: training batches drawn by class toward `target` shares (default:
     * balanced), re-weighted every `adjustEvery` optimizer steps by validation recall — a class
     * with recall r gets target · (1 + strength · (1 − r)), normalised.
     */
    sampling: z
      .strictObject({
        strategy: z.enum(['none', 'dynamic']).default('dynamic'),
        target: z.record(z.string(), z.number().positive()).optional(),
        adjustEvery: z.number().int().min(1).default(50),
        strength: z.number().min(0).max(100).default(1),
        /** Validation rows scored for the recall (a seeded sample when there are more). */
        validationRows: z.number().int().min(100).default(20_000),
      })
      .prefault({ strategy: 'none' }),
    earlyStopping: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** `auto`: PR-AUC for binary, log loss for multiclass, RMSE for regression. */
        metric: z.enum(EARLY_STOPPING_METRICS).default('auto'),
        patience: z.number().int().min(1).default(5),
        minDelta: z.number().min(0).default(0),
        restoreBest: z.boolean().default(true),
      })
      .prefault({}),
    seed: z.number().int().min(0).max(0xffffffff).default(42),
    /** `auto`: tfjs-node-gpu, tfjs-node, wasm, cpu — the first that loads. */
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    /** Decision threshold of binary metrics. */
    threshold: z.number().gt(0).lt(1).default(0.5),
    /** A job over more training rows than this is refused. */
    maxRows: z.number().int().positive().default(5_000_000),
  })
  .superRefine((t, ctx) => {
    if (
      t.schedule?.type === 'sequential' &&
      t.schedule.milestones.length !== t.schedule.schedules.length - 1
    )
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'milestones'],
        message: 'a sequential schedule needs one milestone fewer than schedules',
      });
  });
export type TrainingSection = z.output<typeof TrainingSection>;

export class TrainingSpecError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'TrainingSpecError';
  }
}

export interface ResolvedTrainingSpec {
  /** The registered model's name. */
  modelName: string;
  model: ModelSection;
  training: TrainingSection;
}

/** The spec's `model` and `training` sections with every default filled in. Throws TrainingSpecError. */
export function resolveTrainingSpec(
  spec: Pick<DatasetSpec, 'name' | 'model' | 'training'>,
): ResolvedTrainingSpec {
  const issues: { path: string; message: string }[] = [];
  const model = ModelSection.safeParse(spec.model ?? {});
  if (!model.success)
    for (const i of model.error.issues)
      issues.push({ path: ['model', ...i.path].join('.'), message: i.message });
  const training = TrainingSection.safeParse(spec.training ?? {});
  if (!training.success)
    for (const i of training.error.issues)
      issues.push({ path: ['training', ...i.path].join('.'), message: i.message });
  if (!model.success || !training.success)
    throw new TrainingSpecError(
      `invalid model/training section: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  return { modelName: model.data.name ?? spec.name, model: model.data, training: training.data };
}
