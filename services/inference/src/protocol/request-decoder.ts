import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelSignature } from '../runtime/tensor';
import {
  OipError,
  parseInferRequest,
  splitInferBody,
  type InferLimits,
  type ParsedInferRequest,
} from './oip';

/** What routing needs of a request before its tensors are decoded. */
export interface RequestHead {
  id?: string;
  parameters?: unknown;
}

/** A request body read as JSON (and binary tensors), waiting for the signature to decode it. */
export interface DecodedBody {
  head: RequestHead;
  /** Decodes and checks the tensors against the routed version's signature. */
  parse(signature: ModelSignature, limits: InferLimits): Promise<ParsedInferRequest>;
  /** Forgets the body (routing failed). */
  drop(): void;
}

export type DecoderRequest =
  | { type: 'decode'; id: number; body: Uint8Array; headerLength?: string | string[] }
  | { type: 'parse'; id: number; signature: ModelSignature; limits: InferLimits }
  | { type: 'drop'; id: number };

export type DecoderReply =
  | { type: 'decoded'; id: number; head: RequestHead }
  | { type: 'parsed'; id: number; parsed: ParsedInferRequest }
  | { type: 'failed'; id: number; status: number; message: string };

/** The id and parameters of a parsed request body: what routing needs. */
export function headOf(json: unknown): RequestHead {
  if (!json || typeof json !== 'object') return {};
  const { id, parameters } = json as { id?: unknown; parameters?: unknown };
  return {
    ...(typeof id === 'string' ? { id } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
  };
}

/** Decoding on the calling thread: for ordinary bodies, where a thread hop costs more. */
export function decodeInline(
  body: Buffer,
  headerLength: string | string[] | undefined,
): DecodedBody {
  const { json, binary } = splitInferBody(body, headerLength);
  return {
    head: headOf(json),
    parse: (signature, limits) =>
      Promise.resolve(parseInferRequest(json, signature, limits, binary)),
    drop: () => {},
  };
}

/**
 * Decodes large request bodies in a thread of its own. `JSON.parse` of a max batch of a wide
 * model (64 rows × 512 numbers, 650 kB) holds the thread for ~4 ms, and building its numbers
 * makes garbage to collect: on the main thread that is event-loop lag for every request in
 * flight. The body is moved to the thread, parsed there and kept; routing gets the request's
 * id and parameters; the tensors come back as typed arrays, moved, once the routed version's
 * signature is known.
 */
export class RequestDecoder {
  private worker: Worker | undefined;
  private next = 1;
  private readonly pending = new Map<number, (r: DecoderReply) => void>();
  private closed = false;

  constructor(
    /** Bodies at least this large are decoded in the thread. */
    readonly thresholdBytes: number,
    /** The thread's nice value (lowerThreadPriority); 0 keeps the process's. */
    private readonly nice = 0,
    private readonly workerFile = path.join(__dirname, 'request-decoder.worker.js'),
  ) {}

  async decode(body: Buffer, headerLength: string | string[] | undefined): Promise<DecodedBody> {
    if (body.length < this.thresholdBytes || this.closed) return decodeInline(body, headerLength);
    // A Buffer may be a view of a larger pool: copy it to a buffer of its own and move that.
    const bytes = new Uint8Array(body.length);
    bytes.set(body);
    const id = this.next++;
    const reply = await this.call(
      { type: 'decode', id, body: bytes, ...(headerLength !== undefined ? { headerLength } : {}) },
      [bytes.buffer],
    );
    if (reply.type === 'failed') throw new OipError(reply.status, reply.message);
    if (reply.type !== 'decoded') throw new Error(`request decoder: unexpected ${reply.type}`);
    let done = false;
    return {
      head: reply.head,
      parse: async (signature, limits) => {
        done = true;
        const r = await this.call({ type: 'parse', id, signature, limits });
        if (r.type === 'failed') throw new OipError(r.status, r.message);
        if (r.type !== 'parsed') throw new Error(`request decoder: unexpected ${r.type}`);
        return r.parsed;
      },
      drop: () => {
        if (done) return;
        done = true;
        this.worker?.postMessage({ type: 'drop', id } satisfies DecoderRequest);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private call(m: DecoderRequest, transfer: ArrayBuffer[] = []): Promise<DecoderReply> {
    const worker = this.ensure();
    return new Promise((resolve) => {
      this.pending.set(m.id, resolve);
      worker.postMessage(m, transfer);
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile, { workerData: { nice: this.nice } });
    worker.unref();
    worker.on('message', (r: DecoderReply) => {
      const resolve = this.pending.get(r.id);
      if (!resolve) return;
      // A decoded body stays in the thread until it is parsed or dropped.
      this.pending.delete(r.id);
      resolve(r);
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [id, resolve] of this.pending)
        resolve({
          type: 'failed',
          id,
          status: 503,
          message: `request decoder stopped: ${err.message}`,
        });
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
