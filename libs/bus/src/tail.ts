import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';

/**
 * The last record of every partition of a topic (partitions with no record are absent): what a
 * producer that publishes in order needs to learn how far it got before a crash.
 */
export async function readTail(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  timeoutMs = 30_000,
): Promise<Map<number, KafkaMessage>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const wanted = new Map(
    offsets
      .filter((p) => Number(p.high) > Number(p.low))
      .map((p) => [p.partition, Number(p.high) - 1]),
  );
  const tail = new Map<number, KafkaMessage>();
  if (wanted.size === 0) return tail;
  const consumer = kafka.consumer({
    groupId: `tail.${randomUUID()}`,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not read the tail of ${topic} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const reached = new Set<number>();
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const last = wanted.get(e.payload.partition);
        if (last !== undefined && Number(e.payload.lastOffset) >= last)
          reached.add(e.payload.partition);
        if (reached.size === wanted.size) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const prev = tail.get(batch.partition);
              if (!prev || Number(m.offset) > Number(prev.offset)) tail.set(batch.partition, m);
            }
          },
        })
        .then(() => {
          // Skip the whole history: only the last record matters.
          for (const [partition, last] of wanted)
            consumer.seek({ topic, partition, offset: String(last) });
        })
        .catch(reject);
    });
    await done;
    return tail;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}
