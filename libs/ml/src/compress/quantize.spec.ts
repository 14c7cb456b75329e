import { afterAll, describe, expect, it } from 'vitest';
import {
  type DenseExportStrategy,
  type DenseLayer,
  type NetworkLayer,
  denseNetworkModel,
  denseNetworkSignature,
  denseShape,
  denseUnits,
  encodeModel,
  exportDenseNetwork,
  forwardDense,
  validateGraph,
} from '../onnx';
import { Rng } from '../rng';
import {
  COMPRESSION_METADATA_KEY,
  type Uint8Params,
  asymmetricUint8Params,
  calibrateDenseInputs,
  columnRanges,
  dequantizeInt4Blockwise,
  dequantizeKernel,
  exportDenseInt4,
  exportDenseInt8Dynamic,
  exportDenseInt8Static,
  int4Strategy,
  int8DynamicStrategy,
  int8StaticStrategy,
  quantizeInt4Blockwise,
  quantizeInt8,
  quantizeKernelInt8,
  quantizeKernelUint8,
  quantizeUint8,
  roundHalfToEven,
  symmetricInt8Scale,
} from './quantize';
import {
  createSession,
  dense,
  maxAbs,
  maxAbsDiff,
  networkCases,
  normals,
  runModel,
} from './spec-helpers';

