/**
 * Type and shape inference for the operators our exporters emit, so that {@link validateGraph}
 * can refuse a graph whose element types or shapes do not fit before onnxruntime does (its
 * messages name a kernel, not the exporter call that went wrong).
 *
 * Each schema states the operator-set version that introduced the operator (in the form checked
 * here), its arity, the element types it accepts and how its output types and shapes follow
 * from the inputs, after the ONNX operator docs (onnx/docs/Operators.md) and, for the
 * `com.microsoft` contrib operators, onnxruntime/docs/ContribOperators.md. Operators not listed
 * are allowed with outputs of unknown type, and so is everything downstream of them: the check
 * is strict where it knows, silent where it does not.
 *
 * Dimensions: a number is a fixed size, a string a symbolic one (`'N'`), `null` an unknown one.
 * Two dimensions conflict only when both are numbers and differ; a symbolic dimension may turn
 * out to be anything at run time.
 */
import type { Attribute, Dim, NodeSpec } from './model';
import { DataType, type TensorSpec, dataTypeName, tensorDataType } from './types';

/** What is known of a value: its element type and, unless the rank is unknown, its shape. */
export interface ValueType {
  readonly elemType: DataType;
  readonly shape?: readonly (Dim | null)[];
}

type Shape = readonly (Dim | null)[];

/** The domain every standard operator lives in; `ai.onnx` is its long name. */
export const ONNX_DOMAIN = '';
/** onnxruntime's contrib operators. */
export const MICROSOFT_DOMAIN = 'com.microsoft';

/** `''` for the default domain however it is spelled. */
export function normalizeDomain(domain: string | undefined): string {
  return domain === undefined || domain === 'ai.onnx' ? ONNX_DOMAIN : domain;
}

/** What an operator's inference sees of one node. */
interface InferContext {
  readonly node: NodeSpec;
  /** The imported version of the node's domain. */
  readonly opset: number;
  /** The input's type, or undefined when the input is omitted (`''` or past the end). */
  input(i: number): ValueType | undefined;
  /** The input's value when it is an initializer. */
  constant(i: number): TensorSpec | undefined;
  attribute(name: string): Attribute | undefined;
}

interface OpSchema {
  /** The first version of the domain's operator set with the operator as checked here. */
  readonly since: number;
  readonly inputs: readonly [min: number, max: number];
  readonly outputs: readonly [min: number, max: number];
  /** Output types in order; an entry may be undefined (not inferred). Throws on a mismatch. */
  infer(c: InferContext): readonly (ValueType | undefined)[];
}

/** A problem with one node's inputs or attributes; validateGraph adds where it is. */
export class OpCheckError extends Error {}

const fail = (message: string): never => {
  throw new OpCheckError(message);
};

const { FLOAT, DOUBLE, UINT8, INT8, INT32, INT64, BOOL } = DataType;
const FLOATS: readonly DataType[] = [FLOAT, DOUBLE];
const BYTES: readonly DataType[] = [UINT8, INT8];
const NUMBERS: readonly DataType[] = [FLOAT, DOUBLE, UINT8, INT8, INT32, INT64];
const ALL: readonly DataType[] = [...NUMBERS, BOOL];

// ---- helpers ---------------------------------------------------------------------------------

function required(c: InferContext, i: number, what: string): ValueType {
  const t = c.input(i);
  if (t === undefined) return fail(`input ${i} (${what}) is required`);
  return t;
}

function typeIn(t: ValueType, allowed: readonly DataType[], what: string): void {
  if (!allowed.includes(t.elemType)) {
    fail(
      `${what} is ${dataTypeName(t.elemType)}, expected one of ` +
        allowed.map(dataTypeName).join(', '),
    );
  }
}

function sameType(a: ValueType, b: ValueType, what: string): void {
  if (a.elemType !== b.elemType) {
    fail(`${what}: ${dataTypeName(a.elemType)} and ${dataTypeName(b.elemType)} differ`);
  }
}

function rank(t: ValueType): number | undefined {
  return t.shape?.length;
}

function rankIs(t: ValueType, allowed: (r: number) => boolean, what: string): void {
  const r = rank(t);
  if (r !== undefined && !allowed(r)) fail(`${what} has rank ${r} ([${formatShape(t.shape)}])`);
}

