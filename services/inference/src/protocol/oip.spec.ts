import { Rng } from '@mlops/ml';
import { describe, expect, it } from 'vitest';
import { elementCount, isArrayOf, type ModelSignature, type TensorData } from '../runtime/tensor';
import {
  OipError,
  canonicalInputKey,
  errorBody,
  inferResponse,
  inferResponseBinary,
  modelMetadata,
  modelNotFound,
  modelReady,
  parseInferRequest,
  serverLive,
  serverMetadata,
  serverReady,
  splitInferBody,
  type InferLimits,
  type OipBinaryResponse,
  type ParsedInferRequest,
} from './oip';

const LIMITS: InferLimits = { maxRows: 64, maxElements: 100_000 };

/** A batchable model with one input of every datatype but FP64/INT32, and two outputs. */
const SIGNATURE: ModelSignature = {
  batchable: true,
  inputs: [
    { name: 'features', datatype: 'FP32', shape: [-1, 3] },
    { name: 'ids', datatype: 'INT64', shape: [-1] },
    { name: 'flags', datatype: 'BOOL', shape: [-1, 2] },
    { name: 'text', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
};

// Request bodies are free-form JSON that the tests reach into and break.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

/** A valid two-row request for SIGNATURE; every test mutates its own copy. */
function validBody(): Body {
  return {
    id: 'req-1',
    parameters: { trace: true },
    inputs: [
      { name: 'features', shape: [2, 3], datatype: 'FP32', data: [0.5, 1, 1.5, 2, 2.5, 3] },
      { name: 'ids', shape: [2], datatype: 'INT64', data: [7, '9223372036854775807'] },
      { name: 'flags', shape: [2, 2], datatype: 'BOOL', data: [true, false, false, true] },
      { name: 'text', shape: [2], datatype: 'BYTES', data: ['héllo', ''] },
    ],
    outputs: [{ name: 'label' }],
  };
}

function single(
  datatype: TensorData['datatype'],
  shape: number[],
  batchable = false,
): ModelSignature {
  return {
    batchable,
    inputs: [{ name: 'x', datatype, shape }],
    outputs: [{ name: 'y', datatype: 'FP32', shape }],
  };
}

function body1(datatype: string, shape: unknown, data: unknown): Record<string, unknown> {
  return { inputs: [{ name: 'x', datatype, shape, data }] };
}

/** The OipError that parsing `body` throws; fails the test when it parses or throws another type. */
function rejection(body: unknown, signature = SIGNATURE, limits = LIMITS): OipError {
  try {
    parseInferRequest(body, signature, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(OipError);
    return error as OipError;
  }
  throw new Error(`expected a rejection, but the request parsed: ${JSON.stringify(body)}`);
}

function expect400(body: unknown, signature: ModelSignature, ...parts: string[]): void {
  const error = rejection(body, signature);
  expect(error.status).toBe(400);
  for (const part of parts) expect(error.message).toContain(part);
}

// ---------------------------------------------------------------------------------------------
// Binary tensor data, encoded here the way tritonclient's HTTP client does it (independently of
// oip.ts): `_get_inference_request` sends the JSON, then each binary input's bytes in the order of
// 'inputs', the JSON's length in Inference-Header-Content-Length; numpy's `tobytes()` is
// little-endian row-major; `serialize_byte_tensor` writes each element as a little-endian uint32
// length and its bytes.

function f32le(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, k) => b.writeFloatLE(v, 4 * k));
  return b;
}

function f64le(values: number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, k) => b.writeDoubleLE(v, 8 * k));
  return b;
}

function i32le(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, k) => b.writeInt32LE(v, 4 * k));
  return b;
}

function u32le(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, k) => b.writeUInt32LE(v, 4 * k));
  return b;
}

function i64le(values: bigint[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, k) => b.writeBigInt64LE(v, 8 * k));
  return b;
}

function bytesTensor(values: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(
    values.flatMap((v) => {
      const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
      return [u32le([bytes.length]), bytes];
    }),
  );
}

/** A request as sent: its JSON object, and the binary parts after it (none: no header). */
interface Wire {
  header: Body;
  parts: Buffer[];
  /** Send the JSON alone, without Inference-Header-Content-Length. */
  noBinaryPart?: boolean;
}

function encodeWire(wire: Wire): { body: Buffer; headerLength: string | undefined } {
  const json = Buffer.from(JSON.stringify(wire.header), 'utf8');
  if (wire.noBinaryPart) return { body: json, headerLength: undefined };
  return { body: Buffer.concat([json, ...wire.parts]), headerLength: String(json.length) };
}

/** What the HTTP handler does with a request body: split it, then parse it. */
function parseWire(wire: Wire, signature = SIGNATURE, limits = LIMITS) {
  const { body, headerLength } = encodeWire(wire);
  const { json, binary } = splitInferBody(body, headerLength);
  return parseInferRequest(json, signature, limits, binary);
}

