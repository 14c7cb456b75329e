/**
 * Quantized ONNX exports of a trained dense network. Each keeps exportDenseNetwork's graph
 * interface (input `features` [N, F] float32, the task's outputs) and changes only how a dense
 * layer's `x · kernel + bias` is computed (see `exportDenseNetworkWith`), so inference serves
 * any variant unchanged. Every dense layer is quantized, the output head included.
 *
 * - {@link exportDenseInt8Dynamic}: weights int8 (or uint8) stored quantized; activations
 *   quantized per batch at run time: DynamicQuantizeLinear → MatMulInteger → Cast → Mul by
 *   x_scale · w_scale → Add bias, the pattern onnxruntime's `quantize_dynamic` emits (and its
 *   graph optimizer fuses into one integer kernel at load).
 * - {@link exportDenseInt8Static}: QDQ format: QuantizeLinear/DequantizeLinear pairs with
 *   scales fixed by a calibration set on each dense layer's input, int8 weights behind a
 *   DequantizeLinear, then MatMul; onnxruntime fuses the pattern into integer kernels at load.
 * - {@link exportDenseInt4}: weight-only 4-bit, blockwise along K, as onnxruntime's contrib
 *   `com.microsoft` MatMulNBits.
 *
 * Conventions, as onnxruntime's quantization tools have them: a range is widened to include 0
 * (so 0 is exact, as relu outputs and zero padding need); symmetric int8 uses [−127, 127] with
 * zero point 0; asymmetric uint8 uses [0, 255]; rounding is half to even (ONNX QuantizeLinear).
 * Scales are float32 and values are quantized against the float32 scale the model stores.
 */
import {
  DEFAULT_OPSET,
  MICROSOFT_DOMAIN,
  DataType,
  type DenseExportOptions,
  type DenseExportStrategy,
  type DenseMatmul,
  type DenseMatmulContext,
  type NetworkLayer,
  type OpsetImport,
  attr,
  denseShape,
  exportDenseNetworkWith,
  forwardDense,
} from '../onnx';

/** `metadata_props` key naming the compression of an exported variant (a JSON object). */
export const COMPRESSION_METADATA_KEY = 'mlops.compression';

// ---- scalar helpers ------------------------------------------------------------------------

/** Rounds to the nearest integer, ties to even, as ONNX QuantizeLinear (and numpy) round. */
export function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends ties up; a tie sent to an odd integer goes back down. (+ 0 turns −0 to 0.)
  return (r - x === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Symmetric int8 scale `max|w| / 127` as float32; 1 for an all-zero tensor (nothing to scale). */
export function symmetricInt8Scale(maxAbs: number): number {
  if (!(maxAbs >= 0) || !Number.isFinite(maxAbs)) throw new RangeError(`bad max |w| ${maxAbs}`);
  return maxAbs === 0 ? 1 : Math.fround(maxAbs / 127);
}

/** `clamp(round(v / scale), −127, 127)`: symmetric int8 (zero point 0). */
export function quantizeInt8(values: ArrayLike<number>, scale: number): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    out[i] = clamp(roundHalfToEven(values[i] / scale), -127, 127);
  }
  return out;
}

/** Asymmetric uint8 parameters of a range. */
export interface Uint8Params {
  /** float32. */
  readonly scale: number;
  /** In [0, 255]. */
  readonly zeroPoint: number;
}

/**
 * Asymmetric uint8 parameters for values in [min, max]: the range is first widened to include
 * 0, then `scale = (max − min) / 255` (as float32; 1 for an empty range) and
 * `zeroPoint = clamp(round(−min / scale), 0, 255)`.
 */
export function asymmetricUint8Params(min: number, max: number): Uint8Params {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`bad range [${min}, ${max}]`);
  }
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  return { scale, zeroPoint: clamp(roundHalfToEven(-lo / scale), 0, 255) };
}

