import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureBytes } from './fixture';
import {
  DataType,
  FIELD,
  GraphBuilder,
  type GraphSpec,
  attr,
  encodeAttribute,
  encodeGraph,
  encodeModel,
  encodeNode,
  encodeTensor,
  encodeValueInfo,
  validateGraph,
} from './model';
import { ProtoWriter } from './protobuf';

// One intra-op thread: the models are tiny, and the machine is shared with other test runs.
const createSession = (bytes: Uint8Array) =>
  InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('ONNX message encoding', () => {
  it('encodes a ValueInfoProto as worked out by hand', () => {
    // x: float [N, 3]. Dimension N = 12 01 4e (dim_param), 3 = 08 03 (dim_value); shape =
    // 0a 03 … 0a 02 … (9 bytes); TypeProto.Tensor = 08 01 (elem_type FLOAT) 12 09 <shape>
    // (13 bytes); TypeProto = 0a 0d <tensor> (15 bytes); ValueInfoProto = 0a 01 78 ("x") 12 0f
    // <type>.
    const want = '0a0178120f0a0d080112090a0312014e0a020803';
    expect(hex(encodeValueInfo({ name: 'x', elemType: DataType.FLOAT, shape: ['N', 3] }))).toBe(
      want,
    );
  });

  it('lists the onnx.proto field numbers it writes', () => {
    // Spot checks against onnx.proto, the ones a slip would make plausible-looking files.
    expect(FIELD.ModelProto).toMatchObject({ irVersion: 1, graph: 7, opsetImport: 8 });
    expect(FIELD.GraphProto).toMatchObject({ initializer: 5, input: 11, output: 12 });
    expect(FIELD.AttributeProto).toMatchObject({ floats: 7, ints: 8, type: 20 });
    expect(FIELD.TensorProto).toMatchObject({ dims: 1, dataType: 2, name: 8, rawData: 9 });
  });

  // Byte equality with protobuf's own serialization of the same messages (onnx.helper).
  const cases: [string, () => Uint8Array][] = [
    [
      'value_info_float_N_3',
      () => encodeValueInfo({ name: 'x', elemType: DataType.FLOAT, shape: ['N', 3] }),
    ],
    [
      'value_info_int64_scalar',
      () => encodeValueInfo({ name: 'k', elemType: DataType.INT64, shape: [] }),
    ],
    ['value_info_unknown_rank', () => encodeValueInfo({ name: 'u', elemType: DataType.FLOAT })],
    ['attribute_float', () => encodeAttribute('epsilon', attr.float(0.001))],
    ['attribute_int', () => encodeAttribute('axis', attr.int(1))],
    ['attribute_int_negative', () => encodeAttribute('axis', attr.int(-1))],
    ['attribute_int_large', () => encodeAttribute('big', attr.int(2 ** 40 + 5))],
    ['attribute_string', () => encodeAttribute('mode', attr.string('constant é'))],
    ['attribute_floats', () => encodeAttribute('scales', attr.floats([0.1, -2.5, 3]))],
    ['attribute_ints', () => encodeAttribute('perm', attr.ints([-1, 0, 300n]))],
    ['attribute_strings', () => encodeAttribute('names', attr.strings(['a', 'bé']))],
    [
      'attribute_tensor',
      () =>
        encodeAttribute(
          'value',
          attr.tensor({ name: 'value', dims: [2], data: new Float32Array([1.5, -2]) }),
        ),
    ],
    [
      'tensor_float_2x3',
      () =>
        encodeTensor({
          name: 'w',
          dims: [2, 3],
          data: new Float32Array([0, 1, 2, 3, 4, 5].map((v) => v / 4 - 0.5)),
        }),
    ],
    [
      'tensor_int64',
      () => encodeTensor({ name: 'shape', dims: [2], data: new BigInt64Array([-1n, 2n ** 33n]) }),
    ],
    [
      'tensor_double_scalar',
      () => encodeTensor({ name: 'd', dims: [], data: new Float64Array([0.1]) }),
    ],
    ['tensor_int32', () => encodeTensor({ name: 'i', dims: [2], data: new Int32Array([7, -7]) })],
    ['tensor_int8', () => encodeTensor({ name: 'q', dims: [2], data: new Int8Array([-128, 127]) })],
    [
      'tensor_bool',
      () =>
        encodeTensor({
          name: 'b',
          dims: [3],
          data: new Uint8Array([1, 0, 1]),
          dataType: DataType.BOOL,
        }),
    ],
    [
      'node_gemm',
      () =>
        encodeNode({
          opType: 'Gemm',
          inputs: ['x', 'w', 'b'],
          outputs: ['y'],
          name: 'dense/Gemm',
          docString: 'a doc',
          domain: '',
          // Given out of order: the encoder sorts attributes by name, as onnx.helper does.
          attributes: { transB: attr.int(0), alpha: attr.float(0.5) },
        }),
    ],
    [
      'opset_ml_3',
      () => {
        const w = new ProtoWriter();
        w.string(FIELD.OperatorSetIdProto.domain, 'ai.onnx.ml');
        w.int64(FIELD.OperatorSetIdProto.version, 3);
        return w.finish();
      },
    ],
  ];

  it('covers every message of the fixture', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(fixture.messages.map((m) => m.name).sort());
  });

  it.each(cases)('%s equals protobuf’s serialization', (name, encode) => {
    expect(hex(encode())).toBe(hex(fixtureBytes(name)));
  });
});