describe('quantization helpers (hand-computed)', () => {
  it('rounds half to even, as ONNX QuantizeLinear does', () => {
    expect([0.5, 1.5, 2.5, -1.5, -2.5, 2.6, 0.49].map(roundHalfToEven)).toEqual([
      0, 2, 2, -2, -2, 3, 0,
    ]);
  });

  it('symmetric int8, per tensor: scale = max|w| / 127, zero point 0', () => {
    // max |w| = 63.5 → scale 0.5: 63.5 → 127, −10 → −20, 0.25 → 0.5 → 0 (tie to even),
    // 1 → 2, −63.5 → −127, 3.3 → 6.6 → 7.
    const kernel = new Float32Array([63.5, -10, 0.25, 1, -63.5, 3.3]);
    const q = quantizeKernelInt8(kernel, 2, 3);
    expect(Array.from(q.scales)).toEqual([0.5]);
    expect(Array.from(q.zeroPoints)).toEqual([0]);
    expect(Array.from(q.values)).toEqual([127, -20, 0, 2, -127, 7]);
    expect(Array.from(dequantizeKernel(q))).toEqual([63.5, -10, 0, 1, -63.5, 3.5]);
    expect(symmetricInt8Scale(0)).toBe(1);
    expect(Array.from(quantizeInt8([1000, -1000], 1))).toEqual([127, -127]);
  });

  it('symmetric int8, per output channel: one scale per kernel column', () => {
    // kernel [2, 3] rows (63.5, −10, 0.25), (1, −63.5, 3.3): columns (63.5, 1), (−10, −63.5),
    // (0.25, 3.3) → scales 0.5, 0.5, 3.3 / 127.
    const kernel = new Float32Array([63.5, -10, 0.25, 1, -63.5, 3.3]);
    const q = quantizeKernelInt8(kernel, 2, 3, true);
    const s2 = Math.fround(Math.fround(3.3) / 127);
    expect(Array.from(q.scales)).toEqual([0.5, 0.5, s2]);
    expect(Array.from(q.zeroPoints)).toEqual([0, 0, 0]);
    // 0.25 / s2 = 9.62 → 10; 3.3 / s2 → 127.
    expect(Array.from(q.values)).toEqual([127, -20, 10, 2, -127, 127]);
  });

  it('asymmetric uint8: range widened to 0, scale = (max − min) / 255, zp = round(−min / s)', () => {
    const s = Math.fround(4 / 255);
    expect(asymmetricUint8Params(-1, 3)).toEqual({ scale: s, zeroPoint: 64 }); // 63.75 → 64
    expect(asymmetricUint8Params(0.5, 2)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 });
    expect(asymmetricUint8Params(-2, -1)).toEqual({
      scale: Math.fround(2 / 255),
      zeroPoint: 255,
    });
    expect(asymmetricUint8Params(0, 0)).toEqual({ scale: 1, zeroPoint: 0 });
    expect(() => asymmetricUint8Params(1, 0)).toThrow(/bad range/);
    // −1 → −63.75 → −64 + 64 = 0; 0 → 64; 3 → 191.25 → 191 + 64 = 255; 5 saturates at 255.
    expect(Array.from(quantizeUint8([-1, 0, 3, 5], { scale: s, zeroPoint: 64 }))).toEqual([
      0, 64, 255, 255,
    ]);
  });

  it('asymmetric uint8 kernels, per tensor and per channel, round-trip within scale / 2', () => {
    const kernel = new Float32Array([0.3, -1.2, 2, 0.7, 0.1, -0.4, 1.9, 0]);
    for (const perChannel of [false, true]) {
      const q = quantizeKernelUint8(kernel, 4, 2, perChannel);
      expect(q.scales.length).toBe(perChannel ? 2 : 1);
      const back = dequantizeKernel(q);
      kernel.forEach((w, k) => {
        const scale = q.scales[perChannel ? k % 2 : 0];
        expect(Math.abs(back[k] - w)).toBeLessThanOrEqual(scale / 2 + 1e-7);
      });
      // 0 is exact (the zero point), as onnxruntime's quantizer guarantees.
      expect(back[7]).toBe(0);
    }
    // Column 1 is (−1.2, 0.7, −0.4, 0): scale 1.9 / 255, zp = round(1.2 / s) = 161.
    const q = quantizeKernelUint8(kernel, 4, 2, true);
    expect(q.zeroPoints[1]).toBe(161);
  });

  it('packs 4-bit blocks as MatMulNBits reads them (K = 20, N = 2, block 16)', () => {
    // Column 0: k − 5 for k < 16 (block 0: min −5, max 10 → scale 1, zp 5, codes = k), then
    // 0, 0.5, 1, 1.5 (block 1: scale 0.1, zp 0, codes 0, 5, 10, 15, padding 0). Column 1: 0.
    const K = 20;
    const kernel = new Float32Array(K * 2);
    for (let k = 0; k < 16; k += 1) kernel[k * 2] = k - 5;
    for (let k = 16; k < K; k += 1) kernel[k * 2] = (k - 16) / 2;
    const q = quantizeInt4Blockwise(kernel, K, 2, { blockSize: 16 });
    expect(q.blocksPerColumn).toBe(2);
    expect(q.blobSize).toBe(8);
    expect(q.packed.length).toBe(2 * 2 * 8);
    // Block (column 0, block 0): codes 0..15, low nibble first.
    expect(Array.from(q.packed.subarray(0, 8))).toEqual([
      0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
    ]);
    // Block (column 0, block 1): codes 0, 5, 10, 15, then the zero point (0) as padding.
    expect(Array.from(q.packed.subarray(8, 16))).toEqual([0x50, 0xfa, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(q.scales)).toEqual([1, Math.fround(1.5 / 15), 1, 1]);
    // Zero points: ⌈2 / 2⌉ = 1 byte per column, block 0 low nibble: 5 | 0 << 4; column 1: 0.
    expect(Array.from(q.zeroPoints!)).toEqual([0x05, 0x00]);
    const back = dequantizeInt4Blockwise(q);
    expect(maxAbsDiff(back, kernel)).toBeLessThan(1e-6);
  });

  it('symmetric 4-bit: no zero points (8), scale = the extreme value / −8', () => {
    // Block values −4, 2, 1 (rest 0): extreme −4 → scale 0.5, codes 0, 12, 10, padding 8.
    const kernel = new Float32Array(16);
    kernel.set([-4, 2, 1]);
    const q = quantizeInt4Blockwise(kernel, 16, 1, { blockSize: 16, symmetric: true });
    expect(q.zeroPoints).toBeUndefined();
    expect(Array.from(q.scales)).toEqual([0.5]);
    expect(Array.from(q.packed.subarray(0, 3))).toEqual([0xc0, 0x8a, 0x88]);
    // A positive extreme gives a negative scale: 4 → code 0, −4 would be 16 → 15 → −3.5.
    const positive = quantizeInt4Blockwise(
      new Float32Array([4, -4, ...new Array(14).fill(0)]),
      16,
      1,
      {
        blockSize: 16,
        symmetric: true,
      },
    );
    expect(Array.from(positive.scales)).toEqual([-0.5]);
    expect(Array.from(dequantizeInt4Blockwise(positive).subarray(0, 2))).toEqual([4, -3.5]);
  });

  it('refuses bad block sizes and kernels that do not fit their shape', () => {
    expect(() => quantizeInt4Blockwise(new Float32Array(8), 4, 2, { blockSize: 24 })).toThrow(
      /power of two/,
    );
    expect(() => quantizeInt4Blockwise(new Float32Array(8), 4, 2, { blockSize: 8 })).toThrow(
      /power of two/,
    );
    expect(() => quantizeKernelInt8(new Float32Array(5), 2, 3)).toThrow(/5 weights/);
    expect(() => quantizeKernelInt8(new Float32Array([NaN]), 1, 1)).toThrow(/NaN/);
  });
});