/** `clamp(round(v / scale) + zeroPoint, 0, 255)`. */
export function quantizeUint8(values: ArrayLike<number>, { scale, zeroPoint }: Uint8Params) {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    out[i] = clamp(roundHalfToEven(values[i] / scale) + zeroPoint, 0, 255);
  }
  return out;
}

// ---- kernels -------------------------------------------------------------------------------

/**
 * A quantized [inputs, units] row-major kernel: `w[i, j] ≈ (values[i, j] − zeroPoint) · scale`
 * with one scale and zero point for the whole tensor, or one per output column (per channel).
 */
export interface QuantizedKernel<T extends Int8Array | Uint8Array = Int8Array | Uint8Array> {
  readonly values: T;
  /** Length 1 (per tensor) or `units` (per output channel). */
  readonly scales: Float32Array;
  /** As many as scales. */
  readonly zeroPoints: T;
  readonly inputs: number;
  readonly units: number;
}

/** The ranges (min, max) per output column of a [inputs, units] kernel, or of all of it. */
function kernelRanges(kernel: Float32Array, inputs: number, units: number, perChannel: boolean) {
  checkKernel(kernel, inputs, units);
  const n = perChannel ? units : 1;
  const min = new Float64Array(n).fill(Infinity);
  const max = new Float64Array(n).fill(-Infinity);
  for (let i = 0; i < inputs; i += 1) {
    for (let j = 0; j < units; j += 1) {
      const v = kernel[i * units + j];
      const c = perChannel ? j : 0;
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  return { min, max };
}

/** Symmetric int8, zero point 0, per tensor or per output channel. */
export function quantizeKernelInt8(
  kernel: Float32Array,
  inputs: number,
  units: number,
  perChannel = false,
): QuantizedKernel<Int8Array> {
  const { min, max } = kernelRanges(kernel, inputs, units, perChannel);
  const scales = Float32Array.from(min, (lo, c) => symmetricInt8Scale(Math.max(-lo, max[c])));
  const values = new Int8Array(kernel.length);
  for (let k = 0; k < kernel.length; k += 1) {
    const s = scales[perChannel ? k % units : 0];
    values[k] = clamp(roundHalfToEven(kernel[k] / s), -127, 127);
  }
  return { values, scales, zeroPoints: new Int8Array(scales.length), inputs, units };
}

/** Asymmetric uint8, per tensor or per output channel. */
export function quantizeKernelUint8(
  kernel: Float32Array,
  inputs: number,
  units: number,
  perChannel = false,
): QuantizedKernel<Uint8Array> {
  const { min, max } = kernelRanges(kernel, inputs, units, perChannel);
  const params = Array.from(min, (lo, c) => asymmetricUint8Params(lo, max[c]));
  const values = new Uint8Array(kernel.length);
  for (let k = 0; k < kernel.length; k += 1) {
    const { scale, zeroPoint } = params[perChannel ? k % units : 0];
    values[k] = clamp(roundHalfToEven(kernel[k] / scale) + zeroPoint, 0, 255);
  }
  return {
    values,
    scales: Float32Array.from(params, (p) => p.scale),
    zeroPoints: Uint8Array.from(params, (p) => p.zeroPoint),
    inputs,
    units,
  };
}

/** The float32 kernel a quantized one stands for, [inputs, units] row-major. */
export function dequantizeKernel(q: QuantizedKernel): Float32Array {
  const out = new Float32Array(q.values.length);
  const perChannel = q.scales.length > 1;
  for (let k = 0; k < out.length; k += 1) {
    const c = perChannel ? k % q.units : 0;
    out[k] = (q.values[k] - q.zeroPoints[c]) * q.scales[c];
  }
  return out;
}

// ---- 4-bit blockwise (MatMulNBits) -----------------------------------------------------------

/**
 * A kernel quantized to 4 bits in blocks of `blockSize` consecutive inputs (along K) of one
 * output column, laid out for onnxruntime's `com.microsoft` MatMulNBits. The layout is that of
 * onnxruntime/docs/ContribOperators.md (com.microsoft.MatMulNBits) and of
 * onnxruntime/python/tools/quantization/matmul_4bits_quantizer.py (`int4_block_quant`, which
 * allocates `packed` (N, k_blocks, blob_size), `scales` (N · k_blocks) and `zero_point`
 * (N · ⌈k_blocks / 2⌉) before calling MLAS's blockwise quantizer):
 * - `packed` [N, blocksPerColumn, blobSize] uint8, blobSize = blockSize / 2: element k of a
 *   block in the low nibble of byte k >> 1 when k is even, the high nibble when odd ("the first
 *   4 bits are stored in the lower 4 bits of a byte"); K is zero-padded to whole blocks;
 * - `scales` [N · blocksPerColumn] float32, column-major by block (column n's blocks are
 *   n · blocksPerColumn + b);
 * - `zeroPoints` [N · ⌈blocksPerColumn / 2⌉] uint8, packed the same way per column (block b in
 *   the low nibble of byte b >> 1 when b is even); absent for symmetric quantization, where
 *   MatMulNBits defaults every zero point to 8.
 * Dequantized: `w = (q − zero point) · scale`.
 */
export interface Int4Blockwise {
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
  readonly zeroPoints?: Uint8Array;
  /** K. */
  readonly inputs: number;
  /** N. */
  readonly units: number;
  readonly blockSize: number;
  /** ⌈K / blockSize⌉. */
  readonly blocksPerColumn: number;
  /** blockSize / 2 bytes per block. */
  readonly blobSize: number;
}

export interface Int4Options {
  /** Inputs per block, a power of two ≥ 16 (MatMulNBits' rule). Default 32. */
  readonly blockSize?: number;
  /**
   * Symmetric: no zero points (MatMulNBits' default 8), scale = m / −8 where m is the block's
   * value of largest magnitude, as MLAS's `range2scale` (onnxruntime/core/mlas/lib/q4_dq.cpp):
   * m itself maps to code 0 exactly, and the scale is negative when m > 0. Default false:
   * asymmetric, as MLAS's `range2scalezp`: [min, max] widened to include 0, scale =
   * (max − min) / 15, zero point = round(−min / scale) in [0, 15].
   */
  readonly symmetric?: boolean;
  /**
   * MatMulNBits' `accuracy_level` (the export only): the least precision onnxruntime may compute
   * in. Unset (0): A stays float32 and the weights are dequantized, exact to the dequantized
   * kernel. 4: A is quantized to int8 per block at run time and the product is integer, faster
   * on CPU at a small extra error (as {@link exportDenseInt8Dynamic}'s input quantization).
   */
  readonly accuracyLevel?: 0 | 1 | 2 | 3 | 4;
}

/** Quantizes a [inputs, units] row-major kernel to 4 bits for MatMulNBits. */
export function quantizeInt4Blockwise(
  kernel: Float32Array,
  inputs: number,
  units: number,
  options: Int4Options = {},
): Int4Blockwise {
  checkKernel(kernel, inputs, units);
  const blockSize = options.blockSize ?? 32;
  if (!Number.isSafeInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`blockSize must be a power of two ≥ 16, got ${blockSize}`);
  }
  const symmetric = options.symmetric ?? false;
  const blocks = Math.ceil(inputs / blockSize);
  const blobSize = blockSize / 2;
  const zpBytes = Math.ceil(blocks / 2);
  const packed = new Uint8Array(units * blocks * blobSize);
  const scales = new Float32Array(units * blocks);
  const zeroPoints = symmetric ? undefined : new Uint8Array(units * zpBytes);
  for (let n = 0; n < units; n += 1) {
    for (let b = 0; b < blocks; b += 1) {
      const first = b * blockSize;
      const last = Math.min(first + blockSize, inputs);
      let min = 0;
      let max = 0;
      let extreme = 0;
      for (let k = first; k < last; k += 1) {
        const v = kernel[k * units + n];
        if (v < min) min = v;
        if (v > max) max = v;
        if (Math.abs(v) > Math.abs(extreme)) extreme = v;
      }
      let scale: number;
      let zp: number;
      if (symmetric) {
        scale = extreme === 0 ? 1 : Math.fround(extreme / -8);
        zp = 8;
      } else {
        scale = max === min ? 1 : Math.fround((max - min) / 15);
        zp = clamp(roundHalfToEven(-min / scale), 0, 15);
        zeroPoints![n * zpBytes + (b >> 1)] |= zp << ((b & 1) * 4);
      }
      scales[n * blocks + b] = scale;
      const blob = (n * blocks + b) * blobSize;
      // Padding past K quantizes 0, i.e. the zero point.
      for (let k = first; k < first + blockSize; k += 1) {
        const v = k < last ? kernel[k * units + n] : 0;
        const q = clamp(roundHalfToEven(v / scale) + zp, 0, 15);
        const e = k - first;
        packed[blob + (e >> 1)] |= q << ((e & 1) * 4);
      }
    }
  }
  return {
    packed,
    scales,
    ...(zeroPoints ? { zeroPoints } : {}),
    inputs,
    units,
    blockSize,
    blocksPerColumn: blocks,
    blobSize,
  };
}

/** The float32 kernel, [inputs, units] row-major, that a 4-bit blockwise one stands for. */
export function dequantizeInt4Blockwise(q: Int4Blockwise): Float32Array {
  const { inputs, units, blockSize, blocksPerColumn: blocks, blobSize } = q;
  const zpBytes = Math.ceil(blocks / 2);
  const out = new Float32Array(inputs * units);
  for (let n = 0; n < units; n += 1) {
    for (let k = 0; k < inputs; k += 1) {
      const b = Math.floor(k / blockSize);
      const e = k - b * blockSize;
      const code = (q.packed[(n * blocks + b) * blobSize + (e >> 1)] >> ((e & 1) * 4)) & 0xf;
      const zp = q.zeroPoints ? (q.zeroPoints[n * zpBytes + (b >> 1)] >> ((b & 1) * 4)) & 0xf : 8;
      out[k * units + n] = (code - zp) * q.scales[n * blocks + b];
    }
  }
  return out;
}

// ---- exports -------------------------------------------------------------------------------

export interface Int8DynamicOptions {
  /** One scale per output unit instead of one per layer. Default false. */
  readonly perChannel?: boolean;
  /**
   * Weight type: int8 symmetric (default; what quantize_dynamic uses) or uint8 asymmetric
   * (for CPUs without VNNI, where MLAS's u8·s8 kernel can saturate its int16 pair sums).
   * onnxruntime's CPU MatMulInteger takes uint8 activations with either.
   */
  readonly weightType?: 'int8' | 'uint8';
  /**
   * The range of each input column over the training rows, for a network whose first layer is
   * dense: its input is clamped to them (`Max`, `Min`) before it is quantized. The activation
   * scale is computed over the whole batch, so one out-of-range value (an outlier the data
   * quality stage flagged but kept, say) would otherwise set it for every row of its batch and
   * crush the others' resolution; static quantization saturates at its calibrated range the
   * same way. Ignored when the first layer is not dense.
   */
  readonly inputRange?: { readonly min: Float32Array; readonly max: Float32Array };
}

/** Per-column min and max of row-major `rows × columns` values (non-finite values skipped). */
export function columnRanges(
  values: ArrayLike<number>,
  columns: number,
): { min: Float32Array; max: Float32Array } {
  const min = new Float32Array(columns).fill(Infinity);
  const max = new Float32Array(columns).fill(-Infinity);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const j = i % columns;
    if (v < min[j]) min[j] = v;
    if (v > max[j]) max[j] = v;
  }
  for (let j = 0; j < columns; j += 1)
    if (min[j] > max[j]) {
      // A column with no finite value: no clamp.
      min[j] = -3.4e38;
      max[j] = 3.4e38;
    }
  return { min, max };
}