export function formatShape(shape: Shape | undefined): string {
  return shape === undefined ? '?' : shape.map((d) => (d === null ? '?' : String(d))).join(', ');
}

/** Whether two dimensions can be equal at run time. */
function dimsMatch(a: Dim | null, b: Dim | null): boolean {
  return !(typeof a === 'number' && typeof b === 'number' && a !== b);
}

/** Whether two shapes can be equal at run time (an unknown rank matches anything). */
export function sameShape(a: Shape | undefined, b: Shape | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return a.length === b.length && a.every((d, i) => dimsMatch(d, b[i]));
}

function elementCount(shape: Shape | undefined): number | null {
  if (shape === undefined) return null;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** numpy's multidirectional broadcasting of two shapes. */
function broadcast(a: Shape | undefined, b: Shape | undefined, what: string): Shape | undefined {
  if (a === undefined || b === undefined) return undefined;
  const n = Math.max(a.length, b.length);
  const out: (Dim | null)[] = [];
  for (let k = 0; k < n; k += 1) {
    const x = k < n - a.length ? 1 : a[k - (n - a.length)];
    const y = k < n - b.length ? 1 : b[k - (n - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y)
        fail(`${what}: shapes [${formatShape(a)}] and [${formatShape(b)}] do not broadcast`);
      out.push(x);
    } else if (typeof x === 'number') out.push(x);
    else if (typeof y === 'number') out.push(y);
    else out.push(x === y ? x : null);
  }
  return out;
}

/** numpy.matmul's output shape; checks the inner dimensions. */
function matmulShape(a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a.length === 0 || b.length === 0) return fail('MatMul inputs must not be scalars');
  const aa = a.length === 1 ? [1, a[0]] : a;
  const bb = b.length === 1 ? [b[0], 1] : b;
  const k1 = aa[aa.length - 1];
  const k2 = bb[bb.length - 2];
  if (!dimsMatch(k1, k2)) {
    fail(`inner dimensions differ: [${formatShape(a)}] · [${formatShape(b)}]`);
  }
  const batch = broadcast(aa.slice(0, -2), bb.slice(0, -2), 'batch dimensions') ?? [];
  const out: (Dim | null)[] = [...batch];
  if (a.length > 1) out.push(aa[aa.length - 2]);
  if (b.length > 1) out.push(bb[bb.length - 1]);
  return out;
}

function intAttribute(c: InferContext, name: string): number | undefined {
  const a = c.attribute(name);
  if (a === undefined) return undefined;
  if (a.type !== 'int') return fail(`attribute ${name} must be an int, not ${a.type}`);
  return Number(a.value);
}

function requiredInt(c: InferContext, name: string): number {
  const v = intAttribute(c, name);
  if (v === undefined) return fail(`attribute ${name} is required`);
  return v;
}

/** An axis attribute, checked against the rank and made non-negative (undefined: rank unknown). */
function axisOf(c: InferContext, name: string, fallback: number, r: number | undefined) {
  const axis = intAttribute(c, name) ?? fallback;
  if (r === undefined) return undefined;
  if (axis < -r || axis >= r) fail(`${name} ${axis} is out of range for rank ${r}`);
  return axis < 0 ? axis + r : axis;
}

const unary = (types: readonly DataType[], since = 1): OpSchema => ({
  since,
  inputs: [1, 1],
  outputs: [1, 1],
  infer: (c) => {
    const x = required(c, 0, 'X');
    typeIn(x, types, 'X');
    return [x];
  },
});

const binary = (since = 7): OpSchema => ({
  since,
  inputs: [2, 2],
  outputs: [1, 1],
  infer: (c) => {
    const a = required(c, 0, 'A');
    const b = required(c, 1, 'B');
    typeIn(a, NUMBERS, 'A');
    sameType(a, b, 'A and B');
    return [{ elemType: a.elemType, shape: broadcast(a.shape, b.shape, 'A and B') }];
  },
});

/**
 * Per-tensor (scalar) or per-axis (1-D, opset 13+) quantization parameters of `x` along `axis`.
 * The zero point, when given, has the scale's shape.
 */
