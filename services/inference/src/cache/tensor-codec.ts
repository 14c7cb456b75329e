import { OIP_DATATYPES, type OipDatatype, type TensorData } from '../runtime/tensor';

/** A cached response: the output tensors of one request, by output name. */
export type CachedTensors = Record<string, TensorData>;

type NumericDatatype = Exclude<OipDatatype, 'BYTES'>;
type NumericArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

const ARRAY_OF: Record<
  NumericDatatype,
  { new (length: number): NumericArray; BYTES_PER_ELEMENT: number }
> = {
  FP32: Float32Array,
  FP64: Float64Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  BOOL: Uint8Array,
};

const FORMAT_VERSION = 1;
/** Version byte and header length. */
const PREAMBLE_BYTES = 5;
/** What the memory cache charges per tensor and per string beyond their data (object headers). */
const TENSOR_OVERHEAD_BYTES = 64;
const STRING_OVERHEAD_BYTES = 16;

interface HeaderEntry {
  /** Output name. */
  n: string;
  d: OipDatatype;
  s: number[];
  /** Bytes of the tensor's payload. */
  b: number;
}

export class CorruptCacheEntryError extends Error {
  override readonly name = 'CorruptCacheEntryError';
}

/** An independent copy: neither side sees what the other later does to its arrays. */
export function cloneTensors(value: CachedTensors): CachedTensors {
  const out: CachedTensors = {};
  for (const [name, t] of Object.entries(value)) {
    out[name] = {
      datatype: t.datatype,
      shape: t.shape.slice(),
      data: t.data.slice(),
    };
  }
  return out;
}

/**
 * What an entry costs the in-process cache, approximately: the values' bytes (strings at two
 * bytes a character, as V8 may hold them) plus a fixed charge per tensor and per string.
 */
export function cachedBytes(key: string, value: CachedTensors): number {
  let bytes = key.length * 2;
  for (const [name, t] of Object.entries(value)) {
    bytes += TENSOR_OVERHEAD_BYTES + name.length * 2 + t.shape.length * 8;
    if (t.datatype === 'BYTES') {
      for (const s of t.data as string[]) bytes += STRING_OVERHEAD_BYTES + s.length * 2;
    } else {
      bytes += (t.data as NumericArray).byteLength;
    }
  }
  return bytes;
}

/**
 * Tensors → one Buffer: a version byte, the header length (uint32 LE), a JSON header (name,
 * datatype, shape and payload size of each tensor), then each payload in header order. Numeric
 * payloads are the typed arrays' bytes as they are in memory (little-endian on every host we
 * run on), so values come back bit for bit (−0, NaN payloads, subnormals, full 64-bit
 * integers). A BYTES payload is each string's UTF-8 length (uint32 LE) followed by its bytes.
 */
export function encodeTensors(value: CachedTensors): Buffer {
  const header: HeaderEntry[] = [];
  const payloads: Buffer[] = [];
  for (const [name, t] of Object.entries(value)) {
    let payload: Buffer;
    if (t.datatype === 'BYTES') {
      const parts: Buffer[] = [];
      for (const s of t.data as string[]) {
        const utf8 = Buffer.from(s, 'utf8');
        const length = Buffer.allocUnsafe(4);
        length.writeUInt32LE(utf8.length, 0);
        parts.push(length, utf8);
      }
      payload = Buffer.concat(parts);
    } else {
      const data = t.data as NumericArray;
      payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    header.push({ n: name, d: t.datatype, s: t.shape, b: payload.length });
    payloads.push(payload);
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const preamble = Buffer.allocUnsafe(PREAMBLE_BYTES);
  preamble.writeUInt8(FORMAT_VERSION, 0);
  preamble.writeUInt32LE(json.length, 1);
  // concat copies, so the Buffer shares no memory with the caller's arrays.
  return Buffer.concat([preamble, json, ...payloads]);
}

/** The inverse of {@link encodeTensors}, into fresh arrays; throws on anything malformed. */
export function decodeTensors(buf: Buffer): CachedTensors {
  if (buf.length < PREAMBLE_BYTES)
    throw new CorruptCacheEntryError('entry shorter than its preamble');
  const version = buf.readUInt8(0);
  if (version !== FORMAT_VERSION)
    throw new CorruptCacheEntryError(`unknown cache format version ${version}`);
  const headerEnd = PREAMBLE_BYTES + buf.readUInt32LE(1);
  if (headerEnd > buf.length) throw new CorruptCacheEntryError('header runs past the entry');
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', PREAMBLE_BYTES, headerEnd));
  } catch {
    throw new CorruptCacheEntryError('header is not JSON');
  }
  if (!Array.isArray(header)) throw new CorruptCacheEntryError('header is not a list');
  const out: CachedTensors = {};
  let offset = headerEnd;
  for (const entry of header as HeaderEntry[]) {
    const { n: name, d: datatype, s: shape, b: size } = entry;
    if (
      typeof name !== 'string' ||
      !OIP_DATATYPES.includes(datatype) ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Number.isInteger(size) ||
      size < 0 ||
      offset + size > buf.length
    )
      throw new CorruptCacheEntryError(`bad header entry for tensor ${String(name)}`);
    const payload = buf.subarray(offset, offset + size);
    offset += size;
    if (datatype === 'BYTES') {
      out[name] = { datatype, shape, data: decodeStrings(payload) };
      continue;
    }
    const Array_ = ARRAY_OF[datatype];
    if (size % Array_.BYTES_PER_ELEMENT !== 0)
      throw new CorruptCacheEntryError(
        `tensor ${name}: ${size} bytes is not a whole ${datatype} count`,
      );
    // A fresh, aligned array: the Buffer from Redis may sit at any offset of a shared pool.
    const data = new Array_(size / Array_.BYTES_PER_ELEMENT);
    new Uint8Array(data.buffer).set(payload);
    out[name] = { datatype, shape, data };
  }
  if (offset !== buf.length)
    throw new CorruptCacheEntryError('trailing bytes after the last tensor');
  return out;
}

function decodeStrings(payload: Buffer): string[] {
  const strings: string[] = [];
  let offset = 0;
  while (offset < payload.length) {
    if (offset + 4 > payload.length) throw new CorruptCacheEntryError('truncated string length');
    const length = payload.readUInt32LE(offset);
    offset += 4;
    if (offset + length > payload.length) throw new CorruptCacheEntryError('truncated string');
    strings.push(payload.toString('utf8', offset, offset + length));
    offset += length;
  }
  return strings;
}
