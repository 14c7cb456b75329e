import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { start, status, stop } from './kafka.mjs';

/**
 * The local broker script, and proof that kafkajs 2.2.4 works against this Apache Kafka
 * version end to end: admin, idempotent produce, group consume, transactions with offsets.
 */
describe('infra/kafka: a broker of our own, started and stopped idempotently', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mlops-kafka-script-'));
  const env = { ...process.env, KAFKA_PORT: '21392', KAFKA_DATA_DIR: dataDir, KAFKA_HEAP: '512m' };

  afterAll(async () => {
    await stop(env);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, reports, refuses nothing when started twice, and stops twice', async () => {
    const first = await start(env);
    expect(first).toMatchObject({ brokers: '127.0.0.1:21392', started: true });
    const second = await start(env);
    expect(second).toMatchObject({ started: false, pid: first.pid });
    expect(await status(env)).toEqual({
      brokers: '127.0.0.1:21392',
      pid: first.pid,
      answers: true,
    });

    const kafka = new Kafka({
      clientId: 'proof',
      brokers: [first.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: 'in', numPartitions: 3 },
        { topic: 'out', numPartitions: 3 },
      ],
    });
    expect((await admin.listTopics()).sort()).toEqual(expect.arrayContaining(['in', 'out']));
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);

    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    await producer.send({
      topic: 'in',
      acks: -1,
      messages: Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 17}`, value: String(i) })),
    });

    // consume → transform → produce with the offsets inside the transaction
    const tx = kafka.producer({
      transactionalId: 'proof-tx',
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await tx.connect();
    const consumer = kafka.consumer({ groupId: 'proof-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'in', fromBeginning: true });
    let copied = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const t = await tx.transaction();
            await t.send({
              topic: 'out',
              messages: batch.messages.map((m) => ({
                key: m.key,
                value: String(Number(m.value) * 2),
              })),
            });
            await t.sendOffsets({
              consumerGroupId: 'proof-group',
              topics: [
                {
                  topic: batch.topic,
                  partitions: [
                    { partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
                  ],
                },
              ],
            });
            await t.commit();
            copied += batch.messages.length;
            if (copied === 300) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    const committed = await admin.fetchOffsets({ groupId: 'proof-group', topics: ['in'] });
    expect(committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0)).toBe(300);

    // A transaction that aborts is invisible to read_committed readers.
    const aborted = await tx.transaction();
    await aborted.send({ topic: 'out', messages: [{ key: 'k0', value: '-1' }] });
    await aborted.abort();
    // …while one committed after it, on the same partition, is seen.
    const after = await tx.transaction();
    await after.send({ topic: 'out', messages: [{ key: 'k0', value: '100000' }] });
    await after.commit();

    const reader = kafka.consumer({ groupId: 'proof-reader' });
    await reader.connect();
    await reader.subscribe({ topic: 'out', fromBeginning: true });
    const values: number[] = [];
    await new Promise<void>((resolve, reject) => {
      reader
        .run({
          eachMessage: async ({ message }) => {
            values.push(Number(message.value));
            if (values.includes(100000) && values.length >= 301) resolve();
          },
        })
        .catch(reject);
    });
    await reader.disconnect();
    expect(values.sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 300 }, (_, i) => i * 2),
      100000,
    ]);
    await Promise.all([tx.disconnect(), producer.disconnect(), admin.disconnect()]);

    expect(await stop(env)).toEqual({ stopped: true });
    expect(await stop(env)).toEqual({ stopped: false });
    expect((await status(env)).answers).toBe(false);
  });
});