// ---- exports checked in onnxruntime --------------------------------------------------------

interface Method {
  readonly name: string;
  readonly strategy: (
    layers: readonly NetworkLayer[],
    calibration: Float32Array,
  ) => DenseExportStrategy;
  readonly export: (
    layers: readonly NetworkLayer[],
    options: Parameters<typeof exportDenseNetwork>[1],
    calibration: Float32Array,
  ) => Uint8Array;
  /** The kernel the method stands for: dense layer → dequantized weights. */
  readonly kernel: (layer: DenseLayer, inputs: number, units: number) => Float32Array;
  /**
   * How each dense layer's input is quantized: per batch, with calibrated ranges, not at all,
   * or (MatMulNBits at accuracy level 4) symmetric int8 per row and block of 32 inputs.
   */
  readonly input: 'dynamic' | 'static' | 'float' | 'int8-blocks';
  /** Allowed max |Δ| against the FP32 export, per unit of output scale. */
  readonly tolerance: number;
}

const methods: readonly Method[] = [
  {
    name: 'int8_dynamic',
    strategy: () => int8DynamicStrategy(),
    export: (l, o) => exportDenseInt8Dynamic(l, o),
    kernel: (l, i, u) => dequantizeKernel(quantizeKernelInt8(l.weights, i, u)),
    input: 'dynamic',
    tolerance: 0.05,
  },
  {
    name: 'int8_dynamic_per_channel',
    strategy: () => int8DynamicStrategy({ perChannel: true }),
    export: (l, o) => exportDenseInt8Dynamic(l, o, { perChannel: true }),
    kernel: (l, i, u) => dequantizeKernel(quantizeKernelInt8(l.weights, i, u, true)),
    input: 'dynamic',
    tolerance: 0.05,
  },
  {
    name: 'int8_dynamic_uint8_weights',
    strategy: () => int8DynamicStrategy({ weightType: 'uint8', perChannel: true }),
    export: (l, o) => exportDenseInt8Dynamic(l, o, { weightType: 'uint8', perChannel: true }),
    kernel: (l, i, u) => dequantizeKernel(quantizeKernelUint8(l.weights, i, u, true)),
    input: 'dynamic',
    tolerance: 0.05,
  },
  {
    name: 'int8_static_qdq',
    strategy: (l, c) => int8StaticStrategy(l, c),
    export: (l, o, c) => exportDenseInt8Static(l, o, c),
    kernel: (l, i, u) => dequantizeKernel(quantizeKernelInt8(l.weights, i, u)),
    input: 'static',
    tolerance: 0.05,
  },
  {
    name: 'int8_static_qdq_per_channel',
    strategy: (l, c) => int8StaticStrategy(l, c, { perChannel: true }),
    export: (l, o, c) => exportDenseInt8Static(l, o, c, { perChannel: true }),
    kernel: (l, i, u) => dequantizeKernel(quantizeKernelInt8(l.weights, i, u, true)),
    input: 'static',
    tolerance: 0.05,
  },
  {
    name: 'int4_block32',
    strategy: () => int4Strategy(),
    export: (l, o) => exportDenseInt4(l, o),
    kernel: (l, i, u) => dequantizeInt4Blockwise(quantizeInt4Blockwise(l.weights, i, u)),
    input: 'float',
    tolerance: 0.25,
  },
  {
    name: 'int4_block32_accuracy4',
    strategy: () => int4Strategy({ accuracyLevel: 4 }),
    export: (l, o) => exportDenseInt4(l, o, { accuracyLevel: 4 }),
    kernel: (l, i, u) => dequantizeInt4Blockwise(quantizeInt4Blockwise(l.weights, i, u)),
    input: 'int8-blocks',
    tolerance: 0.25,
  },
  {
    name: 'int4_block16_symmetric',
    strategy: () => int4Strategy({ blockSize: 16, symmetric: true }),
    export: (l, o) => exportDenseInt4(l, o, { blockSize: 16, symmetric: true }),
    kernel: (l, i, u) =>
      dequantizeInt4Blockwise(
        quantizeInt4Blockwise(l.weights, i, u, { blockSize: 16, symmetric: true }),
      ),
    input: 'float',
    tolerance: 0.25,
  },
];

