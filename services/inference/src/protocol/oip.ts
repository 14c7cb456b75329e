/**
 * The Open Inference Protocol (KServe v2, Triton's HTTP/REST API) as JSON in and JSON out: pure
 * functions, no Nest, no I/O.
 *
 * Followed: kserve/open-inference-protocol, `specification/protocol/inference_rest.md` (HTTP/REST),
 * sections "Inference Request JSON Object", "Request Input", "Request Output", "Inference Response
 * JSON Object", "Response Output", "Inference Response JSON Error Object", "Parameters", "Tensor
 * Data", "Tensor Data Types", "Server Metadata", "Model Metadata", "Model Ready", "Server Ready",
 * "Server Live"; its OpenAPI companion `open_inference_rest.yaml` for which fields are required
 * (`inputs`; `model_name` and `outputs` in a response). Triton's
 * `docs/protocol/extension_binary_data.md` names the binary-data parameters refused here.
 *
 * Readings where the document leaves room:
 * - "Tensor Data": data is row-major, either flat or in its natural nesting. Nesting must then
 *   follow the shape exactly; half-nested data is refused rather than guessed at.
 * - The document lets a server coerce values or refuse them; we refuse: numbers for FP32/FP64 and
 *   INT32, booleans for BOOL, strings for BYTES, and for INT64 safe integers or decimal strings (the
 *   one way to send a 64-bit value through JSON intact).
 * - Its Server Ready object reads `{"live": $bool}`, evidently copied from Server Live; the gRPC
 *   ServerReadyResponse of the same protocol has `ready`, which {@link serverReady} uses.
 * - `null` for an optional field counts as absent: pydantic-based clients serialise unset fields so.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  OIP_DATATYPES,
  type ModelSignature,
  type OipDatatype,
  type TensorData,
  type TensorSpec,
} from '../runtime/tensor';

/**
 * A request the server refuses, with the HTTP status to answer with and a message for the caller.
 * 400 for a malformed or invalid request, 404 for an unknown model or version, 413 for a request
 * over the size limits; 429 and 503 come from admission control, elsewhere.
 */
export class OipError extends Error {
  override readonly name = 'OipError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `$inference_error_response` (and the metadata error objects): the body of every failure. */
export interface OipErrorBody {
  error: string;
}

export function errorBody(message: string): OipErrorBody {
  return { error: message };
}

/** 404 for a model (or one version of it) this server does not serve. */
export function modelNotFound(model: string, version?: string): OipError {
  const what =
    version === undefined ? `model ${q(model)}` : `version ${q(version)} of model ${q(model)}`;
  return new OipError(404, `${what} is not served here`);
}

/** Size limits on one inference request, checked before any tensor is allocated. */
export interface InferLimits {
  /** Largest batch (first dimension) of a batchable model. */
  maxRows: number;
  /** Largest number of tensor elements across all inputs. */
  maxElements: number;
}

/** A validated `$inference_request`, its tensors in the arrays onnxruntime takes. */
export interface ParsedInferRequest {
  id?: string;
  /** The request-level `$parameters`; `{}` when none were sent. */
  parameters: Record<string, unknown>;
  /** Every model input, by name. */
  inputs: Record<string, TensorData>;
  /** The outputs asked for, in request order; undefined means all of them. */
  outputs?: string[];
  /** The batch size: the shared first dimension when the signature is batchable, else 1. */
  rows: number;
}

/** `$response_output`. */
export interface OipResponseOutput {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  parameters?: Record<string, unknown>;
  /** Flat, row-major. INT64 values beyond ±(2^53 − 1) are decimal strings. */
  data: number[] | string[] | boolean[] | (number | string)[];
}

/** `$inference_response`. */
export interface OipInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: OipResponseOutput[];
}

/** `$metadata_server_response`. */
export interface OipServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** `$metadata_tensor`: −1 marks a variable dimension. */
export interface OipMetadataTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

/** `$metadata_model_response`. */
export interface OipModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: OipMetadataTensor[];
  outputs: OipMetadataTensor[];
}

/** `$live_server_response`. */
export interface OipServerLive {
  live: boolean;
}

/** `$ready_server_response` (see the file comment on its field name). */
export interface OipServerReady {
  ready: boolean;
}

