import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventDefinition, TopicKey } from '@mlops/contracts';
import type { BusConfig } from './config';
import { Subscription, type SubscriptionHealth, type SubscriptionOptions } from './consumer';
import { BusMetrics } from './metrics';
import { BusProducer, DEFAULT_PRODUCER_OPTIONS, type ProducerOptions } from './producer';
import { CompactedTable, type TableOptions } from './table';
import { ensureTopics, type ExtraTopic } from './topics-admin';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Broker answers that kafkajs retries by itself (a coordinator or leader still being elected,
 * a rebalance): it logs them as errors, but they are only worth a warning.
 */
const RETRIED_BY_KAFKAJS = new Set([
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  "The coordinator is loading and hence can't process requests for this group",
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'The group is rebalancing, so a rejoin is needed',
]);

/** kafkajs logs through the service's pino logger, as JSON like every other line. */
export function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      let name = LEVELS[level] ?? 'info';
      if (
        name === 'error' &&
        typeof extra.error === 'string' &&
        RETRIED_BY_KAFKAJS.has(extra.error)
      )
        name = 'warn';
      child[name](extra, message);
    };
}

export interface BusHealth {
  ok: boolean;
  subscriptions: SubscriptionHealth[];
}

/**
 * The Kafka runtime of one service: a producer, its subscriptions and its tables, with one
 * shutdown order — stop fetching, finish and commit the batches in hand, flush the producer,
 * disconnect.
 */
export class Bus {
  readonly kafka: Kafka;
  readonly producer: BusProducer;
  readonly admin: Admin;
  readonly metrics: BusMetrics;
  private readonly subscriptions: Subscription<EventDefinition>[] = [];
  private readonly tables: CompactedTable<EventDefinition>[] = [];
  private started = false;

  constructor(
    readonly config: BusConfig,
    private readonly logger: Logger,
    registry: Registry,
    producerOptions: ProducerOptions = DEFAULT_PRODUCER_OPTIONS,
  ) {
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      ssl: config.ssl,
      sasl: config.sasl,
      connectionTimeout: config.connectionTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
    });
    this.metrics = new BusMetrics(registry);
    this.admin = this.kafka.admin();
    this.producer = new BusProducer(
      this.kafka,
      this.source,
      config.topicPrefix,
      this.metrics,
      logger,
      producerOptions,
    );
  }

  /** CloudEvents `source` of everything this service emits. */
  get source(): string {
    return `/services/${this.config.clientId}`;
  }

  get prefix(): string {
    return this.config.topicPrefix;
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  ensureTopics(
    keys: readonly TopicKey[],
    options: { dlqFor?: readonly TopicKey[]; extra?: readonly ExtraTopic[] } = {},
  ): Promise<void> {
    return ensureTopics(this.admin, this.prefix, keys, options);
  }

  /** Declares a subscription; it starts with {@link start}. */
  subscribe<E extends EventDefinition>(options: SubscriptionOptions<E>): Subscription<E> {
    const sub = new Subscription(
      {
        kafka: this.kafka,
        admin: this.admin,
        ensureDlq: (name) =>
          ensureTopics(this.admin, this.prefix, [], {
            extra: [{ name, partitions: 1, compacted: false }],
          }),
        producer: this.producer,
        metrics: this.metrics,
        logger: this.logger,
        prefix: this.prefix,
        source: this.source,
        clientId: this.config.clientId,
      },
      options,
    );
    this.subscriptions.push(sub);
    if (this.started) void sub.start();
    return sub;
  }

  table<E extends EventDefinition>(options: TableOptions<E>): CompactedTable<E> {
    const table = new CompactedTable(this.kafka, this.admin, this.prefix, this.logger, options);
    this.tables.push(table);
    return table;
  }

  /** Starts every declared subscription (tables are started by their owners, who await them). */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all(this.subscriptions.map((s) => s.start()));
  }

  health(): BusHealth {
    const subscriptions = this.subscriptions.map((s) => s.health());
    return { ok: subscriptions.every((s) => s.running && !s.stalled), subscriptions };
  }

  async shutdown(): Promise<void> {
    await Promise.allSettled(this.subscriptions.map((s) => s.stop()));
    await Promise.allSettled(this.tables.map((t) => t.stop()));
    await this.producer
      .disconnect()
      .catch((err: unknown) => this.logger.error({ err }, 'producer disconnect failed'));
    await this.admin.disconnect().catch(() => {});
  }
}
