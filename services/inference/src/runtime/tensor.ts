/**
 * Tensors as the inference service moves them between HTTP, cache, batcher and the
 * onnxruntime worker threads: a datatype (Open Inference Protocol names), a shape, and the
 * values row-major in the typed array onnxruntime takes for that type. Plain data, so a
 * tensor crosses `postMessage` (structured clone) unchanged.
 */

/** The Open Inference Protocol datatypes this server accepts. */
export const OIP_DATATYPES = ['FP32', 'FP64', 'INT32', 'INT64', 'BOOL', 'BYTES'] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** The array that holds each datatype's values (BOOL: 0/1 bytes, as onnxruntime's bool). */
export interface TensorArrays {
  FP32: Float32Array;
  FP64: Float64Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  BOOL: Uint8Array;
  BYTES: string[];
}
export type TensorArray = TensorArrays[OipDatatype];

export interface TensorData<D extends OipDatatype = OipDatatype> {
  datatype: D;
  /** Every dimension fixed (a request's or a result's actual shape). */
  shape: number[];
  data: TensorArrays[D];
}

/** A model input or output as its metadata declares it: −1 marks a variable dimension. */
export interface TensorSpec {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /**
   * Every input and output has a variable first dimension: requests can be stacked along it
   * (dynamic batching) and the results split back by rows.
   */
  batchable: boolean;
}

/** onnxruntime's tensor type name of each datatype, and back. */
export const ORT_TYPE: Record<OipDatatype, string> = {
  FP32: 'float32',
  FP64: 'float64',
  INT32: 'int32',
  INT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
};

export function datatypeOfOrt(type: string): OipDatatype | undefined {
  return (Object.keys(ORT_TYPE) as OipDatatype[]).find((d) => ORT_TYPE[d] === type);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * {@link TensorData} as a union discriminated by `datatype`: a `switch (t.datatype)` narrows
 * `t.data` to the matching array, which `TensorData<OipDatatype>` cannot do.
 */
export type AnyTensorData = { [D in OipDatatype]: TensorData<D> }[OipDatatype];

export function asAnyTensor(t: TensorData): AnyTensorData {
  return t as AnyTensorData;
}

/** Whether `data` is the array class {@link TensorArrays} gives `datatype`. */
export function isArrayOf(datatype: OipDatatype, data: unknown): boolean {
  switch (datatype) {
    case 'FP32':
      return data instanceof Float32Array;
    case 'FP64':
      return data instanceof Float64Array;
    case 'INT32':
      return data instanceof Int32Array;
    case 'INT64':
      return data instanceof BigInt64Array;
    case 'BOOL':
      return data instanceof Uint8Array;
    case 'BYTES':
      return Array.isArray(data) && data.every((s) => typeof s === 'string');
  }
}

/**
 * Whether requests can be stacked along the first dimension: every input and output has rank
 * ≥ 1 and a variable (−1) first dimension. A fixed first dimension (say [1, 3]) means the graph
 * was exported for one batch size, and stacking would feed it a shape it rejects.
 */
export function isBatchable(
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): boolean {
  return (
    inputs.length > 0 &&
    [...inputs, ...outputs].every((s) => s.shape.length >= 1 && s.shape[0] === -1)
  );
}
