/**
 * Text embedders: a small interface any model can implement, a deterministic default that needs
 * no model at all, and a loader that picks one from a config spec.
 *
 * {@link HashedNgramEmbedder} is the hashing trick on character n-grams, the same computation
 * as scikit-learn's `HashingVectorizer(analyzer='char', ngram_range=(minN, maxN),
 * n_features=dim, alternate_sign=True, norm='l2')` applied to the normalised text, and checked
 * against it (seed 0, the only seed sklearn exposes; other seeds through sklearn's
 * `murmurhash3_32`):
 * 1. Normalise: lower case, then NFC (so a composed and a decomposed "é" embed alike), every run
 *    of whitespace made one space, trimmed, then one space added at both ends so that word
 *    starts and ends are n-grams of their own.
 * 2. Every character n-gram, minN ≤ n ≤ maxN (code points, not UTF-16 units), is hashed with
 *    MurmurHash3 x86-32 of its UTF-8 bytes and `seed`; read as a signed 32-bit h, it adds
 *    sign(h) (+1 for h ≥ 0) to bucket |h| mod dim.
 * 3. The sums are divided by their L2 norm.
 * Text that is empty or only whitespace has no n-grams and embeds as the zero vector (norm 0,
 * not 1); cosine similarity with it is taken as 0.
 *
 * The hashing trick keeps vectors of shared n-grams close, so reworded or mistyped memos stay
 * similar; it knows nothing of meaning ("taxi" and "cab" share no n-gram). A pretrained model
 * plugs in through {@link loadEmbedder}'s `module` spec.
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import { murmur3Bytes } from './murmur3';

/** Turns text into a fixed-length vector. Implementations must be deterministic. */
export interface TextEmbedder {
  /** Names the model and every parameter that changes its output; vectors of different ids are
   * not comparable. */
  readonly id: string;
  /** Length of every vector `embed` returns. */
  readonly dim: number;
  embed(text: string): number[];
}

/** Parameters of {@link HashedNgramEmbedder}. */
export interface HashedNgramOptions {
  /** Number of buckets (vector length). Default 64. */
  readonly dim?: number;
  /** Shortest character n-gram. Default 3. */
  readonly minN?: number;
  /** Longest character n-gram. Default 5. */
  readonly maxN?: number;
  /** MurmurHash3 seed, an unsigned 32-bit integer. Default 0. */
  readonly seed?: number;
}

const encoder = new TextEncoder();
const WHITESPACE = /\s+/gu;

/** Step 1 of {@link HashedNgramEmbedder}: the text whose n-grams are hashed ('' for none). */
export function normaliseForEmbedding(text: string): string {
  const words = text.toLowerCase().normalize('NFC').replace(WHITESPACE, ' ').trim();
  return words === '' ? '' : ` ${words} `;
}

/** Character n-grams hashed into `dim` signed buckets, L2-normalised (module comment). */
export class HashedNgramEmbedder implements TextEmbedder {
  readonly id: string;
  readonly dim: number;
  readonly minN: number;
  readonly maxN: number;
  readonly seed: number;

