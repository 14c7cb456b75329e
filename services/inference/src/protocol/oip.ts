/**
 * The Open Inference Protocol (KServe v2, Triton's HTTP/REST API) as JSON in and JSON out, with
 * Triton's binary tensor data extension: pure functions, no Nest, no I/O.
 *
 * Followed: kserve/open-inference-protocol, `specification/protocol/inference_rest.md` (HTTP/REST),
 * sections "Inference Request JSON Object", "Request Input", "Request Output", "Inference Response
 * JSON Object", "Response Output", "Inference Response JSON Error Object", "Parameters", "Tensor
 * Data", "Tensor Data Types", "Server Metadata", "Model Metadata", "Model Ready", "Server Ready",
 * "Server Live"; its OpenAPI companion `open_inference_rest.yaml` for which fields are required
 * (`inputs`; `model_name` and `outputs` in a response). Triton's
 * `docs/protocol/extension_binary_data.md` for binary tensors (which tritonclient's HTTP client
 * sends and asks for by default), checked against what Triton's `src/http_server.cc` does and what
 * tritonclient's `http/_utils.py` (`_get_inference_request`) and `http/_infer_result.py` write
 * and read: the JSON header, then each binary tensor's bytes in the order of its array, the
 * header's length in `Inference-Header-Content-Length`.
 *
 * Readings where the documents leave room:
 * - "Tensor Data": data is row-major, either flat or in its natural nesting. Nesting must then
 *   follow the shape exactly; half-nested data is refused rather than guessed at.
 * - The document lets a server coerce values or refuse them; we refuse: numbers for FP32/FP64 and
 *   INT32, booleans for BOOL, strings for BYTES, and for INT64 safe integers or decimal strings (the
 *   one way to send a 64-bit value through JSON intact). Binary tensors pass the same checks: finite
 *   FP32/FP64, BOOL bytes 0 or 1, BYTES elements valid UTF-8 (tensors hold BYTES as strings; a
 *   lossy decoding would make different inputs one, in the model and in the cache key).
 * - An input sets `data` or `binary_data_size`, not both, as Triton requires. `binary_data_size: 0`
 *   needs no binary part (Triton takes it the same way), any other size does.
 * - `binary_data` on a requested output overrides the request's `binary_data_output`, as the
 *   extension says. Both must be booleans when present (Triton refuses anything else too).
 * - Triton's "raw binary request" (`Inference-Header-Content-Length: 0`, no JSON at all) is refused.
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

/** Outputs to send as binary tensor data: every output of the response, or the ones named. */
export type BinaryOutputs = 'all' | string[];

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
  /**
   * The outputs to answer with as binary data ({@link inferResponseBinary}): `'all'` when the
   * request set `binary_data_output: true` and no output entry overrides it, else the names whose
   * output entry resolved to `binary_data: true`. Absent when every output goes as JSON.
   */
  binaryOutputs?: BinaryOutputs;
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

/**
 * An `$inference_response` in the parts of its HTTP body under the binary tensor data extension:
 * the JSON object, then the bytes of each binary output.
 */