/**
 * INT8 with dynamic activation quantization, per dense layer:
 * `DynamicQuantizeLinear(x) → x_q (uint8), x_scale, x_zp`;
 * `MatMulInteger(x_q, W_q, x_zp, w_zp)` (int32) → `Cast` to float →
 * `Mul` by `x_scale · w_scale` (per channel: a [units] vector) → `Add` bias → activation.
 * Note that the activation scale is computed over the whole batch, so a row's output depends
 * slightly on the other rows it is batched with.
 */
export function exportDenseInt8Dynamic(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
  quantization: Int8DynamicOptions = {},
): Uint8Array {
  return exportDenseNetworkWith(layers, options, int8DynamicStrategy(quantization));
}

/** The strategy of {@link exportDenseInt8Dynamic}, for `denseNetworkModel`. */
export function int8DynamicStrategy(quantization: Int8DynamicOptions = {}): DenseExportStrategy {
  const perChannel = quantization.perChannel ?? false;
  const weightType = quantization.weightType ?? 'int8';
  const range = quantization.inputRange;
  const matmul: DenseMatmul = (c) => {
    const { graph: g, prefix, inputs, units } = c;
    let input = c.input;
    if (range && c.index === 0) {
      if (range.min.length !== inputs || range.max.length !== inputs)
        throw new Error(`inputRange: ${range.min.length} columns for an input of ${inputs}`);
      const lo = g.initializer(`${prefix}/input_min`, [inputs], range.min);
      const hi = g.initializer(`${prefix}/input_max`, [inputs], range.max);
      const floored = g.node({
        opType: 'Max',
        name: `${prefix}/clamp_min`,
        inputs: [input, lo],
        outputs: [`${prefix}/input_floored`],
      });
      input = g.node({
        opType: 'Min',
        name: `${prefix}/clamp_max`,
        inputs: [floored, hi],
        outputs: [`${prefix}/input_clamped`],
      });
    }
    const q =
      weightType === 'uint8'
        ? quantizeKernelUint8(c.layer.weights, inputs, units, perChannel)
        : quantizeKernelInt8(c.layer.weights, inputs, units, perChannel);
    const dims = perChannel ? [units] : [];
    const wq = g.initializer(`${prefix}/kernel_quantized`, [inputs, units], q.values);
    const wScale = g.initializer(`${prefix}/kernel_scale`, dims, q.scales);
    const wZero = g.initializer(`${prefix}/kernel_zero_point`, dims, q.zeroPoints);
    const xq = `${prefix}/input_quantized`;
    const xScale = `${prefix}/input_scale`;
    const xZero = `${prefix}/input_zero_point`;
    g.node({
      opType: 'DynamicQuantizeLinear',
      name: `${prefix}/DynamicQuantizeLinear`,
      inputs: [input],
      outputs: [xq, xScale, xZero],
    });
    const product = g.node({
      opType: 'MatMulInteger',
      name: `${prefix}/MatMulInteger`,
      inputs: [xq, wq, xZero, wZero],
      outputs: [`${prefix}/matmul_integer`],
    });
    const productFloat = g.node({
      opType: 'Cast',
      name: `${prefix}/Cast`,
      inputs: [product],
      outputs: [`${prefix}/matmul_integer_float`],
      attributes: { to: attr.int(DataType.FLOAT) },
    });
    const scale = g.node({
      opType: 'Mul',
      name: `${prefix}/scale`,
      inputs: [xScale, wScale],
      outputs: [`${prefix}/output_scale`],
    });
    const scaled = c.layer.bias ? `${prefix}/matmul` : c.output;
    g.node({
      opType: 'Mul',
      name: `${prefix}/rescale`,
      inputs: [productFloat, scale],
      outputs: [scaled],
    });
    addBias(c, scaled);
  };
  return {
    matmul,
    metadata: compression({
      method: 'int8-dynamic',
      perChannel,
      weightType,
      ...(range ? { inputClamp: true } : {}),
    }),
  };
}