function binaryRejection(wire: Wire, signature = SIGNATURE, limits = LIMITS): OipError {
  try {
    parseWire(wire, signature, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(OipError);
    return error as OipError;
  }
  throw new Error(`expected a rejection, but the request parsed: ${JSON.stringify(wire.header)}`);
}

/**
 * validBody() with features (FP32 [2, 3]), ids (INT64 [2]) and text (BYTES [2]) as binary data,
 * flags (BOOL [2, 2]) left in JSON between them: the same tensors.
 */
function binaryWire(): Wire {
  const header = validBody();
  const parts = [
    f32le([0.5, 1, 1.5, 2, 2.5, 3]),
    i64le([7n, 9223372036854775807n]),
    bytesTensor(['héllo', '']),
  ];
  [0, 1, 3].forEach((i, p) => {
    delete header.inputs[i].data;
    header.inputs[i].parameters = { binary_data_size: parts[p].length };
  });
  return { header, parts };
}

describe('the examples of inference_rest.md', () => {
  // "Inference Request Examples", verbatim.
  const SPEC_REQUEST = {
    id: '42',
    inputs: [
      { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
      { name: 'input1', shape: [3], datatype: 'BOOL', data: [true] },
    ],
    outputs: [{ name: 'output0' }],
  };
  // The document's model, with INT32 for its UINT32 (which this server does not take).
  const SPEC_MODEL: ModelSignature = {
    batchable: false,
    inputs: [
      { name: 'input0', datatype: 'INT32', shape: [2, 2] },
      { name: 'input1', datatype: 'BOOL', shape: [3] },
    ],
    outputs: [{ name: 'output0', datatype: 'FP32', shape: [3, 2] }],
  };

  it('refuses the example request as written: UINT32, then 1 value for shape [3]', () => {
    expect400(SPEC_REQUEST, SPEC_MODEL, "input 'input0'", 'datatype UINT32 is not supported');
    const int32 = structuredClone(SPEC_REQUEST);
    int32.inputs[0].datatype = 'INT32';
    expect400(int32, SPEC_MODEL, "input 'input1'", 'shape [3] needs 3 values', "'data' has 1");
  });

  it('parses the example request once its data is consistent', () => {
    const fixed = structuredClone(SPEC_REQUEST);
    fixed.inputs[0].datatype = 'INT32';
    fixed.inputs[1].data = [true, false, true];
    const parsed = parseInferRequest(fixed, SPEC_MODEL, LIMITS);
    expect(parsed).toEqual({
      id: '42',
      parameters: {},
      inputs: {
        input0: { datatype: 'INT32', shape: [2, 2], data: Int32Array.of(1, 2, 3, 4) },
        input1: { datatype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
      },
      outputs: ['output0'],
      rows: 1,
    });
  });

  it('builds the example response (plus the model_name the schema requires)', () => {
    const spec = [1.0, 1.1, 2.0, 2.1, 3.0, 3.1];
    const body = inferResponse(
      'mymodel',
      undefined,
      '42',
      { output0: { datatype: 'FP32', shape: [3, 2], data: Float32Array.from(spec) } },
      ['output0'],
    );
    const wire = JSON.parse(JSON.stringify(body));
    expect(Object.keys(wire).sort()).toEqual(['id', 'model_name', 'outputs']);
    expect(wire.id).toBe('42');
    expect(wire.model_name).toBe('mymodel');
    expect(wire.outputs).toHaveLength(1);
    const [out] = wire.outputs;
    expect(Object.keys(out).sort()).toEqual(['data', 'datatype', 'name', 'shape']);
    expect(out).toMatchObject({ name: 'output0', shape: [3, 2], datatype: 'FP32' });
    // FP32 values come back as the doubles nearest them: 1.1 as 1.100000023841858.
    expect(out.data).toEqual(spec.map(Math.fround));
    out.data.forEach((v: number, k: number) => expect(v).toBeCloseTo(spec[k], 6));
  });

  it('reads "Tensor Data"\'s matrix the same nested and flat', () => {
    const model = single('INT32', [2, 2]);
    const nested = parseInferRequest(
      body1(
        'INT32',
        [2, 2],
        [
          [1, 2],
          [4, 5],
        ],
      ),
      model,
      LIMITS,
    );
    const flat = parseInferRequest(body1('INT32', [2, 2], [1, 2, 4, 5]), model, LIMITS);
    expect(nested.inputs.x.data).toEqual(Int32Array.of(1, 2, 4, 5));
    expect(flat.inputs).toEqual(nested.inputs);
  });

  it("takes Triton's binary tensor data example (extension_binary_data.md)", () => {
    // "Examples", verbatim: 16 bytes for input0 (UINT32 [2, 2]), 3 for input1 (BOOL [3]).
    const header: Body = {
      model_name: 'mymodel',
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }],
    };
    const parts = [u32le([1, 2, 3, 4]), Buffer.from([1, 0, 1])];
    expect(parts.map((p) => p.length)).toEqual([16, 3]);
    const asWritten = binaryRejection({ header, parts }, SPEC_MODEL);
    expect(asWritten.status).toBe(400);
    expect(asWritten.message).toContain('datatype UINT32 is not supported');

    // With INT32, the model this server can serve: the same 19 bytes.
    header.inputs[0].datatype = 'INT32';
    const parsed = parseWire({ header, parts }, SPEC_MODEL);
    expect(parsed.inputs).toEqual({
      input0: { datatype: 'INT32', shape: [2, 2], data: Int32Array.of(1, 2, 3, 4) },
      input1: { datatype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
    });
    expect(parsed.outputs).toEqual(['output0']);
    expect(parsed.binaryOutputs).toEqual(['output0']);

    // binary_data: false asks for JSON.
    const json = structuredClone(header);
    json.outputs[0].parameters.binary_data = false;
    const jsonParsed = parseWire({ header: json, parts }, SPEC_MODEL);
    expect(jsonParsed.outputs).toEqual(['output0']);
    expect('binaryOutputs' in jsonParsed).toBe(false);
  });
});

describe('parseInferRequest', () => {
  it('builds typed arrays from a valid request', () => {
    const parsed = parseInferRequest(validBody(), SIGNATURE, LIMITS);
    expect(parsed.id).toBe('req-1');
    expect(parsed.parameters).toEqual({ trace: true });
    expect(parsed.rows).toBe(2);
    expect(parsed.outputs).toEqual(['label']);
    expect(parsed.inputs.features).toEqual({
      datatype: 'FP32',
      shape: [2, 3],
      data: Float32Array.of(0.5, 1, 1.5, 2, 2.5, 3),
    });
    expect(parsed.inputs.ids.data).toEqual(BigInt64Array.of(7n, 9223372036854775807n));
    expect(parsed.inputs.flags.data).toEqual(Uint8Array.of(1, 0, 0, 1));
    expect(parsed.inputs.text.data).toEqual(['héllo', '']);
  });

  it('passes parameters through, server-specific values included', () => {
    const parameters = { entity_ids: ['u1', 'u2'], priority: 2 };
    expect(parseInferRequest({ ...validBody(), parameters }, SIGNATURE, LIMITS).parameters).toEqual(
      parameters,
    );
  });

  it('leaves out id and outputs when the request has none (or null, or an empty list)', () => {
    for (const extra of [{}, { id: null, outputs: null, parameters: null }, { outputs: [] }]) {
      const body = { ...validBody(), id: undefined, outputs: undefined, ...extra };
      const parsed = parseInferRequest(body, SIGNATURE, LIMITS);
      expect('id' in parsed).toBe(false);
      expect('outputs' in parsed).toBe(false);
    }
  });

  it('takes nested and flat data as the same tensor, for every datatype', () => {
    const cases: [TensorData['datatype'], unknown[][], unknown[]][] = [
      [
        'FP32',
        [
          [1.5, -2],
          [0, 3],
        ],
        [1.5, -2, 0, 3],
      ],
      [
        'FP64',
        [
          [1e300, -2],
          [0.1, 3],
        ],
        [1e300, -2, 0.1, 3],
      ],
      [
        'INT32',
        [
          [2147483647, -2147483648],
          [0, 3],
        ],
        [2147483647, -2147483648, 0, 3],
      ],
      [
        'INT64',
        [
          ['-9223372036854775808', 2],
          [0, 3],
        ],
        ['-9223372036854775808', 2, 0, 3],
      ],
      [
        'BOOL',
        [
          [true, false],
          [false, true],
        ],
        [true, false, false, true],
      ],
      [
        'BYTES',
        [
          ['a', 'b'],
          ['', 'd'],
        ],
        ['a', 'b', '', 'd'],
      ],
    ];
    for (const [datatype, nested, flat] of cases) {
      const model = single(datatype, [-1, 2], true);
      const a = parseInferRequest(body1(datatype, [2, 2], nested), model, LIMITS);
      const b = parseInferRequest(body1(datatype, [2, 2], flat), model, LIMITS);
      expect(a.inputs.x).toEqual(b.inputs.x);
      expect(a.rows).toBe(2);
      expect(canonicalInputKey(a.inputs)).toBe(canonicalInputKey(b.inputs));
    }
    const rank3 = single('INT32', [2, 2, 2]);
    const deep = parseInferRequest(
      body1(
        'INT32',
        [2, 2, 2],
        [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [7, 8],
          ],
        ],
      ),
      rank3,
      LIMITS,
    );
    expect(deep.inputs.x.data).toEqual(Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });

  it('takes INT64 values beyond 2^53 as decimal strings, exactly', () => {
    const model = single('INT64', [-1], true);
    const values = ['9007199254740993', '-9223372036854775808', '9223372036854775807', '-0', 42];
    const parsed = parseInferRequest(body1('INT64', [5], values), model, LIMITS);
    expect(parsed.inputs.x.data).toEqual(
      BigInt64Array.of(9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n, 0n, 42n),
    );
  });

  it('rounds FP32 inputs to float32 and takes the largest finite float32', () => {
    const model = single('FP32', [-1], true);
    const parsed = parseInferRequest(
      body1('FP32', [3], [0.1, 3.4028234663852886e38, -3.4028234663852886e38]),
      model,
      LIMITS,
    );
    expect(parsed.inputs.x.data).toEqual(
      Float32Array.of(0.1, 3.4028234663852886e38, -3.4028234663852886e38),
    );
  });

  describe('refuses, naming the tensor and the problem', () => {
    // Edits of validBody(): inputs are 0 features (FP32 [2, 3]), 1 ids (INT64 [2]),
    // 2 flags (BOOL [2, 2]), 3 text (BYTES [2]).
    const top = (patch: Body) => (b: Body) => ({ ...b, ...patch });
    const edit = (i: number, patch: Body) => (b: Body) => {
      Object.assign(b.inputs[i], patch);
      return b;
    };
    const drop = (i: number, field: string) => (b: Body) => {
      delete b.inputs[i][field];
      return b;
    };
    const value = (i: number, k: number, v: unknown) => (b: Body) => {
      b.inputs[i].data[k] = v;
      return b;
    };
    const inputs = (f: (list: unknown[]) => unknown[]) => (b: Body) => ({
      ...b,
      inputs: f(b.inputs),
    });

    type Case = [string, (b: Body) => unknown, ...string[]];
    // One case a line: title, edit, then what the message must contain.
    // prettier-ignore
    const cases: Case[] = [
      ['a body that is not an object', () => [1, 2], 'must be a JSON object'],
      ['a null body', () => null, 'must be a JSON object', 'got null'],
      ['a string body', () => '{"inputs": []}', 'must be a JSON object'],
      ['a non-string id', top({ id: 42 }), "'id' must be a string"],
      ['parameters not an object', top({ parameters: [1] }), "'parameters' must be an object"],
      ['missing inputs', top({ inputs: undefined }), "no 'inputs'", "'features', 'ids', 'flags', 'text'"],
      ['empty inputs', top({ inputs: [] }), "'inputs' is empty", "expects 'features'"],
      ['inputs not an array', top({ inputs: { features: [1] } }), "'inputs' must be an array"],
      ['an input not an object', inputs((l) => [...l, 7]), 'inputs[4] must be a tensor object'],
      ['an input without a name', drop(1, 'name'), "inputs[1] needs a string 'name'"],
      ['an unknown input', edit(0, { name: 'featurez' }), "unknown input 'featurez'", "the model expects 'features', 'ids', 'flags', 'text'"],
      ['an inherited property name', edit(0, { name: 'constructor' }), "unknown input 'constructor'"],
      ['a duplicate input', inputs((l) => [...l, l[2]]), "input 'flags' appears more than once"],
      ['a missing required input', inputs((l) => l.slice(0, 2)), "missing required inputs 'flags', 'text'"],
      ['FP16', edit(0, { datatype: 'FP16' }), "input 'features'", 'datatype FP16 is not supported'],
      ['UINT8', edit(2, { datatype: 'UINT8' }), "input 'flags'", 'datatype UINT8 is not supported'],
      ['a lower-case datatype', edit(0, { datatype: 'fp32' }), "input 'features'", 'fp32 is not supported', 'upper-case'],
      ['a numeric datatype', edit(0, { datatype: 32 }), "input 'features'", "'datatype' must be a string"],
      ["another datatype than the model's", edit(0, { datatype: 'FP64' }), "input 'features'", 'expected FP32, got FP64'],
      ['a shape not an array', edit(0, { shape: '2,3' }), "input 'features'", "'shape' must be an array"],
      ['a negative dimension', edit(1, { shape: [-2] }), "input 'ids'", 'shape[0] is -2', 'non-negative integers'],
      ['a fractional dimension', edit(0, { shape: [2, 1.5] }), "input 'features'", 'shape[1] is 1.5'],
      ['a string dimension', edit(0, { shape: [2, '3'] }), "input 'features'", 'shape[1] is "3"'],
      ["another rank than the model's", edit(0, { shape: [6] }), "input 'features'", 'rank 1', 'expects rank 2'],
      ['another fixed dimension', edit(0, { shape: [3, 2] }), "input 'features'", 'dimension 1 is 2, the model expects 3'],
      ['missing data', drop(3, 'data'), "input 'text'", "'data' must be a JSON array"],
      ['too few values', edit(0, { data: [1, 2, 3, 4, 5] }), "input 'features'", 'needs 6 values', "'data' has 5"],
      ['too many values', edit(2, { data: [true, true, true, true, true] }), "input 'flags'", 'needs 4 values', "'data' has 5"],
      ['ragged nested data', edit(0, { data: [ [1, 2, 3], [4, 5], ], }), "input 'features'", 'data[1] has 2 elements, dimension 1 is 3'],
      ['short nested data', edit(0, { data: [[1, 2, 3]] }), "input 'features'", 'data has 1 elements, dimension 0 is 2'],
      ['data nested too deep', edit(1, { data: [[7], [8]] }), "input 'ids'", 'data[0] is an array'],
      ['half-nested data', edit(0, { data: [[1, 2, 3], 4] }), "input 'features'", 'data[1] is 4, expected an array of 3'],
      ['an array in flat data', value(0, 3, [4]), "input 'features'", 'data[3] is an array of 1', 'finite number'],
      ['"NaN" for FP32', value(0, 2, 'NaN'), "input 'features' (FP32)", 'data[2] is "NaN"', 'finite number'],
      ['"Infinity", nested', edit(0, { data: [ [1, 2, 3], [4, 'Infinity', 6], ], }), "input 'features' (FP32)", 'data[1][1] is "Infinity"'],
      ['NaN (not from JSON)', value(0, 0, NaN), "input 'features' (FP32)", 'data[0] is NaN'],
      ['a float32 overflow', value(0, 4, 3.5e38), "input 'features' (FP32)", 'data[4] is 3.5e+38', 'overflows FP32'],
      ['a negative float32 overflow', value(0, 0, -1e39), "input 'features' (FP32)", 'overflows FP32'],
      ['a boolean for FP32', value(0, 1, true), "input 'features' (FP32)", 'data[1] is true'],
      ['a fraction for INT64', value(1, 0, 1.5), "input 'ids' (INT64)", 'data[0] is 1.5', 'an integer'],
      ['an unsafe INT64 number', value(1, 0, 2 ** 60), "input 'ids' (INT64)", 'safe integer', 'decimal strings'],
      ['an INT64 string past 2^63', value(1, 1, '9223372036854775808'), "input 'ids' (INT64)", 'data[1]', 'int64 range'],
      ['a long INT64 string', value(1, 1, '1'.repeat(400)), "input 'ids' (INT64)", 'int64 range'],
      ['a hex INT64 string', value(1, 1, '0x10'), "input 'ids' (INT64)", 'data[1] is "0x10"'],
      ['a number for BOOL', value(2, 3, 1), "input 'flags' (BOOL)", 'data[3] is 1', 'true or false'],
      ['a number for BYTES', value(3, 0, 5), "input 'text' (BYTES)", 'data[0] is 5', 'a string'],
      ['inputs disagreeing on rows', edit(1, { shape: [3], data: [1, 2, 3] }), 'batch (first) dimension', "input 'features' has 2 rows, input 'ids' has 3"],
      ['binary_data_size next to data', edit(3, { parameters: { binary_data_size: 12 } }), "input 'text'", "both 'data' and parameter 'binary_data_size'"],
      ['binary_data_size without a binary part', (b) => { delete b.inputs[3].data; b.inputs[3].parameters = { binary_data_size: 12 }; return b; }, "input 'text'", "'binary_data_size' is 12", 'no binary part', 'Inference-Header-Content-Length'],
      ['a shared-memory input', edit(3, { parameters: { shared_memory_region: 'r' } }), "input 'text'", 'shared-memory'],
      ['input parameters not an object', edit(0, { parameters: 'x' }), "input 'features'", "'parameters' must be an object"],
      ['outputs not an array', top({ outputs: 'label' }), "'outputs' must be an array"],
      ['an unknown output', top({ outputs: [{ name: 'logits' }] }), "unknown output 'logits'", "'probabilities', 'label'"],
      ['an output without a name', top({ outputs: [{}] }), "outputs[0] needs a string 'name'"],
      ['a duplicate output', top({ outputs: [{ name: 'label' }, { name: 'label' }] }), "output 'label' is requested more than once"],
      ['a classification output', top({ outputs: [{ name: 'label', parameters: { classification: 2 } }] }), "output 'label'", 'classification'],
    ];
    it.each(cases)('%s', (_title, mutate, ...parts) => {
      expect400(mutate(validBody()), SIGNATURE, ...parts);
    });
  });

  it('refuses 0 rows and more rows than the limit with 400', () => {
    const model = single('FP32', [-1, 2], true);
    expect400(body1('FP32', [0, 2], []), model, '0 rows');
    const rows = 65;
    const error = rejection(body1('FP32', [rows, 2], new Array(rows * 2).fill(0)), model);
    expect(error.status).toBe(400);
    expect(error.message).toContain('65 rows exceed the limit 64');
    // Decided from the shape alone: the data is never read.
    expect(rejection(body1('FP32', [1e12, 2], []), model).message).toContain(
      '1000000000000 rows exceed the limit 64',
    );
  });

  it('refuses more elements than the limit with 413, before reading the data', () => {
    const model = single('FP32', [-1, -1], false);
    const limits = { maxRows: 64, maxElements: 1000 };
    const over = rejection(body1('FP32', [10, 101], []), model, limits);
    expect(over.status).toBe(413);
    expect(over.message).toContain('1010 elements');
    expect(over.message).toContain('limit 1000');
    expect(over.message).toContain("input 'x'");
    const huge = rejection(body1('FP32', [2 ** 40, 2 ** 40], []), model, limits);
    expect(huge.status).toBe(413);
    // At the limit is fine.
    const at = parseInferRequest(body1('FP32', [10, 100], new Array(1000).fill(1)), model, limits);
    expect(at.inputs.x.data).toHaveLength(1000);
    expect(at.rows).toBe(1);
  });

  it('counts elements across inputs', () => {
    const limits = { maxRows: 64, maxElements: 15 };
    // Two rows: 6 + 2 + 4 + 2 = 14 elements; three rows: 9 + 3 + 6 + 3 = 21.
    expect(parseInferRequest(validBody(), SIGNATURE, limits).rows).toBe(2);
    const three = validBody();
    three.inputs[0] = { ...three.inputs[0], shape: [3, 3], data: new Array(9).fill(0) };
    three.inputs[1] = { ...three.inputs[1], shape: [3], data: [1, 2, 3] };
    three.inputs[2] = { ...three.inputs[2], shape: [3, 2], data: new Array(6).fill(true) };
    three.inputs[3] = { ...three.inputs[3], shape: [3], data: ['a', 'b', 'c'] };
    const over = rejection(three, SIGNATURE, limits);
    expect(over.status).toBe(413);
    expect(over.message).toContain('limit 15');
  });

  it('never throws anything but OipError 400/413 on 2,000 malformed bodies, JSON and binary', () => {
    const rng = new Rng(20240611);
    const limits = { maxRows: 8, maxElements: 40 };
    type Outcomes = Record<'parsed' | 400 | 413, number>;
    const outcomes: Record<'json' | 'binary', Outcomes> = {
      json: { parsed: 0, 400: 0, 413: 0 },
      binary: { parsed: 0, 400: 0, 413: 0 },
    };
    for (let trial = 0; trial < 2000; trial += 1) {
      const kind = rng.bernoulli(0.5) ? 'json' : 'binary';
      let shown: unknown;
      let parse: () => ParsedInferRequest;
      if (kind === 'json') {
        const body = malformed(rng);
        [shown, parse] = [body, () => parseInferRequest(body, SIGNATURE, limits)];
      } else {
        const wire = malformedBinary(rng);
        const { body, headerLength } = encodeFuzzWire(wire, rng);
        [shown, parse] = [wire.header, () => parseSplit(body, headerLength, limits)];
      }
      try {
        const parsed = parse();
        // What parses is whole: every tensor of its shape, in its datatype's array.
        for (const tensor of Object.values(parsed.inputs)) {
          expect(isArrayOf(tensor.datatype, tensor.data)).toBe(true);
          expect(tensor.data.length).toBe(elementCount(tensor.shape));
        }
        outcomes[kind].parsed += 1;
      } catch (error) {
        if (!(error instanceof OipError) || (error.status !== 400 && error.status !== 413)) {
          throw new Error(`trial ${trial}: ${String(error)} for ${safeJson(shown)}`);
        }
        expect(error.message.length).toBeGreaterThan(10);
        outcomes[kind][error.status] += 1;
      }
    }
    // The mutations reach past the first checks: some bodies survive, some hit the size limit.
    for (const kind of ['json', 'binary'] as const) {
      expect(outcomes[kind].parsed).toBeGreaterThan(20);
      expect(outcomes[kind][413]).toBeGreaterThan(10);
      expect(outcomes[kind][400]).toBeGreaterThan(500);
    }
  });
});

describe('binary tensor data (Triton extension)', () => {
  it('parses binary inputs, mixed with a JSON one, to the tensors of the JSON request', () => {
    const wire = binaryWire();
    const { body, headerLength } = encodeWire(wire);
    // The layout: the JSON object, then features (24 bytes), ids (16), text (4 + 6 + 4 + 0).
    expect(wire.parts.map((p) => p.length)).toEqual([24, 16, 14]);
    expect(body.length).toBe(Number(headerLength) + 54);
    expect(JSON.parse(body.subarray(0, Number(headerLength)).toString('utf8'))).toEqual(
      wire.header,
    );

    const fromJson = parseInferRequest(validBody(), SIGNATURE, LIMITS);
    const fromBinary = parseWire(wire);
    expect(fromBinary.inputs).toEqual(fromJson.inputs);
    expect(fromBinary.inputs.features.data).toBeInstanceOf(Float32Array);
    expect(fromBinary.inputs.ids.data).toBeInstanceOf(BigInt64Array);
    expect(fromBinary.inputs.text.data).toEqual(['héllo', '']);
    expect(fromBinary.id).toBe('req-1');
    expect(fromBinary.rows).toBe(2);
    expect(fromBinary.outputs).toEqual(['label']);
    expect('binaryOutputs' in fromBinary).toBe(false);
    expect(canonicalInputKey(fromBinary.inputs, fromBinary.outputs)).toBe(
      canonicalInputKey(fromJson.inputs, fromJson.outputs),
    );
  });

  it('reads values exactly: float32 bits, int64 extremes, -0, subnormals, UTF-8 with a BOM', () => {
    const model: ModelSignature = {
      batchable: false,
      inputs: [
        { name: 'f', datatype: 'FP32', shape: [4] },
        { name: 'd', datatype: 'FP64', shape: [3] },
        { name: 'i', datatype: 'INT32', shape: [2] },
        { name: 'l', datatype: 'INT64', shape: [3] },
        { name: 's', datatype: 'BYTES', shape: [3] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    };
    const f = [0.1, -0, 1e-45, 3.4028234663852886e38];
    const d = [Number.MIN_VALUE, -Number.MAX_VALUE, 0.1];
    const i = [-2147483648, 2147483647];
    const l = [-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n];
    const s = ['\ufeffbom', '日本語', '\u0000'];
    const parts = [f32le(f), f64le(d), i32le(i), i64le(l), bytesTensor(s)];
    const header = {
      inputs: model.inputs.map((spec, k) => ({
        name: spec.name,
        shape: spec.shape,
        datatype: spec.datatype,
        parameters: { binary_data_size: parts[k].length },
      })),
    };
    const parsed = parseWire({ header, parts }, model);
    expect(parsed.inputs.f.data).toEqual(Float32Array.from(f));
    expect(Object.is((parsed.inputs.f.data as Float32Array)[1], -0)).toBe(true);
    expect(parsed.inputs.d.data).toEqual(Float64Array.from(d));
    expect(parsed.inputs.i.data).toEqual(Int32Array.from(i));
    expect(parsed.inputs.l.data).toEqual(BigInt64Array.from(l));
    expect(parsed.inputs.s.data).toEqual(s);
  });

  it('reads tensors at unaligned offsets into fresh arrays (an odd-length BYTES tensor first)', () => {
    const model: ModelSignature = {
      batchable: true,
      inputs: [
        { name: 'text', datatype: 'BYTES', shape: [-1] },
        { name: 'x', datatype: 'FP32', shape: [-1, 2] },
        { name: 'n', datatype: 'INT64', shape: [-1] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    };
    const text = bytesTensor(['abc']); // 7 bytes: x starts at offset 7 of the binary part
    const x = f32le([1.5, -2.25]);
    const n = i64le([-5n]); // at offset 15
    const header = {
      inputs: [
        { name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 7 } },
        { name: 'x', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: 8 } },
        { name: 'n', shape: [1], datatype: 'INT64', parameters: { binary_data_size: 8 } },
      ],
    };
    const { body, headerLength } = encodeWire({ header, parts: [text, x, n] });
    const { json, binary } = splitInferBody(body, headerLength);
    // A view straight onto these bytes would throw: offsets must be multiples of the width.
    expect(() => new Float32Array(binary!.buffer, binary!.byteOffset + 7, 2)).toThrow(RangeError);
    const parsed = parseInferRequest(json, model, LIMITS, binary);
    expect(parsed.inputs.text.data).toEqual(['abc']);
    expect(parsed.inputs.x.data).toEqual(Float32Array.of(1.5, -2.25));
    expect(parsed.inputs.n.data).toEqual(BigInt64Array.of(-5n));
    // The tensors own their memory: the request body can be reused.
    body.fill(0xff);
    expect(parsed.inputs.x.data).toEqual(Float32Array.of(1.5, -2.25));
    expect(parsed.inputs.n.data).toEqual(BigInt64Array.of(-5n));
  });

  it('takes binary_data_size 0 for an empty tensor, with or without a binary part', () => {
    const model = single('FP32', [-1, 2], false);
    const header = {
      inputs: [{ name: 'x', shape: [0, 2], datatype: 'FP32', parameters: { binary_data_size: 0 } }],
    };
    for (const noBinaryPart of [false, true]) {
      const parsed = parseWire({ header, parts: [], noBinaryPart }, model);
      expect(parsed.inputs.x).toEqual({
        datatype: 'FP32',
        shape: [0, 2],
        data: new Float32Array(0),
      });
    }
  });

  describe('refuses, naming the tensor and the problem', () => {
    // Edits of binaryWire(): features (FP32 [2, 3], 24 bytes), ids (INT64 [2], 16 bytes) and
    // text (BYTES [2], 14 bytes) in binary; flags (BOOL [2, 2]) in JSON.
    type Edit = (w: Wire) => void;
    const size =
      (i: number, value: unknown): Edit =>
      (w) => {
        w.header.inputs[i].parameters = { binary_data_size: value };
      };
    const part =
      (p: number, bytes: Buffer, i: number): Edit =>
      (w) => {
        w.parts[p] = bytes;
        w.header.inputs[i].parameters = { binary_data_size: bytes.length };
      };
    const flagsBinary =
      (bytes: number[]): Edit =>
      (w) => {
        delete w.header.inputs[2].data;
        w.header.inputs[2].parameters = { binary_data_size: bytes.length };
        w.parts.splice(2, 0, Buffer.from(bytes));
      };
    const overrunLength = (w: Wire) => {
      w.parts[2] = Buffer.from(w.parts[2]);
      w.parts[2].writeUInt32LE(100, 0);
    };

    type Case = [string, Edit, ...string[]];
    // prettier-ignore
    const cases: Case[] = [
      ['binary_data_size without a binary part', (w) => (w.noBinaryPart = true), "input 'features'", "'binary_data_size' is 24", 'no binary part'],
      ['binary_data_size and data', (w) => (w.header.inputs[0].data = [1, 2, 3, 4, 5, 6]), "input 'features'", "both 'data' and parameter 'binary_data_size'"],
      ['a negative binary_data_size', size(0, -24), "input 'features'", "'binary_data_size' must be a non-negative integer", 'got -24'],
      ['a fractional binary_data_size', size(1, 15.5), "input 'ids'", 'non-negative integer', 'got 15.5'],
      ['a string binary_data_size', size(0, '24'), "input 'features'", 'non-negative integer', 'got "24"'],
      ['an unsafe binary_data_size', size(0, 2 ** 60), "input 'features'", 'non-negative integer'],
      ['an FP32 size that does not fit the shape', part(0, f32le([1, 2, 3, 4, 5]), 0), "input 'features' (FP32)", "'binary_data_size' is 20 bytes", 'shape [2, 3] needs 24 (6 elements of 4 bytes)'],
      ['an INT64 size that does not fit the shape', part(1, Buffer.alloc(12), 1), "input 'ids' (INT64)", 'is 12 bytes', 'shape [2] needs 16 (2 elements of 8 bytes)'],
      ['a BOOL size that does not fit the shape', flagsBinary([1, 0, 1]), "input 'flags' (BOOL)", 'is 3 bytes', 'needs 4 (4 elements of 1 byte)'],
      ['a binary part one byte short', (w) => (w.parts[2] = w.parts[2].subarray(0, 13)), 'the body has 53 bytes after its JSON object', "add up to 54 ('features' 24, 'ids' 16, 'text' 14)"],
      ['a binary part one byte long', (w) => w.parts.push(Buffer.of(0)), 'the body has 55 bytes', 'add up to 54'],
      ['no binary part at all', (w) => (w.parts = []), 'the body has 0 bytes', 'add up to 54'],
      ['binary bytes but no binary input', (w) => { w.header = validBody(); w.parts = [Buffer.alloc(4)]; }, '4 bytes after its JSON object', "no input declares parameter 'binary_data_size'"],
      ['NaN in FP32', part(0, f32le([1, 2, 3, 4, NaN, 6]), 0), "input 'features' (FP32)", 'binary element 4 (data[1][1]) is NaN', 'expected a finite number'],
      ['Infinity in FP32', part(0, f32le([-Infinity, 2, 3, 4, 5, 6]), 0), "input 'features' (FP32)", 'binary element 0 (data[0][0]) is -Infinity'],
      ['a BOOL byte 2', flagsBinary([1, 0, 2, 1]), "input 'flags' (BOOL)", 'binary element 2 (data[1][0]) is the byte 2', 'expected 0 (false) or 1 (true)'],
      ['a BYTES length past its data', overrunLength, "input 'text' (BYTES)", 'binary element 0 declares 100 bytes', 'only 10 of its binary_data_size 14 remain'],
      ['BYTES with fewer elements than the shape', part(2, bytesTensor(['héllo']), 3), "input 'text' (BYTES)", 'ends inside the length of binary element 1 (byte 10 of 10)', 'shape [2] has 2 elements'],
      ['BYTES with more elements than the shape', part(2, bytesTensor(['héllo', '', 'x']), 3), "input 'text' (BYTES)", '5 bytes of its binary_data_size 19 are left over after the 2 elements of shape [2]'],
      ['BYTES smaller than its lengths', part(2, Buffer.alloc(7), 3), "input 'text' (BYTES)", "'binary_data_size' is 7 bytes, too few", 'each a 4-byte length'],
      ['BYTES that are not UTF-8', part(2, bytesTensor(['ok', Uint8Array.of(0xc3, 0x28)]), 3), "input 'text' (BYTES)", 'binary element 1 is not valid UTF-8'],
      ['a non-boolean binary_data', (w) => (w.header.outputs = [{ name: 'label', parameters: { binary_data: 'true' } }]), "output 'label'", "parameter 'binary_data' must be true or false", 'got "true"'],
      ['a non-boolean binary_data_output', (w) => (w.header.parameters = { binary_data_output: 1 }), "'binary_data_output' must be true or false", 'got 1'],
      ['a shared-memory output', (w) => (w.header.outputs = [{ name: 'label', parameters: { shared_memory_region: 'r', binary_data: true } }]), "output 'label'", 'shared-memory'],
      ['a classification output', (w) => (w.header.outputs = [{ name: 'label', parameters: { classification: 2, binary_data: true } }]), "output 'label'", 'classification'],
    ];
    it.each(cases)('%s', (_title, mutate, ...parts) => {
      const wire = binaryWire();
      mutate(wire);
      const error = binaryRejection(wire);
      expect(error.status).toBe(400);
      for (const text of parts) expect(error.message).toContain(text);
    });

    it('FP64 Infinity, on a one-dimensional tensor', () => {
      const model = single('FP64', [-1], true);
      const header = {
        inputs: [{ name: 'x', shape: [2], datatype: 'FP64', parameters: { binary_data_size: 16 } }],
      };
      const error = binaryRejection({ header, parts: [f64le([1, Infinity])] }, model);
      expect(error.status).toBe(400);
      expect(error.message).toContain("input 'x' (FP64): binary element 1 is Infinity");
    });
  });

  it('applies the row and element limits from the shapes, before reading the binary part', () => {
    const model = single('FP32', [-1, -1], false);
    const limits = { maxRows: 64, maxElements: 1000 };
    const header = (shape: number[], size: number) => ({
      inputs: [{ name: 'x', shape, datatype: 'FP32', parameters: { binary_data_size: size } }],
    });
    // 4 bytes for 1010 elements: the limit answers first.
    const over = binaryRejection(
      { header: header([10, 101], 4), parts: [Buffer.alloc(4)] },
      model,
      limits,
    );
    expect(over.status).toBe(413);
    expect(over.message).toContain(
      "1010 elements in all, more than the limit 1000 (the largest, input 'x'",
    );
    const huge = binaryRejection(
      { header: header([2 ** 40, 2 ** 40], 0), parts: [] },
      model,
      limits,
    );
    expect(huge.status).toBe(413);
    const batchable = single('FP32', [-1, 2], true);
    const rows = binaryRejection(
      { header: header([65, 2], 520), parts: [Buffer.alloc(520)] },
      batchable,
    );
    expect(rows.status).toBe(400);
    expect(rows.message).toContain('65 rows exceed the limit 64');
    const at = parseWire(
      { header: header([10, 100], 4000), parts: [f32le(new Array(1000).fill(0.5))] },
      model,
      limits,
    );
    expect(at.inputs.x.data).toEqual(new Float32Array(1000).fill(0.5));
  });

  describe('binaryOutputs', () => {
    const outputsOf = (header: Body) =>
      parseInferRequest({ ...validBody(), ...header }, SIGNATURE, LIMITS);
    const both = [{ name: 'probabilities' }, { name: 'label' }];

    it("is 'all' for binary_data_output without outputs (tritonclient's default request)", () => {
      const parsed = outputsOf({ outputs: undefined, parameters: { binary_data_output: true } });
      expect(parsed.binaryOutputs).toBe('all');
      expect(parsed.outputs).toBeUndefined();
      // The parameter stays with the others (the handler passes them on).
      expect(parsed.parameters).toEqual({ binary_data_output: true });
      expect(
        outputsOf({ outputs: [], parameters: { binary_data_output: true } }).binaryOutputs,
      ).toBe('all');
    });

    it("is 'all' for binary_data_output with requested outputs that do not override it", () => {
      const parsed = outputsOf({ outputs: both, parameters: { binary_data_output: true } });
      expect(parsed.binaryOutputs).toBe('all');
      expect(parsed.outputs).toEqual(['probabilities', 'label']);
    });

    it('lets binary_data on an output override binary_data_output, either way', () => {
      const off = [
        { name: 'probabilities' },
        { name: 'label', parameters: { binary_data: false } },
      ];
      expect(
        outputsOf({ outputs: off, parameters: { binary_data_output: true } }).binaryOutputs,
      ).toEqual(['probabilities']);
      const on = [{ name: 'probabilities' }, { name: 'label', parameters: { binary_data: true } }];
      expect(
        outputsOf({ outputs: on, parameters: { binary_data_output: false } }).binaryOutputs,
      ).toEqual(['label']);
      expect(outputsOf({ outputs: on }).binaryOutputs).toEqual(['label']);
      const none = both.map((o) => ({ ...o, parameters: { binary_data: false } }));
      const parsed = outputsOf({ outputs: none, parameters: { binary_data_output: true } });
      expect('binaryOutputs' in parsed).toBe(false);
    });

    it('is left out when nothing asks for binary (false, null or absent)', () => {
      for (const header of [
        {},
        { parameters: { binary_data_output: false } },
        { parameters: { binary_data_output: null } },
        { outputs: [{ name: 'label', parameters: { binary_data: null } }] },
        { outputs: [{ name: 'label', parameters: { binary_data: false } }] },
      ]) {
        expect('binaryOutputs' in outputsOf(header)).toBe(false);
      }
    });
  });
});

describe('fuzz generator', () => {
  it('is deterministic for a seed', () => {
    const a = Array.from({ length: 20 }, (_, i) => safeJson(malformed(new Rng(i))));
    const b = Array.from({ length: 20 }, (_, i) => safeJson(malformed(new Rng(i))));
    expect(a).toEqual(b);
    const wire = (seed: number) => {
      const rng = new Rng(seed);
      const { body, headerLength } = encodeFuzzWire(malformedBinary(rng), rng);
      return [body?.toString('base64'), headerLength];
    };
    const c = Array.from({ length: 20 }, (_, i) => wire(i));
    expect(c).toEqual(Array.from({ length: 20 }, (_, i) => wire(i)));
  });

  it('builds valid binary requests before mutating them', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 50; i += 1) {
      const wire = randomBinaryWire(rng, rng.int(1, 4));
      const parsed = parseWire(wire, SIGNATURE, { maxRows: 8, maxElements: 1000 });
      expect(Object.keys(parsed.inputs).sort()).toEqual(['features', 'flags', 'ids', 'text']);
    }
  });
});

describe('inferResponse', () => {
  it('writes outputs in the given order, INT64 as numbers when safe, BOOL as booleans', () => {
    const outputs: Record<string, TensorData> = {
      label: { datatype: 'INT64', shape: [3], data: BigInt64Array.of(5n, 2n ** 60n, -(2n ** 63n)) },
      mask: { datatype: 'BOOL', shape: [2], data: Uint8Array.of(0, 1) },
      score: { datatype: 'FP64', shape: [1, 2], data: Float64Array.of(0.25, -1) },
      count: { datatype: 'INT32', shape: [1], data: Int32Array.of(-7) },
      name: { datatype: 'BYTES', shape: [1], data: ['ok'] },
    };
    const body = inferResponse(
      'm',
      '3',
      undefined,
      outputs,
      ['score', 'label', 'mask', 'count', 'name'],
      {
        batch: 2,
      },
    );
    expect(body).toEqual({
      model_name: 'm',
      model_version: '3',
      parameters: { batch: 2 },
      outputs: [
        { name: 'score', shape: [1, 2], datatype: 'FP64', data: [0.25, -1] },
        {
          name: 'label',
          shape: [3],
          datatype: 'INT64',
          data: [5, '1152921504606846976', '-9223372036854775808'],
        },
        { name: 'mask', shape: [2], datatype: 'BOOL', data: [false, true] },
        { name: 'count', shape: [1], datatype: 'INT32', data: [-7] },
        { name: 'name', shape: [1], datatype: 'BYTES', data: ['ok'] },
      ],
    });
    expect('id' in body).toBe(false);
    // Only the requested outputs, in the requested order.
    expect(
      inferResponse('m', undefined, 'r', outputs, ['mask']).outputs.map((o) => o.name),
    ).toEqual(['mask']);
  });

  it('round-trips through parseInferRequest', () => {
    const parsed = parseInferRequest(validBody(), SIGNATURE, LIMITS);
    const body = inferResponse('m', undefined, parsed.id, parsed.inputs, [
      'features',
      'ids',
      'flags',
      'text',
    ]);
    const again = parseInferRequest(
      { id: body.id, inputs: JSON.parse(JSON.stringify(body.outputs)) },
      SIGNATURE,
      LIMITS,
    );
    expect(again.inputs).toEqual(parsed.inputs);
  });

  it('treats a missing output as a server bug, not a client error', () => {
    expect(() => inferResponse('m', undefined, undefined, {}, ['y'])).toThrow(Error);
    expect(() => inferResponse('m', undefined, undefined, {}, ['y'])).not.toThrow(OipError);
  });
});

/**
 * A binary response read as tritonclient's InferResult does: the JSON from the first
 * headerLength bytes, then each output with parameters.binary_data_size takes the next that many
 * bytes, in the order of 'outputs'; those bytes decoded as numpy would (`np.frombuffer`,
 * `deserialize_bytes_tensor`). Returns each output's values, and its JSON entry.
 */
function readBinaryResponse(response: OipBinaryResponse) {
  const body = Buffer.concat([response.header, ...response.binary]);
  const json = JSON.parse(body.subarray(0, response.headerLength).toString('utf8'));
  const values: Record<string, unknown[]> = {};
  let at = response.headerLength;
  for (const output of json.outputs) {
    const size: unknown = output.parameters?.binary_data_size;
    if (size === undefined) {
      values[output.name] = output.data;
      continue;
    }
    expect(output).not.toHaveProperty('data');
    const bytes = body.subarray(at, at + (size as number));
    at += size as number;
    values[output.name] = decodeLittleEndian(output.datatype, bytes);
  }
  expect(at).toBe(body.length);
  return { json, values };
}

function decodeLittleEndian(datatype: string, bytes: Buffer): unknown[] {
  const out: unknown[] = [];
  switch (datatype) {
    case 'FP32':
      for (let at = 0; at < bytes.length; at += 4) out.push(bytes.readFloatLE(at));
      return out;
    case 'FP64':
      for (let at = 0; at < bytes.length; at += 8) out.push(bytes.readDoubleLE(at));
      return out;
    case 'INT32':
      for (let at = 0; at < bytes.length; at += 4) out.push(bytes.readInt32LE(at));
      return out;
    case 'INT64':
      for (let at = 0; at < bytes.length; at += 8) out.push(bytes.readBigInt64LE(at));
      return out;
    case 'BOOL':
      return [...bytes];
    case 'BYTES':
      for (let at = 0; at < bytes.length;) {
        const length = bytes.readUInt32LE(at);
        out.push(bytes.subarray(at + 4, at + 4 + length).toString('utf8'));
        at += 4 + length;
      }
      return out;
    default:
      throw new Error(`no decoder for ${datatype}`);
  }
}

describe('inferResponseBinary', () => {
  const outputs = (): Record<string, TensorData> => ({
    score: { datatype: 'FP32', shape: [2, 2], data: Float32Array.of(0.1, -0, 3.5, 1e-45) },
    exact: { datatype: 'FP64', shape: [1], data: Float64Array.of(0.1) },
    count: { datatype: 'INT32', shape: [2], data: Int32Array.of(-7, 2147483647) },
    label: { datatype: 'INT64', shape: [3], data: BigInt64Array.of(5n, 2n ** 60n, -(2n ** 63n)) },
    mask: { datatype: 'BOOL', shape: [3], data: Uint8Array.of(0, 1, 1) },
    name: { datatype: 'BYTES', shape: [3], data: ['ok', '', 'héllo 日本'] },
  });
  const ORDER = ['score', 'exact', 'count', 'label', 'mask', 'name'];

  it('round-trips every datatype through the bytes, as tritonclient reads them', () => {
    const tensors = outputs();
    const response = inferResponseBinary('m', '3', 'r-1', tensors, ORDER, 'all', { batch: 2 });
    expect(response.headerLength).toBe(response.header.length);
    expect(response.binary.map((b) => b.length)).toEqual([16, 8, 8, 24, 3, 4 + 2 + 4 + 4 + 13]);
    const { json, values } = readBinaryResponse(response);
    expect(json).toMatchObject({
      model_name: 'm',
      model_version: '3',
      id: 'r-1',
      parameters: { batch: 2 },
    });
    expect(json.outputs.map((o: Body) => o.name)).toEqual(ORDER);
    expect(json.outputs[0]).toEqual({
      name: 'score',
      shape: [2, 2],
      datatype: 'FP32',
      parameters: { binary_data_size: 16 },
    });
    expect(values.score).toEqual(Array.from(tensors.score.data as Float32Array));
    expect(Object.is(values.score[1], -0)).toBe(true);
    expect(values.exact).toEqual([0.1]);
    expect(values.count).toEqual([-7, 2147483647]);
    expect(values.label).toEqual([5n, 2n ** 60n, -(2n ** 63n)]);
    expect(values.mask).toEqual([0, 1, 1]);
    expect(values.name).toEqual(['ok', '', 'héllo 日本']);
  });

  it('keeps JSON data for the outputs not asked for as binary, in the same order', () => {
    const tensors = outputs();
    const response = inferResponseBinary(
      'm',
      undefined,
      undefined,
      tensors,
      ['score', 'label', 'mask'],
      ['label'],
    );
    expect(response.binary).toHaveLength(1);
    const { json, values } = readBinaryResponse(response);
    expect(Object.keys(json).sort()).toEqual(['model_name', 'outputs']);
    const asJson = inferResponse('m', undefined, undefined, tensors, ['score', 'mask']).outputs;
    expect(json.outputs[0]).toEqual(JSON.parse(JSON.stringify(asJson[0])));
    expect(json.outputs[2]).toEqual(JSON.parse(JSON.stringify(asJson[1])));
    expect(json.outputs[1]).toEqual({
      name: 'label',
      shape: [3],
      datatype: 'INT64',
      parameters: { binary_data_size: 24 },
    });
    expect(values.label).toEqual([5n, 2n ** 60n, -(2n ** 63n)]);
    // Names outside `order` are ignored; an empty list sends everything as JSON.
    const none = inferResponseBinary('m', undefined, undefined, tensors, ['mask'], ['nope']);
    expect(none.binary).toEqual([]);
    expect(JSON.parse(none.header.toString('utf8')).outputs[0].data).toEqual([false, true, true]);
  });

  it('sends an output without elements as binary_data_size 0 and no bytes', () => {
    const empty: TensorData = { datatype: 'FP32', shape: [0, 3], data: new Float32Array(0) };
    const response = inferResponseBinary('m', undefined, undefined, { y: empty }, ['y'], 'all');
    expect(response.binary).toEqual([Buffer.alloc(0)]);
    expect(JSON.parse(response.header.toString('utf8')).outputs[0].parameters).toEqual({
      binary_data_size: 0,
    });
  });

  it('copies the tensors: later changes to an output do not reach the bytes', () => {
    const tensors = outputs();
    const response = inferResponseBinary(
      'm',
      undefined,
      undefined,
      tensors,
      ['count', 'mask'],
      'all',
    );
    (tensors.count.data as Int32Array)[0] = 99;
    (tensors.mask.data as Uint8Array)[0] = 1;
    expect(readBinaryResponse(response).values).toEqual({
      count: [-7, 2147483647],
      mask: [0, 1, 1],
    });
  });

  it('writes BOOL values other than 0 as 1', () => {
    const mask: TensorData = { datatype: 'BOOL', shape: [3], data: Uint8Array.of(0, 2, 255) };
    const response = inferResponseBinary('m', undefined, undefined, { mask }, ['mask'], 'all');
    expect([...response.binary[0]]).toEqual([0, 1, 1]);
  });

  it('reads back as a binary request with the same tensors (and cache key)', () => {
    const parsed = parseWire(binaryWire());
    const order = ['features', 'ids', 'flags', 'text'];
    const response = inferResponseBinary('m', undefined, parsed.id, parsed.inputs, order, [
      'features',
      'ids',
      'text',
    ]);
    const header = JSON.parse(response.header.toString('utf8'));
    const again = parseWire({ header: { inputs: header.outputs }, parts: response.binary });
    expect(again.inputs).toEqual(parsed.inputs);
    expect(canonicalInputKey(again.inputs)).toBe(canonicalInputKey(parsed.inputs));
  });

  it('treats a missing output as a server bug, not a client error', () => {
    const call = () => inferResponseBinary('m', undefined, undefined, {}, ['y'], 'all');
    expect(call).toThrow(Error);
    expect(call).not.toThrow(OipError);
  });
});

describe('splitInferBody', () => {
  const json = { inputs: [] };
  const header = Buffer.from(JSON.stringify(json));
  const tail = Buffer.of(1, 2, 3);
  const body = Buffer.concat([header, tail]);

  it('reads the whole body as JSON without Inference-Header-Content-Length', () => {
    const split = splitInferBody(header, undefined);
    expect(split.json).toEqual(json);
    expect('binary' in split).toBe(false);
    expect(splitInferBody(header, []).json).toEqual(json);
  });

  it('splits the body at the header length', () => {
    for (const value of [String(header.length), [String(header.length)]]) {
      const split = splitInferBody(body, value);
      expect(split.json).toEqual(json);
      expect([...split.binary!]).toEqual([1, 2, 3]);
    }
    const all = splitInferBody(header, String(header.length));
    expect(all.binary).toHaveLength(0);
  });

  it('refuses bodies that are not JSON with the message the handler used', () => {
    const error = captureOip(() => splitInferBody(Buffer.from('{"inputs": ['), undefined));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^the body is not valid JSON: /);
    // The header length cuts the JSON short.
    const cut = captureOip(() => splitInferBody(body, String(header.length - 1)));
    expect(cut.status).toBe(400);
    expect(cut.message).toContain(
      `the body is not valid JSON: its first ${header.length - 1} bytes`,
    );
    // Or takes binary bytes into it.
    expect(captureOip(() => splitInferBody(body, String(header.length + 1))).status).toBe(400);
  });

  it.each([['abc'], ['-1'], ['1.5'], [''], ['1e3'], ['12, 12'], ['99999999999999999999']])(
    'refuses the header value %j',
    (value) => {
      const error = captureOip(() => splitInferBody(body, value));
      expect(error.status).toBe(400);
      expect(error.message).toContain('Inference-Header-Content-Length header must be the length');
    },
  );

  it('refuses a header length past the body, a raw binary request, a repeated header', () => {
    const past = captureOip(() => splitInferBody(body, String(body.length + 1)));
    expect(past.status).toBe(400);
    expect(past.message).toContain(
      `is ${body.length + 1}, but the body has only ${body.length} bytes`,
    );
    const raw = captureOip(() => splitInferBody(body, '0'));
    expect(raw.status).toBe(400);
    expect(raw.message).toContain('raw binary request');
    const twice = captureOip(() => splitInferBody(body, ['12', '12']));
    expect(twice.status).toBe(400);
    expect(twice.message).toContain('sent 2 times');
  });
});

function captureOip(call: () => unknown): OipError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(OipError);
    return error as OipError;
  }
  throw new Error('expected an OipError');
}