/** x → (clamp(round(x / s) + zp, 0, 255) − zp) · s in place, x / s in float32 as in ONNX. */
function fakeQuantize(values: Float64Array, { scale, zeroPoint }: Uint8Params): void {
  for (let i = 0; i < values.length; i += 1) {
    const ratio = Math.fround(Math.fround(values[i]) / scale);
    const q = Math.min(255, Math.max(0, roundHalfToEven(ratio) + zeroPoint));
    values[i] = (q - zeroPoint) * scale;
  }
}

/**
 * What the quantized graph computes, in JS: each dense layer with its dequantized kernel, its
 * input quantized as the graph quantizes it (DynamicQuantizeLinear's rule over the whole
 * batch, or the calibrated scale and zero point).
 */
function emulate(
  method: Method,
  layers: readonly NetworkLayer[],
  x: Float32Array,
  calibration: Float32Array,
): Float64Array {
  const emulated = layers.map((layer): NetworkLayer => {
    if (layer.kind !== 'dense') return layer;
    const units = denseUnits(layer);
    return { ...layer, weights: method.kernel(layer, layer.weights.length / units, units) };
  });
  const ranges = calibrateDenseInputs(layers, calibration);
  return forwardDense(emulated, x, (index, input, width) => {
    if (method.input === 'float') return;
    if (method.input === 'int8-blocks') {
      for (let start = 0; start < input.length; start += width) {
        for (let b = start; b < start + width; b += 32) {
          const block = input.subarray(b, Math.min(b + 32, start + width));
          const scale = Math.fround(maxAbs(block.map(Math.fround)) / 127);
          if (scale === 0) continue;
          block.forEach((v, k) => {
            block[k] = roundHalfToEven(Math.fround(Math.fround(v) / scale)) * scale;
          });
        }
      }
      return;
    }
    let range = ranges.get(index)!;
    if (method.input === 'dynamic') {
      let min = 0;
      let max = 0;
      for (const v of input) {
        const f = Math.fround(v);
        if (f < min) min = f;
        if (f > max) max = f;
      }
      range = { min, max };
    }
    fakeQuantize(input, asymmetricUint8Params(range.min, range.max));
  });
}

