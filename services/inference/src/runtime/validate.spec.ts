import { describe, expect, it } from 'vitest';
import { InvalidInputError } from './errors';
import type { ModelSignature, TensorData } from './tensor';
import { checkFeeds, checkOutputNames } from './validate';

const signature: ModelSignature = {
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 3] },
    { name: 'ids', datatype: 'INT64', shape: [-1] },
  ],
  outputs: [
    { name: 'y', datatype: 'FP32', shape: [-1, 1] },
    { name: 'z', datatype: 'FP32', shape: [-1, 2] },
  ],
  batchable: true,
};

const x = (rows: number): TensorData => ({
  datatype: 'FP32',
  shape: [rows, 3],
  data: new Float32Array(rows * 3),
});
const ids = (rows: number): TensorData => ({
  datatype: 'INT64',
  shape: [rows],
  data: new BigInt64Array(rows),
});

describe('checkFeeds', () => {
  it('returns the rows of a request that fits', () => {
    expect(checkFeeds(signature, { x: x(4), ids: ids(4) })).toBe(4);
  });

  it.each([
    ['a missing input', { x: x(1) }, /missing input "ids"/],
    ['an unknown input', { x: x(1), ids: ids(1), extra: x(1) }, /unexpected input "extra"/],
    [
      'another datatype',
      { x: { ...ids(3), shape: [1, 3] }, ids: ids(1) },
      /"x" is FP32, got INT64/,
    ],
    [
      'a fixed dimension of another size',
      { x: { datatype: 'FP32', shape: [1, 2], data: new Float32Array(2) }, ids: ids(1) },
      /"x" has shape \[1, 2\], the model takes \[-1, 3\]/,
    ],
    [
      'another rank',
      { x: { datatype: 'FP32', shape: [3], data: new Float32Array(3) }, ids: ids(1) },
      /shape \[3\]/,
    ],
    [
      'too few values',
      { x: { datatype: 'FP32', shape: [2, 3], data: new Float32Array(5) }, ids: ids(2) },
      /\(6 values\), got 5/,
    ],
    [
      'the wrong array class',
      { x: { datatype: 'FP32', shape: [1, 3], data: new Float64Array(3) }, ids: ids(1) },
      /not FP32 values/,
    ],
    [
      'inputs with different rows',
      { x: x(2), ids: ids(3) },
      /"ids" has 3 rows, the other inputs 2/,
    ],
  ] as [string, Record<string, TensorData>, RegExp][])('rejects %s', (_, feeds, message) => {
    let thrown: unknown;
    try {
      checkFeeds(signature, feeds);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidInputError);
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('checkOutputNames', () => {
  it('accepts known names or none, and names an unknown one', () => {
    expect(() => checkOutputNames(signature)).not.toThrow();
    expect(() => checkOutputNames(signature, ['z'])).not.toThrow();
    expect(() => checkOutputNames(signature, ['y', 'w'])).toThrow(/unknown output "w".*y, z/);
  });
});
