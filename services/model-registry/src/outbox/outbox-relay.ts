import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readTail, type Bus, type OutgoingEvent } from '@mlops/bus';
import {
  EVENTS,
  headerString,
  topicName,
  type EventDefinition,
  type TopicKey,
} from '@mlops/contracts';
import type { OutboxRecord, RegistryStore } from '../store/registry-store';

/** Header that carries a record's outbox sequence, so a restarted relay knows how far it got. */
export const OUTBOX_SEQ_HEADER = 'mlops-outbox-seq';

const EVENT_OF: Partial<Record<TopicKey, EventDefinition>> = {
  modelsLifecycle: EVENTS.modelLifecycle,
  pipelineSpecs: EVENTS.datasetSpec,
};

export const RELAYED_TOPICS = Object.keys(EVENT_OF) as TopicKey[];

/**
 * Publishes the outbox in sequence order and marks what Kafka acknowledged. A crash between
 * the database write and the publish leaves the record pending: it goes out after the restart.
 * A crash between the publish and the mark would send it twice, so at start the relay reads
 * the last record of its topics and marks everything up to the sequence found there as
 * published: each record reaches the bus once.
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly published: Counter;
  private readonly pending: Gauge;
  private lastError: string | undefined;

  constructor(
    private readonly store: RegistryStore,
    private readonly bus: Bus,
    private readonly logger: Logger,
    registry: Registry,
    private readonly options: { pollMs: number; batchSize: number },
  ) {
    this.published = new Counter({
      name: 'registry_outbox_published_total',
      help: 'Outbox records published.',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.pending = new Gauge({
      name: 'registry_outbox_pending',
      help: 'Outbox records waiting to be published.',
      registers: [registry],
    });
  }

  get healthy(): { ok: boolean; lastError?: string } {
    return {
      ok: this.running && this.lastError === undefined,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async start(): Promise<void> {
    await this.recover();
    this.running = true;
    this.loop = this.run();
  }

  /** Publish now rather than at the next poll (called after a write). */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** The highest sequence already on the bus, from the tail of each relayed topic. */
  async recover(): Promise<number> {
    let max = 0;
    for (const key of RELAYED_TOPICS) {
      const tail = await readTail(this.bus.kafka, this.bus.admin, topicName(key, this.bus.prefix));
      for (const message of tail.values()) {
        const seq = Number(headerString(message.headers, OUTBOX_SEQ_HEADER));
        if (Number.isInteger(seq) && seq > max) max = seq;
      }
    }
    if (max > 0) await this.store.markPublishedUpTo(max);
    this.logger.info({ publishedUpTo: max }, 'outbox recovered');
    return max;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const n = await this.drain();
        this.lastError = undefined;
        if (n > 0) continue;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.logger.error({ err }, 'outbox publish failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Publishes one batch of pending records; returns how many. */
  async drain(): Promise<number> {
    const records = await this.store.pendingOutbox(this.options.batchSize);
    this.pending.set(records.length);
    if (records.length === 0) return 0;
    await this.bus.producer.send(records.map((r) => this.toEvent(r)));
    await this.store.markPublished(records.map((r) => r.id));
    for (const r of records) this.published.inc({ topic: r.topic });
    return records.length;
  }

  private toEvent(record: OutboxRecord): OutgoingEvent {
    const event = EVENT_OF[record.topic];
    if (!event)
      throw new Error(
        `outbox record ${record.id} is for ${record.topic}, which the relay does not publish`,
      );
    const data =
      record.topic === 'modelsLifecycle'
        ? { ...(record.payload as object), sequence: record.id }
        : record.payload;
    return {
      event,
      key: record.key,
      data: data,
      attrs: {
        id: record.eventId,
        subject: record.key,
        time: new Date(record.createdAt).toISOString(),
      },
      headers: { [OUTBOX_SEQ_HEADER]: String(record.id) },
    };
  }
}