/** `$ready_model_response`. */
export interface OipModelReady {
  name: string;
  ready: boolean;
}

// ---------------------------------------------------------------------------------------------
// Inference request

const FP32_MAX = 3.4028234663852886e38;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_STRING = /^-?\d+$/;
// A sign and 19 digits cover every int64 (leading zeros aside): longer strings are refused as out
// of range before BigInt spends time on them.
const INT64_STRING_MAX = 20;

const BINARY_UNSUPPORTED = 'binary tensor data is not supported; send JSON data';
const SHM_UNSUPPORTED = 'shared-memory tensors are not supported; send JSON data';

/** An input as declared in the request, checked against the model before any data is read. */
interface DeclaredInput {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: unknown[];
  /** product(shape); Infinity past 2^53 (the limit check refuses it). */
  count: number;
}

/**
 * Validates an `$inference_request` against the model's signature and builds its tensors.
 * Throws {@link OipError} — 400 with a message naming the tensor and the problem, 413 when the
 * inputs hold more than `limits.maxElements` elements — and nothing else, whatever `body` is.
 */
export function parseInferRequest(
  body: unknown,
  signature: ModelSignature,
  limits: InferLimits,
): ParsedInferRequest {
  if (!isObject(body)) {
    throw bad(`the request body must be a JSON object ($inference_request), got ${describe(body)}`);
  }
  const id = absent(body.id) ? undefined : body.id;
  if (id !== undefined && typeof id !== 'string') {
    throw bad(`'id' must be a string, got ${describe(id)}`);
  }
  const parameters = parseParameters(body.parameters, 'the request');
  if (parameters.binary_data_output === true) {
    throw bad(`the request asks for binary outputs (binary_data_output): ${BINARY_UNSUPPORTED}`);
  }

  const declared = declareInputs(body.inputs, signature);
  const outputs = parseRequestedOutputs(body.outputs, signature);

  let rows = 1;
  if (signature.batchable) {
    const first = declared[0];
    rows = first.shape[0];
    for (const input of declared) {
      if (input.shape[0] !== rows) {
        throw bad(
          `inputs disagree on the batch (first) dimension: input ${q(first.name)} has ${rows} rows, input ${q(input.name)} has ${input.shape[0]}`,
        );
      }
    }
    if (rows < 1) throw bad(`the inputs have 0 rows; send at least one`);
    if (rows > limits.maxRows) {
      throw bad(`${rows} rows exceed the limit ${limits.maxRows}; split the request`);
    }
  }

  const total = declared.reduce((sum, input) => sum + input.count, 0);
  if (total > limits.maxElements) {
    const largest = declared.reduce((a, b) => (b.count > a.count ? b : a));
    const held = Number.isFinite(total) ? `${total} elements` : 'more than 2^53 elements';
    throw new OipError(
      413,
      `the inputs hold ${held} in all, more than the limit ${limits.maxElements} (the largest, input ${q(largest.name)}, has shape ${fmtShape(largest.shape)}); split the request`,
    );
  }

  const inputs: Record<string, TensorData> = {};
  for (const input of declared) inputs[input.name] = buildTensor(input);
  const parsed: ParsedInferRequest = { parameters, inputs, rows };
  if (id !== undefined) parsed.id = id;
  if (outputs !== undefined) parsed.outputs = outputs;
  return parsed;
}

function declareInputs(raw: unknown, signature: ModelSignature): DeclaredInput[] {
  const expected = `the model expects ${listNames(signature.inputs)}`;
  if (absent(raw)) throw bad(`the request has no 'inputs'; ${expected}`);
  if (!Array.isArray(raw)) {
    throw bad(`'inputs' must be an array of input tensors, got ${describe(raw)}`);
  }
  if (raw.length === 0) throw bad(`'inputs' is empty; ${expected}`);

  // A Map, not an object: an input called "constructor" or "__proto__" must not find anything.
  const specs = new Map(signature.inputs.map((spec) => [spec.name, spec]));
  const seen = new Set<string>();
  const declared: DeclaredInput[] = [];
  raw.forEach((entry: unknown, i: number) => {
    if (!isObject(entry)) {
      throw bad(
        `inputs[${i}] must be a tensor object {name, shape, datatype, data}, got ${describe(entry)}`,
      );
    }
    if (typeof entry.name !== 'string') {
      throw bad(`inputs[${i}] needs a string 'name', got ${describe(entry.name)}; ${expected}`);
    }
    const name = entry.name;
    const spec = specs.get(name);
    if (spec === undefined) throw bad(`unknown input ${q(name)}; ${expected}`);
    if (seen.has(name)) throw bad(`input ${q(name)} appears more than once in 'inputs'`);
    seen.add(name);
    declared.push(declareInput(entry, spec));
  });

  const missing = signature.inputs.filter((spec) => !seen.has(spec.name));
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'input' : 'inputs';
    throw bad(`missing required ${noun} ${listNames(missing)}; ${expected}`);
  }
  return declared;
}

