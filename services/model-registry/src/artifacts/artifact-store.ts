import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface StoredBlob {
  sha256: string;
  size: number;
}

export class ArtifactTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the artifact exceeds the limit of ${limit} bytes`);
    this.name = 'ArtifactTooLargeError';
  }
}

export class DigestMismatchError extends Error {
  constructor(
    readonly declared: string,
    readonly actual: string,
  ) {
    super(`declared sha256 ${declared} but the uploaded bytes hash to ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

/** Where artifacts live: a directory now, a mounted volume in Kubernetes. */
export interface ArtifactStore {
  /**
   * Streams bytes in, hashing and counting them; keeps them only when the size is within
   * `maxBytes` and the hash equals `declaredSha256`. Nothing is left behind otherwise.
   */
  put(
    body: Readable,
    declaredSha256: string,
    maxBytes: number,
  ): Promise<StoredBlob & { created: boolean }>;
  stat(sha256: string): Promise<StoredBlob | undefined>;
  open(sha256: string, range?: { start: number; end: number }): Readable;
}

/**
 * Content-addressed files: `<root>/sha256/<2 hex>/<64 hex>`. An upload is written to a
 * temporary file in the same directory tree and renamed into place only once verified, so a
 * reader never sees a partial artifact, and the same bytes uploaded twice are stored once.
 */
export class FileArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await fs.mkdir(path.join(this.root, 'sha256'), { recursive: true });
    await fs.mkdir(path.join(this.root, 'tmp'), { recursive: true });
  }

  private pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256.slice(0, 80)}`);
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async put(
    body: Readable,
    declaredSha256: string,
    maxBytes: number,
  ): Promise<StoredBlob & { created: boolean }> {
    const tmp = path.join(this.root, 'tmp', `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new ArtifactTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { flags: 'wx' }));
      const actual = hash.digest('hex');
      if (actual !== declaredSha256) throw new DigestMismatchError(declaredSha256, actual);
      const final = this.pathOf(actual);
      await fs.mkdir(path.dirname(final), { recursive: true });
      const existed = await fs.stat(final).then(
        () => true,
        () => false,
      );
      if (existed) {
        await fs.rm(tmp, { force: true });
        return { sha256: actual, size, created: false };
      }
      await fs.rename(tmp, final);
      return { sha256: actual, size, created: true };
    } catch (err) {
      await fs.rm(tmp, { force: true });
      // Stop reading a body we refused, but let the response go out.
      body.resume();
      throw err;
    }
  }

  async stat(sha256: string): Promise<StoredBlob | undefined> {
    if (!SHA256_HEX.test(sha256)) return undefined;
    try {
      const s = await fs.stat(this.pathOf(sha256));
      return { sha256, size: s.size };
    } catch {
      return undefined;
    }
  }

  open(sha256: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(sha256), range);
  }
}

/** The URI a stored artifact is known by: a path on the registry's own API. */
export function artifactUri(sha256: string): string {
  return `/v1/artifacts/${sha256}`;
}

/** The sha256 of one of our URIs, or undefined for a foreign URI. */
export function sha256OfUri(uri: string): string | undefined {
  const m = /^\/v1\/artifacts\/([a-f0-9]{64})$/.exec(uri);
  return m?.[1];
}
