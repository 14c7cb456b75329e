/**
 * Typed description of an ONNX model and its encoder to `ModelProto` bytes, on our own protobuf
 * writer. Covers what our exporters need: one graph, tensor inputs and outputs (symbolic or fixed
 * dimensions), dense initializers stored as `raw_data`, nodes with scalar, list, string and
 * tensor attributes, opset imports and metadata.
 *
 * Field numbers are those of onnx/onnx.proto (proto2), listed in {@link FIELD}. Fields are
 * written in ascending field-number order and attributes sorted by name, which is how protobuf's
 * own serializers and `onnx.helper.make_node` lay them out: a model described the same way in
 * Python serializes to the same bytes (fixtures/make_onnx_fixtures.py checks that).
 *
 * proto2 detail that matters for the bytes: `TensorProto.dims`, `AttributeProto.floats` and
 * `AttributeProto.ints` are repeated scalars declared without `[packed = true]`, so each element
 * carries its own tag; only the `*_data` fields of TensorProto are packed.
 */
import { type Int64, ProtoWriter } from './protobuf';
import {
  ONNX_DOMAIN,
  OpCheckError,
  type ValueType,
  formatShape,
  inferNodeTypes,
  normalizeDomain,
  sameShape,
} from './schema';
import {
  AttributeType,
  DataType,
  type TensorData,
  type TensorSpec,
  dataTypeName,
  tensorDataType,
} from './types';

export {
  AttributeType,
  DataType,
  type TensorData,
  type TensorSpec,
  dataTypeName,
  tensorDataType,
} from './types';

/** IR version 8 is the one of ONNX 1.12–1.14, the release that introduced opset 17. */
export const DEFAULT_IR_VERSION = 8;
/** Default ONNX (domain "") opset: every op our exporters emit is final at 17 or earlier. */
export const DEFAULT_OPSET = 17;
export const PRODUCER_NAME = 'mlops';

/** onnx.proto field numbers used here, per message. */
export const FIELD = {
  ModelProto: {
    irVersion: 1,
    producerName: 2,
    producerVersion: 3,
    domain: 4,
    modelVersion: 5,
    docString: 6,
    graph: 7,
    opsetImport: 8,
    metadataProps: 14,
  },
  OperatorSetIdProto: { domain: 1, version: 2 },
  StringStringEntryProto: { key: 1, value: 2 },
  GraphProto: {
    node: 1,
    name: 2,
    initializer: 5,
    docString: 10,
    input: 11,
    output: 12,
    valueInfo: 13,
  },
  NodeProto: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 },
  AttributeProto: {
    name: 1,
    f: 2,
    i: 3,
    s: 4,
    t: 5,
    floats: 7,
    ints: 8,
    strings: 9,
    docString: 13,
    type: 20,
  },
  TensorProto: { dims: 1, dataType: 2, name: 8, rawData: 9, docString: 12 },
  ValueInfoProto: { name: 1, type: 2, docString: 3 },
  TypeProto: { tensorType: 1 },
  TypeProtoTensor: { elemType: 1, shape: 2 },
  TensorShapeProto: { dim: 1 },
  Dimension: { dimValue: 1, dimParam: 2 },
} as const;

/** A dimension: a fixed size (`dim_value`) or a symbolic name such as `'N'` (`dim_param`). */
export type Dim = number | string;

/** A graph input, output or intermediate value: a tensor of one element type and shape. */
export interface ValueInfo {
  readonly name: string;
  readonly elemType: DataType;
  /** Omitted: rank unknown. `[]`: a scalar. */
  readonly shape?: readonly Dim[];
  readonly docString?: string;
}

/** A node attribute; build one with {@link attr}. */
export type Attribute =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: Int64 }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: TensorSpec }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly Int64[] }
  | { readonly type: 'strings'; readonly value: readonly string[] };

/** Attribute constructors: `attr.int(0)` is an INT, `attr.float(1e-3)` a FLOAT, and so on. */
export const attr = {
  float: (value: number): Attribute => ({ type: 'float', value }),
  int: (value: Int64): Attribute => ({ type: 'int', value }),
  string: (value: string): Attribute => ({ type: 'string', value }),
  tensor: (value: TensorSpec): Attribute => ({ type: 'tensor', value }),
  floats: (value: readonly number[]): Attribute => ({ type: 'floats', value }),
  ints: (value: readonly Int64[]): Attribute => ({ type: 'ints', value }),
  strings: (value: readonly string[]): Attribute => ({ type: 'strings', value }),
};