function declareInput(entry: Record<string, unknown>, spec: TensorSpec): DeclaredInput {
  const label = `input ${q(spec.name)}`;
  const parameters = parseParameters(entry.parameters, label);
  if ('binary_data_size' in parameters) throw bad(`${label}: ${BINARY_UNSUPPORTED}`);
  if ('shared_memory_region' in parameters) throw bad(`${label}: ${SHM_UNSUPPORTED}`);

  const datatype = entry.datatype;
  if (typeof datatype !== 'string') {
    throw bad(
      `${label}: 'datatype' must be a string such as "${spec.datatype}", got ${describe(datatype)}`,
    );
  }
  if (!isOipDatatype(datatype)) {
    const hint = isOipDatatype(datatype.toUpperCase()) ? ' (datatype names are upper-case)' : '';
    throw bad(
      `${label}: datatype ${clip(datatype)} is not supported${hint}; this server accepts ${OIP_DATATYPES.join(', ')}`,
    );
  }
  if (datatype !== spec.datatype) {
    throw bad(
      `${label}: datatype ${datatype} does not match the model (expected ${spec.datatype}, got ${datatype})`,
    );
  }

  const shape = entry.shape;
  if (!Array.isArray(shape)) {
    throw bad(
      `${label}: 'shape' must be an array of non-negative integers, got ${describe(shape)}`,
    );
  }
  if (shape.length !== spec.shape.length) {
    throw bad(
      `${label}: shape has rank ${shape.length}, the model expects rank ${spec.shape.length} (model shape ${fmtShape(spec.shape)}, -1 marks a variable dimension)`,
    );
  }
  let count = 1;
  shape.forEach((dim: unknown, j: number) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw bad(
        `${label}: shape[${j}] is ${describe(dim)}; dimensions must be non-negative integers`,
      );
    }
    const fixed = spec.shape[j];
    if (fixed >= 0 && dim !== fixed) {
      throw bad(
        `${label}: dimension ${j} is ${dim}, the model expects ${fixed} (model shape ${fmtShape(spec.shape)}, -1 marks a variable dimension)`,
      );
    }
    count *= dim;
  });
  if (!Number.isSafeInteger(count)) count = Infinity;

  if (!Array.isArray(entry.data)) {
    throw bad(`${label}: 'data' must be a JSON array of values, got ${describe(entry.data)}`);
  }
  return { name: spec.name, datatype, shape: shape.slice() as number[], data: entry.data, count };
}

function parseRequestedOutputs(raw: unknown, signature: ModelSignature): string[] | undefined {
  if (absent(raw)) return undefined;
  if (!Array.isArray(raw)) {
    throw bad(`'outputs' must be an array of {name} objects, got ${describe(raw)}`);
  }
  // An empty list asks for nothing in particular; like an absent one, it means every output.
  if (raw.length === 0) return undefined;
  const known = new Set(signature.outputs.map((spec) => spec.name));
  const expected = `the model produces ${listNames(signature.outputs)}`;
  const names: string[] = [];
  raw.forEach((entry: unknown, i: number) => {
    if (!isObject(entry))
      throw bad(`outputs[${i}] must be an object {name}, got ${describe(entry)}`);
    if (typeof entry.name !== 'string') {
      throw bad(`outputs[${i}] needs a string 'name', got ${describe(entry.name)}; ${expected}`);
    }
    const name = entry.name;
    const label = `output ${q(name)}`;
    if (!known.has(name)) throw bad(`unknown output ${q(name)} requested; ${expected}`);
    if (names.includes(name)) throw bad(`${label} is requested more than once`);
    const parameters = parseParameters(entry.parameters, label);
    if (parameters.binary_data === true) throw bad(`${label}: ${BINARY_UNSUPPORTED}`);
    if ('shared_memory_region' in parameters) throw bad(`${label}: ${SHM_UNSUPPORTED}`);
    if ('classification' in parameters) {
      throw bad(`${label}: the classification extension is not supported; request the raw output`);
    }
    names.push(name);
  });
  return names;
}

