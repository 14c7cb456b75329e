// Shared by the compress specs: seeded random networks and onnxruntime sessions. Not exported.
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type {
  BatchNormLayer,
  DenseActivation,
  DenseExportOptions,
  DenseLayer,
  NetworkLayer,
} from '../onnx';
import type { Rng } from '../rng';

// One intra-op thread: the machine is shared with other test runs.
export const createSession = (bytes: Uint8Array) =>
  InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });

/** Runs a model on rows × features values; every output's data by name. */
export async function runModel(
  bytes: Uint8Array,
  x: Float32Array,
  features: number,
  input = 'features',
): Promise<Record<string, Float32Array>> {
  const session = await createSession(bytes);
  try {
    const result = await session.run({
      [input]: new Tensor('float32', x, [x.length / features, features]),
    });
    return Object.fromEntries(
      Object.entries(result).map(([name, value]) => [name, value.data as Float32Array]),
    );
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i += 1) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i += 1) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function normals(rng: Rng, n: number, sd = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) out[i] = rng.normal(0, sd);
  return out;
}

/** Glorot-like scale keeps activations O(1), as a trained network's are. */
export function dense(
  rng: Rng,
  inputs: number,
  units: number,
  activation: DenseActivation,
  bias = true,
): DenseLayer {
  const weights = normals(rng, inputs * units, 1 / Math.sqrt(inputs));
  return bias
    ? { kind: 'dense', weights, bias: normals(rng, units, 0.1), activation }
    : { kind: 'dense', weights, units, activation };
}

export function batchNorm(rng: Rng, n: number): BatchNormLayer {
  const movingVariance = new Float32Array(n);
  for (let i = 0; i < n; i += 1) movingVariance[i] = rng.uniform(0.2, 2);
  return {
    kind: 'batchNorm',
    gamma: normals(rng, n, 0.2).map((v) => 1 + v),
    beta: normals(rng, n, 0.1),
    movingMean: normals(rng, n, 0.5),
    movingVariance,
  };
}

export interface NetworkCase {
  readonly name: string;
  readonly options: DenseExportOptions;
  readonly layers: (rng: Rng) => NetworkLayer[];
}

/** Small networks covering every layer kind, activation, task and ragged widths. */
export const networkCases: readonly NetworkCase[] = [
  {
    name: 'logistic_regression',
    options: { task: 'binary' },
    layers: (rng) => [dense(rng, 12, 1, 'sigmoid')],
  },
  {
    name: 'binary_relu_tanh_batchnorm',
    options: { task: 'binary', inputName: 'x' },
    layers: (rng) => [
      batchNorm(rng, 16),
      dense(rng, 16, 32, 'relu'),
      { kind: 'dropout', rate: 0.3 },
      batchNorm(rng, 32),
      dense(rng, 32, 16, 'tanh'),
      dense(rng, 16, 1, 'sigmoid'),
    ],
  },
  {
    name: 'multiclass_softmax_no_bias',
    options: { task: 'multiclass' },
    layers: (rng) => [
      dense(rng, 10, 24, 'relu'),
      batchNorm(rng, 24),
      dense(rng, 24, 24, 'sigmoid', false),
      dense(rng, 24, 5, 'softmax'),
    ],
  },
  {
    name: 'regression_elu_selu_ragged',
    options: { task: 'regression' },
    layers: (rng) => [
      dense(rng, 40, 48, 'elu'),
      dense(rng, 48, 17, 'selu'),
      dense(rng, 17, 2, 'linear'),
    ],
  },
];

/** The large case: 512 features, two hidden layers of 1024 relu units, a binary head. */
export function mlp1024(rng: Rng): NetworkLayer[] {
  return [
    dense(rng, 512, 1024, 'relu'),
    dense(rng, 1024, 1024, 'relu'),
    dense(rng, 1024, 1, 'sigmoid'),
  ];
}