describe('metadata, health and error bodies', () => {
  it('server metadata has name, version and extensions', () => {
    expect(serverMetadata('mlops-inference', '0.1.0', [])).toEqual({
      name: 'mlops-inference',
      version: '0.1.0',
      extensions: [],
    });
  });

  it('model metadata lists tensors with -1 for variable dimensions', () => {
    expect(modelMetadata('churn', ['1', '2'], 'onnxruntime_onnx', SIGNATURE)).toEqual({
      name: 'churn',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [-1, 3] },
        { name: 'ids', datatype: 'INT64', shape: [-1] },
        { name: 'flags', datatype: 'BOOL', shape: [-1, 2] },
        { name: 'text', datatype: 'BYTES', shape: [-1] },
      ],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
    expect('versions' in modelMetadata('churn', [], 'onnxruntime_onnx', SIGNATURE)).toBe(false);
  });

  it('health and error bodies', () => {
    expect(serverLive(true)).toEqual({ live: true });
    expect(serverReady(false)).toEqual({ ready: false });
    expect(modelReady('churn', true)).toEqual({ name: 'churn', ready: true });
    expect(errorBody('bad input')).toEqual({ error: 'bad input' });
    const notFound = modelNotFound('churn', '7');
    expect(notFound.status).toBe(404);
    expect(notFound.message).toBe("version '7' of model 'churn' is not served here");
    expect(modelNotFound('churn').message).toBe("model 'churn' is not served here");
  });
});

