/**
 * Checks a request against its model's signature before it is queued. In a batch, one bad
 * request would make onnxruntime fail the whole batch, so the batcher rejects it alone, up
 * front, with a message that names the offending tensor.
 */
import { InvalidInputError } from './errors';
import { type ModelSignature, type TensorData, elementCount, isArrayOf } from './tensor';

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Checks that `feeds` are exactly the model's inputs, each with its datatype, rank and fixed
 * dimensions (−1 in the signature accepts any size) and as many values as its shape holds, and
 * that every input has the same first dimension. Returns that first dimension (the request's
 * rows), or 1 for a model whose inputs are scalars.
 */
export function checkFeeds(
  signature: ModelSignature,
  feeds: Readonly<Record<string, TensorData>>,
): number {
  const expected = new Set(signature.inputs.map((s) => s.name));
  for (const name of Object.keys(feeds)) {
    if (!expected.has(name)) {
      throw new InvalidInputError(
        `unexpected input "${name}"; the model's inputs are ${[...expected].join(', ')}`,
      );
    }
  }
  let rows: number | null = null;
  for (const spec of signature.inputs) {
    const t = feeds[spec.name];
    if (t === undefined) throw new InvalidInputError(`missing input "${spec.name}"`);
    if (t.datatype !== spec.datatype) {
      throw new InvalidInputError(
        `input "${spec.name}" is ${spec.datatype}, got ${String(t.datatype)}`,
      );
    }
    const fits =
      t.shape.length === spec.shape.length &&
      t.shape.every(
        (d, i) => Number.isInteger(d) && d >= 0 && (spec.shape[i] < 0 || d === spec.shape[i]),
      );
    if (!fits) {
      throw new InvalidInputError(
        `input "${spec.name}" has shape ${shapeText(t.shape)}, the model takes ` +
          `${shapeText(spec.shape)} (-1: any size)`,
      );
    }
    if (!isArrayOf(t.datatype, t.data)) {
      throw new InvalidInputError(`input "${spec.name}": the data is not ${t.datatype} values`);
    }
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new InvalidInputError(
        `input "${spec.name}" has shape ${shapeText(t.shape)} (${n} values), got ` +
          `${t.data.length} values`,
      );
    }
    const first = t.shape.length === 0 ? 1 : t.shape[0];
    if (rows !== null && first !== rows) {
      throw new InvalidInputError(
        `input "${spec.name}" has ${first} rows, the other inputs ${rows}; every input of a ` +
          'request has the same first dimension',
      );
    }
    rows = first;
  }
  return rows ?? 1;
}

/** Checks that every requested output exists (no names: every output). */
export function checkOutputNames(signature: ModelSignature, names?: readonly string[]): void {
  if (names === undefined) return;
  const known = new Set(signature.outputs.map((s) => s.name));
  for (const name of names) {
    if (!known.has(name)) {
      throw new InvalidInputError(
        `unknown output "${name}"; the model's outputs are ${[...known].join(', ')}`,
      );
    }
  }
}