/**
 * `$parameters`: an object of name/value pairs. The document limits values to strings, numbers and
 * booleans, but this server defines its own (`entity_ids` is a list), so values are left to the
 * code that reads them.
 */
function parseParameters(raw: unknown, where: string): Record<string, unknown> {
  if (absent(raw)) return {};
  if (!isObject(raw)) {
    throw bad(`${where}: 'parameters' must be an object of name/value pairs, got ${describe(raw)}`);
  }
  return raw;
}

function buildTensor(input: DeclaredInput): TensorData {
  const { data, count, shape } = input;
  const nested = data.length > 0 && Array.isArray(data[0]);
  let values: unknown[];
  if (nested) {
    values = flattenNested(input);
  } else {
    if (data.length !== count) {
      throw bad(
        `input ${q(input.name)}: shape ${fmtShape(shape)} needs ${count} values, 'data' has ${data.length}`,
      );
    }
    values = data;
  }
  return decode(input, values, nested);
}

/** Row-major leaves of data nested as the shape says; anything else is refused with its path. */
function flattenNested(input: DeclaredInput): unknown[] {
  const { shape, name } = input;
  const rank = shape.length;
  const leaves = new Array<unknown>(input.count);
  const index: number[] = [];
  let k = 0;
  const mismatch = (what: string) =>
    bad(`input ${q(name)}: nested 'data' does not match shape ${fmtShape(shape)}: ${what}`);
  const walk = (node: unknown, depth: number): void => {
    if (depth === rank) {
      if (Array.isArray(node)) {
        throw mismatch(`${dataPath(index)} is an array, but the shape has only ${rank} dimensions`);
      }
      leaves[k++] = node;
      return;
    }
    if (!Array.isArray(node)) {
      throw mismatch(
        `${dataPath(index)} is ${describe(node)}, expected an array of ${shape[depth]}`,
      );
    }
    if (node.length !== shape[depth]) {
      throw mismatch(
        `${dataPath(index)} has ${node.length} elements, dimension ${depth} is ${shape[depth]}`,
      );
    }
    for (let i = 0; i < node.length; i += 1) {
      index.push(i);
      walk(node[i], depth + 1);
      index.pop();
    }
  };
  walk(input.data, 0);
  return leaves;
}