export interface NodeSpec {
  readonly opType: string;
  /** Value names; `''` marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Operator-set domain; omitted (the default ONNX domain `''`) for standard ops. */
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, Attribute>>;
  readonly docString?: string;
}

export interface GraphSpec {
  readonly name: string;
  /** Topologically sorted: a node uses only graph inputs, initializers and earlier outputs. */
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers?: readonly TensorSpec[];
  readonly valueInfo?: readonly ValueInfo[];
  readonly docString?: string;
}

export interface OpsetImport {
  /** `''` is the default ONNX operator set. */
  readonly domain: string;
  readonly version: number;
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  /** Default {@link DEFAULT_IR_VERSION}. */
  readonly irVersion?: number;
  /** Default `[{ domain: '', version: DEFAULT_OPSET }]`. */
  readonly opsetImports?: readonly OpsetImport[];
  /** Default {@link PRODUCER_NAME}. */
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly domain?: string;
  readonly modelVersion?: Int64;
  readonly docString?: string;
  /** `metadata_props`, written in key order. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface EncodeOptions {
  /** Check the graph with {@link validateGraph} first (default true). */
  readonly validate?: boolean;
}

// ---- encoders ------------------------------------------------------------------------------

/** Encodes a model to the bytes of an `.onnx` file. */
export function encodeModel(model: ModelSpec, options: EncodeOptions = {}): Uint8Array {
  if (options.validate ?? true) validateGraph(model.graph, model.opsetImports);
  const F = FIELD.ModelProto;
  const w = new ProtoWriter(1024);
  w.int64(F.irVersion, model.irVersion ?? DEFAULT_IR_VERSION);
  w.string(F.producerName, model.producerName ?? PRODUCER_NAME);
  if (model.producerVersion !== undefined) w.string(F.producerVersion, model.producerVersion);
  if (model.domain !== undefined) w.string(F.domain, model.domain);
  if (model.modelVersion !== undefined) w.int64(F.modelVersion, model.modelVersion);
  if (model.docString !== undefined) w.string(F.docString, model.docString);
  w.message(F.graph, (g) => writeGraph(g, model.graph));
  for (const opset of model.opsetImports ?? DEFAULT_OPSET_IMPORTS) {
    w.message(F.opsetImport, (o) => writeOpset(o, opset));
  }
  for (const key of Object.keys(model.metadata ?? {}).sort()) {
    const value = model.metadata![key];
    w.message(F.metadataProps, (e) =>
      e
        .string(FIELD.StringStringEntryProto.key, key)
        .string(FIELD.StringStringEntryProto.value, value),
    );
  }
  return w.finish();
}

/** Encodes one `GraphProto`. */
export function encodeGraph(graph: GraphSpec): Uint8Array {
  return finish((w) => writeGraph(w, graph));
}
/** Encodes one `NodeProto`. */
export function encodeNode(node: NodeSpec): Uint8Array {
  return finish((w) => writeNode(w, node));
}
/** Encodes one `AttributeProto`. */
export function encodeAttribute(name: string, attribute: Attribute): Uint8Array {
  return finish((w) => writeAttribute(w, name, attribute));
}
/** Encodes one `TensorProto` (data as little-endian `raw_data`). */
export function encodeTensor(tensor: TensorSpec): Uint8Array {
  return finish((w) => writeTensor(w, tensor));
}
/** Encodes one `ValueInfoProto`. */
export function encodeValueInfo(info: ValueInfo): Uint8Array {
  return finish((w) => writeValueInfo(w, info));
}

function finish(write: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  write(w);
  return w.finish();
}

function writeOpset(w: ProtoWriter, opset: OpsetImport): void {
  w.string(FIELD.OperatorSetIdProto.domain, opset.domain);
  w.int64(FIELD.OperatorSetIdProto.version, opset.version);
}

function writeGraph(w: ProtoWriter, graph: GraphSpec): void {
  const F = FIELD.GraphProto;
  for (const node of graph.nodes) w.message(F.node, (n) => writeNode(n, node));
  w.string(F.name, graph.name);
  for (const t of graph.initializers ?? []) w.message(F.initializer, (m) => writeTensor(m, t));
  if (graph.docString !== undefined) w.string(F.docString, graph.docString);
  for (const v of graph.inputs) w.message(F.input, (m) => writeValueInfo(m, v));
  for (const v of graph.outputs) w.message(F.output, (m) => writeValueInfo(m, v));
  for (const v of graph.valueInfo ?? []) w.message(F.valueInfo, (m) => writeValueInfo(m, v));
}

