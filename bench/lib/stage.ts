// What the Kafka stage benchmarks (data-quality, feature) share: a round of fresh topics under
// a prefix, the clock that stops when a group's committed offsets reach the input's end, the
// raw exactly-once kafkajs pipe they are compared with, and the timing of a service process.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import {
  Partitioners,
  type Admin,
  type Kafka,
  type KafkaMessage,
  type Message,
  type Producer,
} from 'kafkajs';
import {
  CE_SPEC_VERSION,
  EVENTS,
  JSON_CONTENT_TYPE,
  newEventId,
  toKafkaHeaders,
  type DatasetSpec,
  type ValidatedEvent,
} from '@mlops/contracts';
import type { BenchService } from './service';

/** How often committed offsets (and /health/ready) are polled: the clock's resolution. */
export const POLL_MS = 20;
/** A run that has not finished after this long has stalled: fail loudly. */
const RUN_TIMEOUT_MS = 180_000;
/** No commit at all by the measured group after this long: most likely the wrong group name. */
const NO_COMMIT_MS = 30_000;
/** The same fetch settings libs/bus uses by default. */
export const FETCH = { maxWaitTimeInMs: 100, minBytes: 1 };

export async function createTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  compacted = false,
): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: [
          { name: 'cleanup.policy', value: compacted ? 'compact' : 'delete' },
          { name: 'max.message.bytes', value: String(4 * 1024 * 1024) },
        ],
      },
    ],
  });
}

/** A dataset spec as the registry publishes it on pipeline.specs.v1 (key = dataset name). */
export function specMessage(spec: DatasetSpec, source: string): Message {
  const now = new Date().toISOString();
  return {
    key: spec.name,
    value: JSON.stringify(spec),
    headers: toKafkaHeaders({
      id: newEventId(),
      type: EVENTS.datasetSpec.type,
      source,
      time: now,
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
      subject: spec.name,
    }),
  };
}

export interface Round {
  prefix: string;
  /** The input topic (prefixed). */
  input: string;
  /** End offset per input partition once the records are in. */
  ends: Map<number, number>;
  /** Records in the input topic. */
  records: number;
  /** Partitions of the input topic. */
  partitions: number;
}

/** A topic of a round and the messages it holds before the pipeline starts. */
export interface TopicLoad {
  topic: string;
  partitions: number;
  messages: Message[];
}

/**
 * Creates the round's compacted topics with their records (specs, featuresets: what the stage
 * reads at start), then its input topic with the records, and checks they are all stored.
 */
export async function prepareRound(
  kafka: Kafka,
  admin: Admin,
  prefix: string,
  tables: TopicLoad[],
  input: TopicLoad,
): Promise<Round> {
  for (const t of tables) await createTopic(admin, t.topic, t.partitions, true);
  await createTopic(admin, input.topic, input.partitions);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    for (const t of tables) await producer.send({ topic: t.topic, acks: -1, messages: t.messages });
    const chunk = 5_000;
    for (let from = 0; from < input.messages.length; from += chunk) {
      await producer.sendBatch({
        topicMessages: [{ topic: input.topic, messages: input.messages.slice(from, from + chunk) }],
        acks: -1,
      });
    }
  } finally {
    await producer.disconnect();
  }
  const offsets = await admin.fetchTopicOffsets(input.topic);
  const stored = offsets.reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
  if (stored !== input.messages.length)
    throw new Error(`${input.topic}: ${stored} records stored, expected ${input.messages.length}`);
  return {
    prefix,
    input: input.topic,
    ends: new Map(offsets.map((p) => [p.partition, Number(p.high)])),
    records: input.messages.length,
    partitions: offsets.length,
  };
}

/** Deletes the topics and consumer groups under the prefix. */
export async function dropRound(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
  const groups = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// The clock

/**
 * Polls the group's committed offsets on the input topic until every partition's reaches its
 * end, and returns the moment the poll that saw it was sent (the commit happened at most
 * POLL_MS before). `diagnose` adds context to a failure.
 */
export async function committedToEnd(
  admin: Admin,
  groupId: string,
  round: Round,
  label: string,
  diagnose: () => Promise<string>,
): Promise<number> {
  const started = performance.now();
  let anyCommit = false;
  let last = '';
  for (;;) {
    const sent = performance.now();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [round.input] });
    const committed = new Map(
      (offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    let done = true;
    for (const [partition, end] of round.ends) {
      const at = committed.get(partition) ?? -1;
      if (at >= 0) anyCommit = true;
      if (at < end) done = false;
    }
    if (done) return sent;
    last = [...round.ends].map(([p, end]) => `p${p} ${committed.get(p) ?? -1}/${end}`).join(', ');
    const elapsed = sent - started;
    if (!anyCommit && elapsed > NO_COMMIT_MS) {
      const groups = (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(round.prefix));
      throw new Error(
        `${label}: group ${groupId} committed nothing on ${round.input} in ${NO_COMMIT_MS / 1000} s; groups under the run's prefix: ${groups.join(', ') || 'none'} (did the stage's group id change? see the benchmark's group constant)${await diagnose()}`,
      );
    }
    if (elapsed > RUN_TIMEOUT_MS)
      throw new Error(
        `${label}: committed offsets of ${groupId} did not reach the end in ${RUN_TIMEOUT_MS / 1000} s (${last})${await diagnose()}`,
      );
    await delay(POLL_MS);
  }
}

/**
 * Committed records of a topic (read_committed, from the beginning to the current end), read
 * by a throw-away group under the round's prefix (dropped with the round). `inspect` sees every
 * fetched batch's messages (for checks on the outputs).
 */
export async function countRecords(
  kafka: Kafka,
  admin: Admin,
  round: Round,
  topic: string,
  inspect?: (messages: KafkaMessage[]) => void,
): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  // Transaction markers take offsets but are never delivered: read until every partition's
  // position reached its end, not until a count.
  const ends = new Map(
    offsets.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
  );
  if (ends.size === 0) return 0;
  const consumer = kafka.consumer({
    groupId: `${round.prefix}bench.count.${randomBytes(4).toString('hex')}`,
    ...FETCH,
    readUncommitted: false,
    allowAutoTopicCreation: false,
  });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`counting ${topic}: ${count} records after 60 s`)),
        60_000,
      );
      const seen = new Map<number, number>();
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        seen.set(e.payload.partition, Number(e.payload.lastOffset) + 1);
        if ([...ends].every(([p, end]) => (seen.get(p) ?? 0) >= end)) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            count += batch.messages.length;
            inspect?.(batch.messages);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// The pipelines

