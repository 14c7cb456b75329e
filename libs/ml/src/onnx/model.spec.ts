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

describe('graph validation: element types, shapes and opset imports', () => {
  const x = { name: 'x', elemType: DataType.FLOAT, shape: ['N', 3] } as const;
  const out = (name: string, elemType: DataType, shape: (string | number)[]) => ({
    name,
    elemType,
    shape,
  });
  const graphOf = (
    nodes: GraphSpec['nodes'],
    outputs: GraphSpec['outputs'],
    initializers: GraphSpec['initializers'] = [],
  ): GraphSpec => ({ name: 'g', nodes, inputs: [x], outputs, initializers });
  const microsoft = [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ];

  // MatMulNBits, K = 3, N = 2, block 16: B [2, 1, 8], scales [2], zero points [2] (packed).
  const nbits = (overrides: Partial<GraphSpec['nodes'][number]> = {}, b = [2, 1, 8]) =>
    graphOf(
      [
        {
          opType: 'MatMulNBits',
          domain: 'com.microsoft',
          inputs: ['x', 'b', 's', 'zp'],
          outputs: ['y'],
          attributes: {
            K: attr.int(3),
            N: attr.int(2),
            bits: attr.int(4),
            block_size: attr.int(16),
          },
          ...overrides,
        },
      ],
      [out('y', DataType.FLOAT, ['N', 2])],
      [
        { name: 'b', dims: b, data: new Uint8Array(b.reduce((p, d) => p * d, 1)) },
        { name: 's', dims: [2], data: new Float32Array([1, 1]) },
        { name: 'zp', dims: [2], data: new Uint8Array(2) },
      ],
    );

  it('accepts well-typed graphs, contrib operators included, and runs them in onnxruntime', async () => {
    expect(() => validateGraph(nbits(), microsoft)).not.toThrow();
    const session = await createSession(encodeModel({ graph: nbits(), opsetImports: microsoft }));
    try {
      const { y } = await session.run({ x: new Tensor('float32', new Float32Array(6), [2, 3]) });
      expect(y.dims).toEqual([2, 2]);
    } finally {
      await session.release();
    }
  });

  it.each<[string, GraphSpec, readonly { domain: string; version: number }[], RegExp]>([
    [
      'an operator of a domain not imported',
      nbits(),
      [{ domain: '', version: 17 }],
      /domain "com.microsoft", which the model does not import/,
    ],
    [
      'a domain imported twice (ai.onnx is "")',
      graphOf(
        [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
        [out('y', DataType.FLOAT, ['N', 3])],
      ),
      [
        { domain: '', version: 17 },
        { domain: 'ai.onnx', version: 13 },
      ],
      /domain "" is imported twice/,
    ],
    [
      'an opset version that is not a positive integer',
      graphOf([], []),
      [{ domain: '', version: 0 }],
      /bad version 0/,
    ],
    [
      'an operator newer than the imported opset',
      graphOf(
        [{ opType: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['q', 's', 'z'] }],
        [out('q', DataType.UINT8, ['N', 3])],
      ),
      [{ domain: '', version: 10 }],
      /DynamicQuantizeLinear needs opset 11, the model imports 10/,
    ],
    [
      'a node with too few inputs',
      graphOf([{ opType: 'Gemm', inputs: ['x'], outputs: ['y'] }], []),
      [{ domain: '', version: 17 }],
      /has 1 inputs, expected 2–3/,
    ],
    [
      'inputs of different element types',
      graphOf(
        [{ opType: 'Add', inputs: ['x', 'i'], outputs: ['y'] }],
        [],
        [{ name: 'i', dims: [3], data: new Int8Array(3) }],
      ),
      [{ domain: '', version: 17 }],
      /A and B: FLOAT and INT8 differ/,
    ],
    [
      'shapes that do not broadcast',
      graphOf(
        [{ opType: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
        [],
        [{ name: 'c', dims: [4], data: new Float32Array(4) }],
      ),
      [{ domain: '', version: 17 }],
      /shapes \[N, 3\] and \[4\] do not broadcast/,
    ],
    [
      'an output declared with another element type',
      graphOf(
        [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
        [out('y', DataType.INT8, ['N', 3])],
      ),
      [{ domain: '', version: 17 }],
      /output "y" is declared INT8 but is FLOAT/,
    ],
    [
      'an output declared with another shape',
      graphOf(
        [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
        [out('y', DataType.FLOAT, ['N', 2])],
      ),
      [{ domain: '', version: 17 }],
      /output "y" is declared \[N, 2\] but is \[N, 3\]/,
    ],
    [
      'a type error downstream of a Cast',
      graphOf(
        [
          {
            opType: 'Cast',
            inputs: ['x'],
            outputs: ['i'],
            attributes: { to: attr.int(DataType.INT32) },
          },
          { opType: 'Sigmoid', inputs: ['i'], outputs: ['y'] },
        ],
        [],
      ),
      [{ domain: '', version: 17 }],
      /X is INT32, expected one of FLOAT, DOUBLE/,
    ],
    [
      'batch-norm vectors of the wrong length',
      graphOf(
        [{ opType: 'BatchNormalization', inputs: ['x', 'v', 'v', 'v', 'v'], outputs: ['y'] }],
        [],
        [{ name: 'v', dims: [4], data: new Float32Array(4) }],
      ),
      [{ domain: '', version: 17 }],
      /scale has 4 values for 3 channels/,
    ],
    [
      'a concat of inputs that differ off its axis',
      graphOf(
        [
          {
            opType: 'Concat',
            inputs: ['x', 'c'],
            outputs: ['y'],
            attributes: { axis: attr.int(0) },
          },
        ],
        [],
        [{ name: 'c', dims: [1, 4], data: new Float32Array(4) }],
      ),
      [{ domain: '', version: 17 }],
      /inputs \[N, 3\] and \[1, 4\] differ off axis 0/,
    ],
    [
      'a zero point of another type than the quantized input',
      graphOf(
        [{ opType: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }],
        [],
        [
          { name: 'q', dims: [3], data: new Int8Array(3) },
          { name: 's', dims: [], data: new Float32Array([0.1]) },
          { name: 'z', dims: [], data: new Uint8Array(1) },
        ],
      ),
      [{ domain: '', version: 17 }],
      /x and x_zero_point: INT8 and UINT8 differ/,
    ],
    [
      'a scale that is not positive',
      graphOf(
        [{ opType: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['y'] }],
        [],
        [{ name: 's', dims: [], data: new Float32Array([0]) }],
      ),
      [{ domain: '', version: 17 }],
      /scale 0 is not a positive finite number/,
    ],
    [
      'per-axis quantization before opset 13',
      graphOf(
        [{ opType: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['y'] }],
        [],
        [{ name: 's', dims: [3], data: new Float32Array([1, 1, 1]) }],
      ),
      [{ domain: '', version: 12 }],
      /per-axis quantization needs opset 13/,
    ],
    [
      'MatMulNBits weights of the wrong shape',
      nbits({}, [2, 2, 8]),
      microsoft,
      /B is \[2, 2, 8\], expected \[2, 1, 8\]/,
    ],
    [
      'a MatMulNBits block size that is not a power of two ≥ 16',
      nbits({
        attributes: { K: attr.int(3), N: attr.int(2), bits: attr.int(4), block_size: attr.int(24) },
      }),
      microsoft,
      /block_size 24 is not a power of two/,
    ],
    [
      'a MatMulNBits K that does not fit A',
      nbits({
        attributes: { K: attr.int(4), N: attr.int(2), bits: attr.int(4), block_size: attr.int(16) },
      }),
      microsoft,
      /A \[N, 3\] does not end in K = 4/,
    ],
    [
      'a non-finite initializer',
      graphOf(
        [{ opType: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
        [],
        [{ name: 'c', dims: [3], data: new Float32Array([0, NaN, 0]) }],
      ),
      [{ domain: '', version: 17 }],
      /tensor "c" value 1 is NaN/,
    ],
    [
      'a value_info that contradicts the graph',
      {
        ...graphOf([{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }], []),
        valueInfo: [out('y', DataType.DOUBLE, ['N', 3])],
      },
      [{ domain: '', version: 17 }],
      /value_info "y" is declared DOUBLE but is FLOAT/,
    ],
  ])('refuses %s', (_, graph, opsetImports, message) => {
    expect(() => validateGraph(graph, opsetImports)).toThrow(message);
    expect(() => encodeModel({ graph, opsetImports })).toThrow(message);
  });

  it('passes unknown operators, and checks nothing downstream of them', () => {
    const graph = graphOf(
      [
        { opType: 'SomeCustomOp', domain: 'com.microsoft', inputs: ['x'], outputs: ['h'] },
        { opType: 'Relu', inputs: ['h'], outputs: ['y'] },
      ],
      [out('y', DataType.FLOAT, ['N', 7])],
    );
    expect(() => validateGraph(graph, microsoft)).not.toThrow();
  });
});
