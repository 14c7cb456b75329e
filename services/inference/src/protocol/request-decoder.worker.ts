import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { TensorData } from '../runtime/tensor';
import { lowerThreadPriority } from '../runtime/thread-priority';
import { OipError, parseInferRequest, splitInferBody } from './oip';
import { headOf, type DecoderReply, type DecoderRequest } from './request-decoder';

/** The request decoder's thread: bodies parsed and kept by id until their signature comes. */
if (!isMainThread && parentPort) {
  const port = parentPort;
  // The event loop, which answers every request, goes first on a busy node.
  lowerThreadPriority((workerData as { nice?: number } | null)?.nice ?? 0);
  const bodies = new Map<number, { json: unknown; binary?: Uint8Array }>();
  const reply = (r: DecoderReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  const failure = (id: number, err: unknown): DecoderReply =>
    err instanceof OipError
      ? { type: 'failed', id, status: err.status, message: err.message }
      : { type: 'failed', id, status: 500, message: (err as Error).message ?? String(err) };
  port.on('message', (m: DecoderRequest) => {
    if (m.type === 'drop') {
      bodies.delete(m.id);
      return;
    }
    if (m.type === 'decode') {
      try {
        const decoded = splitInferBody(
          Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
          m.headerLength,
        );
        bodies.set(m.id, decoded);
        const head = headOf(decoded.json);
        reply({ type: 'decoded', id: m.id, head });
      } catch (err) {
        reply(failure(m.id, err));
      }
      return;
    }
    const body = bodies.get(m.id);
    bodies.delete(m.id);
    if (!body) {
      reply({ type: 'failed', id: m.id, status: 500, message: 'request body not found' });
      return;
    }
    try {
      const parsed = parseInferRequest(body.json, m.signature, m.limits, body.binary);
      // Move the tensors' buffers back (they were made for this request alone).
      const transfer = new Set<ArrayBuffer>();
      for (const t of Object.values<TensorData>(parsed.inputs))
        if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer)
          transfer.add(t.data.buffer);
      reply({ type: 'parsed', id: m.id, parsed }, [...transfer]);
    } catch (err) {
      reply(failure(m.id, err));
    }
  });
}