const ROWS = 256;
const SCALE_ROW = '(output scale: max(1, max |y|))';
const deltas: Record<string, Record<string, string>> = { [SCALE_ROW]: {} };
afterAll(() => {
  // The measured max |Δ| per method and network: against the FP32 export / against the JS
  // emulation of the quantized arithmetic.
  console.info('max |Δ| (vs FP32 export | vs JS emulation of the quantized graph):');
  console.table(deltas);
});

const cases = networkCases.flatMap((network) => methods.map((method) => ({ network, method })));

describe.each(cases)('$method.name on $network.name', ({ network, method }) => {
  const rng = new Rng(network.name.length * 7919 + 23);
  const layers = network.layers(rng);
  const { options } = network;
  const { inputSize } = denseShape(layers);
  const calibration = normals(rng, ROWS * inputSize);
  const x = normals(rng, ROWS * inputSize);
  const inputName = denseNetworkSignature(layers, options).inputs[0].name;

  it('is the validated model of its strategy, with the FP32 interface', async () => {
    const model = denseNetworkModel(layers, options, method.strategy(layers, calibration));
    expect(() => validateGraph(model.graph, model.opsetImports)).not.toThrow();
    const bytes = method.export(layers, options, calibration);
    expect(Buffer.from(encodeModel(model)).equals(Buffer.from(bytes))).toBe(true);
    expect(model.metadata?.[COMPRESSION_METADATA_KEY]).toMatch(/^\{"method":/);
    // No float kernel remains: every [in, out] weight matrix is stored quantized.
    for (const t of model.graph.initializers ?? []) {
      if (t.name.endsWith('/kernel')) throw new Error(`float kernel ${t.name} left`);
    }

    const [fp32, quantized] = await Promise.all([
      createSession(exportDenseNetwork(layers, options)),
      createSession(bytes),
    ]);
    try {
      expect(quantized.inputMetadata).toEqual(fp32.inputMetadata);
      expect(quantized.outputMetadata).toEqual(fp32.outputMetadata);
    } finally {
      await Promise.all([fp32.release(), quantized.release()]);
    }
  });

  it('runs in onnxruntime close to the FP32 export, and as its JS emulation', async () => {
    const [want, got] = await Promise.all([
      runModel(exportDenseNetwork(layers, options), x, inputSize, inputName),
      runModel(method.export(layers, options, calibration), x, inputSize, inputName),
    ]);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    const scale = Math.max(1, ...Object.values(want).map(maxAbs));
    let vsFp32 = 0;
    for (const name of Object.keys(want)) {
      expect(got[name].length).toBe(want[name].length);
      vsFp32 = Math.max(vsFp32, maxAbsDiff(got[name], want[name]));
    }
    const head = got.probability ?? got.probabilities ?? got.prediction;
    const vsEmulation = maxAbsDiff(head, emulate(method, layers, x, calibration));
    (deltas[method.name] ??= {})[network.name] =
      `${vsFp32.toExponential(1)} | ${vsEmulation.toExponential(1)}`;
    deltas[SCALE_ROW][network.name] = scale.toFixed(2);
    expect(vsFp32).toBeLessThanOrEqual(method.tolerance * scale);
    // The quantized arithmetic is exact (integer products, the same float32 rounding of x / s);
    // what is left is float32 against float64 accumulation (measured ≤ 1e-6). An input landing
    // on the other side of a rounding tie would cost ≈ 1e-3: none does here.
    expect(vsEmulation).toBeLessThanOrEqual(1e-4 * scale);
    if (options.task === 'binary') {
      for (let r = 0; r < ROWS; r += 1) {
        expect(got.probabilities[2 * r + 1]).toBe(got.probability[r]);
      }
    }
  });
});

describe('quantized exports: validation and options', () => {
  const rng = new Rng(99);
  const layers: NetworkLayer[] = [dense(rng, 20, 8, 'relu'), dense(rng, 8, 1, 'sigmoid')];
  const options = { task: 'binary' as const };

  it('validateGraph refuses an INT4 model that does not import com.microsoft', () => {
    const model = denseNetworkModel(layers, options, int4Strategy());
    expect(model.opsetImports).toEqual([
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    expect(() => validateGraph(model.graph, [{ domain: '', version: 17 }])).toThrow(
      /MatMulNBits\) is in domain "com.microsoft", which the model does not import/,
    );
  });

  it('validateGraph refuses a per-channel scale of the wrong length', () => {
    const model = denseNetworkModel(
      layers,
      options,
      int8StaticStrategy(layers, normals(rng, 200), { perChannel: true }),
    );
    const initializers = model.graph.initializers!.map((t) =>
      t.name === 'dense_0/kernel_scale' ? { ...t, dims: [7], data: t.data.subarray(0, 7) } : t,
    );
    expect(() => validateGraph({ ...model.graph, initializers }, model.opsetImports)).toThrow(
      /kernel\/DequantizeLinear \(DequantizeLinear\): 7 scales for axis 1 of \[20, 8\]/,
    );
  });

  it('validateGraph refuses a float kernel fed to MatMulInteger', () => {
    const model = denseNetworkModel(layers, options, int8DynamicStrategy());
    const initializers = model.graph.initializers!.map((t) =>
      t.name === 'dense_0/kernel_quantized' ? { ...t, data: new Float32Array(t.data.length) } : t,
    );
    expect(() => validateGraph({ ...model.graph, initializers }, model.opsetImports)).toThrow(
      /MatMulInteger\): B is FLOAT, expected one of UINT8, INT8/,
    );
  });

  it('clamps the input to the training range before quantizing it, so an outlier spoils no batch', async () => {
    const train = normals(rng, 2000 * 20);
    const range = columnRanges(train, 20);
    // A batch of 64 rows, one with a value 500σ out.
    const x = normals(rng, 64 * 20);
    x[5 * 20 + 3] = 500;
    const clamped = Float32Array.from(x, (v, i) =>
      Math.min(range.max[i % 20], Math.max(range.min[i % 20], v)),
    );
    const fp32 = (await runModel(exportDenseNetwork(layers, options), clamped, 20)).probability;
    const plain = (await runModel(exportDenseInt8Dynamic(layers, options), x, 20)).probability;
    const withRange = exportDenseInt8Dynamic(layers, options, { inputRange: range });
    const kept = (await runModel(withRange, x, 20)).probability;
    // The other 63 rows: the clamped model stays close to FP32, the plain one does not.
    const others = (o: Float32Array) => Float32Array.from(o).filter((_, i) => i !== 5);
    const worst = (o: Float32Array) => maxAbsDiff(others(o), others(fp32));
    expect(worst(kept)).toBeLessThan(0.02);
    expect(worst(plain)).toBeGreaterThan(5 * worst(kept));
    // Within range, clamping changes nothing.
    const inside = normals(rng, 64 * 20, 0.5);
    expect(Array.from((await runModel(withRange, inside, 20)).probability)).toEqual(
      Array.from((await runModel(exportDenseInt8Dynamic(layers, options), inside, 20)).probability),
    );
    expect(columnRanges(Float32Array.of(1, NaN, -2, 3), 2)).toEqual({
      min: Float32Array.of(-2, 3),
      max: Float32Array.of(1, 3),
    });
    expect(() =>
      exportDenseInt8Dynamic(layers, options, { inputRange: columnRanges(train, 10) }),
    ).toThrow(/10 columns for an input of 20/);
  });

  it('refuses bad calibration, block sizes and the reserved metadata key', () => {
    expect(() => exportDenseInt8Static(layers, options, new Float32Array(30))).toThrow(
      /30 values are not one or more rows of 20/,
    );
    expect(() => exportDenseInt8Static(layers, options, new Float32Array(20).fill(NaN))).toThrow(
      /value 0 is NaN/,
    );
    expect(() => exportDenseInt4(layers, options, { blockSize: 48 })).toThrow(/power of two/);
    expect(() =>
      exportDenseInt8Dynamic(layers, { ...options, metadata: { [COMPRESSION_METADATA_KEY]: 'x' } }),
    ).toThrow(/reserved/);
  });
});