describe('encodeModel', () => {
  // c = Constant(tensor [1.5, −2]); s = a + c; r = Reshape(s, [−1]): exercises a tensor
  // attribute, float and int64 raw_data (a negative int64 included) and a symbolic dimension.
  const graph = (): GraphSpec => {
    const g = new GraphBuilder('small');
    g.input('a', DataType.FLOAT, ['N', 2]);
    g.initializer('flat', [1], new BigInt64Array([-1n]));
    g.node({
      opType: 'Constant',
      inputs: [],
      outputs: ['c'],
      attributes: {
        value: attr.tensor({ name: 'c', dims: [2], data: new Float32Array([1.5, -2]) }),
      },
    });
    g.node({ opType: 'Add', inputs: ['a', 'c'], outputs: ['s'] });
    g.node({ opType: 'Reshape', inputs: ['s', 'flat'], outputs: ['r'] });
    g.output('r', DataType.FLOAT, ['M']);
    return g.build();
  };

  it('writes a model onnxruntime loads and runs', async () => {
    const session = await createSession(encodeModel({ graph: graph() }));
    try {
      expect(session.inputNames).toEqual(['a']);
      expect(session.outputNames).toEqual(['r']);
      const a = new Tensor('float32', new Float32Array([1, 2, 3, 4]), [2, 2]);
      const { r } = await session.run({ a });
      expect(r.dims).toEqual([4]);
      expect(Array.from(r.data as Float32Array)).toEqual([2.5, 0, 4.5, 2]);
    } finally {
      await session.release();
    }
  });

  it('starts with ir_version 8 and producer mlops, and imports opset 17', () => {
    const bytes = encodeModel({ graph: graph() });
    // 08 08 (ir_version 8), 12 05 "mlops" (producer_name)
    expect(hex(bytes.subarray(0, 9))).toBe('0808' + '12056d6c6f7073');
    // the last field: opset_import 42 04 { 0a 00 (domain "") 10 11 (version 17) }
    expect(hex(bytes.subarray(bytes.length - 6))).toBe('42040a001011');
    expect(fixture.irVersion).toBe(8);
    expect(fixture.opset).toBe(17);
  });

  it('writes metadata_props in key order', () => {
    const bytes = encodeModel({ graph: graph(), metadata: { b: '2', a: '1' } });
    const entry = (k: string, v: string) =>
      `7206 0a01${hex(Buffer.from(k))} 1201${hex(Buffer.from(v))}`;
    expect(hex(bytes)).toContain((entry('a', '1') + entry('b', '2')).replaceAll(' ', ''));
  });

  it('embeds encodeGraph’s bytes as field 7', () => {
    const g = graph();
    const inner = encodeGraph(g);
    const model = encodeModel({ graph: g });
    const w = new ProtoWriter();
    w.bytes(FIELD.ModelProto.graph, inner);
    expect(hex(model)).toContain(hex(w.finish()));
  });
});

describe('graph validation', () => {
  const input = { name: 'x', elemType: DataType.FLOAT, shape: ['N', 2] } as const;
  const relu = { opType: 'Relu', inputs: ['x'], outputs: ['y'] };
  const out = { name: 'y', elemType: DataType.FLOAT, shape: ['N', 2] } as const;
  const ok: GraphSpec = { name: 'g', nodes: [relu], inputs: [input], outputs: [out] };

  it('accepts a well-formed graph', () => {
    expect(() => validateGraph(ok)).not.toThrow();
  });

  it.each<[string, GraphSpec, RegExp]>([
    ['an unknown input', { ...ok, nodes: [{ ...relu, inputs: ['z'] }] }, /reads "z"/],
    [
      'nodes out of order',
      {
        ...ok,
        nodes: [
          { opType: 'Relu', inputs: ['h'], outputs: ['y'] },
          { opType: 'Relu', inputs: ['x'], outputs: ['h'] },
        ],
      },
      /reads "h"/,
    ],
    ['a value assigned twice', { ...ok, nodes: [relu, relu] }, /"y" is defined twice/],
    ['an output never produced', { ...ok, outputs: [{ ...out, name: 'q' }] }, /"q" is never/],
    ['an output listed twice', { ...ok, outputs: [out, out] }, /listed twice/],
    ['a bad dimension', { ...ok, inputs: [{ ...input, shape: [-1, 2] }] }, /bad dimension/],
    ['an empty name', { ...ok, inputs: [{ ...input, name: '' }] }, /empty name/],
    [
      'a tensor whose size does not match its dims',
      { ...ok, initializers: [{ name: 'w', dims: [2, 2], data: new Float32Array(3) }] },
      /3 values for dims \[2, 2\]/,
    ],
    [
      'a data type that does not match the array',
      {
        ...ok,
        initializers: [
          { name: 'w', dims: [1], data: new Float32Array(1), dataType: DataType.INT64 },
        ],
      },
      /does not match/,
    ],
  ])('refuses %s', (_, graph, message) => {
    expect(() => validateGraph(graph)).toThrow(message);
    expect(() => encodeModel({ graph })).toThrow(message);
  });

  it('lets encodeModel skip validation (to produce broken models on purpose)', () => {
    const broken = { ...ok, nodes: [{ ...relu, inputs: ['z'] }] };
    expect(encodeModel({ graph: broken }, { validate: false }).length).toBeGreaterThan(0);
  });

  it('GraphBuilder refuses at the offending call', () => {
    const g = new GraphBuilder('g');
    g.input('x', DataType.FLOAT, ['N', 2]);
    expect(() => g.input('x', DataType.FLOAT, [1])).toThrow(/defined twice/);
    expect(() => g.node({ opType: 'Relu', inputs: ['nope'], outputs: ['y'] })).toThrow(/"nope"/);
    expect(() => g.initializer('w', [3], new Float32Array(2))).toThrow(/2 values/);
    expect(() => g.output('y', DataType.FLOAT, ['N', 2])).toThrow(/no value "y"/);
    expect(g.node({ opType: 'Relu', inputs: ['x'], outputs: ['y'] })).toBe('y');
    expect(g.has('y')).toBe(true);
  });
});
