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

/**
 * Reads the committed records of one partition in [from, to) and hands them over in order,
 * batch by batch: what a stage needs to rebuild state (a changelog partition, or the input it
 * replays after a snapshot). Records of aborted transactions are skipped (read_committed).
 *
 * kafkajs has no manual assignment, so this joins a throw-away group whose offsets are set
 * before it joins — the wanted partition at `from`, every other one at its end — reads until
 * a batch reaches `to - 1`, and deletes the group.
 */
export async function readPartition(
  kafka: Kafka,
  admin: Admin,
  range: PartitionRange,
  onBatch: (messages: KafkaMessage[]) => void | Promise<void>,
): Promise<void> {
  const { topic, partition } = range;
  const offsets = await admin.fetchTopicOffsets(topic);
  const own = offsets.find((p) => p.partition === partition);
  if (!own) throw new Error(`${topic} has no partition ${partition}`);
  const from = Math.max(Number(range.from), Number(own.low));
  const to = range.to === undefined ? Number(own.high) : Number(range.to);
  if (from >= to) return;
  const timeoutMs = range.timeoutMs ?? 120_000;
  const groupId = `range.${randomUUID()}`;
  await admin.setOffsets({
    groupId,
    topic,
    partitions: offsets.map((p) => ({
      partition: p.partition,
      offset: p.partition === partition ? String(from) : p.high,
    })),
  });
  const maxBytes = range.maxBytes ?? 1024 * 1024;
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
      const timer = setTimeout(
        () =>
          reject(
            new Error(`could not read ${topic}[${partition}] ${from}..${to} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      // A batch that holds only aborted records or transaction markers reaches no handler,
      // but still moves the position: watch the batches' last offsets, not the messages.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        if (e.payload.partition === partition && Number(e.payload.lastOffset) >= to - 1) done();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            const wanted = batch.messages.filter((m) => Number(m.offset) < to);
            if (wanted.length === 0) return;
            try {
              await onBatch(wanted);
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