function checkQuantParams(
  c: InferContext,
  x: ValueType,
  scale: ValueType,
  zeroPoint: ValueType | undefined,
): void {
  typeIn(scale, [FLOAT], 'the scale');
  const r = rank(scale);
  if (r !== undefined && r > 1) fail(`the scale must be a scalar or 1-D, not rank ${r}`);
  if (r === 1) {
    if (c.opset < 13) fail(`per-axis quantization needs opset 13, the model imports ${c.opset}`);
    const axis = axisOf(c, 'axis', 1, rank(x));
    if (axis !== undefined && !dimsMatch(scale.shape![0], x.shape![axis])) {
      fail(`${scale.shape![0]} scales for axis ${axis} of [${formatShape(x.shape)}]`);
    }
  }
  if (zeroPoint && !sameShape(zeroPoint.shape, scale.shape)) {
    fail(
      `zero point shape [${formatShape(zeroPoint.shape)}] differs from the scale's ` +
        `[${formatShape(scale.shape)}]`,
    );
  }
  const constant = c.constant(1);
  if (constant) {
    for (const s of constant.data) {
      if (!(Number(s) > 0) || !Number.isFinite(Number(s))) {
        fail(`scale ${String(s)} is not a positive finite number`);
      }
    }
  }
}

// ---- default domain ------------------------------------------------------------------------