describe('canonicalInputKey', () => {
  const base = (): Record<string, TensorData> => ({
    a: { datatype: 'FP32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
    b: { datatype: 'BYTES', shape: [2], data: ['ab', 'c'] },
    c: { datatype: 'INT64', shape: [1], data: BigInt64Array.of(2n ** 62n) },
  });
  const key = (inputs = base(), outputs?: string[]) => canonicalInputKey(inputs, outputs);

  it('is a sha256 hex that does not depend on input order', () => {
    const { a, b, c } = base();
    expect(key()).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalInputKey({ c, a, b })).toBe(key());
    expect(canonicalInputKey({ b, c, a })).toBe(key());
  });

  it('hashes a view by its own bytes, not its whole buffer', () => {
    const buffer = Float32Array.of(9, 1, 2, 3, 4, 9);
    const view = new Float32Array(buffer.buffer, 4, 4);
    expect(key({ ...base(), a: { datatype: 'FP32', shape: [2, 2], data: view } })).toBe(key());
  });

  it('changes with any value, shape, datatype, name or output selection', () => {
    const reference = key();
    const variants: Record<string, TensorData>[] = [];
    const push = (edit: (t: Record<string, TensorData>) => void) => {
      const t = base();
      edit(t);
      variants.push(t);
    };
    push((t) => ((t.a.data as Float32Array)[3] = 4.000001));
    push((t) => (t.a.shape = [4, 1]));
    push((t) => (t.a.shape = [4]));
    push((t) => (t.b.data = ['a', 'bc'])); // same bytes, other boundaries
    push((t) => (t.b.data = ['ab', 'c', '']));
    push((t) => ((t.c.data as BigInt64Array)[0] += 1n));
    push((t) => {
      // Same bytes, other datatype.
      const bytes = (t.a.data as Float32Array).buffer;
      t.a = { datatype: 'INT32', shape: [2, 2], data: new Int32Array(bytes) };
    });
    push((t) => {
      t.d = t.a;
      delete t.a;
    });
    push((t) => delete t.c);
    const keys = variants.map((v) => key(v));
    for (const k of keys) expect(k).not.toBe(reference);
    expect(new Set(keys).size).toBe(keys.length);

    const selections = [
      key(undefined, ['y']),
      key(undefined, ['y', 'z']),
      key(undefined, []),
      reference,
    ];
    expect(new Set(selections).size).toBe(4);
    expect(key(undefined, ['z', 'y'])).toBe(key(undefined, ['y', 'z']));
  });

  it('keeps tensor boundaries apart: a name cannot run into its datatype', () => {
    const x: TensorData = { datatype: 'FP32', shape: [1], data: Float32Array.of(1) };
    expect(canonicalInputKey({ ab: x })).not.toBe(canonicalInputKey({ a: x }));
    expect(canonicalInputKey({ a: x, b: x })).not.toBe(canonicalInputKey({ ab: x }));
  });

  it('hashes a million-element tensor from its bytes', () => {
    const big: TensorData = {
      datatype: 'FP32',
      shape: [1000, 1000],
      data: new Float32Array(1e6).fill(0.5),
    };
    const started = performance.now();
    const k = canonicalInputKey({ x: big });
    // Generous bound: JSON.stringify of the same data takes hundreds of milliseconds.
    expect(performance.now() - started).toBeLessThan(250);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing: valid bodies broken by one to three mutations from a table.

const SPECIAL_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  1e39,
  -Infinity,
  NaN,
  '',
  'NaN',
  'Infinity',
  '12',
  '-9223372036854775809',
  'FP16',
  '__proto__',
  'constructor',
  [],
  [[]],
  {},
  JSON.parse('{"__proto__": {"inputs": []}}'),
  { name: 'features' },
  { binary_data_size: 4 },
];

function randomValue(rng: Rng, depth = 0): unknown {
  const kind = rng.int(0, depth > 2 ? 3 : 5);
  switch (kind) {
    case 0:
      return rng.choice(SPECIAL_VALUES);
    case 1:
      return rng.bernoulli(0.5) ? rng.int(-5, 200) : rng.normal(0, 1e6);
    case 2:
      return rng.choice(['features', 'ids', 'flags', 'text', 'label', 'x', 'FP32', 'BOOL']);
    case 3:
      return Array.from({ length: rng.int(0, 5) }, () => randomValue(rng, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i -= 1) {
        const field = rng.choice([
          'name',
          'shape',
          'datatype',
          'data',
          'parameters',
          'inputs',
          'id',
        ]);
        out[field] = randomValue(rng, depth + 1);
      }
      return out;
    }
  }
}

const FIELDS = ['name', 'shape', 'datatype', 'data', 'parameters'] as const;

const MUTATIONS: ((b: Body, rng: Rng) => unknown)[] = [
  // Whole body replaced.
  (_b, rng) => randomValue(rng),
  // A top-level field replaced or removed.
  (b, rng) => ({ ...b, [rng.choice(['id', 'parameters', 'inputs', 'outputs'])]: randomValue(rng) }),
  (b, rng) => {
    delete b[rng.choice(['id', 'parameters', 'inputs', 'outputs'])];
    return b;
  },
  // A field of one input replaced or removed.
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input)) input[rng.choice(FIELDS)] = randomValue(rng);
    return b;
  },
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input)) delete input[rng.choice(FIELDS)];
    return b;
  },
  // One value or one dimension replaced.
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input) && Array.isArray(input.data) && input.data.length > 0) {
      input.data[rng.int(0, input.data.length)] = randomValue(rng);
    }
    return b;
  },
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input) && Array.isArray(input.shape) && input.shape.length > 0) {
      input.shape[rng.int(0, input.shape.length)] = rng.choice([0, 1, 2, 3, 9, 2 ** 40, -1, 2.5]);
    }
    return b;
  },
  // Rows scaled consistently on every input, which can cross the row and element limits.
  (b, rng) => {
    const rows = rng.choice([0, 1, 3, 8, 9, 40]);
    if (!Array.isArray(b.inputs)) return b;
    for (const input of b.inputs) {
      if (!isRecord(input) || !Array.isArray(input.shape) || !Array.isArray(input.data)) continue;
      const second: unknown = input.shape[1];
      const width =
        typeof second === 'number' && second >= 0 && second <= 16 ? Math.floor(second) : 1;
      input.shape = [rows, ...input.shape.slice(1)];
      const fill = input.data.length > 0 ? input.data[0] : 0;
      input.data = new Array(Math.max(0, rows * width)).fill(fill);
    }
    return b;
  },
  // Data nested, flattened wrongly, truncated or extended.
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input) && Array.isArray(input.data)) {
      const data = input.data;
      input.data = rng.choice([
        [data],
        data.map((v: unknown) => [v]),
        data.slice(1),
        [...data, data[0]],
      ]);
    }
    return b;
  },
  // Inputs duplicated, dropped or reordered (reordering is harmless).
  (b, rng) => {
    if (Array.isArray(b.inputs) && b.inputs.length > 0) {
      b.inputs = rng.choice([
        [...b.inputs, b.inputs[0]],
        b.inputs.slice(1),
        [...b.inputs].reverse(),
      ]);
    }
    return b;
  },
  // Datatypes swapped for other protocol names (and non-names).
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input)) {
      input.datatype = rng.choice([
        'FP16',
        'UINT8',
        'BF16',
        'INT8',
        'fp32',
        'FP32',
        'FP64',
        'INT64',
        'BOOL',
        'BYTES',
      ]);
    }
    return b;
  },
  // Extension parameters on an input or an output.
  (b, rng) => {
    const input = pick(b.inputs, rng);
    if (isRecord(input))
      input.parameters = rng.choice([
        { binary_data_size: 8 },
        { shared_memory_region: 'r' },
        { a: 1 },
      ]);
    return b;
  },
  (b, rng) => ({
    ...b,
    outputs: rng.choice([
      [{ name: 'label', parameters: { binary_data: true } }],
      [{ name: 'probabilities' }, { name: 'label' }],
      [{ name: 'nope' }],
      [{ name: 'label' }, { name: 'label' }],
      [{ name: 7 }],
    ]),
  }),
];

