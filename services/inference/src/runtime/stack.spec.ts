import { describe, expect, it } from 'vitest';
import { concatRows, rowsOf, sameRowShape, splitRows } from './stack';
import { type AnyTensorData, OIP_DATATYPES, type OipDatatype, type TensorData } from './tensor';

/** `rows` × 3 values of each datatype; value k of the tensor made from `base` is base + k. */
function tensor(datatype: OipDatatype, rows: number, base: number): TensorData {
  const n = rows * 3;
  const k = Array.from({ length: n }, (_, i) => base + i);
  const shape = [rows, 3];
  switch (datatype) {
    case 'FP32':
      return { datatype, shape, data: Float32Array.from(k, (v) => v + 0.25) };
    case 'FP64':
      return { datatype, shape, data: Float64Array.from(k, (v) => v / 7) };
    case 'INT32':
      return { datatype, shape, data: Int32Array.from(k, (v) => -v) };
    case 'INT64':
      // Beyond 2^53: a value that went through a double would come back changed.
      return { datatype, shape, data: BigInt64Array.from(k, (v) => 2n ** 60n + BigInt(v)) };
    case 'BOOL':
      return { datatype, shape, data: Uint8Array.from(k, (v) => v % 2) };
    case 'BYTES':
      return { datatype, shape, data: k.map((v) => `s${v}`) };
  }
}

const values = (t: TensorData) => Array.from(t.data as ArrayLike<unknown>);

describe('concatRows / splitRows', () => {
  it.each(OIP_DATATYPES)('%s: stacks along dim 0 and splits back to the same tensors', (d) => {
    const parts = [tensor(d, 2, 0), tensor(d, 1, 100), tensor(d, 3, 200)];
    const stacked = concatRows(parts);
    expect(stacked.datatype).toBe(d);
    expect(stacked.shape).toEqual([6, 3]);
    expect(stacked.data.length).toBe(18);
    expect(values(stacked)).toEqual(parts.flatMap(values));
    expect(stacked.data.constructor).toBe(parts[0].data.constructor);

    const back = splitRows(stacked, [2, 1, 3]);
    expect(back).toHaveLength(3);
    back.forEach((b, i) => {
      expect(b.datatype).toBe(d);
      expect(b.shape).toEqual(parts[i].shape);
      expect(b.data.constructor).toBe(parts[i].data.constructor);
      expect(values(b)).toEqual(values(parts[i]));
    });
  });

  it('reads typed-array views at an offset, and returns arrays that own their buffers', () => {
    const big = new Float64Array([9, 9, 1, 2, 3, 4, 9]);
    const view: TensorData = { datatype: 'FP64', shape: [2, 2], data: big.subarray(2, 6) };
    const stacked = concatRows([
      view,
      { datatype: 'FP64', shape: [1, 2], data: new Float64Array([5, 6]) },
    ]);
    expect(Array.from(stacked.data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const [a, b] = splitRows(stacked, [1, 2]);
    for (const p of [a, b]) {
      const arr = p.data as Float64Array;
      expect(arr.byteOffset).toBe(0);
      expect(arr.byteLength).toBe(arr.buffer.byteLength);
    }
    // Copies: changing a part leaves the batch alone.
    (a.data as Float64Array)[0] = -1;
    expect((stacked.data as Float64Array)[0]).toBe(1);
  });

  it('handles rank 1 and zero-row parts', () => {
    const t = (data: number[]): TensorData => ({
      datatype: 'INT32',
      shape: [data.length],
      data: Int32Array.from(data),
    });
    const stacked = concatRows([t([1, 2]), t([]), t([3])]);
    expect(stacked.shape).toEqual([3]);
    expect(splitRows(stacked, [0, 2, 1]).map(values)).toEqual([[], [1, 2], [3]]);
  });

  it('refuses parts that do not stack', () => {
    expect(() => concatRows([tensor('FP32', 1, 0), tensor('FP64', 1, 0)])).toThrow(
      /does not stack/,
    );
    const wide: TensorData = { datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) };
    expect(() => concatRows([tensor('FP32', 1, 0), wide])).toThrow(/part 1 \(FP32 \[1, 4\]\)/);
    const short: TensorData = { datatype: 'FP32', shape: [2, 3], data: new Float32Array(5) };
    expect(() => concatRows([short])).toThrow(/needs 6 values, got 5/);
    const wrongArray = { datatype: 'INT64', shape: [1, 3], data: new Float64Array(3) };
    expect(() => concatRows([wrongArray as unknown as TensorData])).toThrow(/not the array/);
    expect(() => concatRows([])).toThrow(/nothing/);
  });

  it('refuses a split whose rows do not add up', () => {
    const t = tensor('BYTES', 3, 0);
    expect(() => splitRows(t, [1, 1])).toThrow(/cannot split 3 rows into \[1, 1\]/);
    expect(() => splitRows(t, [4, -1])).toThrow(/cannot split/);
  });
});

describe('rowsOf / sameRowShape', () => {
  it('reads the first dimension and compares the others', () => {
    const a = tensor('FP32', 2, 0);
    expect(rowsOf(a)).toBe(2);
    expect(sameRowShape(a, tensor('FP32', 5, 0))).toBe(true);
    expect(sameRowShape(a, tensor('INT32', 2, 0))).toBe(false);
    const scalar: AnyTensorData = { datatype: 'FP32', shape: [], data: new Float32Array(1) };
    expect(() => rowsOf(scalar)).toThrow(/scalar/);
    expect(sameRowShape(scalar, scalar)).toBe(false);
  });
});