function writeNode(w: ProtoWriter, node: NodeSpec): void {
  const F = FIELD.NodeProto;
  for (const name of node.inputs) w.string(F.input, name);
  for (const name of node.outputs) w.string(F.output, name);
  if (node.name !== undefined) w.string(F.name, node.name);
  w.string(F.opType, node.opType);
  const attributes = node.attributes ?? {};
  for (const name of Object.keys(attributes).sort()) {
    w.message(F.attribute, (a) => writeAttribute(a, name, attributes[name]));
  }
  if (node.docString !== undefined) w.string(F.docString, node.docString);
  if (node.domain !== undefined) w.string(F.domain, node.domain);
}

function writeAttribute(w: ProtoWriter, name: string, attribute: Attribute): void {
  const F = FIELD.AttributeProto;
  w.string(F.name, name);
  let type: number;
  switch (attribute.type) {
    case 'float':
      w.float(F.f, attribute.value);
      type = AttributeType.FLOAT;
      break;
    case 'int':
      w.int64(F.i, attribute.value);
      type = AttributeType.INT;
      break;
    case 'string':
      w.string(F.s, attribute.value);
      type = AttributeType.STRING;
      break;
    case 'tensor': {
      const tensor = attribute.value;
      w.message(F.t, (t) => writeTensor(t, tensor));
      type = AttributeType.TENSOR;
      break;
    }
    case 'floats':
      // Not packed: onnx.proto declares `repeated float floats = 7;` in proto2.
      for (const v of attribute.value) w.float(F.floats, v);
      type = AttributeType.FLOATS;
      break;
    case 'ints':
      for (const v of attribute.value) w.int64(F.ints, v);
      type = AttributeType.INTS;
      break;
    case 'strings':
      for (const v of attribute.value) w.string(F.strings, v);
      type = AttributeType.STRINGS;
      break;
    default:
      return assertNever(attribute);
  }
  w.int64(F.type, type);
}

/** Whether this machine stores typed arrays little-endian (every platform Node ships on is). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function rawBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return bytes;
  // raw_data is little-endian by definition: swap each element on a big-endian host.
  const out = new Uint8Array(bytes.length);
  const k = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += k) {
    for (let j = 0; j < k; j += 1) out[i + j] = bytes[i + k - 1 - j];
  }
  return out;
}

function writeTensor(w: ProtoWriter, tensor: TensorSpec): void {
  const F = FIELD.TensorProto;
  // Not packed: `repeated int64 dims = 1;` has no [packed = true] in onnx.proto.
  for (const d of tensor.dims) w.int64(F.dims, d);
  w.int64(F.dataType, tensorDataType(tensor));
  w.string(F.name, tensor.name);
  w.bytes(F.rawData, rawBytes(tensor.data));
  if (tensor.docString !== undefined) w.string(F.docString, tensor.docString);
}

function writeValueInfo(w: ProtoWriter, info: ValueInfo): void {
  const F = FIELD.ValueInfoProto;
  w.string(F.name, info.name);
  w.message(F.type, (type) =>
    type.message(FIELD.TypeProto.tensorType, (t) => {
      t.int64(FIELD.TypeProtoTensor.elemType, info.elemType);
      if (info.shape === undefined) return;
      const shape = info.shape;
      t.message(FIELD.TypeProtoTensor.shape, (s) => {
        for (const dim of shape) {
          s.message(FIELD.TensorShapeProto.dim, (d) => {
            if (typeof dim === 'number') d.int64(FIELD.Dimension.dimValue, dim);
            else d.string(FIELD.Dimension.dimParam, dim);
          });
        }
      });
    }),
  );
  if (info.docString !== undefined) w.string(F.docString, info.docString);
}

// ---- validation ----------------------------------------------------------------------------

/** The opset imports a model gets when it names none: the default domain at {@link DEFAULT_OPSET}. */
export const DEFAULT_OPSET_IMPORTS: readonly OpsetImport[] = [
  { domain: ONNX_DOMAIN, version: DEFAULT_OPSET },
];