export interface Int8StaticOptions {
  /** Per output channel weight scales (DequantizeLinear with axis 1). Default false. */
  readonly perChannel?: boolean;
}

/** The range of each dense layer's input over calibration rows, by layer index. */
export function calibrateDenseInputs(
  layers: readonly NetworkLayer[],
  calibration: ArrayLike<number>,
): Map<number, { readonly min: number; readonly max: number }> {
  const { inputSize } = denseShape(layers);
  if (calibration.length === 0 || calibration.length % inputSize !== 0) {
    throw new Error(
      `calibration: ${calibration.length} values are not one or more rows of ${inputSize}`,
    );
  }
  for (let i = 0; i < calibration.length; i += 1) {
    if (!Number.isFinite(calibration[i])) {
      throw new Error(`calibration: value ${i} is ${calibration[i]}`);
    }
  }
  const ranges = new Map<number, { min: number; max: number }>();
  forwardDense(layers, calibration, (index, input) => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of input) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    ranges.set(index, { min, max });
  });
  return ranges;
}

/**
 * INT8 static quantization in QDQ format, per dense layer:
 * `QuantizeLinear → DequantizeLinear` on the input (uint8, scale and zero point from the
 * input's range over the calibration rows, computed by the FP32 network in JS), int8 symmetric
 * weights stored quantized behind a `DequantizeLinear` (per channel: axis 1, one scale per
 * unit), then `MatMul` → `Add` bias → activation. Inputs outside the calibrated range saturate.
 *
 * @param calibration rows × F values, row-major (a few hundred representative rows).
 */