// Binary requests for the fuzz: valid ones with random values, each input in binary or in JSON,
// broken by one to three mutations of the binary part, of the sizes, or of the JSON (above).

const FUZZ_STRINGS = ['', 'a', 'héllo', '日本語', '\u0000', 'x'.repeat(40)];

/** n random values of a datatype, as JSON data and as binary tensor data. */
function randomValues(datatype: TensorData['datatype'], n: number, rng: Rng): [unknown[], Buffer] {
  switch (datatype) {
    case 'FP32': {
      const v = Array.from({ length: n }, () => Math.fround(rng.normal(0, 10)));
      return [v, f32le(v)];
    }
    case 'FP64': {
      const v = Array.from({ length: n }, () => rng.normal(0, 10));
      return [v, f64le(v)];
    }
    case 'INT32': {
      const v = Array.from({ length: n }, () => rng.int(-1000, 1000));
      return [v, i32le(v)];
    }
    case 'INT64': {
      const v = Array.from({ length: n }, () => rng.int(-1000, 1000));
      return [v, i64le(v.map(BigInt))];
    }
    case 'BOOL': {
      const v = Array.from({ length: n }, () => rng.bernoulli(0.5));
      return [v, Buffer.from(v.map((b) => (b ? 1 : 0)))];
    }
    case 'BYTES': {
      const v = Array.from({ length: n }, () => rng.choice(FUZZ_STRINGS));
      return [v, bytesTensor(v)];
    }
  }
}