/**
 * Checks what onnxruntime would otherwise reject with a less direct message, so that a bad
 * export fails where it is made:
 * - names present and unique (every value is assigned once), nodes in topological order, every
 *   graph output produced;
 * - opset imports: each domain once (`ai.onnx` is `''`), versions positive integers, and every
 *   node's domain imported (e.g. `com.microsoft` for onnxruntime's contrib operators);
 * - initializers and tensor attributes: sizes matching their dims, data types matching their
 *   arrays, float values finite;
 * - dimensions non-negative integers or non-empty names;
 * - element types and shapes, propagated through the operators {@link ./schema} knows (those
 *   our exporters emit): each node's input types, shapes, arity, attributes and the opset
 *   version it needs, and the declared types of graph outputs and `value_info` against the
 *   inferred ones. Unknown operators pass, with outputs of unknown type.
 *
 * `opsetImports` are the model's (default {@link DEFAULT_OPSET_IMPORTS}).
 */
export function validateGraph(
  graph: GraphSpec,
  opsetImports: readonly OpsetImport[] = DEFAULT_OPSET_IMPORTS,
): void {
  const where = `graph ${graph.name}`;
  const opsets = checkOpsetImports(opsetImports, where);
  const defined = new Set<string>();
  const types = new Map<string, ValueType>();
  const constants = new Map<string, TensorSpec>();
  const define = (name: string, what: string): void => {
    if (name === '') throw new Error(`${where}: ${what} has an empty name`);
    if (defined.has(name)) throw new Error(`${where}: value "${name}" is defined twice`);
    defined.add(name);
  };
  for (const input of graph.inputs) {
    checkShape(input, where);
    define(input.name, 'an input');
    types.set(input.name, input);
  }
  for (const tensor of graph.initializers ?? []) {
    checkTensor(tensor, where);
    define(tensor.name, 'an initializer');
    types.set(tensor.name, { elemType: tensorDataType(tensor), shape: tensor.dims });
    constants.set(tensor.name, tensor);
  }
  graph.nodes.forEach((node, i) => {
    const label = `node ${node.name ?? i} (${node.opType})`;
    if (node.opType === '') throw new Error(`${where}: node ${i} has no opType`);
    for (const input of node.inputs) {
      if (input !== '' && !defined.has(input)) {
        throw new Error(
          `${where}: ${label} reads "${input}", ` +
            'which is not an input, an initializer or an earlier output',
        );
      }
    }
    for (const output of node.outputs) define(output, `an output of ${label}`);
    for (const attribute of Object.values(node.attributes ?? {})) {
      if (attribute.type === 'tensor') checkTensor(attribute.value, where);
    }
    const domain = normalizeDomain(node.domain);
    const opset = opsets.get(domain);
    if (opset === undefined) {
      throw new Error(
        `${where}: ${label} is in domain "${domain}", which the model does not import`,
      );
    }
    let inferred: readonly (ValueType | undefined)[];
    try {
      inferred = inferNodeTypes(node, {
        opset,
        type: (name) => types.get(name),
        constant: (name) => constants.get(name),
      });
    } catch (error) {
      if (error instanceof OpCheckError) throw new Error(`${where}: ${label}: ${error.message}`);
      throw error;
    }
    node.outputs.forEach((output, k) => {
      const t = inferred[k];
      if (t !== undefined) types.set(output, t);
    });
  });
  const declared = (info: ValueInfo, what: string): void => {
    checkShape(info, where);
    const t = types.get(info.name);
    if (t === undefined) return;
    if (t.elemType !== info.elemType) {
      throw new Error(
        `${where}: ${what} "${info.name}" is declared ${dataTypeName(info.elemType)} ` +
          `but is ${dataTypeName(t.elemType)}`,
      );
    }
    if (!sameShape(t.shape, info.shape)) {
      throw new Error(
        `${where}: ${what} "${info.name}" is declared [${formatShape(info.shape)}] ` +
          `but is [${formatShape(t.shape)}]`,
      );
    }
  };
  for (const info of graph.valueInfo ?? []) {
    if (!defined.has(info.name)) throw new Error(`${where}: value_info "${info.name}" is no value`);
    declared(info, 'value_info');
  }
  const outputs = new Set<string>();
  for (const output of graph.outputs) {
    checkShape(output, where);
    if (!defined.has(output.name)) {
      throw new Error(`${where}: output "${output.name}" is never produced`);
    }
    if (outputs.has(output.name)) throw new Error(`${where}: output "${output.name}" listed twice`);
    outputs.add(output.name);
    declared(output, 'output');
  }
}