function decode(input: DeclaredInput, values: unknown[], nested: boolean): TensorData {
  const { datatype, shape } = input;
  const n = values.length;
  const fail = (k: number, expected: string) =>
    bad(
      `input ${q(input.name)} (${datatype}): ${elementPath(shape, k, nested)} is ${describe(values[k])}, expected ${expected}`,
    );
  switch (datatype) {
    case 'FP32': {
      const out = new Float32Array(n);
      for (let k = 0; k < n; k += 1) {
        const v = values[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(k, 'a finite number');
        const f = Math.fround(v);
        // A value rounds to FP32's largest finite value up to half an ulp above it; past that
        // it would become Infinity in the model.
        if (!Number.isFinite(f)) {
          throw bad(
            `input ${q(input.name)} (FP32): ${elementPath(shape, k, nested)} is ${v}, which overflows FP32 (largest finite value ${FP32_MAX})`,
          );
        }
        out[k] = f;
      }
      return { datatype, shape, data: out };
    }
    case 'FP64': {
      const out = new Float64Array(n);
      for (let k = 0; k < n; k += 1) {
        const v = values[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(k, 'a finite number');
        out[k] = v;
      }
      return { datatype, shape, data: out };
    }
    case 'INT32': {
      const out = new Int32Array(n);
      for (let k = 0; k < n; k += 1) {
        const v = values[k];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
          throw fail(k, `an integer in [${INT32_MIN}, ${INT32_MAX}]`);
        }
        out[k] = v;
      }
      return { datatype, shape, data: out };
    }
    case 'INT64': {
      const out = new BigInt64Array(n);
      for (let k = 0; k < n; k += 1) {
        const v = values[k];
        if (typeof v === 'number' && Number.isSafeInteger(v)) {
          out[k] = BigInt(v);
        } else if (typeof v === 'string' && INT64_STRING.test(v)) {
          const big = v.length <= INT64_STRING_MAX ? BigInt(v) : undefined;
          if (big === undefined || big < INT64_MIN || big > INT64_MAX) {
            throw fail(k, `a value in the int64 range [${INT64_MIN}, ${INT64_MAX}]`);
          }
          out[k] = big;
        } else if (typeof v === 'number' && Number.isInteger(v)) {
          // JSON.parse has already rounded it: the value the client meant is lost.
          throw fail(k, 'a safe integer (|v| < 2^53); send larger int64 values as decimal strings');
        } else {
          throw fail(k, 'an integer (or a decimal string for values beyond 2^53)');
        }
      }
      return { datatype, shape, data: out };
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let k = 0; k < n; k += 1) {
        const v = values[k];
        if (typeof v !== 'boolean') throw fail(k, 'true or false');
        out[k] = v ? 1 : 0;
      }
      return { datatype, shape, data: out };
    }
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let k = 0; k < n; k += 1) {
        const v = values[k];
        if (typeof v !== 'string') throw fail(k, 'a string');
        out[k] = v;
      }
      return { datatype, shape, data: out };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

/**
 * `$inference_response` with the outputs in `order`, data flattened row-major. `model_version`,
 * `id` and `parameters` are left out when undefined, as the document asks of servers without
 * versions. Every name in `order` must be in `outputs` (a missing one is a server bug: plain
 * Error, a 500).
 */
export function inferResponse(
  model: string,
  version: string | undefined,
  id: string | undefined,
  outputs: Record<string, TensorData>,
  order: string[],
  parameters?: Record<string, unknown>,
): OipInferResponse {
  const response: OipInferResponse = { model_name: model, outputs: [] };
  if (version !== undefined) response.model_version = version;
  if (id !== undefined) response.id = id;
  if (parameters !== undefined) response.parameters = parameters;
  for (const name of order) {
    const tensor = Object.hasOwn(outputs, name) ? outputs[name] : undefined;
    if (tensor === undefined) throw new Error(`inferResponse: no output tensor named ${q(name)}`);
    response.outputs.push({
      name,
      shape: [...tensor.shape],
      datatype: tensor.datatype,
      data: jsonData(tensor),
    });
  }
  return response;
}

function jsonData(tensor: TensorData): OipResponseOutput['data'] {
  const { data } = tensor;
  if (Array.isArray(data)) return [...data];
  if (data instanceof BigInt64Array) {
    const out = new Array<number | string>(data.length);
    for (let k = 0; k < data.length; k += 1) {
      const v = data[k];
      out[k] = v >= -MAX_SAFE_BIG && v <= MAX_SAFE_BIG ? Number(v) : v.toString();
    }
    return out;
  }
  if (tensor.datatype === 'BOOL') return Array.from(data, (v) => v !== 0);
  return Array.from(data);
}

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** `$metadata_server_response`. */
export function serverMetadata(
  name: string,
  version: string,
  extensions: string[],
): OipServerMetadata {
  return { name, version, extensions: [...extensions] };
}

/**
 * `$metadata_model_response`, variable dimensions as −1. `versions` is optional in the document
 * and is left out when empty. `platform` is free text: the document lists `onnx_onnxv1`, Triton
 * reports `onnxruntime_onnx`.
 */
export function modelMetadata(
  name: string,
  versions: string[],
  platform: string,
  signature: ModelSignature,
): OipModelMetadata {
  const tensor = (spec: TensorSpec): OipMetadataTensor => ({
    name: spec.name,
    datatype: spec.datatype,
    shape: spec.shape.map((d) => (d < 0 ? -1 : d)),
  });
  const metadata: OipModelMetadata = {
    name,
    platform,
    inputs: signature.inputs.map(tensor),
    outputs: signature.outputs.map(tensor),
  };
  if (versions.length > 0) metadata.versions = [...versions];
  return metadata;
}

/** `$live_server_response` for GET /v2/health/live. */
export function serverLive(live: boolean): OipServerLive {
  return { live };
}

/** `$ready_server_response` for GET /v2/health/ready. */
export function serverReady(ready: boolean): OipServerReady {
  return { ready };
}

/** `$ready_model_response` for GET /v2/models/{name}[/versions/{version}]/ready. */
export function modelReady(name: string, ready: boolean): OipModelReady {
  return { name, ready };
}

// ---------------------------------------------------------------------------------------------
// Cache key

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const KEY_VERSION = 'oip-input-key/1';

/**
 * A sha256 (hex) identifying an inference: the inputs sorted by name, each as name, datatype,
 * shape and the raw little-endian bytes of its values (BYTES: each string length-prefixed UTF-8),
 * then the requested output names sorted, or a marker for "all outputs". Every field is
 * length-prefixed, so no two different requests share an encoding. Values are hashed as stored
 * — 0 and −0 differ — which at worst costs a cache miss.
 */
export function canonicalInputKey(inputs: Record<string, TensorData>, outputs?: string[]): string {
  const hash = createHash('sha256');
  hashString(hash, KEY_VERSION);
  // Default sort compares UTF-16 code units: the same order on every machine and locale.
  const names = Object.keys(inputs).sort();
  hash.update(u32(names.length));
  for (const name of names) {
    const tensor = inputs[name];
    hashString(hash, name);
    hashString(hash, tensor.datatype);
    const dims = new Float64Array(tensor.shape.length);
    dims.set(tensor.shape);
    hash.update(u32(dims.length));
    hash.update(littleEndianBytes(dims));
    const { data } = tensor;
    if (Array.isArray(data)) {
      hash.update(f64(data.length));
      hash.update(encodeStrings(data));
    } else {
      hash.update(f64(data.byteLength));
      hash.update(littleEndianBytes(data));
    }
  }
  if (outputs === undefined) {
    hash.update(Uint8Array.of(0));
  } else {
    hash.update(Uint8Array.of(1));
    const sorted = [...outputs].sort();
    hash.update(u32(sorted.length));
    for (const name of sorted) hashString(hash, name);
  }
  return hash.digest('hex');
}

type NumericArray = Exclude<TensorData['data'], string[]> | Float64Array;

function littleEndianBytes(array: NumericArray): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (LITTLE_ENDIAN || array.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = Buffer.from(bytes);
  if (array.BYTES_PER_ELEMENT === 4) return copy.swap32();
  return copy.swap64();
}

function encodeStrings(values: string[]): Uint8Array {
  let size = 0;
  for (const s of values) size += 4 + Buffer.byteLength(s, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const s of values) {
    const length = out.write(s, at + 4, 'utf8');
    out.writeUInt32LE(length, at);
    at += 4 + length;
  }
  return out;
}

function hashString(hash: Hash, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  hash.update(u32(bytes.length));
  hash.update(bytes);
}

function u32(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n);
  return b;
}