const ONNX_OPS: Readonly<Record<string, OpSchema>> = {
  Identity: unary(ALL),
  Relu: unary(FLOATS, 6),
  Tanh: unary(FLOATS, 6),
  Sigmoid: unary(FLOATS, 6),
  Elu: unary(FLOATS, 6),
  Selu: unary(FLOATS, 6),
  Softmax: {
    since: 1,
    inputs: [1, 1],
    outputs: [1, 1],
    infer: (c) => {
      const x = required(c, 0, 'input');
      typeIn(x, FLOATS, 'input');
      axisOf(c, 'axis', c.opset >= 13 ? -1 : 1, rank(x));
      return [x];
    },
  },
  Add: binary(),
  Sub: binary(),
  Mul: binary(),
  Gemm: {
    since: 1,
    inputs: [2, 3],
    outputs: [1, 1],
    infer: (c) => {
      const a = required(c, 0, 'A');
      const b = required(c, 1, 'B');
      const bias = c.input(2);
      typeIn(a, FLOATS, 'A');
      sameType(a, b, 'A and B');
      rankIs(a, (r) => r === 2, 'A');
      rankIs(b, (r) => r === 2, 'B');
      if (bias === undefined && c.opset < 11) fail('C is optional only from opset 11');
      if (a.shape === undefined || b.shape === undefined) return [{ elemType: a.elemType }];
      const transA = intAttribute(c, 'transA') ?? 0;
      const transB = intAttribute(c, 'transB') ?? 0;
      const [m, k1] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      const [k2, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
      if (!dimsMatch(k1, k2)) {
        fail(
          `A [${formatShape(a.shape)}] and B [${formatShape(b.shape)}] do not multiply ` +
            `(transA ${transA}, transB ${transB})`,
        );
      }
      if (bias) {
        sameType(a, bias, 'A and C');
        // C broadcasts to [M, N] one way: each of its dimensions is 1 or the target's.
        const target = [m, n];
        const cs = bias.shape;
        if (cs !== undefined) {
          if (cs.length > 2) fail(`C has rank ${cs.length}`);
          cs.forEach((d, i) => {
            const t = target[i + 2 - cs.length];
            if (d !== 1 && !dimsMatch(d, t)) {
              fail(`C [${formatShape(cs)}] does not broadcast to [${formatShape(target)}]`);
            }
          });
        }
      }
      return [{ elemType: a.elemType, shape: [m, n] }];
    },
  },
  MatMul: {
    since: 1,
    inputs: [2, 2],
    outputs: [1, 1],
    infer: (c) => {
      const a = required(c, 0, 'A');
      const b = required(c, 1, 'B');
      typeIn(a, [...FLOATS, INT32, INT64], 'A');
      sameType(a, b, 'A and B');
      return [{ elemType: a.elemType, shape: matmulShape(a.shape, b.shape) }];
    },
  },
  MatMulInteger: {
    since: 10,
    inputs: [2, 4],
    outputs: [1, 1],
    infer: (c) => {
      const a = required(c, 0, 'A');
      const b = required(c, 1, 'B');
      typeIn(a, BYTES, 'A');
      typeIn(b, BYTES, 'B');
      const shape = matmulShape(a.shape, b.shape);
      const aZero = c.input(2);
      const bZero = c.input(3);
      if (aZero) {
        sameType(a, aZero, 'A and a_zero_point');
        rankIs(aZero, (r) => r <= 1, 'a_zero_point');
      }
      if (bZero) {
        sameType(b, bZero, 'B and b_zero_point');
        rankIs(bZero, (r) => r <= 1, 'b_zero_point');
        // Per column: one zero point per column of B (its last dimension).
        const n = b.shape?.[b.shape.length - 1] ?? null;
        if (rank(bZero) === 1 && bZero.shape![0] !== 1 && !dimsMatch(bZero.shape![0], n)) {
          fail(`${bZero.shape![0]} b_zero_points for ${n} columns`);
        }
      }
      return [{ elemType: INT32, shape }];
    },
  },
  Concat: {
    since: 4,
    inputs: [1, Infinity],
    outputs: [1, 1],
    infer: (c) => {
      const parts = c.node.inputs.map((_, i) => required(c, i, `input ${i}`));
      const first = parts[0];
      parts.forEach((p, i) => sameType(first, p, `inputs 0 and ${i}`));
      if (intAttribute(c, 'axis') === undefined) fail('attribute axis is required');
      if (parts.some((p) => p.shape === undefined)) return [{ elemType: first.elemType }];
      const r = first.shape!.length;
      const axis = axisOf(c, 'axis', 0, r)!;
      const out: (Dim | null)[] = [...first.shape!];
      let sum: number | null = 0;
      for (const p of parts) {
        if (p.shape!.length !== r) fail(`inputs of ranks ${r} and ${p.shape!.length}`);
        p.shape!.forEach((d, k) => {
          if (k !== axis && !dimsMatch(d, out[k])) {
            fail(
              `inputs [${formatShape(first.shape)}] and [${formatShape(p.shape)}] differ off axis ${axis}`,
            );
          }
        });
        const d = p.shape![axis];
        sum = sum !== null && typeof d === 'number' ? sum + d : null;
      }
      out[axis] = sum;
      return [{ elemType: first.elemType, shape: out }];
    },
  },
  BatchNormalization: {
    since: 9,
    inputs: [5, 5],
    outputs: [1, 3],
    infer: (c) => {
      const x = required(c, 0, 'X');
      typeIn(x, FLOATS, 'X');
      rankIs(x, (r) => r >= 2, 'X');
      const channels = x.shape?.[1] ?? null;
      ['scale', 'B', 'input_mean', 'input_var'].forEach((what, k) => {
        const p = required(c, k + 1, what);
        sameType(x, p, `X and ${what}`);
        rankIs(p, (r) => r === 1, what);
        if (p.shape && !dimsMatch(p.shape[0], channels)) {
          fail(`${what} has ${p.shape[0]} values for ${channels} channels`);
        }
      });
      return [x];
    },
  },
  Cast: {
    since: 6,
    inputs: [1, 1],
    outputs: [1, 1],
    infer: (c) => {
      const x = required(c, 0, 'input');
      const to = requiredInt(c, 'to');
      const known = (Object.values(DataType) as number[]).includes(to);
      return [known ? { elemType: to as DataType, shape: x.shape } : undefined];
    },
  },
  Constant: {
    since: 1,
    inputs: [0, 0],
    outputs: [1, 1],
    infer: (c) => {
      const value = c.attribute('value');
      if (value?.type === 'tensor') {
        return [{ elemType: tensorDataType(value.value), shape: value.value.dims }];
      }
      if (c.attribute('value_float')) return [{ elemType: FLOAT, shape: [] }];
      if (c.attribute('value_int')) return [{ elemType: INT64, shape: [] }];
      return [undefined];
    },
  },
  Reshape: {
    since: 5,
    inputs: [2, 2],
    outputs: [1, 1],
    infer: (c) => {
      const data = required(c, 0, 'data');
      const shape = required(c, 1, 'shape');
      typeIn(shape, [INT64], 'shape');
      rankIs(shape, (r) => r === 1, 'shape');
      const target = c.constant(1);
      if (!target) return [{ elemType: data.elemType }];
      const dims = Array.from(target.data as BigInt64Array, Number);
      if (dims.filter((d) => d === -1).length > 1) fail('shape has more than one -1');
      const out = dims.map((d, k): Dim | null => {
        if (d === 0) return data.shape?.[k] ?? null;
        if (d === -1) return null;
        if (d < 0) return fail(`shape has a negative dimension ${d}`);
        return d;
      });
      const before = elementCount(data.shape);
      const known = elementCount(out.filter((d) => d !== null));
      const unknown = out.indexOf(null);
      if (before !== null && known !== null) {
        if (unknown === -1 && known !== before) fail(`cannot reshape ${before} values to ${known}`);
        if (unknown !== -1 && dims[unknown] === -1 && known > 0) {
          if (before % known !== 0) fail(`cannot reshape ${before} values by ${known}`);
          out[unknown] = before / known;
        }
      }
      return [{ elemType: data.elemType, shape: out }];
    },
  },
  DynamicQuantizeLinear: {
    since: 11,
    inputs: [1, 1],
    outputs: [3, 3],
    infer: (c) => {
      const x = required(c, 0, 'x');
      typeIn(x, [FLOAT], 'x');
      return [
        { elemType: UINT8, shape: x.shape },
        { elemType: FLOAT, shape: [] },
        { elemType: UINT8, shape: [] },
      ];
    },
  },
  QuantizeLinear: {
    since: 10,
    inputs: [2, 3],
    outputs: [1, 1],
    infer: (c) => {
      const x = required(c, 0, 'x');
      const scale = required(c, 1, 'y_scale');
      const zeroPoint = c.input(2);
      typeIn(x, [FLOAT, INT32], 'x');
      if (zeroPoint) typeIn(zeroPoint, BYTES, 'y_zero_point');
      checkQuantParams(c, x, scale, zeroPoint);
      return [{ elemType: zeroPoint?.elemType ?? UINT8, shape: x.shape }];
    },
  },
  DequantizeLinear: {
    since: 10,
    inputs: [2, 3],
    outputs: [1, 1],
    infer: (c) => {
      const x = required(c, 0, 'x');
      const scale = required(c, 1, 'x_scale');
      const zeroPoint = c.input(2);
      typeIn(x, [...BYTES, INT32], 'x');
      if (zeroPoint) sameType(x, zeroPoint, 'x and x_zero_point');
      checkQuantParams(c, x, scale, zeroPoint);
      return [{ elemType: FLOAT, shape: x.shape }];
    },
  },
};

// ---- com.microsoft -------------------------------------------------------------------------

const MICROSOFT_OPS: Readonly<Record<string, OpSchema>> = {
  /**
   * Y = A · dequantize(B) (+ bias), B quantized blockwise along K: onnxruntime's
   * docs/ContribOperators.md, section com.microsoft.MatMulNBits. B is uint8
   * [N, k_blocks, blob_size] with k_blocks = ⌈K / block_size⌉ and blob_size =
   * block_size · bits / 8; scales hold N · k_blocks values (as [N · k_blocks], which
   * onnxruntime's own quantizer writes, or [N, k_blocks]); packed uint8 zero points hold
   * N · ⌈k_blocks · bits / 8⌉ bytes, unpacked ones (of A's type) N · k_blocks values.
   */
  MatMulNBits: {
    since: 1,
    inputs: [3, 6],
    outputs: [1, 1],
    infer: (c) => {
      const k = requiredInt(c, 'K');
      const n = requiredInt(c, 'N');
      const bits = intAttribute(c, 'bits') ?? 4;
      const blockSize = requiredInt(c, 'block_size');
      if (!(k >= 1 && n >= 1)) fail(`K ${k} and N ${n} must be positive`);
      if (![2, 4, 8].includes(bits)) fail(`bits ${bits} is not 2, 4 or 8`);
      if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
        fail(`block_size ${blockSize} is not a power of two ≥ 16`);
      }
      const accuracy = intAttribute(c, 'accuracy_level') ?? 0;
      if (accuracy < 0 || accuracy > 4) fail(`accuracy_level ${accuracy} is not in 0–4`);
      const kBlocks = Math.ceil(k / blockSize);
      const blobSize = (blockSize * bits) / 8;

      const a = required(c, 0, 'A');
      typeIn(a, [FLOAT], 'A');
      rankIs(a, (r) => r >= 2, 'A');
      if (a.shape && !dimsMatch(a.shape[a.shape.length - 1], k)) {
        fail(`A [${formatShape(a.shape)}] does not end in K = ${k}`);
      }
      const b = required(c, 1, 'B');
      typeIn(b, [UINT8], 'B');
      if (!sameShape(b.shape, [n, kBlocks, blobSize])) {
        fail(`B is [${formatShape(b.shape)}], expected [${n}, ${kBlocks}, ${blobSize}]`);
      }
      const scales = required(c, 2, 'scales');
      sameType(a, scales, 'A and scales');
      const count = (t: ValueType, want: number, what: string) => {
        rankIs(t, (r) => r === 1 || r === 2, what);
        const have = elementCount(t.shape);
        if (have !== null && have !== want) fail(`${what} has ${have} values, expected ${want}`);
        if (rank(t) === 2 && !dimsMatch(t.shape![0], n))
          fail(`${what} has ${t.shape![0]} rows, not N`);
      };
      count(scales, n * kBlocks, 'scales');
      const zeroPoints = c.input(3);
      if (zeroPoints) {
        if (zeroPoints.elemType === UINT8) {
          count(zeroPoints, n * Math.ceil((kBlocks * bits) / 8), 'zero_points (packed)');
        } else {
          sameType(a, zeroPoints, 'A and zero_points');
          count(zeroPoints, n * kBlocks, 'zero_points');
        }
      }
      if (c.input(4)) fail('g_idx is deprecated');
      const bias = c.input(5);
      if (bias) {
        sameType(a, bias, 'A and bias');
        if (!sameShape(bias.shape, [n])) fail(`bias is [${formatShape(bias.shape)}], not [${n}]`);
      }
      return [{ elemType: a.elemType, shape: a.shape && [...a.shape.slice(0, -1), n] }];
    },
  },
};