export interface Measured {
  seconds: number;
  perSecond: number;
  /** CPU of the pipeline's process over the measured span, per record. */
  cpuMicrosPerRecord: number;
}

/**
 * The baseline: kafkajs eachBatch, one transactional producer per input partition (the id
 * derived from group, topic and partition, as libs/bus does), and per fetched batch one
 * transaction holding the outputs and the input offsets. Per record: parse the JSON value, add
 * `quality: {flags: []}`, serialise, produce keyed and with the headers of the input.
 */
export async function rawPipe(kafka: Kafka, admin: Admin, round: Round): Promise<Measured> {
  const group = `${round.prefix}bench.raw-pipe`;
  const output = `${round.prefix}bench.raw-pipe.out`;
  await createTopic(admin, output, round.partitions);
  const producers = new Map<number, Producer>();
  const consumer = kafka.consumer({
    groupId: group,
    ...FETCH,
    readUncommitted: false,
    allowAutoTopicCreation: false,
  });
  let measured: Measured;
  try {
    // Open every transactional id before consuming, as the stage does before it is ready
    // (kafkajs sends InitProducerId with the first transaction; an empty one ends locally).
    for (const partition of round.ends.keys()) {
      const producer = kafka.producer({
        transactionalId: `${group}.${round.input}.${partition}`,
        transactionTimeout: 15_000,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      producers.set(partition, producer);
      await (await producer.transaction()).abort();
    }
    await consumer.connect();
    await consumer.subscribe({ topic: round.input, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // The same concurrency libs/bus uses by default.
      partitionsConsumedConcurrently: round.partitions,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const outputs: Message[] = new Array<Message>(batch.messages.length);
        for (let i = 0; i < batch.messages.length; i++) {
          const m = batch.messages[i];
          const data = JSON.parse(m.value!.toString('utf8')) as ValidatedEvent;
          outputs[i] = {
            key: m.key,
            value: JSON.stringify({ ...data, quality: { flags: [] } }),
            headers: m.headers,
          };
        }
        const last = batch.messages[batch.messages.length - 1].offset;
        const tx = await producers.get(batch.partition)!.transaction();
        try {
          await tx.sendBatch({ topicMessages: [{ topic: output, messages: outputs }], acks: -1 });
          await tx.sendOffsets({
            consumerGroupId: group,
            topics: [
              {
                topic: batch.topic,
                partitions: [{ partition: batch.partition, offset: String(Number(last) + 1) }],
              },
            ],
          });
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => {});
          throw err;
        }
        resolveOffset(last);
        await heartbeat();
      },
    });
    // consumer.run resolves once the group is joined; fetching starts now.
    const started = performance.now();
    const cpu = process.cpuUsage();
    const ended = await committedToEnd(admin, group, round, 'raw', async () => '');
    const spent = process.cpuUsage(cpu);
    measured = {
      seconds: (ended - started) / 1000,
      perSecond: (round.records * 1000) / (ended - started),
      cpuMicrosPerRecord: (spent.user + spent.system) / round.records,
    };
  } finally {
    await consumer.disconnect().catch(() => {});
    await Promise.all([...producers.values()].map((p) => p.disconnect().catch(() => {})));
  }
  // Exactly once: one output per input.
  const outputs = await countRecords(kafka, admin, round, output);
  if (outputs !== round.records)
    throw new Error(`raw: ${outputs} records in ${output} for ${round.records} inputs`);
  return measured;
}

export interface ServiceMeasured extends Measured {
  /** Spawn to /health/ready, not in records/s. */
  startupSeconds: number;
}

/**
 * Times a service stage that `start` spawns (at the moment of the call) on the round's prefix:
 * from /health/ready to its group's committed offsets reaching the input's end; CPU of the
 * service process over that span. Stops the service afterwards; `say` gets its output when it
 * exits with an error.
 */
export async function timeServiceStage(
  admin: Admin,
  round: Round,
  groupId: string,
  label: string,
  start: () => Promise<BenchService>,
  say: (line: string) => void,
): Promise<ServiceMeasured> {
  const spawned = performance.now();
  const service = await start();
  try {
    const started = performance.now();
    const cpu = service.cpuSeconds();
    const ended = await committedToEnd(
      admin,
      groupId,
      round,
      label,
      async () => `\nservice output (tail):\n${service.output().slice(-3000)}`,
    );
    const cpuSeconds = service.cpuSeconds() - cpu;
    const seconds = (ended - started) / 1000;
    return {
      seconds,
      perSecond: round.records / seconds,
      cpuMicrosPerRecord: (cpuSeconds * 1e6) / round.records,
      startupSeconds: (started - spawned) / 1000,
    };
  } finally {
    const code = await service.stop();
    if (code !== 0)
      say(`${label} exited with ${code}; output (tail):\n${service.output().slice(-3000)}`);
  }
}