function randomBinaryWire(rng: Rng, rows: number): Wire {
  const inputs: Body[] = [];
  const parts: Buffer[] = [];
  for (const spec of SIGNATURE.inputs) {
    const shape = [rows, ...spec.shape.slice(1)];
    const n = elementCount(shape);
    const [values, bytes] = randomValues(spec.datatype, n, rng);
    const input: Body = { name: spec.name, shape, datatype: spec.datatype };
    if (rng.bernoulli(0.7)) {
      input.parameters = { binary_data_size: bytes.length };
      parts.push(bytes);
    } else {
      input.data = values;
    }
    inputs.push(input);
  }
  const header: Body = { id: 'fuzz', inputs };
  if (rng.bernoulli(0.5)) header.parameters = { binary_data_output: rng.bernoulli(0.5) };
  if (rng.bernoulli(0.5)) {
    header.outputs = [{ name: 'label', parameters: { binary_data: rng.bernoulli(0.5) } }];
  }
  return { header, parts };
}

function binaryInputs(wire: Wire): Body[] {
  const inputs: unknown = wire.header.inputs;
  if (!Array.isArray(inputs)) return [];
  return inputs.filter(
    (input): input is Body =>
      isRecord(input) && isRecord(input.parameters) && 'binary_data_size' in input.parameters,
  );
}