export interface OipBinaryResponse {
  /** The JSON object, UTF-8. Binary outputs have no `data`, and `parameters.binary_data_size`. */
  header: Buffer;
  /** Each binary output's bytes, in response order; empty for an output without elements. */
  binary: Buffer[];
  /** `header.length`: the value of the response's `Inference-Header-Content-Length` header. */
  headerLength: number;
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

const SHM_UNSUPPORTED = 'shared-memory tensors are not supported; send JSON or binary data';
const HEADER_LENGTH = 'Inference-Header-Content-Length';

/** Bytes per element of the fixed-size datatypes in binary tensor data (BOOL: one byte). */
const ELEMENT_BYTES: Record<Exclude<OipDatatype, 'BYTES'>, number> = {
  FP32: 4,
  FP64: 8,
  INT32: 4,
  INT64: 8,
  BOOL: 1,
};

/** An input as declared in the request, checked against the model before any data is read. */
interface DeclaredInput {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  /** Its JSON `data`, or the length of its slice of the binary part (`binary_data_size`). */
  source: { data: unknown[] } | { binarySize: number };
  /** product(shape); Infinity past 2^53 (the limit check refuses it). */
  count: number;
}

/** An output as requested: its name and its own `binary_data`, if it set one. */
interface RequestedOutput {
  name: string;
  binary?: boolean;
}

/**
 * Validates an `$inference_request` against the model's signature and builds its tensors.
 * `body` is the JSON object; `binary` the bytes after it when the request came with an
 * `Inference-Header-Content-Length` header (see {@link splitInferBody}), where the inputs with
 * `parameters.binary_data_size` find their data, in the order of `inputs`. Throws
 * {@link OipError} — 400 with a message naming the tensor and the problem, 413 when the inputs
 * hold more than `limits.maxElements` elements — and nothing else, whatever `body` and `binary`
 * are. The tensors never share memory with `binary`.
 */
export function parseInferRequest(
  body: unknown,
  signature: ModelSignature,
  limits: InferLimits,
  binary?: Uint8Array,
): ParsedInferRequest {
  if (!isObject(body)) {
    throw bad(`the request body must be a JSON object ($inference_request), got ${describe(body)}`);
  }
  const id = absent(body.id) ? undefined : body.id;
  if (id !== undefined && typeof id !== 'string') {
    throw bad(`'id' must be a string, got ${describe(id)}`);
  }
  const parameters = parseParameters(body.parameters, 'the request');
  const binaryByDefault = parseBinaryFlag(
    parameters.binary_data_output,
    "the request's parameter 'binary_data_output'",
  );

  const declared = declareInputs(body.inputs, signature, binary !== undefined);
  const requested = parseRequestedOutputs(body.outputs, signature);

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

  checkBinarySizes(declared, binary);
  const inputs: Record<string, TensorData> = {};
  let at = 0;
  for (const input of declared) {
    const { source } = input;
    if ('data' in source) {
      inputs[input.name] = buildTensor(input, source.data);
    } else {
      // Without a binary part every size is 0 (declareInput refuses any other).
      const end = at + source.binarySize;
      inputs[input.name] = decodeBinary(input, binary?.subarray(at, end) ?? new Uint8Array(0));
      at = end;
    }
  }
  const parsed: ParsedInferRequest = { parameters, inputs, rows };
  if (id !== undefined) parsed.id = id;
  if (requested !== undefined) parsed.outputs = requested.map((output) => output.name);
  const binaryOutputs = resolveBinaryOutputs(requested, binaryByDefault === true);
  if (binaryOutputs !== undefined) parsed.binaryOutputs = binaryOutputs;
  return parsed;
}

function declareInputs(
  raw: unknown,
  signature: ModelSignature,
  hasBinary: boolean,
): DeclaredInput[] {
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
    declared.push(declareInput(entry, spec, hasBinary));
  });

  const missing = signature.inputs.filter((spec) => !seen.has(spec.name));
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'input' : 'inputs';
    throw bad(`missing required ${noun} ${listNames(missing)}; ${expected}`);
  }
  return declared;
}

function declareInput(
  entry: Record<string, unknown>,
  spec: TensorSpec,
  hasBinary: boolean,
): DeclaredInput {
  const label = `input ${q(spec.name)}`;
  const parameters = parseParameters(entry.parameters, label);
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
  const declared = { name: spec.name, datatype, shape: shape.slice() as number[], count };

  const binarySize = parameters.binary_data_size;
  if (!absent(binarySize)) {
    if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
      throw bad(
        `${label}: parameter 'binary_data_size' must be a non-negative integer (the tensor's size in bytes), got ${describe(binarySize)}`,
      );
    }
    if (!absent(entry.data)) {
      throw bad(
        `${label}: has both 'data' and parameter 'binary_data_size'; send its values one way, not both`,
      );
    }
    if (!hasBinary && binarySize > 0) {
      throw bad(
        `${label}: parameter 'binary_data_size' is ${binarySize}, but the request has no binary part; send the JSON object's length in bytes in an ${HEADER_LENGTH} header and the tensor bytes after it`,
      );
    }
    return { ...declared, source: { binarySize } };
  }

  if (!Array.isArray(entry.data)) {
    throw bad(
      `${label}: 'data' must be a JSON array of values (or the tensor sent as binary data with parameter 'binary_data_size'), got ${describe(entry.data)}`,
    );
  }
  return { ...declared, source: { data: entry.data } };
}

