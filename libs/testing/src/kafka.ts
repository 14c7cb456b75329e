import { randomBytes } from 'node:crypto';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type Message,
  type Producer,
} from 'kafkajs';
import { inject } from 'vitest';
import {
  EVENTS,
  CE_SPEC_VERSION,
  JSON_CONTENT_TYPE,
  newEventId,
  toKafkaHeaders,
  topicName,
  TOPICS,
  type DatasetSpec,
  type TopicKey,
} from '@mlops/contracts';

/** The broker of this test run (see global-setup). */
export function brokers(): string {
  return inject('kafkaBrokers');
}

/** A topic prefix no other test file uses: every topic and group of the file carries it. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}.`;
}

export interface TestKafka {
  readonly brokers: string;
  readonly prefix: string;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  topic(key: TopicKey): string;
  /** Creates contract topics (with their settings) under the prefix. */
  createTopics(
    keys: readonly TopicKey[],
    extra?: { name: string; partitions?: number }[],
  ): Promise<void>;
  close(): Promise<void>;
}

export async function testKafka(name: string): Promise<TestKafka> {
  const list = brokers();
  const prefix = uniquePrefix(name);
  const kafka = new Kafka({
    clientId: `test-${name}`,
    brokers: list.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    brokers: list,
    prefix,
    kafka,
    admin,
    producer,
    topic: (key) => topicName(key, prefix),
    async createTopics(keys, extra = []) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          ...keys.map((key) => ({
            topic: topicName(key, prefix),
            numPartitions: TOPICS[key].partitions,
            configEntries: [
              { name: 'cleanup.policy', value: TOPICS[key].compacted ? 'compact' : 'delete' },
              { name: 'max.message.bytes', value: String(4 * 1024 * 1024) },
            ],
          })),
          ...extra.map((t) => ({ topic: t.name, numPartitions: t.partitions ?? 1 })),
        ],
      });
    },
    async close() {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}

export interface Collected {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  value: string | null;
}

function headerMap(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    out[k] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return out;
}

/** A consumer of its own (committed records only) on a topic, from the beginning. */
async function reader(kafka: Kafka, topic: string): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId: `reader-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 100,
    readUncommitted: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  return consumer;
}

/**
 * Reads a topic from the beginning (committed records only) until `until` holds for what has
 * been read, and returns it; rejects with what it had after `timeoutMs`. No sleeps: it
 * resolves on the batch that satisfies the predicate.
 */
export async function consumeUntil(
  kafka: Kafka,
  topic: string,
  until: (records: Collected[]) => boolean,
  timeoutMs = 60_000,
): Promise<Collected[]> {
  const consumer = await reader(kafka, topic);
  const records: Collected[] = [];
  try {
    return await new Promise<Collected[]>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `consumeUntil(${topic}): condition not met after ${timeoutMs} ms with ${records.length} records`,
            ),
          ),
        timeoutMs,
      );
      const check = () => {
        if (until(records)) {
          clearTimeout(timer);
          resolve(records);
        }
      };
      check();
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages)
              records.push(toCollected(batch.topic, batch.partition, m));
            check();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

function toCollected(topic: string, partition: number, m: KafkaMessage): Collected {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key?.toString('utf8') ?? null,
    headers: headerMap(m.headers),
    value: m.value?.toString('utf8') ?? null,
  };
}

/** Every committed record of a topic up to its current end. */
export async function readAll(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  timeoutMs = 60_000,
): Promise<Collected[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const expected = offsets.reduce((n, p) => n + (Number(p.high) - Number(p.low)), 0);
  if (expected === 0) return [];
  // Control records (transaction markers) count in the offsets but are never delivered, so
  // read until every partition's position reached its end, not until a count.
  const ends = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  const seen = new Map<number, number>();
  const consumer = await reader(kafka, topic);
  const records: Collected[] = [];
  try {
    return await new Promise<Collected[]>((resolve, reject) => {
      const done = () => [...ends].every(([p, high]) => high === 0 || (seen.get(p) ?? 0) >= high);
      const timer = setTimeout(
        () =>
          reject(new Error(`readAll(${topic}): ${records.length} records after ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        seen.set(e.payload.partition, Number(e.payload.lastOffset) + 1);
        if (done()) {
          clearTimeout(timer);
          resolve(records);
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages)
              records.push(toCollected(batch.topic, batch.partition, m));
          },
        })
        .catch(reject);
      for (const [p, high] of ends)
        if (high > 0 && Number(offsets.find((o) => o.partition === p)!.low) >= high)
          seen.set(p, high);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

/** A binary-mode CloudEvent message as another service of the platform would send it. */
export function cloudEventMessage(
  type: string,
  key: string,
  data: unknown,
  id = newEventId(),
): Message {
  return {
    key,
    value: JSON.stringify(data),
    headers: toKafkaHeaders({
      id,
      type,
      source: '/tests',
      time: new Date().toISOString(),
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
    }),
  };
}

/** Publishes a dataset spec to the compacted spec topic, as the registry does. */
export async function publishSpec(t: TestKafka, spec: DatasetSpec): Promise<void> {
  await t.producer.send({
    topic: t.topic('pipelineSpecs'),
    acks: -1,
    messages: [cloudEventMessage(EVENTS.datasetSpec.type, spec.name, spec)],
  });
}