  constructor({ dim = 64, minN = 3, maxN = 5, seed = 0 }: HashedNgramOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RangeError(`dim must be an integer ≥ 1, got ${dim}`);
    }
    if (!Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 1 || maxN < minN) {
      throw new RangeError(`need integers 1 ≤ minN ≤ maxN, got minN ${minN}, maxN ${maxN}`);
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an unsigned 32-bit integer, got ${seed}`);
    }
    this.dim = dim;
    this.minN = minN;
    this.maxN = maxN;
    this.seed = seed;
    this.id = `hashed-ngrams:${dim}:${minN}-${maxN}:${seed}`;
  }

  embed(text: string): number[] {
    const out = new Array<number>(this.dim).fill(0);
    const normalised = normaliseForEmbedding(text);
    if (normalised === '') return out;
    // Hash byte ranges of one UTF-8 buffer: starts[i] is where code point i begins, so the
    // n-gram of code points i … i+n−1 is bytes[starts[i], starts[i + n]), and no n-gram string
    // is ever built.
    const bytes = encoder.encode(normalised);
    const starts: number[] = [];
    for (let b = 0; b < bytes.length; b += 1) {
      if ((bytes[b] & 0xc0) !== 0x80) starts.push(b);
    }
    const count = starts.length;
    starts.push(bytes.length);
    const { dim, seed } = this;
    for (let n = this.minN; n <= Math.min(this.maxN, count); n += 1) {
      for (let i = 0; i + n <= count; i += 1) {
        const h = murmur3Bytes(bytes, starts[i], starts[i + n], seed) | 0;
        // |−2^31| does not fit an int32; sklearn defines its bucket as 2^31 mod dim.
        const bucket = h === -0x80000000 ? 0x80000000 % dim : Math.abs(h) % dim;
        out[bucket] += h >= 0 ? 1 : -1;
      }
    }
    let sum = 0;
    for (let j = 0; j < dim; j += 1) sum += out[j] * out[j];
    if (sum > 0) {
      const norm = Math.sqrt(sum);
      for (let j = 0; j < dim; j += 1) out[j] /= norm;
    }
    return out;
  }
}

/**
 * Cosine similarity of two vectors of equal length; 0 when either is the zero vector (the
 * embedding of empty text).
 */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
  }
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : dot / Math.sqrt(aa * bb);
}

/** Which embedder to use, as it would appear in a service's config. */
export type EmbedderSpec =
  | ({ readonly type: 'hashed-ngrams' } & HashedNgramOptions)
  | {
      readonly type: 'module';
      /** npm package name (or an absolute path) exporting `createEmbedder(options)`. */
      readonly module: string;
      /** Passed to `createEmbedder` as is. */
      readonly options?: unknown;
    };

/** What a `module` embedder package exports. */
export interface EmbedderModule {
  createEmbedder(options: unknown): TextEmbedder;
}

export interface LoadEmbedderOptions {
  /** Directory from which a package name is resolved (node_modules lookup). Default: cwd. */
  readonly resolveFrom?: string;
}

/**
 * Builds the embedder a spec names. `module` loads an installed npm package with `require` and
 * calls its `createEmbedder(options)`: that is how a pretrained model shipped inside a package
 * plugs in, since nothing can be downloaded at runtime. The package must create the embedder
 * synchronously (weights bundled in the package, read at load). Throws an Error saying which
 * package failed and why: not installed, failed to load, no `createEmbedder` export, or it
 * returned something that is not a {@link TextEmbedder}.
 */
export function loadEmbedder(spec: EmbedderSpec, opts: LoadEmbedderOptions = {}): TextEmbedder {
  switch (spec.type) {
    case 'hashed-ngrams':
      return new HashedNgramEmbedder(spec);
    case 'module':
      return loadModuleEmbedder(spec.module, spec.options, opts.resolveFrom ?? process.cwd());
  }
  // Specs come from configuration, so the type is checked at runtime too.
  throw new Error(`unknown embedder type ${JSON.stringify((spec as { type?: unknown }).type)}`);
}

function loadModuleEmbedder(name: string, options: unknown, resolveFrom: string): TextEmbedder {
  const req = createRequire(path.join(path.resolve(resolveFrom), '__embedder_loader__.js'));
  let resolved: string;
  try {
    resolved = req.resolve(name);
  } catch (err) {
    throw new Error(
      `Embedder module "${name}" is not installed (looked up from ${resolveFrom}); add the package to the service's dependencies, nothing is downloaded at runtime`,
      { cause: err },
    );
  }
  let loaded: unknown;
  try {
    loaded = req(resolved);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Embedder module "${name}" failed to load: ${reason}`, { cause: err });
  }
  const factory = findCreateEmbedder(loaded);
  if (factory === undefined) {
    throw new Error(
      `Embedder module "${name}" does not export a function createEmbedder(options) returning a TextEmbedder`,
    );
  }
  const embedder: unknown = factory(options);
  if (isThenable(embedder)) {
    throw new Error(
      `Embedder module "${name}": createEmbedder returned a Promise; it must return the TextEmbedder itself`,
    );
  }
  if (!isTextEmbedder(embedder)) {
    throw new Error(
      `Embedder module "${name}": createEmbedder did not return a TextEmbedder (id: non-empty string, dim: integer ≥ 1, embed: function)`,
    );
  }
  return embedder;
}

type Factory = (options: unknown) => unknown;

// CommonJS `exports.createEmbedder`, or an ES module's named export, or a default export
// holding it (what some bundlers and TypeScript's interop produce).
function findCreateEmbedder(loaded: unknown): Factory | undefined {
  for (const candidate of [loaded, (loaded as { default?: unknown } | null)?.default]) {
    if (typeof candidate !== 'object' && typeof candidate !== 'function') continue;
    if (candidate === null) continue;
    const holder = candidate as { createEmbedder?: unknown };
    if (typeof holder.createEmbedder === 'function') {
      const factory = holder.createEmbedder as Factory;
      // Called as a method, in case the package's factory uses `this`.
      return (options) => factory.call(holder, options);
    }
  }
  return undefined;
}

function isThenable(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function isTextEmbedder(value: unknown): value is TextEmbedder {
  if (typeof value !== 'object' || value === null) return false;
  const { id, dim, embed } = value as Partial<Record<keyof TextEmbedder, unknown>>;
  return (
    typeof id === 'string' &&
    id !== '' &&
    typeof dim === 'number' &&
    Number.isInteger(dim) &&
    dim >= 1 &&
    typeof embed === 'function'
  );
}
