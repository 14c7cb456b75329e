/**
 * ONNX element types and the typed-array storage of tensors: the part of the model description
 * that both the encoder ({@link ./model}) and the operator schemas ({@link ./schema}) need, kept
 * apart so that neither imports the other at run time.
 */

/** `TensorProto.DataType` values for the element types our typed arrays map to. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** `AttributeProto.AttributeType` values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** The name of a data type value, for messages (`FLOAT`, `UINT8`…). */
export function dataTypeName(type: number): string {
  for (const [name, value] of Object.entries(DataType)) if (value === type) return name;
  return `data type ${type}`;
}

/**
 * Element storage of a dense tensor; its data type follows from the array class (Uint8Array is
 * UINT8; booleans go in a Uint8Array with `dataType: DataType.BOOL`).
 */
export type TensorData =
  Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

/** A dense tensor: an initializer, or the value of a `tensor` attribute. */
export interface TensorSpec {
  readonly name: string;
  /** Row-major dimensions; their product must equal `data.length`. `[]` is a scalar. */
  readonly dims: readonly number[];
  readonly data: TensorData;
  /** Only to mark a Uint8Array as BOOL; otherwise inferred from `data`. */
  readonly dataType?: DataType;
  readonly docString?: string;
}

/** The tensor's data type, from its array class unless given. */
export function tensorDataType(tensor: TensorSpec): DataType {
  const inferred = inferDataType(tensor.data);
  if (tensor.dataType === undefined) return inferred;
  const ok =
    tensor.dataType === inferred ||
    (tensor.dataType === DataType.BOOL && inferred === DataType.UINT8);
  if (!ok) {
    throw new TypeError(
      `tensor ${tensor.name}: dataType ${tensor.dataType} does not match ` +
        `its ${tensor.data.constructor.name}`,
    );
  }
  return tensor.dataType;
}

function inferDataType(data: TensorData): DataType {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  throw new TypeError('unsupported tensor data array');
}
