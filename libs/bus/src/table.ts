import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { topicName, type EventDefinition, type EventPayload } from '@mlops/contracts';
import { decode } from './codec';

export interface TableOptions<E extends EventDefinition> {
  name: string;
  event: E;
  /** Called for every change after the record is applied (value undefined: deleted). */
  onChange?: (key: string, value: EventPayload<E> | undefined) => void;
  maxValueBytes?: number;
}

/**
 * A compacted topic read whole into memory: the latest value per key. A service that starts
 * reads it from the beginning and is ready once it has caught up with the offsets the topic
 * had at that moment; afterwards it follows changes. No offsets are committed: every start
 * reads again, which is what a compacted topic is for.
 */
export class CompactedTable<E extends EventDefinition> {
  private readonly consumer: Consumer;
  private readonly topic: string;
  private readonly rows = new Map<string, EventPayload<E>>();
  private readonly positions = new Map<number, number>();
  private waiters: { target: Map<number, number>; resolve: () => void }[] = [];

  constructor(
    kafka: Kafka,
    private readonly admin: Admin,
    prefix: string,
    private readonly logger: Logger,
    private readonly options: TableOptions<E>,
  ) {
    this.topic = topicName(options.event.topic, prefix);
    // A group of its own per process: every instance needs the whole table, not a share.
    this.consumer = kafka.consumer({
      groupId: `${prefix}table.${options.name}.${randomUUID()}`,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, (e) => {
      this.positions.set(e.payload.partition, Number(e.payload.lastOffset) + 1);
      this.wake();
    });
  }

  get(key: string): EventPayload<E> | undefined {
    return this.rows.get(key);
  }

  entries(): IterableIterator<[string, EventPayload<E>]> {
    return this.rows.entries();
  }

  get size(): number {
    return this.rows.size;
  }

  /** Connects, reads to the current end, then keeps following. */
  async start(timeoutMs = 30_000): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8');
          if (key === undefined) continue;
          if (message.value === null) {
            this.rows.delete(key);
            this.options.onChange?.(key, undefined);
            continue;
          }
          const decoded = decode(
            this.options.event,
            batch.topic,
            batch.partition,
            message,
            this.options.maxValueBytes ?? 4 * 1024 * 1024,
          );
          if (!decoded.ok) {
            // A table cannot stop on a bad row, and the row's producer is ours: say it loudly.
            this.logger.error(
              { table: this.options.name, key, offset: message.offset, reasons: decoded.reasons },
              'ignoring an invalid table record',
            );
            continue;
          }
          this.rows.set(key, decoded.event.data);
          this.options.onChange?.(key, decoded.event.data);
        }
      },
    });
    await this.sync(timeoutMs);
  }

  /**
   * Resolves once every record written to the topic before this call has been applied: the
   * read-your-writes point for a lookup that missed.
   */
  async sync(timeoutMs = 10_000): Promise<void> {
    const offsets = await this.admin.fetchTopicOffsets(this.topic);
    const target = new Map<number, number>();
    for (const p of offsets) {
      const high = Number(p.high);
      if (high > Number(p.low)) target.set(p.partition, high);
    }
    if (this.reached(target)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `table ${this.options.name} did not catch up with ${this.topic} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ target, resolve: done });
    });
  }

  private reached(target: Map<number, number>): boolean {
    for (const [partition, high] of target) {
      if ((this.positions.get(partition) ?? 0) < high) return false;
    }
    return true;
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => this.reached(w.target));
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    ready.forEach((w) => w.resolve());
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.consumer.disconnect();
  }
}
