import { Rng } from '@mlops/ml';
import { describe, expect, it } from 'vitest';
import type { ModelSignature, TensorData } from '../runtime/tensor';
import {
  OipError,
  canonicalInputKey,
  errorBody,
  inferResponse,
  modelMetadata,
  modelNotFound,
  modelReady,
  parseInferRequest,
  serverLive,
  serverMetadata,
  serverReady,
  type InferLimits,
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

  it("refuses Triton's binary tensor data example (extension_binary_data.md)", () => {
    const binary = {
      model_name: 'mymodel',
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'INT32', parameters: { binary_data_size: 16 } },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }],
    };
    expect400(
      binary,
      SPEC_MODEL,
      "input 'input0'",
      'binary tensor data is not supported; send JSON data',
    );
    const outputsOnly = {
      inputs: [{ name: 'input0', shape: [2, 2], datatype: 'INT32', data: [1, 2, 3, 4] }],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }],
    };
    const model = { ...SPEC_MODEL, inputs: [SPEC_MODEL.inputs[0]] };
    expect400(outputsOnly, model, "output 'output0'", 'binary tensor data is not supported');
    expect400(
      { ...outputsOnly, outputs: undefined, parameters: { binary_data_output: true } },
      model,
      'binary_data_output',
      'binary tensor data is not supported',
    );
    // binary_data: false asks for JSON, which is what we send.
    const jsonAsked = {
      ...outputsOnly,
      outputs: [{ name: 'output0', parameters: { binary_data: false } }],
    };
    expect(parseInferRequest(jsonAsked, model, LIMITS).outputs).toEqual(['output0']);
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
      ['binary_data_size', edit(3, { parameters: { binary_data_size: 12 } }), "input 'text'", 'binary tensor data is not supported; send JSON data'],
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

  it('never throws anything but OipError 400/413 on 2,000 malformed bodies', () => {
    const rng = new Rng(20240611);
    const outcomes: Record<string, number> = { parsed: 0, 400: 0, 413: 0 };
    for (let trial = 0; trial < 2000; trial += 1) {
      const body = malformed(rng);
      try {
        parseInferRequest(body, SIGNATURE, { maxRows: 8, maxElements: 40 });
        outcomes.parsed += 1;
      } catch (error) {
        if (!(error instanceof OipError) || (error.status !== 400 && error.status !== 413)) {
          throw new Error(`trial ${trial}: ${String(error)} for ${safeJson(body)}`);
        }
        expect(error.message.length).toBeGreaterThan(10);
        outcomes[error.status] += 1;
      }
    }
    // The mutations reach past the first checks: some bodies survive, some hit the size limit.
    expect(outcomes.parsed).toBeGreaterThan(0);
    expect(outcomes[413]).toBeGreaterThan(0);
    expect(outcomes[400]).toBeGreaterThan(1000);
  });
});

describe('fuzz generator', () => {
  it('is deterministic for a seed', () => {
    const a = Array.from({ length: 20 }, (_, i) => safeJson(malformed(new Rng(i))));
    const b = Array.from({ length: 20 }, (_, i) => safeJson(malformed(new Rng(i))));
    expect(a).toEqual(b);
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