/** Checks the imports and returns the version per (normalized) domain. */
function checkOpsetImports(imports: readonly OpsetImport[], where: string): Map<string, number> {
  const versions = new Map<string, number>();
  for (const { domain, version } of imports) {
    const d = normalizeDomain(domain);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new Error(`${where}: opset import "${d}" has a bad version ${version}`);
    }
    if (versions.has(d)) throw new Error(`${where}: domain "${d}" is imported twice`);
    versions.set(d, version);
  }
  return versions;
}

function checkShape(info: ValueInfo, where: string): void {
  for (const dim of info.shape ?? []) {
    const ok = typeof dim === 'number' ? Number.isSafeInteger(dim) && dim >= 0 : dim !== '';
    if (!ok) throw new Error(`${where}: "${info.name}" has a bad dimension ${String(dim)}`);
  }
}

function checkTensor(tensor: TensorSpec, where: string): void {
  let size = 1;
  for (const d of tensor.dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${where}: tensor "${tensor.name}" has a bad dimension ${d}`);
    }
    size *= d;
  }
  if (size !== tensor.data.length) {
    throw new Error(
      `${where}: tensor "${tensor.name}" has ${tensor.data.length} values ` +
        `for dims [${tensor.dims.join(', ')}]`,
    );
  }
  const type = tensorDataType(tensor);
  if (type === DataType.FLOAT || type === DataType.DOUBLE) {
    const data = tensor.data as Float32Array | Float64Array;
    for (let i = 0; i < data.length; i += 1) {
      if (!Number.isFinite(data[i])) {
        throw new Error(`${where}: tensor "${tensor.name}" value ${i} is ${data[i]}`);
      }
    }
  }
}

// ---- builder -------------------------------------------------------------------------------

/**
 * Accumulates a graph in order: inputs, initializers and nodes as they are added, with the
 * checks of {@link validateGraph} made on each call (so an error points at the offending call).
 */
export class GraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly nodes: NodeSpec[] = [];
  private readonly defined = new Set<string>();

  constructor(
    readonly name: string,
    private readonly docString?: string,
  ) {}

  /** Declares a graph input; returns its name. */
  input(name: string, elemType: DataType, shape: readonly Dim[]): string {
    const info: ValueInfo = { name, elemType, shape };
    checkShape(info, `graph ${this.name}`);
    this.define(name);
    this.inputs.push(info);
    return name;
  }

  /** Adds a constant tensor (stored in the model); returns its name. */
  initializer(name: string, dims: readonly number[], data: TensorData): string {
    const tensor: TensorSpec = { name, dims, data };
    checkTensor(tensor, `graph ${this.name}`);
    this.define(name);
    this.initializers.push(tensor);
    return name;
  }

  /** Appends a node; its inputs must already exist. Returns its first output's name. */
  node(node: NodeSpec): string {
    for (const input of node.inputs) {
      if (input !== '' && !this.defined.has(input)) {
        throw new Error(`graph ${this.name}: ${node.opType} node reads unknown value "${input}"`);
      }
    }
    for (const output of node.outputs) this.define(output);
    this.nodes.push(node);
    return node.outputs[0];
  }

  /** Marks an existing value as a graph output. */
  output(name: string, elemType: DataType, shape: readonly Dim[]): void {
    if (!this.defined.has(name)) throw new Error(`graph ${this.name}: no value "${name}"`);
    this.outputs.push({ name, elemType, shape });
  }

  /** Whether a value of that name exists already. */
  has(name: string): boolean {
    return this.defined.has(name);
  }

  /** The graph, checked by {@link validateGraph} against the model's opset imports. */
  build(opsetImports: readonly OpsetImport[] = DEFAULT_OPSET_IMPORTS): GraphSpec {
    const graph: GraphSpec = {
      name: this.name,
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      initializers: [...this.initializers],
      ...(this.docString === undefined ? {} : { docString: this.docString }),
    };
    validateGraph(graph, opsetImports);
    return graph;
  }

  private define(name: string): void {
    if (name === '') throw new Error(`graph ${this.name}: empty value name`);
    if (this.defined.has(name)) throw new Error(`graph ${this.name}: "${name}" is defined twice`);
    this.defined.add(name);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