function parseRequestedOutputs(
  raw: unknown,
  signature: ModelSignature,
): RequestedOutput[] | undefined {
  if (absent(raw)) return undefined;
  if (!Array.isArray(raw)) {
    throw bad(`'outputs' must be an array of {name} objects, got ${describe(raw)}`);
  }
  // An empty list asks for nothing in particular; like an absent one, it means every output.
  if (raw.length === 0) return undefined;
  const known = new Set(signature.outputs.map((spec) => spec.name));
  const expected = `the model produces ${listNames(signature.outputs)}`;
  const requested: RequestedOutput[] = [];
  raw.forEach((entry: unknown, i: number) => {
    if (!isObject(entry))
      throw bad(`outputs[${i}] must be an object {name}, got ${describe(entry)}`);
    if (typeof entry.name !== 'string') {
      throw bad(`outputs[${i}] needs a string 'name', got ${describe(entry.name)}; ${expected}`);
    }
    const name = entry.name;
    const label = `output ${q(name)}`;
    if (!known.has(name)) throw bad(`unknown output ${q(name)} requested; ${expected}`);
    if (requested.some((output) => output.name === name)) {
      throw bad(`${label} is requested more than once`);
    }
    const parameters = parseParameters(entry.parameters, label);
    if ('shared_memory_region' in parameters) throw bad(`${label}: ${SHM_UNSUPPORTED}`);
    if ('classification' in parameters) {
      throw bad(`${label}: the classification extension is not supported; request the raw output`);
    }
    const binary = parseBinaryFlag(parameters.binary_data, `${label}: parameter 'binary_data'`);
    requested.push(binary === undefined ? { name } : { name, binary });
  });
  return requested;
}

function parseBinaryFlag(raw: unknown, what: string): boolean | undefined {
  if (absent(raw)) return undefined;
  if (typeof raw !== 'boolean') throw bad(`${what} must be true or false, got ${describe(raw)}`);
  return raw;
}