const BINARY_MUTATIONS: ((w: Wire, rng: Rng) => void)[] = [
  // The binary part truncated or extended.
  (w, rng) => {
    if (w.parts.length === 0) return;
    const p = rng.int(0, w.parts.length);
    w.parts[p] = w.parts[p].subarray(0, rng.int(0, w.parts[p].length + 1));
  },
  (w, rng) =>
    w.parts.push(Buffer.from(Array.from({ length: rng.int(1, 9) }, () => rng.int(0, 256)))),
  // A declared size changed, or made nonsense.
  (w, rng) => {
    const input = pick(binaryInputs(w), rng);
    if (!isRecord(input)) return;
    const size = input.parameters.binary_data_size as number;
    input.parameters.binary_data_size = rng.choice<unknown>([
      size + 1,
      size - 1,
      size * 2,
      0,
      -1,
      1.5,
      String(size),
      null,
      2 ** 53,
      true,
    ]);
  },
  // No binary part; data next to binary_data_size; a binary input's size removed.
  (w) => (w.noBinaryPart = true),
  (w, rng) => {
    const input = pick(binaryInputs(w), rng);
    if (isRecord(input)) input.data = [1, 2];
  },
  (w, rng) => {
    const input = pick(binaryInputs(w), rng);
    if (isRecord(input)) delete input.parameters;
  },
  // Inputs reordered: the parts no longer line up with them.
  (w) => {
    if (Array.isArray(w.header.inputs)) w.header.inputs.reverse();
  },
  // Bytes flipped: NaN and Infinity floats, BOOL bytes past 1, BYTES lengths and invalid UTF-8.
  (w, rng) => {
    if (w.parts.length === 0) return;
    const p = rng.int(0, w.parts.length);
    if (w.parts[p].length === 0) return;
    w.parts[p] = Buffer.from(w.parts[p]);
    for (let n = rng.int(1, 4); n > 0; n -= 1) {
      w.parts[p][rng.int(0, w.parts[p].length)] = rng.choice([
        0x7f,
        0x80,
        0xff,
        0xc3,
        2,
        rng.int(0, 256),
      ]);
    }
  },
  // Output flags of the wrong type.
  (w, rng) => {
    w.header.parameters = { binary_data_output: rng.choice<unknown>([1, 'true', null, [], true]) };
  },
  (w, rng) => {
    w.header.outputs = [
      { name: 'label', parameters: { binary_data: rng.choice<unknown>([0, 'false', {}, false]) } },
    ];
  },
  // A fresh request with other rows, which can cross the row and element limits.
  (w, rng) => Object.assign(w, randomBinaryWire(rng, rng.choice([0, 1, 3, 8, 9, 40]))),
  // One of the JSON mutations, on the JSON object.
  (w, rng) => {
    const header = rng.choice(MUTATIONS)(w.header, rng);
    w.header = isRecord(header) ? header : { inputs: header };
  },
];