function f64(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(n);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function bad(message: string): OipError {
  return new OipError(400, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function absent(v: unknown): boolean {
  return v === undefined || v === null;
}

function isOipDatatype(s: string): s is OipDatatype {
  return (OIP_DATATYPES as readonly string[]).includes(s);
}

/** A value as a message shows it: short, and never the whole of a large array or object. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(clip(v));
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

function clip(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function q(name: string): string {
  return `'${clip(name, 64)}'`;
}

function listNames(specs: readonly { name: string }[]): string {
  return specs.map((spec) => q(spec.name)).join(', ');
}

function fmtShape(shape: readonly unknown[]): string {
  const shown = shape.slice(0, 8).map((d) => (typeof d === 'number' ? String(d) : describe(d)));
  return `[${shown.join(', ')}${shape.length > 8 ? ', …' : ''}]`;
}

function dataPath(index: readonly number[]): string {
  return `data${index.map((i) => `[${i}]`).join('')}`;
}

/** Where flat element k sits: data[k] when sent flat, data[i][j]… when sent nested. */
function elementPath(shape: readonly number[], k: number, nested: boolean): string {
  if (!nested) return `data[${k}]`;
  const index = new Array<number>(shape.length);
  let rest = k;
  for (let d = shape.length - 1; d >= 0; d -= 1) {
    index[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return dataPath(index);
}