function resolveBinaryOutputs(
  requested: RequestedOutput[] | undefined,
  byDefault: boolean,
): BinaryOutputs | undefined {
  if (requested === undefined) return byDefault ? 'all' : undefined;
  const names = requested.filter((output) => output.binary ?? byDefault).map((o) => o.name);
  if (byDefault && names.length === requested.length) return 'all';
  return names.length > 0 ? names : undefined;
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

function buildTensor(input: DeclaredInput, data: unknown[]): TensorData {
  const { count, shape } = input;
  const nested = data.length > 0 && Array.isArray(data[0]);
  let values: unknown[];
  if (nested) {
    values = flattenNested(input, data);
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
function flattenNested(input: DeclaredInput, data: unknown[]): unknown[] {
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
  walk(data, 0);
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
// Binary tensor data (Triton's extension)

/**
 * The binary part against the declared sizes: each fixed-size tensor's size is its element count
 * times its element size, and the sizes add up to the binary part exactly. BYTES sizes are checked
 * as their elements are read.
 */
function checkBinarySizes(declared: DeclaredInput[], binary: Uint8Array | undefined): void {
  let total = 0;
  const sizes: string[] = [];
  for (const input of declared) {
    const { source, datatype, count } = input;
    if ('data' in source) continue;
    const size = source.binarySize;
    if (datatype !== 'BYTES') {
      const width = ELEMENT_BYTES[datatype];
      if (size !== count * width) {
        throw bad(
          `input ${q(input.name)} (${datatype}): parameter 'binary_data_size' is ${size} bytes, but shape ${fmtShape(input.shape)} needs ${count * width} (${count} elements of ${width} ${width === 1 ? 'byte' : 'bytes'})`,
        );
      }
    }
    total += size;
    sizes.push(`${q(input.name)} ${size}`);
  }
  const length = binary?.length ?? 0;
  if (total === length) return;
  if (sizes.length === 0) {
    throw bad(
      `the body has ${length} bytes after its JSON object (${HEADER_LENGTH}), but no input declares parameter 'binary_data_size'`,
    );
  }
  throw bad(
    `the body has ${length} bytes after its JSON object, but the inputs' binary_data_size add up to ${total} (${sizes.join(', ')}); each binary input's bytes follow the JSON in the order of 'inputs'`,
  );
}

// Fatal: invalid UTF-8 is refused, not replaced. ignoreBOM: a leading U+FEFF is data, kept.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A binary tensor's bytes (little-endian, row-major; its size already checked) into the array its
 * datatype takes, copied: the slice may sit at any offset of the body and the body is not kept.
 */
function decodeBinary(input: DeclaredInput, bytes: Uint8Array): TensorData {
  const { datatype, shape } = input;
  const label = `input ${q(input.name)} (${datatype})`;
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const out =
        datatype === 'FP32'
          ? new Float32Array(alignedCopy(bytes, 4))
          : new Float64Array(alignedCopy(bytes, 8));
      for (let k = 0; k < out.length; k += 1) {
        if (!Number.isFinite(out[k])) {
          throw bad(`${label}: ${binaryElement(shape, k)} is ${out[k]}, expected a finite number`);
        }
      }
      return { datatype, shape, data: out };
    }
    case 'INT32':
      return { datatype, shape, data: new Int32Array(alignedCopy(bytes, 4)) };
    case 'INT64':
      return { datatype, shape, data: new BigInt64Array(alignedCopy(bytes, 8)) };
    case 'BOOL': {
      const out = Uint8Array.from(bytes);
      for (let k = 0; k < out.length; k += 1) {
        if (out[k] > 1) {
          throw bad(
            `${label}: ${binaryElement(shape, k)} is the byte ${out[k]}, expected 0 (false) or 1 (true)`,
          );
        }
      }
      return { datatype, shape, data: out };
    }
    case 'BYTES':
      return { datatype, shape, data: decodeBinaryStrings(input, bytes) };
  }
}

/** BYTES: each element a 4-byte little-endian length, then that many bytes of UTF-8. */
function decodeBinaryStrings(input: DeclaredInput, bytes: Uint8Array): string[] {
  const { count, shape } = input;
  const label = `input ${q(input.name)} (BYTES)`;
  const size = bytes.length;
  const needs = `shape ${fmtShape(shape)} has ${count} elements, each a 4-byte length and its bytes`;
  if (size < 4 * count) {
    throw bad(`${label}: parameter 'binary_data_size' is ${size} bytes, too few: ${needs}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let at = 0;
  for (let k = 0; k < count; k += 1) {
    if (size - at < 4) {
      throw bad(
        `${label}: the binary data ends inside the length of ${binaryElement(shape, k)} (byte ${at} of ${size}); ${needs}`,
      );
    }
    const length = view.getUint32(at, true);
    at += 4;
    if (length > size - at) {
      throw bad(
        `${label}: ${binaryElement(shape, k)} declares ${length} bytes, but only ${size - at} of its binary_data_size ${size} remain`,
      );
    }
    try {
      out[k] = UTF8.decode(bytes.subarray(at, at + length));
    } catch {
      throw bad(
        `${label}: ${binaryElement(shape, k)} is not valid UTF-8; this server takes BYTES tensors as text`,
      );
    }
    at += length;
  }
  if (at !== size) {
    throw bad(
      `${label}: ${size - at} bytes of its binary_data_size ${size} are left over after the ${count} elements of shape ${fmtShape(shape)}`,
    );
  }
  return out;
}

/** A fresh buffer holding `bytes` in the host's byte order, for a typed array of `width`. */
function alignedCopy(bytes: Uint8Array, width: 4 | 8): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (!LITTLE_ENDIAN) {
    const view = Buffer.from(copy.buffer);
    if (width === 4) view.swap32();
    else view.swap64();
  }
  return copy.buffer;
}

/** Where flat element k of a binary tensor sits: "element k", with its index when rank > 1. */
function binaryElement(shape: readonly number[], k: number): string {
  if (shape.length <= 1) return `binary element ${k}`;
  return `binary element ${k} (${elementPath(shape, k, true)})`;
}

/**
 * Splits an inference request's HTTP body under the binary tensor data extension: the first
 * `Inference-Header-Content-Length` bytes are the JSON object, the rest (`binary`, a view of
 * `body`) the binary tensor data. Without that header the whole body is JSON and `binary` is
 * undefined. Throws {@link OipError} 400 when the JSON does not parse or the header is not a
 * byte count within the body.
 */
export function splitInferBody(
  body: Buffer,
  headerLengthHeader: string | string[] | undefined,
): { json: unknown; binary?: Uint8Array } {
  let value = headerLengthHeader;
  if (Array.isArray(value)) {
    if (value.length > 1) {
      throw bad(`the ${HEADER_LENGTH} header is sent ${value.length} times; send it once`);
    }
    value = value[0];
  }
  if (value === undefined) return { json: parseJson(body, '') };
  const text = value.trim();
  const length = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(length)) {
    throw bad(
      `the ${HEADER_LENGTH} header must be the length in bytes of the JSON object that starts the body, got ${JSON.stringify(clip(value))}`,
    );
  }
  if (length > body.length) {
    throw bad(`${HEADER_LENGTH} is ${length}, but the body has only ${body.length} bytes`);
  }
  if (length === 0) {
    throw bad(
      `${HEADER_LENGTH} is 0: a raw binary request (no JSON object) is not supported; send the $inference_request JSON first and its length in this header`,
    );
  }
  return {
    json: parseJson(body.subarray(0, length), `its first ${length} bytes (${HEADER_LENGTH}): `),
    binary: body.subarray(length),
  };
}

function parseJson(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw bad(`the body is not valid JSON: ${where}${(err as Error).message}`);
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
  const response: OipInferResponse = {
    ...responseHead(model, version, id, parameters),
    outputs: [],
  };
  for (const name of order) {
    const tensor = outputTensor(outputs, name, 'inferResponse');
    response.outputs.push({
      name,
      shape: [...tensor.shape],
      datatype: tensor.datatype,
      data: jsonData(tensor),
    });
  }
  return response;
}

/** `$response_output` as sent under the binary tensor data extension: `data` or a binary size. */
type WireOutput = Omit<OipResponseOutput, 'data'> & { data?: OipResponseOutput['data'] };

/**
 * An `$inference_response` under Triton's binary tensor data extension, as {@link inferResponse}
 * builds it but for the outputs in `binaryOutputs` (all of them for `'all'`): those have no
 * `data` and `parameters: { binary_data_size }`, and their bytes follow the JSON object in the
 * order of `order` — numbers little-endian (INT64 as 8-byte integers), BOOL one byte 0/1, BYTES
 * each a 4-byte little-endian length and its UTF-8. The others keep their JSON `data`.
 *
 * The body is `header` then each of `binary`. Triton answers such a body with
 * `Content-Type: application/octet-stream` and `Inference-Header-Content-Length: headerLength`
 * (http_server.cc, SetResponseHeader) — when at least one binary output has bytes; when none does
 * it sends `application/json` without the header, and the body is `header` alone. tritonclient
 * reads either form.
 */
export function inferResponseBinary(
  model: string,
  version: string | undefined,
  id: string | undefined,
  outputs: Record<string, TensorData>,
  order: string[],
  binaryOutputs: BinaryOutputs,
  parameters?: Record<string, unknown>,
): OipBinaryResponse {
  const asBinary = binaryOutputs === 'all' ? undefined : new Set(binaryOutputs);
  const wire: Omit<OipInferResponse, 'outputs'> & { outputs: WireOutput[] } = {
    ...responseHead(model, version, id, parameters),
    outputs: [],
  };
  const binary: Buffer[] = [];
  for (const name of order) {
    const tensor = outputTensor(outputs, name, 'inferResponseBinary');
    const output: WireOutput = { name, shape: [...tensor.shape], datatype: tensor.datatype };
    if (asBinary === undefined || asBinary.has(name)) {
      const bytes = binaryData(tensor);
      output.parameters = { binary_data_size: bytes.length };
      binary.push(bytes);
    } else {
      output.data = jsonData(tensor);
    }
    wire.outputs.push(output);
  }
  const header = Buffer.from(JSON.stringify(wire), 'utf8');
  return { header, binary, headerLength: header.length };
}

function responseHead(
  model: string,
  version: string | undefined,
  id: string | undefined,
  parameters: Record<string, unknown> | undefined,
): Omit<OipInferResponse, 'outputs'> {
  const head: Omit<OipInferResponse, 'outputs'> = { model_name: model };
  if (version !== undefined) head.model_version = version;
  if (id !== undefined) head.id = id;
  if (parameters !== undefined) head.parameters = parameters;
  return head;
}

/** The tensor of an output in `order`; a missing one is a server bug (plain Error, a 500). */
function outputTensor(
  outputs: Record<string, TensorData>,
  name: string,
  caller: string,
): TensorData {
  const tensor = Object.hasOwn(outputs, name) ? outputs[name] : undefined;
  if (tensor === undefined) throw new Error(`${caller}: no output tensor named ${q(name)}`);
  return tensor;
}

/** A tensor's binary tensor data, in a buffer of its own. */
function binaryData(tensor: TensorData): Buffer {
  const { data } = tensor;
  if (Array.isArray(data)) return encodeStrings(data);
  if (tensor.datatype === 'BOOL') {
    const out = Buffer.alloc(data.length);
    for (let k = 0; k < data.length; k += 1) out[k] = data[k] !== 0 ? 1 : 0;
    return out;
  }
  return Buffer.from(littleEndianBytes(data));
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

function encodeStrings(values: string[]): Buffer {
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