export function exportDenseInt8Static(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
  calibration: Float32Array,
  quantization: Int8StaticOptions = {},
): Uint8Array {
  const strategy = int8StaticStrategy(layers, calibration, quantization);
  return exportDenseNetworkWith(layers, options, strategy);
}

/** The strategy of {@link exportDenseInt8Static} (calibrated on `layers`). */
export function int8StaticStrategy(
  layers: readonly NetworkLayer[],
  calibration: Float32Array,
  quantization: Int8StaticOptions = {},
): DenseExportStrategy {
  const perChannel = quantization.perChannel ?? false;
  const ranges = calibrateDenseInputs(layers, calibration);
  const matmul: DenseMatmul = (c) => {
    const { graph: g, prefix, input, inputs, units } = c;
    const range = ranges.get(c.index)!;
    const params = asymmetricUint8Params(range.min, range.max);
    const xScale = g.initializer(`${prefix}/input_scale`, [], Float32Array.of(params.scale));
    const xZero = g.initializer(`${prefix}/input_zero_point`, [], Uint8Array.of(params.zeroPoint));
    const xq = g.node({
      opType: 'QuantizeLinear',
      name: `${prefix}/input/QuantizeLinear`,
      inputs: [input, xScale, xZero],
      outputs: [`${prefix}/input_quantized`],
    });
    const xdq = g.node({
      opType: 'DequantizeLinear',
      name: `${prefix}/input/DequantizeLinear`,
      inputs: [xq, xScale, xZero],
      outputs: [`${prefix}/input_dequantized`],
    });
    const q = quantizeKernelInt8(c.layer.weights, inputs, units, perChannel);
    const dims = perChannel ? [units] : [];
    const wq = g.initializer(`${prefix}/kernel_quantized`, [inputs, units], q.values);
    const wScale = g.initializer(`${prefix}/kernel_scale`, dims, q.scales);
    const wZero = g.initializer(`${prefix}/kernel_zero_point`, dims, q.zeroPoints);
    const wdq = g.node({
      opType: 'DequantizeLinear',
      name: `${prefix}/kernel/DequantizeLinear`,
      inputs: [wq, wScale, wZero],
      outputs: [`${prefix}/kernel_dequantized`],
      ...(perChannel ? { attributes: { axis: attr.int(1) } } : {}),
    });
    const product = c.layer.bias ? `${prefix}/matmul` : c.output;
    g.node({
      opType: 'MatMul',
      name: `${prefix}/MatMul`,
      inputs: [xdq, wdq],
      outputs: [product],
    });
    addBias(c, product);
  };
  return {
    matmul,
    metadata: compression({
      method: 'int8-static-qdq',
      perChannel,
      calibrationRows: calibration.length / denseShape(layers).inputSize,
    }),
  };
}

