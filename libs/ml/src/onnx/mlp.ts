/**
 * ONNX export of the dense networks the trainer produces (a stack of tfjs-style Dense,
 * BatchNormalization and Dropout layers) and a plain-JS forward pass to check it against.
 *
 * Graph, for input `features` [N, F] (float32, N symbolic):
 *   dense       → Gemm(x, kernel [in, out], bias [out]), transB = 0, then the activation op
 *                 (linear: none; relu, tanh, sigmoid, elu (alpha 1), selu, softmax (axis −1));
 *   batchNorm   → BatchNormalization(x, gamma, beta, movingMean, movingVariance), epsilon as
 *                 given (tfjs's default 1e-3); inference mode;
 *   dropout     → nothing (identity at inference).
 *
 * Outputs, by task (all float32, N symbolic):
 *   binary      → `probability` [N, 1] = P(class 1), and `probabilities` [N, 2] = [1 − p, p];
 *   multiclass  → `probabilities` [N, K];
 *   regression  → `prediction` [N, T] (T = units of the last layer, normally 1).
 *
 * Binary models emit both: `probability` is the score a threshold or an AUC wants, and
 * `probabilities` lets a consumer treat every classifier alike (K columns, argmax = label),
 * for one Sub and one Concat on [N, 1].
 */
import {
  DataType,
  type Dim,
  GraphBuilder,
  type ModelSpec,
  type NodeSpec,
  type OpsetImport,
  attr,
  encodeModel,
} from './model';

export type DenseActivation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'selu' | 'softmax';

/** A fully connected layer, as tfjs stores it: `y = activation(x · kernel + bias)`. */
export interface DenseLayer {
  readonly kind: 'dense';
  /** The kernel, [in, out] row-major (tfjs): weights[i · out + j] joins input i to unit j. */
  readonly weights: Float32Array;
  /** [out]; omitted for a layer built with `useBias: false`. */
  readonly bias?: Float32Array;
  /** Units (out); needed only when there is no bias. */
  readonly units?: number;
  readonly activation: DenseActivation;
}

/** Batch normalization at inference: `(x − mean) / √(variance + ε) · gamma + beta`. */
export interface BatchNormLayer {
  readonly kind: 'batchNorm';
  /** Omitted when the layer was built with `scale: false` (then 1). */
  readonly gamma?: Float32Array;
  /** Omitted when the layer was built with `center: false` (then 0). */
  readonly beta?: Float32Array;
  readonly movingMean: Float32Array;
  readonly movingVariance: Float32Array;
  /** Default 1e-3, tfjs's and Keras's default. */
  readonly epsilon?: number;
}

/** Dropout: the identity at inference, so it emits no node. */
export interface DropoutLayer {
  readonly kind: 'dropout';
  readonly rate?: number;
}

export type NetworkLayer = DenseLayer | BatchNormLayer | DropoutLayer;

export type DenseTask = 'binary' | 'multiclass' | 'regression';

