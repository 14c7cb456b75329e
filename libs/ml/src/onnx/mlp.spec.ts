import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { fixture, fixtureLayers } from './fixture';
import {
  type BatchNormLayer,
  type DenseActivation,
  type DenseExportOptions,
  type DenseLayer,
  type NetworkLayer,
  denseNetworkSignature,
  denseShape,
  exportDenseNetwork,
  forwardDense,
} from './mlp';
import { DataType, GraphBuilder, type GraphSpec, encodeModel, validateGraph } from './model';

// One intra-op thread: the models are tiny, and the machine is shared with other test runs.
const createSession = (bytes: Uint8Array) =>
  InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });

// ONNX_EXPORT_DIR=/tmp/onnx-exports keeps every exported model, for
// `fixtures/make_onnx_fixtures.py check /tmp/onnx-exports` (onnx.checker with full_check).
const exportDir = process.env.ONNX_EXPORT_DIR;
const parity: Record<string, number> = {};
afterAll(() => {
  if (process.env.ONNX_PARITY_REPORT) console.info(JSON.stringify(parity, null, 1));
});

function exportModel(name: string, layers: readonly NetworkLayer[], options: DenseExportOptions) {
  const bytes = exportDenseNetwork(layers, options);
  if (exportDir) {
    mkdirSync(exportDir, { recursive: true });
    writeFileSync(path.join(exportDir, `${name}.onnx`), bytes);
  }
  return bytes;
}

async function run(
  bytes: Uint8Array,
  input: string,
  x: Float32Array,
  features: number,
): Promise<Record<string, Float32Array>> {
  const session = await createSession(bytes);
  try {
    const rows = x.length / features;
    const result = await session.run({ [input]: new Tensor('float32', x, [rows, features]) });
    return Object.fromEntries(
      Object.entries(result).map(([name, value]) => [name, value.data as Float32Array]),
    );
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i += 1) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---- seeded random networks ------------------------------------------------------------------

function normals(rng: Rng, n: number, sd = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) out[i] = rng.normal(0, sd);
  return out;
}

function dense(
  rng: Rng,
  inputs: number,
  units: number,
  activation: DenseActivation,
  bias = true,
): DenseLayer {
  // Glorot-like scale keeps activations O(1), as a trained network's are.
  const weights = normals(rng, inputs * units, 1 / Math.sqrt(inputs));
  return bias
    ? { kind: 'dense', weights, bias: normals(rng, units, 0.1), activation }
    : { kind: 'dense', weights, units, activation };
}

function batchNorm(rng: Rng, n: number, epsilon?: number): BatchNormLayer {
  const movingVariance = new Float32Array(n);
  for (let i = 0; i < n; i += 1) movingVariance[i] = rng.uniform(0.2, 2);
  return {
    kind: 'batchNorm',
    gamma: normals(rng, n, 0.2).map((v) => 1 + v),
    beta: normals(rng, n, 0.1),
    movingMean: normals(rng, n, 0.5),
    movingVariance,
    ...(epsilon === undefined ? {} : { epsilon }),
  };
}

interface RandomCase {
  readonly name: string;
  readonly options: DenseExportOptions;
  readonly layers: (rng: Rng) => NetworkLayer[];
}

const ROWS = 256;
const TOLERANCE = 1e-5;

const randomCases: RandomCase[] = [
  {
    name: 'logistic_regression',
    options: { task: 'binary' },
    layers: (rng) => [dense(rng, 12, 1, 'sigmoid')],
  },
  {
    name: 'binary_mlp_relu_tanh_batchnorm',
    options: { task: 'binary', inputName: 'x' },
    layers: (rng) => [
      batchNorm(rng, 16),
      dense(rng, 16, 32, 'relu'),
      { kind: 'dropout', rate: 0.3 },
      batchNorm(rng, 32, 1e-5),
      dense(rng, 32, 16, 'tanh'),
      { kind: 'dropout', rate: 0.1 },
      dense(rng, 16, 1, 'sigmoid'),
    ],
  },
  {
    name: 'multiclass_softmax',
    options: { task: 'multiclass' },
    layers: (rng) => [
      dense(rng, 10, 24, 'relu'),
      batchNorm(rng, 24),
      dense(rng, 24, 24, 'sigmoid', false),
      dense(rng, 24, 5, 'softmax'),
    ],
  },
  {
    name: 'regression_elu_selu',
    options: { task: 'regression' },
    layers: (rng) => [
      dense(rng, 8, 16, 'elu'),
      dense(rng, 16, 16, 'selu'),
      { kind: 'dropout' },
      dense(rng, 16, 16, 'softmax'),
      dense(rng, 16, 1, 'linear'),
    ],
  },
  {
    name: 'regression_two_targets_relu',
    options: { task: 'regression' },
    layers: (rng) => [dense(rng, 6, 8, 'tanh'), dense(rng, 8, 2, 'relu')],
  },
];

