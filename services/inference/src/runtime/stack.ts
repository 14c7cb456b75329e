/**
 * Stacking tensors along dimension 0 (several requests become one batch) and splitting a
 * batch's results back into each request's rows. Pure functions; the results never share
 * memory with their inputs, so a caller may transfer or mutate them freely.
 */
import {
  type OipDatatype,
  type TensorArrays,
  type TensorData,
  asAnyTensor,
  elementCount,
  isArrayOf,
} from './tensor';

type NumericDatatype = Exclude<OipDatatype, 'BYTES'>;
type NumericArray = TensorArrays[NumericDatatype];

// Numeric tensors are stacked as raw bytes: one code path for all five typed arrays, and the
// bytes of a row are contiguous (row-major) whatever the element type.
const VIEW: { [D in NumericDatatype]: (buffer: ArrayBuffer) => TensorArrays[D] } = {
  FP32: (b) => new Float32Array(b),
  FP64: (b) => new Float64Array(b),
  INT32: (b) => new Int32Array(b),
  INT64: (b) => new BigInt64Array(b),
  BOOL: (b) => new Uint8Array(b),
};

function bytesOf(a: NumericArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The first dimension: a request's row count. */
export function rowsOf(t: TensorData): number {
  if (t.shape.length === 0) throw new RangeError('a scalar tensor has no rows');
  return t.shape[0];
}

/** Whether two tensors can be stacked: same datatype, same rank, same dimensions after the first. */
export function sameRowShape(a: TensorData, b: TensorData): boolean {
  return (
    a.datatype === b.datatype &&
    a.shape.length === b.shape.length &&
    a.shape.length >= 1 &&
    a.shape.every((d, i) => i === 0 || d === b.shape[i])
  );
}

function checkTensor(t: TensorData, what: string): void {
  if (!isArrayOf(t.datatype, t.data)) {
    throw new TypeError(`${what}: the data is not the array a ${t.datatype} tensor holds`);
  }
  const n = elementCount(t.shape);
  if (t.data.length !== n) {
    throw new RangeError(
      `${what}: shape [${t.shape.join(', ')}] needs ${n} values, got ${t.data.length}`,
    );
  }
}

/**
 * Concatenates tensors along dimension 0: shape [Σ rows, ...rest]. Every part must have the
 * datatype and the dimensions after the first of the first part.
 */
export function concatRows<D extends OipDatatype>(parts: readonly TensorData<D>[]): TensorData<D> {
  if (parts.length === 0) throw new RangeError('nothing to concatenate');
  const first = parts[0];
  parts.forEach((p, i) => {
    checkTensor(p, `part ${i}`);
    if (!sameRowShape(first, p)) {
      throw new RangeError(
        `part ${i} (${p.datatype} [${p.shape.join(', ')}]) does not stack with part 0 ` +
          `(${first.datatype} [${first.shape.join(', ')}])`,
      );
    }
  });
  const rows = parts.reduce((n, p) => n + p.shape[0], 0);
  const shape = [rows, ...first.shape.slice(1)];
  const head = asAnyTensor(first);
  if (head.datatype === 'BYTES') {
    const data = parts.flatMap((p) => p.data as string[]);
    return { datatype: first.datatype, shape, data: data as TensorArrays[D] };
  }
  const arrays = parts.map((p) => p.data as NumericArray);
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(bytesOf(a), offset);
    offset += a.byteLength;
  }
  const data = VIEW[head.datatype](out.buffer);
  return { datatype: first.datatype, shape, data: data as TensorArrays[D] };
}

/**
 * Splits a tensor along dimension 0 into consecutive parts of `rows[i]` rows each (the rows
 * must add up to the first dimension). Each part is a copy.
 */
export function splitRows<D extends OipDatatype>(
  t: TensorData<D>,
  rows: readonly number[],
): TensorData<D>[] {
  checkTensor(t, 'tensor');
  const total = rowsOf(t);
  const sum = rows.reduce((n, r) => n + r, 0);
  if (rows.some((r) => !Number.isInteger(r) || r < 0) || sum !== total) {
    throw new RangeError(`cannot split ${total} rows into [${rows.join(', ')}]`);
  }
  const rest = t.shape.slice(1);
  const perRow = elementCount(rest);
  const any = asAnyTensor(t);
  let start = 0;
  return rows.map((r) => {
    const begin = start * perRow;
    const end = (start + r) * perRow;
    start += r;
    const shape = [r, ...rest];
    if (any.datatype === 'BYTES') {
      return { datatype: t.datatype, shape, data: any.data.slice(begin, end) as TensorArrays[D] };
    }
    const width = any.data.BYTES_PER_ELEMENT;
    const bytes = bytesOf(any.data).slice(begin * width, end * width);
    const data = VIEW[any.datatype](bytes.buffer);
    return { datatype: t.datatype, shape, data: data as TensorArrays[D] };
  });
}