const SCHEMAS: Readonly<Record<string, Readonly<Record<string, OpSchema>>>> = {
  [ONNX_DOMAIN]: ONNX_OPS,
  [MICROSOFT_DOMAIN]: MICROSOFT_OPS,
};

/** Whether a schema is known for the operator, i.e. whether it is checked. */
export function isCheckedOperator(domain: string | undefined, opType: string): boolean {
  return SCHEMAS[normalizeDomain(domain)]?.[opType] !== undefined;
}

export interface NodeTypeContext {
  /** The imported version of the node's (normalized) domain. */
  readonly opset: number;
  /** The type of a value, undefined when unknown. */
  type(name: string): ValueType | undefined;
  /** The value of an initializer. */
  constant(name: string): TensorSpec | undefined;
}

/**
 * The output types of one node, in order (an entry is undefined when not inferred), after
 * checking its arity, opset version, input types and attributes. Throws {@link OpCheckError}.
 */
export function inferNodeTypes(
  node: NodeSpec,
  context: NodeTypeContext,
): readonly (ValueType | undefined)[] {
  const schema = SCHEMAS[normalizeDomain(node.domain)]?.[node.opType];
  if (schema === undefined) return [];
  if (context.opset < schema.since) {
    fail(`${node.opType} needs opset ${schema.since}, the model imports ${context.opset}`);
  }
  const [minIn, maxIn] = schema.inputs;
  const [minOut, maxOut] = schema.outputs;
  if (node.inputs.length < minIn || node.inputs.length > maxIn) {
    fail(`has ${node.inputs.length} inputs, expected ${minIn}–${maxIn}`);
  }
  if (node.outputs.length < minOut || node.outputs.length > maxOut) {
    fail(`has ${node.outputs.length} outputs, expected ${minOut}–${maxOut}`);
  }
  // Downstream of a value of unknown type nothing is checked.
  if (node.inputs.some((name) => name !== '' && context.type(name) === undefined)) return [];
  const name = (i: number) => node.inputs[i] ?? '';
  return schema.infer({
    node,
    opset: context.opset,
    input: (i) => (name(i) === '' ? undefined : context.type(name(i))),
    constant: (i) => (name(i) === '' ? undefined : context.constant(name(i))),
    attribute: (attributeName) => node.attributes?.[attributeName],
  });
}