describe('exportDenseNetwork on seeded random networks, 256 rows each', () => {
  it.each(randomCases)(
    '$name: onnxruntime matches forwardDense',
    async ({ name, options, layers: make }) => {
      const rng = new Rng(name.length * 7919 + 17);
      const layers = make(rng);
      const { inputSize, outputSize } = denseShape(layers);
      const x = normals(rng, ROWS * inputSize);
      const bytes = exportModel(name, layers, options);
      const signature = denseNetworkSignature(layers, options);

      const session = await createSession(bytes);
      try {
        // Names, types and shapes as documented.
        expect(session.inputMetadata).toEqual(
          signature.inputs.map((s) => ({
            name: s.name,
            isTensor: true,
            type: 'float32',
            shape: s.shape,
          })),
        );
        expect(session.outputMetadata).toEqual(
          signature.outputs.map((s) => ({
            name: s.name,
            isTensor: true,
            type: 'float32',
            shape: s.shape,
          })),
        );
        const input = signature.inputs[0].name;
        const result = await session.run({ [input]: new Tensor('float32', x, [ROWS, inputSize]) });
        const want = forwardDense(layers, x);

        switch (options.task) {
          case 'binary': {
            expect(input).toBe(options.inputName ?? 'features');
            const p = result.probability;
            const pp = result.probabilities;
            expect(p.dims).toEqual([ROWS, 1]);
            expect(pp.dims).toEqual([ROWS, 2]);
            const pData = p.data as Float32Array;
            const ppData = pp.data as Float32Array;
            parity[name] = maxAbsDiff(pData, want);
            const pairs = new Float64Array(ROWS * 2);
            for (let r = 0; r < ROWS; r += 1) {
              pairs[2 * r] = 1 - want[r];
              pairs[2 * r + 1] = want[r];
              expect(ppData[2 * r + 1]).toBe(pData[r]);
            }
            expect(maxAbsDiff(ppData, pairs)).toBeLessThanOrEqual(TOLERANCE);
            break;
          }
          case 'multiclass': {
            const pp = result.probabilities;
            expect(pp.dims).toEqual([ROWS, outputSize]);
            parity[name] = maxAbsDiff(pp.data as Float32Array, want);
            break;
          }
          case 'regression': {
            const y = result.prediction;
            expect(y.dims).toEqual([ROWS, outputSize]);
            parity[name] = maxAbsDiff(y.data as Float32Array, want);
            break;
          }
        }
        expect(parity[name]).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        await session.release();
      }
    },
  );

  it('reads the kernel as tfjs stores it, [in, out] row-major (hand-computed)', async () => {
    // kernel rows: input 0 → [1, 2, 3], input 1 → [4, 5, 6]; x = [1, 10]
    // x · W + b = [1 + 40, 2 + 50, 3 + 60] + [0.5, 0, −1] = [41.5, 52, 62]
    const layers: NetworkLayer[] = [
      {
        kind: 'dense',
        weights: new Float32Array([1, 2, 3, 4, 5, 6]),
        bias: new Float32Array([0.5, 0, -1]),
        activation: 'linear',
      },
    ];
    const x = new Float32Array([1, 10]);
    expect(Array.from(forwardDense(layers, x))).toEqual([41.5, 52, 62]);
    const out = await run(
      exportModel('hand_dense', layers, { task: 'regression' }),
      'features',
      x,
      2,
    );
    expect(Array.from(out.prediction)).toEqual([41.5, 52, 62]);
  });

  it('applies batch norm as (x − mean) / √(var + ε) · γ + β (hand-computed)', async () => {
    // x = 5: (5 − 1) / √(3 + 1) · 4 + 1 = 9; x = −3: (−4 / 2) · 4 + 1 = −7
    const layers: NetworkLayer[] = [
      {
        kind: 'batchNorm',
        gamma: new Float32Array([4]),
        beta: new Float32Array([1]),
        movingMean: new Float32Array([1]),
        movingVariance: new Float32Array([3]),
        epsilon: 1,
      },
      { kind: 'dense', weights: new Float32Array([1]), activation: 'linear', units: 1 },
    ];
    const x = new Float32Array([5, -3]);
    expect(Array.from(forwardDense(layers, x))).toEqual([9, -7]);
    const out = await run(
      exportModel('hand_batchnorm', layers, { task: 'regression' }),
      'features',
      x,
      1,
    );
    expect(Array.from(out.prediction)).toEqual([9, -7]);
  });
});

