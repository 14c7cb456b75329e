import type { Request } from 'express';
import { ApiError } from './http-errors';

/**
 * Reads a request body whole, refusing (413) one larger than `limit` bytes — from its declared
 * Content-Length before reading anything, else as soon as the bytes read pass it. The rest of
 * a refused body is drained so the connection stays usable.
 */
export function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(
      new ApiError(
        413,
        'payload_too_large',
        `the body is ${declared} bytes; the limit is ${limit}`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        req.resume();
        reject(
          new ApiError(413, 'payload_too_large', `the body exceeds the limit of ${limit} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => !failed && resolve(Buffer.concat(chunks)));
    req.on(
      'error',
      (err) =>
        !failed &&
        reject(new ApiError(400, 'bad_request', `could not read the body: ${err.message}`)),
    );
  });
}
