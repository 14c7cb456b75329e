import {
  Partitioners,
  type Admin,
  type Batch,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Message,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import {
  EVENTS,
  deadLetterTopicName,
  topicName,
  traceIdOf,
  type EventDefinition,
  type EventPayload,
  type RejectionReason,
} from '@mlops/contracts';
import {
  deadLetterPayload,
  decode,
  encode,
  OutputSchemaError,
  type BusEvent,
  type Outgoing,
} from './codec';
import { classify, DEFAULT_RETRY, PermanentError, withRetry, type RetryPolicy } from './errors';
import type { BusMetrics } from './metrics';
import { groupByTopic, type BusProducer } from './producer';
import { readPartition } from './range';

export interface HandlerContext {
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
  /** A child logger for one event: topic, partition, offset, event id and trace id. */
  log(event: BusEvent): Logger;
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
}

export interface Rejection {
  event: BusEvent;
  reasons: RejectionReason[];
  dataset?: string;
}

export interface BatchResult {
  outputs?: Outgoing[];
  /** Events the handler refuses (business rules): dead-lettered with these reasons. */
  rejects?: Rejection[];
  /** Runs once the outputs and the offsets are durable (after the transaction commits). */
  onCommitted?: () => void;
  /** Runs when they are not (the transaction aborted); the batch will be handled again. */
  onAborted?: () => void;
}

export type BatchHandler<T> = (
  events: BusEvent<T>[],
  ctx: HandlerContext,
) => Promise<BatchResult | void>;

export type Delivery = 'at-least-once' | 'exactly-once';

/** What a stage with partition-scoped state gets to rebuild it; see `restore`. */
export interface RestoreContext<T> {
  readonly partition: number;
  /** The offset of the batch about to be handled: rebuild the state to just before it. */
  readonly upTo: string;
  /**
   * Hands over the partition's committed events in [from, upTo) in order, decoded and
   * validated as the handler saw them (records the handler never saw are skipped the same way).
   */
  replay(from: string, onEvents: (events: BusEvent<T>[]) => void | Promise<void>): Promise<void>;
  /** Keeps the group membership alive during a long restore. */
  heartbeat(): Promise<void>;
}

export interface SubscriptionOptions<E extends EventDefinition> {
  /** Name in logs and metrics. */
  name: string;
  /** Consumer group (the bus adds the deployment prefix). */
  groupId: string;
  /** What the topic carries; the subscription's topic is the event's. */
  event: E;
  handler: BatchHandler<EventPayload<E>>;
  /**
   * exactly-once: outputs, dead letters and input offsets are written in one Kafka
   * transaction. at-least-once: outputs are acknowledged, then offsets committed.
   */
  delivery: Delivery;
  /** `rejected`: events.rejected.v1 (the data path); `dlq`: `<topic>.dlq`. */
  deadLetter?: 'rejected' | 'dlq';
  /** Events per handler call at most. */
  maxBatchSize?: number;
  /** How long a fetch waits for `minBytes` before returning what it has. */
  maxWaitMs?: number;
  minBytes?: number;
  partitionsConsumedConcurrently?: number;
  retry?: RetryPolicy;
  /** Larger record values are dead-lettered unread. */
  maxValueBytes?: number;
  /** Dead letters keep at most this much of the original value (and say it was cut). */
  deadLetterMaxValueBytes?: number;
  /** Group session timeout: how long a crashed member keeps its partitions. */
  sessionTimeoutMs?: number;
  /**
   * A batch running longer than this since it started or since its handler last called
   * `ctx.heartbeat()`, or no fetch for this long, marks the loop stalled.
   */
  stallMs?: number;
  fromBeginning?: boolean;
  /**
   * Partition-scoped state (exactly-once only). Called before the first batch of a partition
   * after every (re)assignment, and again after a batch failed (the handler may have changed
   * its state for outputs that were never committed), once the partition's transactional id
   * has been opened — which fences a crashed predecessor, so its open transaction can no longer
   * hide committed changelog records from a read_committed reader. The stage loads its last
   * snapshot (written in the same transactions as its outputs) and replays the input from the
   * snapshot's offset to `upTo`. A handler with state must not throw a permanent error after
   * changing its state for that batch.
   */
  restore?: (partition: number, ctx: RestoreContext<EventPayload<E>>) => Promise<void>;
}

export interface SubscriptionHealth {
  name: string;
  running: boolean;
  stalled: boolean;
  paused: boolean;
  lastError?: string;
  crashes: number;
  /** Millis since the loop last fetched or finished a batch. */
  idleMs: number;
}

const DEFAULTS = {
  deadLetter: 'rejected' as const,
  maxBatchSize: 1000,
  maxWaitMs: 100,
  minBytes: 1,
  partitionsConsumedConcurrently: 3,
  maxValueBytes: 1024 * 1024,
  deadLetterMaxValueBytes: 3 * 1024 * 1024,
  stallMs: 60_000,
  sessionTimeoutMs: 10_000,
  fromBeginning: true,
};

interface Runtime {
  kafka: Kafka;
  admin: Admin;
  /** Creates the subscription's `<topic>.dlq` when it dead-letters there. */
  ensureDlq: (topic: string) => Promise<void>;
  producer: BusProducer;
  metrics: BusMetrics;
  logger: Logger;
  prefix: string;
  source: string;
  clientId: string;
}

type Encoded = { topic: string; message: Message };

/**
 * One consumer group member on one topic, consuming in batches. It never holds a failing
 * message forever and never drops one: transient failures are retried with backoff (the batch
 * is not committed meanwhile); permanent ones are isolated to the record that causes them and
 * dead-lettered with the reason, and the partition moves on.
 */
export class Subscription<E extends EventDefinition> {
  private readonly consumer: Consumer;
  private readonly opts: Required<Omit<SubscriptionOptions<E>, 'retry' | 'restore'>> &
    Pick<SubscriptionOptions<E>, 'restore'> & { retry: RetryPolicy };
  private readonly topic: string;
  private readonly group: string;
  private readonly txProducers = new Map<number, Producer>();
  /** Bumped on every group join: state restored in an earlier generation is not trusted. */
  private generation = 0;
  /** Partition → the generation its state was restored in. */
  private readonly restoredIn = new Map<number, number>();
  private running = false;
  private paused = false;
  private crashes = 0;
  private lastError: string | undefined;
  private lastProgress = Date.now();
  private batchStartedAt: number | undefined;
  /** Partitions this member has reported a lag for (bus_consumer_lag series). */
  private readonly lagPartitions = new Set<number>();
  /** When the handler of the batch in hand last called `ctx.heartbeat()`: it is alive. */
  private handlerBeatAt: number | undefined;

  constructor(
    private readonly rt: Runtime,
    options: SubscriptionOptions<E>,
  ) {
    this.opts = { ...DEFAULTS, retry: DEFAULT_RETRY, ...options };
    if (options.restore && options.delivery !== 'exactly-once') {
      throw new Error(`subscription ${options.name}: restore needs exactly-once delivery`);
    }
    this.topic = topicName(options.event.topic, rt.prefix);
    this.group = `${rt.prefix}${options.groupId}`;
    this.consumer = rt.kafka.consumer({
      groupId: this.group,
      maxWaitTimeInMs: this.opts.maxWaitMs,
      minBytes: this.opts.minBytes,
      // Exactly-once stages must not see records of aborted transactions upstream.
      readUncommitted: false,
      allowAutoTopicCreation: false,
      // A member that died without leaving holds its partitions until its session times out:
      // 10 s rather than kafkajs's 30 s, so a replacement takes over sooner. Heartbeats go out
      // between chunks and during retries, well within it.
      sessionTimeout: this.opts.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(this.opts.sessionTimeoutMs / 10)),
      // A crash restarts the consumer from the last committed offset, with backoff.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    const { CRASH, FETCH_START, END_BATCH_PROCESS, GROUP_JOIN } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      this.generation++;
      // A partition that moved to another member is that member's to report: drop its lag
      // series here, or this process would report a frozen value for it until it restarts.
      const owned = new Set(e.payload.memberAssignment[this.topic] ?? []);
      for (const partition of this.lagPartitions)
        if (!owned.has(partition)) {
          this.rt.metrics.consumerLag.remove({
            consumer: this.opts.name,
            topic: this.topic,
            partition: String(partition),
          });
          this.lagPartitions.delete(partition);
        }
    });
    this.consumer.on(FETCH_START, () => {
      this.lastProgress = Date.now();
    });
    this.consumer.on(END_BATCH_PROCESS, () => {
      this.lastProgress = Date.now();
    });
    this.consumer.on(CRASH, (e) => {
      this.crashes++;
      this.lastError = String(e.payload.error?.message ?? e.payload.error);
      this.rt.logger.error(
        { consumer: this.opts.name, err: e.payload.error, restart: e.payload.restart },
        'consumer crashed',
      );
      if (!e.payload.restart) this.running = false;
    });
  }

  get name(): string {
    return this.opts.name;
  }

  async start(): Promise<void> {
    if (this.opts.deadLetter === 'dlq') await this.rt.ensureDlq(deadLetterTopicName(this.topic));
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: this.opts.fromBeginning });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /**
   * Exactly-once subscriptions: opens now the transactional producer of every partition of the
   * topic. Opening one fences its id — a transaction that a crashed predecessor left open is
   * aborted (one it was committing is completed) before this resolves. A stage that restores
   * state from a changelog written in those transactions calls this first: until then, a
   * read_committed reader stops at the open transaction and misses what committed after it.
   */
  async fence(): Promise<void> {
    if (this.opts.delivery !== 'exactly-once') return;
    const partitions = await this.rt.admin.fetchTopicOffsets(this.topic);
    await Promise.all(
      partitions.map(async (p) => {
        // kafkajs registers the transactional id (InitProducerId, which fences) on the first
        // transaction; an empty one ends locally without touching the broker.
        const tx = await (await this.txProducer(p.partition)).transaction();
        await tx.abort();
      }),
    );
  }

  /** Stops fetching, lets the batch in hand finish and commit, leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.stop();
    await this.consumer.disconnect();
    await Promise.all([...this.txProducers.values()].map((p) => p.disconnect().catch(() => {})));
    this.txProducers.clear();
  }

  /** Back-pressure: stop fetching until `resume` (the batch in hand still finishes). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.consumer.pause([{ topic: this.topic }]);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.consumer.resume([{ topic: this.topic }]);
  }

  health(now = Date.now()): SubscriptionHealth {
    const inBatch = this.batchStartedAt !== undefined;
    const idleMs = now - this.lastProgress;
    const stalled =
      this.running &&
      ((inBatch &&
        now - Math.max(this.batchStartedAt!, this.handlerBeatAt ?? 0) > this.opts.stallMs) ||
        (!inBatch && !this.paused && idleMs > this.opts.stallMs));
    return {
      name: this.opts.name,
      running: this.running,
      stalled,
      paused: this.paused,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      crashes: this.crashes,
      idleMs,
    };
  }

  private context(batch: Batch, heartbeat: () => Promise<void>): HandlerContext {
    const logger = this.rt.logger;
    const name = this.opts.name;
    return {
      consumer: name,
      topic: batch.topic,
      partition: batch.partition,
      // A long handler (a compression job, a featureset fit) that heartbeats is working, not
      // stalled: liveness must not restart it mid-job.
      heartbeat: () => {
        this.handlerBeatAt = Date.now();
        return heartbeat();
      },
      log: (event) =>
        logger.child({
          consumer: name,
          topic: event.topic,
          partition: event.partition,
          offset: event.offset,
          eventId: event.attrs.id,
          traceId: traceIdOf(event.attrs.traceparent),
        }),
    };
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const ctx = this.context(batch, heartbeat);
    const size = this.opts.maxBatchSize;
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + size);
      const started = Date.now();
      this.batchStartedAt = started;
      this.handlerBeatAt = undefined;
      try {
        await this.handleChunk(batch, chunk, ctx);
      } finally {
        this.batchStartedAt = undefined;
      }
      const last = chunk[chunk.length - 1].offset;
      resolveOffset(last);
      this.lastProgress = Date.now();
      this.rt.metrics.messagesIn.inc(
        { consumer: this.opts.name, topic: batch.topic },
        chunk.length,
      );
      this.rt.metrics.batchSize.observe({ consumer: this.opts.name }, chunk.length);
      this.rt.metrics.handlerSeconds.observe(
        { consumer: this.opts.name },
        (Date.now() - started) / 1000,
      );
      this.lagPartitions.add(batch.partition);
      this.rt.metrics.consumerLag.set(
        { consumer: this.opts.name, topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - 1 - Number(last)),
      );
      await heartbeat();
    }
  }

  private async handleChunk(
    batch: Batch,
    chunk: Batch['messages'],
    ctx: HandlerContext,
  ): Promise<void> {
    const def = this.opts.event;
    const valid: BusEvent<EventPayload<E>>[] = [];
    const deadLetters: Encoded[] = [];
    for (const message of chunk) {
      const decoded = decode(def, batch.topic, batch.partition, message, this.opts.maxValueBytes);
      if (decoded.ok) valid.push(decoded.event);
      else {
        deadLetters.push(
          this.deadLetter(
            decoded.reasons,
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
              key: message.key,
              headers: message.headers,
              value: message.value,
            },
            { eventId: decoded.eventId, dataset: decoded.dataset },
          ),
        );
      }
    }
    const nextOffset = String(Number(chunk[chunk.length - 1].offset) + 1);
    let attempt = 0;
    await withRetry(
      async () => {
        attempt++;
        try {
          await this.ensureRestored(batch.partition, chunk[0].offset, ctx);
          const processed = await this.process(valid, ctx);
          try {
            await this.deliver(batch, [...processed.outputs, ...deadLetters], nextOffset);
          } catch (err) {
            processed.aborted.forEach((f) => f());
            throw err;
          }
          processed.committed.forEach((f) => f());
        } catch (err) {
          this.restoredIn.delete(batch.partition);
          throw err;
        }
      },
      this.opts.retry,
      async (err, n, waitMs) => {
        this.rt.metrics.retries.inc({ consumer: this.opts.name });
        this.lastError = (err as Error)?.message ?? String(err);
        this.rt.logger.warn(
          {
            consumer: this.opts.name,
            err,
            attempt: n,
            waitMs,
            topic: batch.topic,
            partition: batch.partition,
          },
          'batch failed, retrying',
        );
        await ctx.heartbeat().catch(() => {});
      },
    ).catch((err: unknown) => {
      this.lastError = (err as Error)?.message ?? String(err);
      this.rt.logger.error(
        { consumer: this.opts.name, err, attempts: attempt },
        'batch failed after retries; the consumer restarts from the last commit',
      );
      throw err;
    });
    const rejected = deadLetters.length;
    if (rejected > 0) this.rt.logger.debug({ consumer: this.opts.name, rejected }, 'dead-lettered');
  }

  /** Rebuilds the partition's state when it was not rebuilt in this generation. */
  private async ensureRestored(partition: number, upTo: string, ctx: HandlerContext) {
    const restore = this.opts.restore;
    if (restore === undefined || this.restoredIn.get(partition) === this.generation) return;
    const generation = this.generation;
    const started = Date.now();
    // Opening the transactional id fences the previous owner (see `fence`).
    const tx = await (await this.txProducer(partition)).transaction();
    await tx.abort();
    let replayed = 0;
    await restore(partition, {
      partition,
      upTo,
      heartbeat: ctx.heartbeat,
      replay: (from, onEvents) =>
        readPartition(
          this.rt.kafka,
          this.rt.admin,
          { topic: this.topic, partition, from, to: upTo },
          async (messages) => {
            const events: BusEvent<EventPayload<E>>[] = [];
            for (const m of messages) {
              const d = decode(this.opts.event, this.topic, partition, m, this.opts.maxValueBytes);
              if (d.ok) events.push(d.event);
            }
            replayed += events.length;
            if (events.length > 0) await onEvents(events);
            await ctx.heartbeat();
          },
        ),
    });
    this.restoredIn.set(partition, generation);
    this.rt.logger.info(
      { consumer: this.opts.name, partition, upTo, replayed, ms: Date.now() - started },
      'partition state restored',
    );
  }

  /** Runs the handler, isolating permanent failures to single events. */
  private async process(
    events: BusEvent<EventPayload<E>>[],
    ctx: HandlerContext,
  ): Promise<{ outputs: Encoded[]; committed: (() => void)[]; aborted: (() => void)[] }> {
    const acc = {
      outputs: [] as Encoded[],
      committed: [] as (() => void)[],
      aborted: [] as (() => void)[],
    };
    if (events.length === 0) return acc;
    const runOne = async (group: BusEvent<EventPayload<E>>[]) => {
      let result: BatchResult | void = undefined;
      try {
        result = await this.opts.handler(group, ctx);
        const outs = (result?.outputs ?? []).map((o) => encode(o, this.rt.source, this.rt.prefix));
        const rejects = (result?.rejects ?? []).map((r) =>
          this.deadLetter(r.reasons, originalOf(r.event), {
            eventId: r.event.attrs.id,
            dataset: r.dataset ?? datasetOf(r.event),
          }),
        );
        acc.outputs.push(...outs, ...rejects);
        if (result?.onCommitted) acc.committed.push(result.onCommitted);
        if (result?.onAborted) acc.aborted.push(result.onAborted);
      } catch (err) {
        result?.onAborted?.();
        throw err;
      }
    };
    try {
      await runOne(events);
    } catch (err) {
      const permanent = err instanceof OutputSchemaError || classify(err) === 'permanent';
      if (!permanent) {
        acc.aborted.forEach((f) => f());
        throw err;
      }
      // Find the culprits: one event at a time, the others go through.
      acc.outputs = [];
      acc.aborted.forEach((f) => f());
      acc.committed = [];
      acc.aborted = [];
      for (const event of events) {
        try {
          await runOne([event]);
        } catch (single) {
          if (single instanceof OutputSchemaError) {
            acc.outputs.push(
              this.deadLetter(
                [{ code: 'output_schema_mismatch', message: single.message }],
                originalOf(event),
                { eventId: event.attrs.id, dataset: datasetOf(event) },
              ),
            );
          } else if (single instanceof PermanentError) {
            acc.outputs.push(
              this.deadLetter(
                [
                  {
                    code: single.code,
                    message: single.message,
                    ...(single.field ? { field: single.field } : {}),
                  },
                ],
                originalOf(event),
                { eventId: event.attrs.id, dataset: datasetOf(event) },
              ),
            );
          } else {
            acc.aborted.forEach((f) => f());
            throw single;
          }
        }
      }
    }
    return acc;
  }

  private deadLetter(
    reasons: RejectionReason[],
    original: Parameters<typeof deadLetterPayload>[2],
    context: { eventId?: string; dataset?: string },
  ): Encoded {
    for (const r of reasons)
      this.rt.metrics.deadLetters.inc({ consumer: this.opts.name, reason: r.code });
    const payload = deadLetterPayload(
      this.rt.clientId,
      reasons,
      original,
      this.opts.deadLetterMaxValueBytes,
      context,
    );
    const key = `${context.dataset ?? '-'}:${context.eventId ?? `${original.topic}/${original.partition}/${original.offset}`}`;
    return encode(
      {
        event: EVENTS.rejectedEvent,
        key,
        data: payload,
        ...(this.opts.deadLetter === 'dlq' ? { topic: deadLetterTopicName(this.topic) } : {}),
        ...(context.dataset !== undefined ? { attrs: { subject: context.dataset } } : {}),
      },
      this.rt.source,
      this.rt.prefix,
    );
  }

  private async deliver(batch: Batch, records: Encoded[], nextOffset: string): Promise<void> {
    const offsets = { topic: batch.topic, partition: batch.partition, offset: nextOffset };
    if (this.opts.delivery === 'at-least-once') {
      await this.rt.producer.sendBatch(records);
      await this.consumer.commitOffsets([offsets]);
      return;
    }
    const producer = await this.txProducer(batch.partition);
    const tx = await producer.transaction();
    try {
      if (records.length > 0)
        await tx.sendBatch({ topicMessages: groupByTopic(records), acks: -1 });
      await tx.sendOffsets({
        consumerGroupId: this.group,
        topics: [
          {
            topic: offsets.topic,
            partitions: [{ partition: offsets.partition, offset: offsets.offset }],
          },
        ],
      });
      await tx.commit();
      this.rt.metrics.transactions.inc({ consumer: this.opts.name, outcome: 'committed' });
      const perTopic = new Map<string, number>();
      for (const r of records) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
      for (const [topic, n] of perTopic) this.rt.metrics.messagesOut.inc({ topic }, n);
    } catch (err) {
      this.rt.metrics.transactions.inc({ consumer: this.opts.name, outcome: 'aborted' });
      await tx.abort().catch(() => {});
      // A fenced or broken transactional producer cannot be reused: start a fresh one.
      this.txProducers.delete(batch.partition);
      await producer.disconnect().catch(() => {});
      throw err;
    }
  }

  /**
   * One transactional producer per input partition, with an id derived from group, topic and
   * partition: whoever owns the partition after a rebalance opens the same id, which fences
   * the previous owner's unfinished transaction (the zombie) at the broker.
   */
  private async txProducer(partition: number): Promise<Producer> {
    let producer = this.txProducers.get(partition);
    if (!producer) {
      producer = this.rt.kafka.producer({
        transactionalId: `${this.group}.${this.topic}.${partition}`,
        // A transaction left open by a crashed owner blocks read_committed readers until it
        // times out; keep that short (the default is a minute).
        transactionTimeout: 15_000,
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      this.txProducers.set(partition, producer);
    }
    return producer;
  }
}

function originalOf(event: BusEvent): Parameters<typeof deadLetterPayload>[2] {
  return {
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
    key: event.key,
    headers: event.headers,
    value: event.value,
  };
}

function datasetOf(event: BusEvent): string | undefined {
  const d = (event.data as { dataset?: unknown } | null)?.dataset;
  return typeof d === 'string' ? d : undefined;
}
