/**
 * The training-matrix artifact: one self-describing binary file the trainer reads without the
 * feature service. Little-endian throughout:
 *
 *   "MLMX" | u32 version (1) | u32 header bytes | header (UTF-8 JSON) | zero padding to 8 |
 *   f32 values (rows × columns, row-major) | f64 labels (rows; NaN: none) | u8 split (rows:
 *   0 train, 1 validation, 2 test)
 *
 * Values are float32 (what a model trains on; the stream's vectors stay float64 JSON); labels
 * float64 (class indices and regression targets exactly). The same rows give the same bytes, so
 * the artifact's sha256 names its content.
 */

export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface MatrixHeader {
  rows: number;
  columns: number;
  names: string[];
  /** Label values by index, for classification (label i is stored as i); null otherwise. */
  classes: string[] | null;
  featuresetVersion: string;
  dataset: string;
}

export interface Matrix {
  header: MatrixHeader;
  values: Float32Array;
  labels: Float64Array;
  split: Uint8Array;
}

const MAGIC = 'MLMX';
const VERSION = 1;

export function encodeMatrix(m: Matrix): Buffer {
  const { rows, columns } = m.header;
  if (m.values.length !== rows * columns) throw new RangeError('values: rows × columns expected');
  if (m.labels.length !== rows || m.split.length !== rows)
    throw new RangeError('one label and split per row');
  const header = Buffer.from(JSON.stringify(m.header), 'utf8');
  const start = align8(12 + header.length);
  const out = Buffer.alloc(start + rows * columns * 4 + rows * 8 + rows);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let at = start;
  for (let i = 0; i < m.values.length; i++, at += 4) out.writeFloatLE(m.values[i], at);
  for (let i = 0; i < rows; i++, at += 8) out.writeDoubleLE(m.labels[i], at);
  for (let i = 0; i < rows; i++, at += 1) out.writeUInt8(m.split[i], at);
  return out;
}

export function decodeMatrix(buf: Buffer): Matrix {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== MAGIC)
    throw new Error('not a training matrix (bad magic)');
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`unsupported matrix version ${version}`);
  const headerBytes = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + headerBytes)) as MatrixHeader;
  const { rows, columns } = header;
  let at = align8(12 + headerBytes);
  if (buf.length !== at + rows * columns * 4 + rows * 9) throw new Error('truncated matrix');
  const values = new Float32Array(rows * columns);
  for (let i = 0; i < values.length; i++, at += 4) values[i] = buf.readFloatLE(at);
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++, at += 8) labels[i] = buf.readDoubleLE(at);
  const split = new Uint8Array(rows);
  for (let i = 0; i < rows; i++, at += 1) split[i] = buf.readUInt8(at);
  return { header, values, labels, split };
}

/** Row indices of each split, labelled rows only (a row without a label trains and scores nothing). */
export function labelledSplitRows(m: Matrix): Record<Split, Uint32Array> {
  const out: number[][] = [[], [], []];
  for (let r = 0; r < m.header.rows; r++) {
    if (Number.isNaN(m.labels[r])) continue;
    out[m.split[r]]?.push(r);
  }
  return {
    train: Uint32Array.from(out[0]),
    validation: Uint32Array.from(out[1]),
    test: Uint32Array.from(out[2]),
  };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
