import {
  Partitioners,
  type CompressionTypes,
  type Kafka,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { Logger } from 'pino';
import { encode, type Outgoing } from './codec';
import { BackpressureError } from './errors';
import type { BusMetrics } from './metrics';

export interface ProducerOptions {
  /** How long a send waits for others to join its batch. */
  lingerMs: number;
  /** Records per Kafka request at most. */
  maxBatchRecords: number;
  /** Records buffered (not yet acknowledged) at most; beyond, `send` fails fast. */
  maxPendingRecords: number;
  compression?: CompressionTypes;
}

export const DEFAULT_PRODUCER_OPTIONS: ProducerOptions = {
  lingerMs: 2,
  maxBatchRecords: 10_000,
  maxPendingRecords: 100_000,
};

interface Pending {
  topic: string;
  message: Message;
  done: { resolve: () => void; reject: (err: unknown) => void; remaining: number; failed: boolean };
}

/** Groups encoded records by topic for one `sendBatch`. */
export function groupByTopic(records: { topic: string; message: Message }[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    list.push(r.message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The platform's producer: idempotent, acks=all, payloads validated against their schemas
 * before they leave. Concurrent callers (HTTP requests) are coalesced into one Kafka request
 * after `lingerMs`; the buffer is bounded and a full buffer is an immediate BackpressureError,
 * so the caller can answer 429 instead of queueing without end. Requests go out one at a time:
 * kafkajs's idempotent producer keeps its sequence numbers right only then.
 */
export class BusProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private pendingCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly source: string,
    private readonly prefix: string,
    private readonly metrics: BusMetrics,
    private readonly logger: Logger,
    private readonly options: ProducerOptions = DEFAULT_PRODUCER_OPTIONS,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      // Idempotence needs at most 5 in flight; we send one request at a time anyway.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client: any client that produces a key lands where we do.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Records buffered and not yet acknowledged. */
  get pending(): number {
    return this.pendingCount;
  }

  get saturated(): boolean {
    return this.pendingCount >= this.options.maxPendingRecords;
  }

  /**
   * Validates and sends; resolves once every record is acknowledged by all in-sync replicas.
   * Throws OutputSchemaError before anything is buffered when one payload is invalid, and
   * BackpressureError when the buffer cannot take them.
   */
  send(outs: readonly Outgoing[]): Promise<void> {
    if (outs.length === 0) return Promise.resolve();
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    if (this.pendingCount + outs.length > this.options.maxPendingRecords) {
      return Promise.reject(
        new BackpressureError(`producer buffer full (${this.pendingCount} records pending)`, 1000),
      );
    }
    const encoded = outs.map((o) => encode(o, this.source, this.prefix));
    return new Promise<void>((resolve, reject) => {
      const done = { resolve, reject, remaining: encoded.length, failed: false };
      for (const e of encoded) this.queue.push({ ...e, done });
      this.pendingCount += encoded.length;
      this.metrics.producerPending.set(this.pendingCount);
      if (this.queue.length >= this.options.maxBatchRecords) this.schedule(0);
      else this.schedule(this.options.lingerMs);
    });
  }

  /** Sends already-batched records straight away (a consumer stage's outputs). */
  async sendBatch(records: { topic: string; message: Message }[]): Promise<void> {
    if (records.length === 0) return;
    await this.serialised(() =>
      this.producer.sendBatch({
        topicMessages: groupByTopic(records),
        acks: -1,
        compression: this.options.compression,
      }),
    );
    this.countOut(records);
  }

  private countOut(records: { topic: string }[]): void {
    const perTopic = new Map<string, number>();
    for (const r of records) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
    for (const [topic, n] of perTopic) this.metrics.messagesOut.inc({ topic }, n);
  }

  private schedule(delayMs: number): void {
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.flushing.then(fn, fn);
    this.flushing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private flush(): Promise<void> {
    return this.serialised(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatchRecords);
        try {
          await this.producer.sendBatch({
            topicMessages: groupByTopic(batch),
            acks: -1,
            compression: this.options.compression,
          });
          this.countOut(batch);
          for (const p of batch) {
            if (--p.done.remaining === 0 && !p.done.failed) p.done.resolve();
          }
        } catch (err) {
          this.logger.error({ err, records: batch.length }, 'produce failed');
          for (const p of batch) {
            if (!p.done.failed) {
              p.done.failed = true;
              p.done.reject(err);
            }
          }
        } finally {
          this.pendingCount -= batch.length;
          this.metrics.producerPending.set(this.pendingCount);
        }
      }
    });
  }

  /** Sends what is buffered, then disconnects. */
  async disconnect(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.flush();
    this.connected = false;
    await this.producer.disconnect();
  }
}