describe('exportDenseNetwork against the onnx package (fixtures/onnx.json)', () => {
  it.each(fixture.networks)(
    '$name: same bytes as protobuf, same outputs as onnx’s reference evaluator',
    async (c) => {
      const layers = fixtureLayers(c);
      // The JSON numbers are float32 values, so the Float32Arrays hold exactly Python's tensors.
      for (const layer of c.layers) {
        for (const v of Object.values(layer)) {
          if (Array.isArray(v)) for (const n of v as number[]) expect(Math.fround(n)).toBe(n);
        }
      }
      const options = { ...c.options, task: c.task };
      const bytes = exportModel(`fixture_${c.name}`, layers, options);
      expect(Buffer.from(bytes).toString('base64')).toBe(c.base64);

      const signature = denseNetworkSignature(layers, options);
      const features = denseShape(layers).inputSize;
      const x = new Float32Array(c.x);
      const out = await run(bytes, signature.inputs[0].name, x, features);
      const js = forwardDense(layers, x);
      for (const [name, reference] of Object.entries(c.reference)) {
        expect(maxAbsDiff(out[name], reference), name).toBeLessThanOrEqual(1e-6);
      }
      const head =
        c.task === 'regression'
          ? 'prediction'
          : c.task === 'binary'
            ? 'probability'
            : 'probabilities';
      expect(maxAbsDiff(js, c.reference[head])).toBeLessThanOrEqual(1e-6);
    },
  );
});

describe('exportDenseNetwork refuses networks that do not fit', () => {
  const rng = new Rng(5);
  const ok = (): NetworkLayer[] => [dense(rng, 3, 4, 'relu'), dense(rng, 4, 1, 'sigmoid')];

  it.each<[string, () => NetworkLayer[], DenseExportOptions, RegExp]>([
    [
      'layers that do not chain',
      () => [dense(rng, 3, 4, 'relu'), dense(rng, 5, 1, 'sigmoid')],
      { task: 'binary' },
      /5 inputs, the previous layer gives 4/,
    ],
    [
      'a binary head of two units',
      () => [dense(rng, 3, 2, 'sigmoid')],
      { task: 'binary' },
      /binary head is 1 sigmoid unit/,
    ],
    [
      'a binary head without sigmoid',
      () => [dense(rng, 3, 1, 'linear')],
      { task: 'binary' },
      /binary head/,
    ],
    [
      'a multiclass head without softmax',
      () => [dense(rng, 3, 3, 'sigmoid')],
      { task: 'multiclass' },
      /multiclass head/,
    ],
    [
      'a multiclass head of one unit',
      () => [dense(rng, 3, 1, 'softmax')],
      { task: 'multiclass' },
      /multiclass head/,
    ],
    ['a sigmoid regression head', ok, { task: 'regression' }, /regression head cannot be sigmoid/],
    [
      'a network ending in batch norm',
      () => [dense(rng, 3, 4, 'relu'), batchNorm(rng, 4)],
      { task: 'regression' },
      /last layer must be dense/,
    ],
    [
      'no dense layer',
      () => [{ kind: 'dropout' }],
      { task: 'regression' },
      /at least one dense layer/,
    ],
    [
      'a NaN weight',
      () => [{ ...dense(rng, 2, 1, 'sigmoid'), weights: new Float32Array([1, NaN]) }],
      { task: 'binary' },
      /value 1 is NaN/,
    ],
    [
      'an infinite batch-norm mean',
      () => [
        { ...batchNorm(rng, 1), movingMean: new Float32Array([Infinity]) },
        dense(rng, 1, 1, 'linear'),
      ],
      { task: 'regression' },
      /movingMean: value 0 is Infinity/,
    ],
    [
      'a negative variance',
      () => [
        { ...batchNorm(rng, 1), movingVariance: new Float32Array([-1]) },
        dense(rng, 1, 1, 'linear'),
      ],
      { task: 'regression' },
      /negative movingVariance/,
    ],
    [
      'a short gamma',
      () => [{ ...batchNorm(rng, 2), gamma: new Float32Array(1) }, dense(rng, 2, 1, 'linear')],
      { task: 'regression' },
      /gamma has 1 values, not 2/,
    ],
    [
      'an unknown activation',
      () => [{ ...dense(rng, 2, 1, 'linear'), activation: 'gelu' as DenseActivation }],
      { task: 'regression' },
      /unknown activation gelu/,
    ],
    [
      'a layer without bias or units',
      () => [{ kind: 'dense', weights: new Float32Array(2), activation: 'linear' }],
      { task: 'regression' },
      /needs units/,
    ],
    [
      'weights that do not split into units',
      () => [
        {
          kind: 'dense',
          weights: new Float32Array(5),
          bias: new Float32Array(2),
          activation: 'linear',
        },
      ],
      { task: 'regression' },
      /5 weights do not split into 2 units/,
    ],
    [
      'the reserved metadata key',
      ok,
      { task: 'binary', metadata: { 'mlops.task': 'x' } },
      /reserved/,
    ],
  ])('%s', (_, layers, options, message) => {
    expect(() => exportDenseNetwork(layers(), options)).toThrow(message);
  });

  it('forwardDense refuses rows of the wrong width', () => {
    expect(() => forwardDense(ok(), new Float32Array(4))).toThrow(/not whole rows of 3/);
  });
});