/** The opset imports of a model using onnxruntime's contrib operators. */
export const MICROSOFT_OPSET_IMPORTS: readonly OpsetImport[] = [
  { domain: '', version: DEFAULT_OPSET },
  { domain: MICROSOFT_DOMAIN, version: 1 },
];

/**
 * Weight-only INT4: each dense layer's matmul as `com.microsoft` MatMulNBits (bits 4,
 * block_size, K, N; B, scales and, unless symmetric, packed zero points as in
 * {@link Int4Blockwise}), then `Add` bias. The activations stay float32.
 * Needs onnxruntime (the contrib operator set `com.microsoft`, version 1, is imported).
 */
export function exportDenseInt4(
  layers: readonly NetworkLayer[],
  options: DenseExportOptions,
  quantization: Int4Options = {},
): Uint8Array {
  return exportDenseNetworkWith(layers, options, int4Strategy(quantization));
}

/** The strategy of {@link exportDenseInt4}. */
export function int4Strategy(quantization: Int4Options = {}): DenseExportStrategy {
  const blockSize = quantization.blockSize ?? 32;
  const symmetric = quantization.symmetric ?? false;
  const accuracyLevel = quantization.accuracyLevel ?? 0;
  const matmul: DenseMatmul = (c) => {
    const { graph: g, prefix, input, inputs, units } = c;
    const q = quantizeInt4Blockwise(c.layer.weights, inputs, units, { blockSize, symmetric });
    const nodeInputs = [
      input,
      g.initializer(`${prefix}/kernel_q4`, [units, q.blocksPerColumn, q.blobSize], q.packed),
      g.initializer(`${prefix}/kernel_scales`, [q.scales.length], q.scales),
    ];
    if (q.zeroPoints) {
      nodeInputs.push(
        g.initializer(`${prefix}/kernel_zero_points`, [q.zeroPoints.length], q.zeroPoints),
      );
    }
    const product = c.layer.bias ? `${prefix}/matmul` : c.output;
    g.node({
      opType: 'MatMulNBits',
      domain: MICROSOFT_DOMAIN,
      name: `${prefix}/MatMulNBits`,
      inputs: nodeInputs,
      outputs: [product],
      attributes: {
        K: attr.int(inputs),
        N: attr.int(units),
        bits: attr.int(4),
        block_size: attr.int(blockSize),
        ...(accuracyLevel === 0 ? {} : { accuracy_level: attr.int(accuracyLevel) }),
      },
    });
    addBias(c, product);
  };
  return {
    matmul,
    opsetImports: MICROSOFT_OPSET_IMPORTS,
    metadata: compression({ method: 'int4-matmulnbits', blockSize, symmetric, accuracyLevel }),
  };
}

// ---- helpers -------------------------------------------------------------------------------

function addBias(c: DenseMatmulContext, product: string): void {
  if (!c.layer.bias) return;
  const bias = c.graph.initializer(`${c.prefix}/bias`, [c.units], c.layer.bias);
  c.graph.node({
    opType: 'Add',
    name: `${c.prefix}/bias_add`,
    inputs: [product, bias],
    outputs: [c.output],
  });
}

function compression(description: Record<string, unknown>): Record<string, string> {
  return { [COMPRESSION_METADATA_KEY]: JSON.stringify(description) };
}

function checkKernel(kernel: Float32Array, inputs: number, units: number): void {
  if (!Number.isSafeInteger(inputs) || !Number.isSafeInteger(units) || inputs < 1 || units < 1) {
    throw new RangeError(`bad kernel shape [${inputs}, ${units}]`);
  }
  if (kernel.length !== inputs * units) {
    throw new RangeError(`${kernel.length} weights for a [${inputs}, ${units}] kernel`);
  }
  for (let i = 0; i < kernel.length; i += 1) {
    if (!Number.isFinite(kernel[i])) throw new RangeError(`weight ${i} is ${kernel[i]}`);
  }
}
