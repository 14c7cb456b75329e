import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to read (inclusive); clamped to the partition's start. */
  from: string;
  /** Where to stop (exclusive); the partition's end (last stable offset) when absent. */
  to?: string;
  /** Fetch size per partition: raise it for topics that carry multi-megabyte records. */
  maxBytes?: number;
  timeoutMs?: number;
}

export interface TopicRanges {
  topic: string;
  /** Per partition: `from` inclusive, `to` exclusive (the partition's end when absent). */
  partitions: { partition: number; from: string; to?: string }[];
  maxBytes?: number;
  timeoutMs?: number;
}

/**
 * Reads the committed records of one partition in [from, to) and hands them over in order,
 * batch by batch: what a stage needs to rebuild state (a changelog partition, or the input it
 * replays after a snapshot). Records of aborted transactions are skipped (read_committed).
 */
export async function readPartition(
  kafka: Kafka,
  admin: Admin,
  range: PartitionRange,
  onBatch: (messages: KafkaMessage[]) => void | Promise<void>,
): Promise<void> {
  await readPartitions(
    kafka,
    admin,
    {
      topic: range.topic,
      partitions: [{ partition: range.partition, from: range.from, to: range.to }],
      maxBytes: range.maxBytes,
      timeoutMs: range.timeoutMs,
    },
    (_partition, messages) => onBatch(messages),
  );
}

/**
 * Reads ranges of several partitions of one topic with one consumer: each partition's records
 * arrive in order (partitions interleave). kafkajs has no manual assignment, so this joins a
 * throw-away group whose offsets are set before it joins — each wanted partition at its
 * `from`, every other one at its end — reads until every range is done, and deletes the group.
 * A range is done when a batch of its partition reaches `to - 1`: a batch that holds only
 * aborted records or transaction markers reaches no handler but still moves the position.
 */
export async function readPartitions(
  kafka: Kafka,
  admin: Admin,
  ranges: TopicRanges,
  onBatch: (partition: number, messages: KafkaMessage[]) => void | Promise<void>,
): Promise<void> {
  const { topic } = ranges;
  const offsets = await admin.fetchTopicOffsets(topic);
  const wanted = new Map<number, { from: number; to: number }>();
  for (const r of ranges.partitions) {
    const own = offsets.find((p) => p.partition === r.partition);
    if (!own) throw new Error(`${topic} has no partition ${r.partition}`);
    const from = Math.max(Number(r.from), Number(own.low));
    const to = r.to === undefined ? Number(own.high) : Number(r.to);
    if (from < to) wanted.set(r.partition, { from, to });
  }
  if (wanted.size === 0) return;
  const timeoutMs = ranges.timeoutMs ?? 120_000;
  const groupId = `range.${randomUUID()}`;
  await admin.setOffsets({
    groupId,
    topic,
    partitions: offsets.map((p) => ({
      partition: p.partition,
      offset: String(wanted.get(p.partition)?.from ?? p.high),
    })),
  });
  const maxBytes = ranges.maxBytes ?? 1024 * 1024;
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: maxBytes,
    maxBytes: Math.max(maxBytes, 10 * 1024 * 1024),
    readUncommitted: false,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const pending = new Set(wanted.keys());
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `could not read ${topic} partitions ${[...pending].join(', ')} in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const range = wanted.get(e.payload.partition);
        if (range && Number(e.payload.lastOffset) >= range.to - 1) {
          pending.delete(e.payload.partition);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = wanted.get(batch.partition);
            if (!range) return;
            const inRange = batch.messages.filter((m) => Number(m.offset) < range.to);
            if (inRange.length === 0) return;
            try {
              await onBatch(batch.partition, inRange);
            } catch (err) {
              fail(err);
              throw err;
            }
          },
        })
        .catch(fail);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
}