function kernelMismatchGraph(): GraphSpec {
  return {
    name: 'g',
    nodes: [{ opType: 'Gemm', inputs: ['x', 'w'], outputs: ['y'] }],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 2] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 1] }],
    initializers: [{ name: 'w', dims: [3, 1], data: new Float32Array(3) }],
  };
}

describe('onnxruntime refuses malformed models (sanity)', () => {
  const rng = new Rng(11);
  const good = exportDenseNetwork([dense(rng, 4, 3, 'relu'), dense(rng, 3, 1, 'sigmoid')], {
    task: 'binary',
  });

  it('loads the well-formed model', async () => {
    const session = await createSession(good);
    await session.release();
  });

  it.each<[string, () => Uint8Array]>([
    ['truncated bytes', () => good.subarray(0, Math.floor(good.length / 2))],
    ['random bytes', () => Uint8Array.from({ length: 512 }, () => rng.int(0, 256))],
    [
      'a node reading an undefined value',
      () => {
        const graph = {
          name: 'g',
          nodes: [{ opType: 'Relu', inputs: ['missing'], outputs: ['y'] }],
          inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 2] }],
          outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 2] }],
        };
        return encodeModel({ graph }, { validate: false });
      },
    ],
    [
      'an unknown operator',
      () => {
        const g = new GraphBuilder('g');
        g.input('x', DataType.FLOAT, ['N', 2]);
        g.node({ opType: 'NoSuchOp', inputs: ['x'], outputs: ['y'] });
        g.output('y', DataType.FLOAT, ['N', 2]);
        return encodeModel({ graph: g.build() });
      },
    ],
    [
      'a kernel whose shape does not fit the input',
      () => {
        // validateGraph refuses it too (see below), so it is encoded without validation.
        const graph = kernelMismatchGraph();
        expect(() => validateGraph(graph)).toThrow(/A \[N, 2\] and B \[3, 1\] do not multiply/);
        return encodeModel({ graph }, { validate: false });
      },
    ],
  ])('%s', async (_, bytes) => {
    await expect(createSession(bytes())).rejects.toThrow();
  });

  it('a well-formed model still refuses input of the wrong width', async () => {
    const session = await createSession(good);
    try {
      await expect(
        session.run({ features: new Tensor('float32', new Float32Array(6), [2, 3]) }),
      ).rejects.toThrow(/dimensions|Got invalid/i);
    } finally {
      await session.release();
    }
  });
});
