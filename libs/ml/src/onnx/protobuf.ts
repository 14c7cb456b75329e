/**
 * A minimal protocol-buffers writer: just what encoding an ONNX model needs (varints, 32- and
 * 64-bit fixed values, length-delimited fields, packed repeated fields). No reader and no
 * schema: the message encoders in `model.ts` call it field by field, in field-number order.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/. A field is a tag (field
 * number << 3 | wire type, as a varint) followed by its value.
 */

/** The four wire types in use (3 and 4, groups, are deprecated and never written). */
export const WireType = {
  /** int32, int64, uint32, uint64, bool, enum. */
  VARINT: 0,
  /** fixed64, sfixed64, double. */
  I64: 1,
  /** string, bytes, embedded messages, packed repeated fields. */
  LEN: 2,
  /** fixed32, sfixed32, float. */
  I32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** Largest field number protobuf allows (2^29 − 1). */
export const MAX_FIELD_NUMBER = 0x1fffffff;

const TWO_POW_64 = 1n << 64n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const utf8 = new TextEncoder();

/** An integer as protobuf takes it: a safe-integer number or a bigint. */
export type Int64 = number | bigint;

function checkedBigInt(value: Int64, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a safe integer or a bigint, got ${value}`);
  }
  return BigInt(value);
}

/** An int64 as the unsigned 64-bit value protobuf writes (negatives as two's complement). */
function twosComplement64(value: Int64): Int64 {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const v = checkedBigInt(value, 'int64');
  if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`int64 out of range: ${value}`);
  return BigInt.asUintN(64, v);
}

/**
 * Appends fields to a growing buffer; `finish()` returns the encoded message. Every value is
 * checked before its tag is written, so a refused value leaves nothing half-written.
 */
export class ProtoWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** The encoded message: a copy the size of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  // ---- fields -------------------------------------------------------------------------------

  /** `uint64` / `uint32` / `enum`: non-negative integers as a varint. */
  uint64(field: number, value: Int64): this {
    const v = checkedBigInt(value, 'uint64');
    if (v < 0n || v >= TWO_POW_64) throw new RangeError(`uint64 out of range: ${value}`);
    this.tag(field, WireType.VARINT);
    this.varint(value);
    return this;
  }

  /**
   * `int64` (and `int32`, which protobuf encodes the same way): a negative value is written as
   * its 64-bit two's complement, ten bytes long.
   */
  int64(field: number, value: Int64): this {
    const v = twosComplement64(value);
    this.tag(field, WireType.VARINT);
    this.varint(v);
    return this;
  }

  /** `int32`: range-checked, then encoded as `int64` (sign-extended to 64 bits). */
  int32(field: number, value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`int32 out of range: ${value}`);
    }
    return this.int64(field, value);
  }

  bool(field: number, value: boolean): this {
    this.tag(field, WireType.VARINT);
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
    return this;
  }

  /** `float`: IEEE 754 single precision, little-endian (the value is rounded to float32). */
  float(field: number, value: number): this {
    this.tag(field, WireType.I32);
    this.rawFloat(value);
    return this;
  }

  /** `double`: IEEE 754 double precision, little-endian. */
  double(field: number, value: number): this {
    this.tag(field, WireType.I64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  /** `fixed32`: an unsigned 32-bit integer, little-endian. */
  fixed32(field: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`fixed32 out of range: ${value}`);
    }
    this.tag(field, WireType.I32);
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  /** `fixed64` / `sfixed64`: 64 bits little-endian; negative values as two's complement. */
  fixed64(field: number, value: Int64): this {
    const v = checkedBigInt(value, 'fixed64');
    if (v < INT64_MIN || v >= TWO_POW_64) throw new RangeError(`fixed64 out of range: ${value}`);
    this.tag(field, WireType.I64);
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
    return this;
  }

  /** `bytes`: length-delimited. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LEN);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** `string`: its UTF-8 bytes, length-delimited. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /**
   * An embedded message, written by `write` into a writer of its own and then copied in as
   * `bytes` (its length must precede it). Each nesting level copies its content once more;
   * for ONNX (model → graph → tensor) that is a few memcpys of the weights, which is cheap next
   * to computing them.
   */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const child = new ProtoWriter();
    write(child);
    this.tag(field, WireType.LEN);
    this.varint(child.pos);
    this.ensure(child.pos);
    this.buf.set(child.buf.subarray(0, child.pos), this.pos);
    this.pos += child.pos;
    return this;
  }

  /** A packed repeated `int64` / `int32` field (one length-delimited run of varints). */
  packedInt64(field: number, values: ArrayLike<Int64>): this {
    if (values.length === 0) return this; // an empty packed field is simply absent
    const body = new ProtoWriter(values.length * 2);
    for (let i = 0; i < values.length; i += 1) body.signedVarint(values[i]);
    return this.bytes(field, body.buf.subarray(0, body.pos));
  }

  /** A packed repeated `uint64` / `uint32` field. */
  packedUint64(field: number, values: ArrayLike<Int64>): this {
    if (values.length === 0) return this;
    const body = new ProtoWriter(values.length * 2);
    for (let i = 0; i < values.length; i += 1) {
      const v = checkedBigInt(values[i], 'uint64');
      if (v < 0n || v >= TWO_POW_64) throw new RangeError(`uint64 out of range: ${values[i]}`);
      body.varint(values[i]);
    }
    return this.bytes(field, body.buf.subarray(0, body.pos));
  }

  /** A packed repeated `float` field: 4 bytes per value. */
  packedFloat(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.LEN);
    this.varint(values.length * 4);
    for (let i = 0; i < values.length; i += 1) this.rawFloat(values[i]);
    return this;
  }

  /** A packed repeated `double` field: 8 bytes per value. */
  packedDouble(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    this.tag(field, WireType.LEN);
    this.varint(values.length * 8);
    this.ensure(values.length * 8);
    for (let i = 0; i < values.length; i += 1) {
      this.view.setFloat64(this.pos, values[i], true);
      this.pos += 8;
    }
    return this;
  }

  // ---- raw pieces ---------------------------------------------------------------------------

  /** A field's tag: (field << 3) | wire type, as a varint. */
  tag(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD_NUMBER) {
      throw new RangeError(`protobuf field number must be in [1, 2^29 − 1], got ${field}`);
    }
    // field · 8 + wire type stays below 2^32: exact as a double.
    this.varint(field * 8 + wireType);
    return this;
  }

  /** An unsigned varint: 7 bits per byte, low groups first, high bit set on all but the last. */
  varint(value: Int64): this {
    if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      if (!Number.isInteger(value)) throw new RangeError(`varint of a non-integer: ${value}`);
      this.ensure(10);
      let v = value;
      // Division, not >>>, above 2^31: bit operators would truncate to 32 bits.
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
      return this;
    }
    let v = checkedBigInt(value, 'varint');
    if (v < 0n || v >= TWO_POW_64) throw new RangeError(`varint out of uint64 range: ${value}`);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  /** A signed integer as protobuf's int64 varint (two's complement for negatives). */
  signedVarint(value: Int64): this {
    return this.varint(twosComplement64(value));
  }

  private rawFloat(value: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