function malformedBinary(rng: Rng): Wire {
  const wire = randomBinaryWire(rng, rng.int(1, 4));
  for (let n = rng.int(1, 4); n > 0; n -= 1) rng.choice(BINARY_MUTATIONS)(wire, rng);
  return wire;
}

/** The wire as sent, its header length sometimes off (too short, too long, past the body). */
function encodeFuzzWire(wire: Wire, rng: Rng): { body: Buffer; headerLength: string | undefined } {
  const { body, headerLength } = encodeWire(wire);
  if (headerLength === undefined || rng.bernoulli(0.9)) return { body, headerLength };
  const off = rng.choice([-1, 1, 7, body.length]);
  return { body, headerLength: String(Math.max(0, Number(headerLength) + off)) };
}

function parseSplit(body: Buffer, headerLength: string | undefined, limits: InferLimits) {
  const { json, binary } = splitInferBody(body, headerLength);
  return parseInferRequest(json, SIGNATURE, limits, binary);
}

function malformed(rng: Rng): unknown {
  let body: unknown = validBody();
  for (let n = rng.int(1, 4); n > 0; n -= 1) {
    body = isRecord(body) ? rng.choice(MUTATIONS)(body, rng) : body;
  }
  return body;
}

function pick(list: unknown, rng: Rng): unknown {
  return Array.isArray(list) && list.length > 0 ? list[rng.int(0, list.length)] : undefined;
}

function isRecord(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function safeJson(v: unknown): string {
  const text = JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'number' && !Number.isFinite(x) ? String(x) : x,
  );
  return text === undefined ? String(v) : text.slice(0, 500);
}
