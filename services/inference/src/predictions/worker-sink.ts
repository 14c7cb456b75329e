import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { isOutgoingEvent, OutputSchemaError, type Outgoing } from '@mlops/bus';
import type { LogRecord, LogSinkInit, LogSinkReply, LogSinkRequest } from './log-sink.messages';
import type { LoggedPrediction, PredictionSink } from './prediction-log';

/**
 * A {@link PredictionSink} whose producer runs in a worker thread (log-sink.worker): `send`
 * posts the predictions and resolves when Kafka acknowledged them, so the prediction log keeps
 * its retry and ordering logic while encoding and framing leave the main thread. A worker that
 * dies fails what it held (the log retries it) and is started again.
 */
export class WorkerPredictionSink implements PredictionSink {
  readonly acceptsTypedFeatures = true;
  private worker: Worker | undefined;
  private next = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private closing = false;

  constructor(
    private readonly init: LogSinkInit,
    private readonly logger: Logger,
    private readonly workerFile = path.join(__dirname, 'log-sink.worker.js'),
  ) {}

  send(outs: readonly Outgoing[]): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the prediction log sink is closed'));
    const records: LogRecord[] = outs.map((o) => {
      if (!isOutgoingEvent(o)) throw new Error('the prediction log sends events only');
      return {
        key: o.key,
        data: o.data as LoggedPrediction,
        ...(o.attrs ? { attrs: o.attrs } : {}),
      };
    });
    return this.request({ type: 'send', id: this.next++, records });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    await this.request({ type: 'close', id: this.next++ }, true).catch(() => {});
    await worker.terminate();
  }

  private request(m: LogSinkRequest, internal = false): Promise<void> {
    if (this.closing && !internal)
      return Promise.reject(new Error('the prediction log sink is closed'));
    const worker = this.ensure();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      worker.postMessage(m);
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile, { workerData: this.init });
    worker.on('message', (m: LogSinkReply) => {
      if (m.type === 'ready') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'failed')
        p.reject(
          m.schema
            ? new OutputSchemaError(m.schema.eventType, m.schema.issues)
            : new Error(m.message),
        );
      else p.resolve();
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      if (!this.closing)
        this.logger.error({ err }, 'prediction log worker stopped; restarting on next send');
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`prediction log worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}