export interface DenseExportOptions {
  readonly task: DenseTask;
  /** Name of the one input, [N, F] float32. Default `features`. */
  readonly inputName?: string;
  /** Default `dense_network`. */
  readonly graphName?: string;
  readonly producerVersion?: string;
  readonly modelVersion?: number;
  readonly docString?: string;
  /** Extra `metadata_props` (e.g. feature names, class labels, training run id). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Output names, per task. */
export const DENSE_OUTPUT = {
  probability: 'probability',
  probabilities: 'probabilities',
  prediction: 'prediction',
} as const;
export const DEFAULT_DENSE_INPUT = 'features';
/** The batch dimension's symbolic name in every input and output shape. */
export const BATCH_DIM = 'N';
/** `metadata_props` key holding the task. */
export const TASK_METADATA_KEY = 'mlops.task';

export interface TensorSignature {
  readonly name: string;
  /** Always float32 here. */
  readonly shape: readonly Dim[];
}

export interface DenseSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

/** Widths of a checked network. */
export interface DenseShape {
  readonly inputSize: number;
  readonly outputSize: number;
}

const DEFAULT_EPSILON = 1e-3;
// SELU's constants (Klambauer et al. 2017), as tfjs and ONNX's Selu defaults have them.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/**
 * Checks that the layers chain (each layer's input width is the previous output width), that
 * every array has the length its layer implies and holds only finite numbers, and returns the
 * network's input and output widths.
 */
export function denseShape(layers: readonly NetworkLayer[]): DenseShape {
  let width: number | null = null;
  let inputSize: number | null = null;
  let sawDense = false;
  layers.forEach((layer, i) => {
    const where = `layer ${i} (${layer.kind})`;
    switch (layer.kind) {
      case 'dense': {
        const units = denseUnits(layer, where);
        if (layer.weights.length % units !== 0 || layer.weights.length === 0) {
          throw new Error(
            `${where}: ${layer.weights.length} weights do not split into ${units} units`,
          );
        }
        const inputs = layer.weights.length / units;
        inputSize ??= inputs;
        if (width !== null && inputs !== width) {
          throw new Error(
            `${where}: kernel has ${inputs} inputs, the previous layer gives ${width}`,
          );
        }
        finite(layer.weights, `${where} weights`);
        if (layer.bias) finite(layer.bias, `${where} bias`);
        if (!ACTIVATIONS.has(layer.activation)) {
          throw new Error(`${where}: unknown activation ${String(layer.activation)}`);
        }
        width = units;
        sawDense = true;
        break;
      }
      case 'batchNorm': {
        const n = layer.movingMean.length;
        if (n === 0) throw new Error(`${where}: empty movingMean`);
        inputSize ??= n;
        if (width !== null && n !== width) {
          throw new Error(`${where}: normalizes ${n} features, the previous layer gives ${width}`);
        }
        const arrays = {
          gamma: layer.gamma,
          beta: layer.beta,
          movingMean: layer.movingMean,
          movingVariance: layer.movingVariance,
        };
        for (const [name, array] of Object.entries(arrays)) {
          if (array === undefined) continue;
          if (array.length !== n) {
            throw new Error(`${where}: ${name} has ${array.length} values, not ${n}`);
          }
          finite(array, `${where} ${name}`);
        }
        for (const v of layer.movingVariance) {
          if (v < 0) throw new Error(`${where}: negative movingVariance ${v}`);
        }
        const eps = layer.epsilon ?? DEFAULT_EPSILON;
        if (!(eps > 0) || !Number.isFinite(eps)) {
          throw new Error(`${where}: epsilon must be > 0, got ${eps}`);
        }
        width = n;
        break;
      }
      case 'dropout':
        break;
      default:
        assertNever(layer);
    }
  });
  if (!sawDense || width === null || inputSize === null) {
    throw new Error('a dense network needs at least one dense layer');
  }
  return { inputSize, outputSize: width };
}

/** The names and shapes of the exported model's input and outputs. */
export function denseNetworkSignature(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
): DenseSignature {
  const { inputSize, outputSize } = denseShape(layers);
  checkHead(layers, options.task);
  const inputs = [
    { name: options.inputName ?? DEFAULT_DENSE_INPUT, shape: [BATCH_DIM, inputSize] },
  ];
  switch (options.task) {
    case 'binary':
      return {
        inputs,
        outputs: [
          { name: DENSE_OUTPUT.probability, shape: [BATCH_DIM, 1] },
          { name: DENSE_OUTPUT.probabilities, shape: [BATCH_DIM, 2] },
        ],
      };
    case 'multiclass':
      return {
        inputs,
        outputs: [{ name: DENSE_OUTPUT.probabilities, shape: [BATCH_DIM, outputSize] }],
      };
    case 'regression':
      return {
        inputs,
        outputs: [{ name: DENSE_OUTPUT.prediction, shape: [BATCH_DIM, outputSize] }],
      };
    default:
      return assertNever(options.task);
  }
}

/**
 * Exports a dense network as an ONNX model (IR 8, opset 17): the bytes of an `.onnx` file,
 * loadable by `InferenceSession.create(bytes)`. Names and shapes: {@link denseNetworkSignature}.
 */
export function exportDenseNetwork(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
): Uint8Array {
  return exportDenseNetworkWith(layers, options, {});
}

/** What a {@link DenseMatmul} strategy is given for one dense layer. */
export interface DenseMatmulContext {
  readonly graph: GraphBuilder;
  readonly layer: DenseLayer;
  /** The layer's index in the network. */
  readonly index: number;
  /** `dense_<index>`: the prefix of every name the layer adds to the graph. */
  readonly prefix: string;
  /** The layer's input, float32 [N, inputs]. */
  readonly input: string;
  /** The name the result, float32 [N, units], must be given. */
  readonly output: string;
  /** Rows of the kernel (K). */
  readonly inputs: number;
  /** Columns of the kernel (N). */
  readonly units: number;
}

/**
 * How a dense layer's affine part is emitted: nodes that compute `output = input · kernel (+
 * bias)` (float32) from `input`; the activation and everything else stays the exporter's.
 */
export type DenseMatmul = (context: DenseMatmulContext) => void;

/** How {@link exportDenseNetworkWith} varies from the FP32 export. */
export interface DenseExportStrategy {
  /** Default {@link gemmMatmul}: the FP32 export. */
  readonly matmul?: DenseMatmul;
  /** Default: the ONNX domain at opset 17 only. */
  readonly opsetImports?: readonly OpsetImport[];
  /** Metadata the strategy itself sets (e.g. the compression method); keys reserved. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The FP32 dense layer: `Gemm(x, kernel [in, out], bias [out])` with transB = 0. */
export const gemmMatmul: DenseMatmul = ({
  graph: g,
  layer,
  prefix,
  input,
  output,
  inputs,
  units,
}) => {
  const kernel = g.initializer(`${prefix}/kernel`, [inputs, units], layer.weights);
  const gemmInputs = [input, kernel];
  if (layer.bias) gemmInputs.push(g.initializer(`${prefix}/bias`, [units], layer.bias));
  g.node({
    opType: 'Gemm',
    name: `${prefix}/Gemm`,
    inputs: gemmInputs,
    outputs: [output],
    attributes: { transB: attr.int(0) },
  });
};

/**
 * {@link exportDenseNetwork} with each dense layer's matmul emitted by `strategy.matmul`: the
 * graph's interface (input, outputs, their names, types and shapes), its activations, batch
 * norms and binary head are those of the FP32 export, so a variant serves wherever it does.
 */
export function exportDenseNetworkWith(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
  strategy: DenseExportStrategy,
): Uint8Array {
  return encodeModel(denseNetworkModel(layers, options, strategy));
}

/** The model {@link exportDenseNetworkWith} encodes, already validated (see validateGraph). */
export function denseNetworkModel(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
  strategy: DenseExportStrategy = {},
): ModelSpec {
  const signature = denseNetworkSignature(layers, options);
  const head = lastDenseIndex(layers);
  const matmul = strategy.matmul ?? gemmMatmul;
  const g = new GraphBuilder(options.graphName ?? 'dense_network');
  let x = g.input(signature.inputs[0].name, DataType.FLOAT, signature.inputs[0].shape);

  layers.forEach((layer, i) => {
    switch (layer.kind) {
      case 'dense': {
        const prefix = `dense_${i}`;
        const units = denseUnits(layer, prefix);
        const inputs = layer.weights.length / units;
        const activationOutput =
          i === head ? headOutputName(options.task) : `${prefix}/${layer.activation}`;
        const matmulOutput = layer.activation === 'linear' ? activationOutput : `${prefix}/gemm`;
        matmul({
          graph: g,
          layer,
          index: i,
          prefix,
          input: x,
          output: matmulOutput,
          inputs,
          units,
        });
        x = matmulOutput;
        if (layer.activation !== 'linear') {
          x = g.node(
            activationNode(layer.activation, `${prefix}/${layer.activation}`, x, activationOutput),
          );
        }
        break;
      }
      case 'batchNorm': {
        const prefix = `batch_norm_${i}`;
        const n = layer.movingMean.length;
        const gamma = g.initializer(
          `${prefix}/gamma`,
          [n],
          layer.gamma ?? new Float32Array(n).fill(1),
        );
        const beta = g.initializer(`${prefix}/beta`, [n], layer.beta ?? new Float32Array(n));
        const mean = g.initializer(`${prefix}/moving_mean`, [n], layer.movingMean);
        const variance = g.initializer(`${prefix}/moving_variance`, [n], layer.movingVariance);
        x = g.node({
          opType: 'BatchNormalization',
          name: `${prefix}/BatchNormalization`,
          inputs: [x, gamma, beta, mean, variance],
          outputs: [`${prefix}/output`],
          attributes: { epsilon: attr.float(layer.epsilon ?? DEFAULT_EPSILON) },
        });
        break;
      }
      case 'dropout':
        break;
      default:
        assertNever(layer);
    }
  });

  if (options.task === 'binary') {
    const one = g.initializer('one', [], new Float32Array([1]));
    const complement = g.node({
      opType: 'Sub',
      name: 'probability_complement',
      inputs: [one, DENSE_OUTPUT.probability],
      outputs: ['probability_complement'],
    });
    g.node({
      opType: 'Concat',
      name: 'probabilities',
      inputs: [complement, DENSE_OUTPUT.probability],
      outputs: [DENSE_OUTPUT.probabilities],
      attributes: { axis: attr.int(1) },
    });
  }
  for (const output of signature.outputs) g.output(output.name, DataType.FLOAT, output.shape);

  const metadata = { ...options.metadata };
  const reserved = [TASK_METADATA_KEY, ...Object.keys(strategy.metadata ?? {})];
  for (const key of reserved) {
    if (key in metadata) throw new Error(`metadata key ${key} is reserved`);
  }
  Object.assign(metadata, strategy.metadata);
  metadata[TASK_METADATA_KEY] = options.task;
  return {
    graph: g.build(strategy.opsetImports),
    ...(strategy.opsetImports === undefined ? {} : { opsetImports: strategy.opsetImports }),
    ...(options.producerVersion === undefined ? {} : { producerVersion: options.producerVersion }),
    ...(options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion }),
    ...(options.docString === undefined ? {} : { docString: options.docString }),
    metadata,
  };
}

/**
 * The network's output on rows `x` (row-major, `inputSize` values per row), computed in double
 * precision from the float32 parameters: the reference the ONNX export is tested against.
 * Returns rows × outputSize values, row-major; for a binary model that is P(class 1) per row.
 *
 * `beforeDense` sees (and may change in place) each dense layer's input: calibration reads the
 * ranges there, tests emulate an input quantization.
 */
export function forwardDense(
  layers: readonly NetworkLayer[],
  x: ArrayLike<number>,
  beforeDense?: DenseInputHook,
): Float64Array {
  const { inputSize } = denseShape(layers);
  if (x.length % inputSize !== 0) {
    throw new Error(`${x.length} values are not whole rows of ${inputSize} features`);
  }
  const rows = x.length / inputSize;
  let width = inputSize;
  let h = Float64Array.from(x);
  for (const [index, layer] of layers.entries()) {
    switch (layer.kind) {
      case 'dense': {
        beforeDense?.(index, h, width);
        const units = denseUnits(layer, '');
        const out = new Float64Array(rows * units);
        for (let r = 0; r < rows; r += 1) {
          for (let j = 0; j < units; j += 1) {
            let s = layer.bias ? layer.bias[j] : 0;
            for (let i = 0; i < width; i += 1) s += h[r * width + i] * layer.weights[i * units + j];
            out[r * units + j] = s;
          }
          activate(out.subarray(r * units, (r + 1) * units), layer.activation);
        }
        h = out;
        width = units;
        break;
      }
      case 'batchNorm': {
        const eps = layer.epsilon ?? DEFAULT_EPSILON;
        for (let r = 0; r < rows; r += 1) {
          for (let j = 0; j < width; j += 1) {
            const k = r * width + j;
            const normalized =
              (h[k] - layer.movingMean[j]) / Math.sqrt(layer.movingVariance[j] + eps);
            h[k] =
              normalized * (layer.gamma ? layer.gamma[j] : 1) + (layer.beta ? layer.beta[j] : 0);
          }
        }
        break;
      }
      case 'dropout':
        break;
      default:
        assertNever(layer);
    }
  }
  return h;
}

/**
 * Called by {@link forwardDense} with a dense layer's input, rows × width row-major (all rows of
 * the batch), before the layer is applied; changes to `input` are what the layer sees.
 */
export type DenseInputHook = (layerIndex: number, input: Float64Array, width: number) => void;

// ---- helpers -------------------------------------------------------------------------------

const ACTIVATIONS: ReadonlySet<string> = new Set<DenseActivation>([
  'linear',
  'relu',
  'tanh',
  'sigmoid',
  'elu',
  'selu',
  'softmax',
]);

/** A dense layer's units (its bias length, or `units` when it has no bias), checked. */
export function denseUnits(layer: DenseLayer, where = 'dense layer'): number {
  const units = layer.bias?.length ?? layer.units;
  if (units === undefined) throw new Error(`${where}: a dense layer without bias needs units`);
  if (layer.bias && layer.units !== undefined && layer.units !== layer.bias.length) {
    throw new Error(`${where}: units ${layer.units} but ${layer.bias.length} biases`);
  }
  if (!Number.isSafeInteger(units) || units < 1) throw new Error(`${where}: bad units ${units}`);
  return units;
}

/** The index of the output head, the last dense layer (only dropout may follow it). */
export function lastDenseIndex(layers: readonly NetworkLayer[]): number {
  for (let i = layers.length - 1; i >= 0; i -= 1) {
    const layer = layers[i];
    if (layer.kind === 'dropout') continue;
    if (layer.kind === 'dense') return i;
    throw new Error(`the last layer must be dense (the output head), not ${layer.kind}`);
  }
  throw new Error('a dense network needs at least one dense layer');
}

/** The head (the last dense layer) must fit the task, so the outputs mean what they say. */
function checkHead(layers: readonly NetworkLayer[], task: DenseTask): void {
  const head = layers[lastDenseIndex(layers)] as DenseLayer;
  const units = denseUnits(head, 'head');
  switch (task) {
    case 'binary':
      if (units !== 1 || head.activation !== 'sigmoid') {
        throw new Error(`a binary head is 1 sigmoid unit, got ${units} ${head.activation}`);
      }
      return;
    case 'multiclass':
      if (units < 2 || head.activation !== 'softmax') {
        throw new Error(`a multiclass head is 2+ softmax units, got ${units} ${head.activation}`);
      }
      return;
    case 'regression':
      // Usually linear; relu (non-negative targets) or tanh are legitimate too.
      if (head.activation === 'softmax' || head.activation === 'sigmoid') {
        throw new Error(`a regression head cannot be ${head.activation}`);
      }
      return;
    default:
      assertNever(task);
  }
}

function headOutputName(task: DenseTask): string {
  switch (task) {
    case 'binary':
      return DENSE_OUTPUT.probability;
    case 'multiclass':
      return DENSE_OUTPUT.probabilities;
    case 'regression':
      return DENSE_OUTPUT.prediction;
    default:
      return assertNever(task);
  }
}

function activationNode(
  activation: Exclude<DenseActivation, 'linear'>,
  name: string,
  input: string,
  output: string,
): NodeSpec {
  const node = { name, inputs: [input], outputs: [output] };
  switch (activation) {
    case 'relu':
      return { ...node, opType: 'Relu' };
    case 'tanh':
      return { ...node, opType: 'Tanh' };
    case 'sigmoid':
      return { ...node, opType: 'Sigmoid' };
    case 'elu':
      return { ...node, opType: 'Elu', attributes: { alpha: attr.float(1) } };
    case 'selu':
      // ONNX's default alpha and gamma are SELU's constants rounded to float32, as in tfjs.
      return { ...node, opType: 'Selu' };
    case 'softmax':
      return { ...node, opType: 'Softmax', attributes: { axis: attr.int(-1) } };
    default:
      return assertNever(activation);
  }
}

function activate(v: Float64Array, activation: DenseActivation): void {
  switch (activation) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < v.length; i += 1) v[i] = Math.max(0, v[i]);
      return;
    case 'tanh':
      for (let i = 0; i < v.length; i += 1) v[i] = Math.tanh(v[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < v.length; i += 1) v[i] = 1 / (1 + Math.exp(-v[i]));
      return;
    case 'elu':
      for (let i = 0; i < v.length; i += 1) v[i] = v[i] > 0 ? v[i] : Math.expm1(v[i]);
      return;
    case 'selu':
      for (let i = 0; i < v.length; i += 1) {
        v[i] = SELU_SCALE * (v[i] > 0 ? v[i] : SELU_ALPHA * Math.expm1(v[i]));
      }
      return;
    case 'softmax': {
      let max = -Infinity;
      for (const a of v) max = Math.max(max, a);
      let sum = 0;
      for (let i = 0; i < v.length; i += 1) {
        v[i] = Math.exp(v[i] - max);
        sum += v[i];
      }
      for (let i = 0; i < v.length; i += 1) v[i] /= sum;
      return;
    }
    default:
      assertNever(activation);
  }
}

function finite(values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i += 1) {
    if (!Number.isFinite(values[i])) throw new Error(`${what}: value ${i} is ${values[i]}`);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
