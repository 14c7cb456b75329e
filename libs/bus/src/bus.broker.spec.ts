import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EVENTS, type RejectedEvent, type ValidatedEvent } from '@mlops/contracts';
import {
  cloudEventMessage,
  consumeUntil,
  readAll,
  testKafka,
  type TestKafka,
} from '@mlops/testing';
import { Bus } from './bus';
import { BackpressureError, PermanentError, TransientError } from './errors';
import { BusMetrics } from './metrics';
import { BusProducer } from './producer';
import { readPartition, readPartitions } from './range';
import { ensureTopics, waitForLeaders } from './topics-admin';

const logger = pino({ level: 'silent' });

function validated(i: number, dataset = 'cards'): ValidatedEvent {
  return {
    dataset,
    specVersion: 1,
    entityId: `e${i}`,
    record: { amount: i },
    ingestedAt: new Date().toISOString(),
    via: 'kafka',
    source: 'test',
  };
}

describe('libs/bus on the real broker', () => {
  let t: TestKafka;
  const buses: Bus[] = [];
  const newBus = async (clientId: string) => {
    const bus = new Bus(
      {
        brokers: t.brokers.split(','),
        clientId,
        topicPrefix: t.prefix,
        connectionTimeoutMs: 3000,
        requestTimeoutMs: 30000,
      },
      logger,
      new Registry(),
    );
    await bus.connect();
    await bus.ensureTopics(['eventsValidated', 'eventsClean', 'eventsRejected'], {
      dlqFor: ['eventsClean'],
    });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    t = await testKafka('bus');
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.shutdown()));
    await t.close();
  });

  it('dead-letters poison records with reasons and keeps the partition flowing (exactly-once stage)', async () => {
    const bus = await newBus('poison');
    const topic = t.topic('eventsValidated');
    const good = (i: number) =>
      cloudEventMessage(EVENTS.validatedEvent.type, 'p:0', validated(i), `good-${i}`);
    // Everything on one key → one partition, so the good records after the poison must flow.
    const messages = [
      good(1),
      {
        key: 'p:0',
        value: 'this is not json {',
        headers: cloudEventMessage(EVENTS.validatedEvent.type, 'p:0', {}, 'bad-json').headers,
      },
      good(2),
      cloudEventMessage(
        EVENTS.validatedEvent.type,
        'p:0',
        { dataset: 'cards', nope: true },
        'bad-schema',
      ),
      good(3),
      {
        key: 'p:0',
        value: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
        headers: cloudEventMessage(EVENTS.validatedEvent.type, 'p:0', {}, 'too-big').headers,
      },
      { key: 'p:0', value: JSON.stringify(validated(9)) }, // no CloudEvents headers
      good(4),
    ];
    await t.producer.send({ topic, acks: -1, messages });
    const sub = bus.subscribe({
      name: 'copy',
      groupId: 'poison-copy',
      event: EVENTS.validatedEvent,
      delivery: 'exactly-once',
      handler: async (events) => ({
        outputs: events.map((e) => ({
          event: EVENTS.cleanEvent,
          key: e.key!,
          data: { ...e.data, quality: { flags: [] } },
          attrs: { id: e.attrs.id },
        })),
      }),
    });
    await sub.start();
    const clean = await consumeUntil(t.kafka, t.topic('eventsClean'), (r) => r.length >= 4);
    expect(clean.map((r) => r.headers.ce_id)).toEqual(['good-1', 'good-2', 'good-3', 'good-4']);
    const rejected = await consumeUntil(t.kafka, t.topic('eventsRejected'), (r) => r.length >= 4);
    const payloads = rejected.map((r) => JSON.parse(r.value!) as RejectedEvent);
    const byId = new Map(payloads.map((p) => [p.eventId ?? `offset-${p.original.offset}`, p]));
    expect(byId.get('bad-json')!.reasons[0].code).toBe('not_json');
    expect(byId.get('bad-json')!.original.value).toBe('this is not json {');
    expect(byId.get('bad-json')!.original.headers.ce_id).toBe('bad-json');
    expect(byId.get('bad-schema')!.reasons.map((r) => r.code)).toContain('schema_mismatch');
    const big = byId.get('too-big')!;
    expect(big.reasons[0].code).toBe('payload_too_large');
    expect(big.original.valueBytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(big.stage).toBe('poison');
    const noEnvelope = [...byId.values()].find((p) => p.reasons[0].code === 'envelope_invalid');
    expect(noEnvelope?.original.offset).toBe('6');
    expect(rejected).toHaveLength(4);
  });

  it('retries transient failures with backoff and isolates a permanent one to its record', async () => {
    const bus = await newBus('retry');
    const topic = t.topic('eventsValidated');
    let failures = 0;
    const seenBatches: number[] = [];
    const sub = bus.subscribe({
      name: 'flaky',
      groupId: 'flaky',
      event: EVENTS.validatedEvent,
      delivery: 'at-least-once',
      deadLetter: 'dlq',
      retry: { retries: 5, initialMs: 10, maxMs: 50 },
      handler: async (events) => {
        seenBatches.push(events.length);
        if (failures < 2) {
          failures++;
          throw new TransientError('database briefly down');
        }
        if (events.some((e) => e.data.entityId === 'e13'))
          throw new PermanentError('business_rule', 'entity 13 is banned');
        return {
          outputs: events.map((e) => ({
            event: EVENTS.cleanEvent,
            key: e.key!,
            data: { ...e.data, quality: { flags: ['checked'] } },
            attrs: { id: e.attrs.id },
          })),
        };
      },
    });
    // The records exist before the consumer starts, so they arrive as one batch.
    await t.producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) =>
        cloudEventMessage(
          EVENTS.validatedEvent.type,
          'k:1',
          validated(i + 100 - 100 + 10),
          `r-${i + 10}`,
        ),
      ),
    });
    await sub.start();
    // Previous test's records are on the topic too (8 records, 4 valid).
    const clean = await consumeUntil(
      t.kafka,
      t.topic('eventsClean'),
      (r) => r.filter((x) => JSON.parse(x.value!).quality.flags[0] === 'checked').length >= 19,
    );
    const checked = clean
      .filter((x) => JSON.parse(x.value!).quality.flags[0] === 'checked')
      .map((x) => x.headers.ce_id);
    expect(new Set(checked).size).toBe(19 + 4);
    expect(checked).not.toContain('r-13');
    expect(failures).toBe(2);
    const dlq = await consumeUntil(t.kafka, `${t.topic('eventsValidated')}.dlq`, (r) =>
      r.some((x) => JSON.parse(x.value!).eventId === 'r-13'),
    );
    const banned = dlq
      .map((x) => JSON.parse(x.value!) as RejectedEvent)
      .find((p) => p.eventId === 'r-13')!;
    expect(banned.reasons).toEqual([{ code: 'business_rule', message: 'entity 13 is banned' }]);
    const metrics = await bus.metrics.retries.get();
    expect(metrics.values[0].value).toBe(2);
  });

  it('reads a compacted table to its end before start resolves, then follows changes', async () => {
    const bus = await newBus('table');
    await bus.ensureTopics(['pipelineSpecs']);
    const topic = t.topic('pipelineSpecs');
    const spec = (name: string, version: number) => ({
      name,
      version,
      fields: [{ name: 'id', type: 'entity_id' }],
    });
    await t.producer.send({
      topic,
      acks: -1,
      messages: [
        cloudEventMessage(EVENTS.datasetSpec.type, 'a', spec('a', 1)),
        cloudEventMessage(EVENTS.datasetSpec.type, 'b', spec('b', 1)),
        cloudEventMessage(EVENTS.datasetSpec.type, 'a', spec('a', 2)),
        { key: 'b', value: null },
      ],
    });
    const table = bus.table({ name: 'specs', event: EVENTS.datasetSpec });
    await table.start();
    expect(table.size).toBe(1);
    expect(table.get('a')?.version).toBe(2);
    expect(table.get('b')).toBeUndefined();
    await t.producer.send({
      topic,
      acks: -1,
      messages: [cloudEventMessage(EVENTS.datasetSpec.type, 'c', spec('c', 1))],
    });
    await table.sync();
    expect(table.get('c')?.version).toBe(1);
  });

  it('commits only what was handled: a restarted group resumes after the last committed offset', async () => {
    const bus = await newBus('resume');
    await bus.ensureTopics(['eventsClean']);
    const topic = t.topic('eventsClean');
    await t.producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) =>
        cloudEventMessage(
          EVENTS.cleanEvent.type,
          `k${i % 3}`,
          { ...validated(i), quality: { flags: [] } },
          `c-${i}`,
        ),
      ),
    });
    const seen: string[] = [];
    const sub = bus.subscribe({
      name: 'count',
      groupId: 'resume',
      event: EVENTS.cleanEvent,
      delivery: 'at-least-once',
      handler: async (events) => void seen.push(...events.map((e) => e.attrs.id)),
    });
    await sub.start();
    const deadline = Date.now() + 30_000;
    while (seen.filter((id) => id.startsWith('c-')).length < 30 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await sub.stop();
    const committed = await t.admin.fetchOffsets({ groupId: `${t.prefix}resume`, topics: [topic] });
    const ends = await t.admin.fetchTopicOffsets(topic);
    // Every partition committed exactly to its end: offset+1 of its last record.
    for (const p of ends.filter((e) => e.high !== '0')) {
      expect(committed[0].partitions.find((c) => c.partition === p.partition)!.offset).toBe(p.high);
    }
    const all = await readAll(t.kafka, t.admin, topic);
    // Other tests' stages write here too; the group handled each record of the topic once.
    expect(seen).toHaveLength(all.length);
    expect(seen.sort()).toEqual(all.map((r) => r.headers.ce_id).sort());
    expect(seen.filter((id) => id.startsWith('c-'))).toHaveLength(30);
  });

  it('reports a stuck handler as a stalled loop, and recovers when it moves again', async () => {
    const bus = await newBus('stall');
    await bus.ensureTopics(['eventsClean']);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const sub = bus.subscribe({
      name: 'stuck',
      groupId: 'stuck',
      event: EVENTS.cleanEvent,
      delivery: 'at-least-once',
      stallMs: 300,
      handler: async () => {
        entered();
        await gate;
      },
    });
    await sub.start();
    await t.producer.send({
      topic: t.topic('eventsClean'),
      acks: -1,
      messages: [
        cloudEventMessage(EVENTS.cleanEvent.type, 'k', { ...validated(1), quality: { flags: [] } }),
      ],
    });
    await inHandler;
    const deadline = Date.now() + 10_000;
    while (!sub.health().stalled && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(sub.health().stalled).toBe(true);
    expect(bus.health().ok).toBe(false);
    release();
    while (sub.health().stalled && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(sub.health()).toMatchObject({ stalled: false, running: true });
  });

  it('does not call a long handler that heartbeats stalled', async () => {
    const bus = await newBus('beating');
    await bus.ensureTopics(['eventsClean']);
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let stopBeating = false;
    let beats = 0;
    const sub = bus.subscribe({
      name: 'long-job',
      groupId: 'long-job',
      event: EVENTS.cleanEvent,
      delivery: 'at-least-once',
      stallMs: 300,
      handler: async (_events, ctx) => {
        entered();
        while (!stopBeating) {
          await ctx.heartbeat();
          beats++;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    });
    await sub.start();
    await t.producer.send({
      topic: t.topic('eventsClean'),
      acks: -1,
      messages: [
        cloudEventMessage(EVENTS.cleanEvent.type, 'k', { ...validated(2), quality: { flags: [] } }),
      ],
    });
    await inHandler;
    // Six stall periods in the handler, sampled every 50 ms: never stalled while it beats.
    const samples: boolean[] = [];
    for (let i = 0; i < 36; i++) {
      samples.push(sub.health().stalled);
      await new Promise((r) => setTimeout(r, 50));
    }
    stopBeating = true;
    expect(beats).toBeGreaterThan(20);
    expect(samples.filter(Boolean)).toHaveLength(0);
    expect(bus.health().ok).toBe(true);
  });

  it('reports lag only for the partitions it owns after a rebalance', async () => {
    const [a, b] = [await newBus('lag-a'), await newBus('lag-b')];
    const topic = t.topic('eventsClean');
    const partitions = (await t.admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions
      .length;
    expect(partitions).toBeGreaterThan(1);
    await t.producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: partitions * 4 }, (_, i) => ({
        ...cloudEventMessage(EVENTS.cleanEvent.type, `lag-${i}`, {
          ...validated(100 + i),
          quality: { flags: [] },
        }),
        partition: i % partitions,
      })),
    });
    const lagPartitions = async (bus: Bus) =>
      (await bus.metrics.consumerLag.get()).values
        .filter((v) => v.labels.consumer === 'lag')
        .map((v) => Number(v.labels.partition))
        .sort();
    const subscribe = (bus: Bus) =>
      bus.subscribe({
        name: 'lag',
        groupId: 'lag-owners',
        event: EVENTS.cleanEvent,
        delivery: 'at-least-once',
        handler: async () => {},
      });
    await subscribe(a).start();
    const deadline = Date.now() + 30_000;
    while ((await lagPartitions(a)).length < partitions && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await lagPartitions(a)).toEqual(Array.from({ length: partitions }, (_, i) => i));
    // A second member takes some partitions: the first stops reporting them.
    await subscribe(b).start();
    while ((await lagPartitions(a)).length === partitions && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const kept = await lagPartitions(a);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(partitions);
    const assigned = (await t.admin.describeGroups([`${t.prefix}lag-owners`])).groups[0].members;
    expect(assigned).toHaveLength(2);
  });

  it('pauses fetching on demand and resumes where it stopped', async () => {
    const bus = await newBus('pause');
    await bus.ensureTopics(['eventsClean']);
    const topic = t.topic('eventsClean');
    let handled = 0;
    const sub = bus.subscribe({
      name: 'pausable',
      groupId: 'pausable',
      event: EVENTS.cleanEvent,
      delivery: 'at-least-once',
      handler: async (events) =>
        void (handled += events.filter((e) => e.attrs.id.startsWith('pz-')).length),
    });
    await sub.start();
    sub.pause();
    expect(sub.health().paused).toBe(true);
    await t.producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 25 }, (_, i) =>
        cloudEventMessage(
          EVENTS.cleanEvent.type,
          `k${i}`,
          { ...validated(i), quality: { flags: [] } },
          `pz-${i}`,
        ),
      ),
    });
    // A bounded look for something that must not happen while paused.
    await new Promise((r) => setTimeout(r, 1500));
    expect(handled).toBe(0);
    sub.resume();
    const deadline = Date.now() + 20_000;
    while (handled < 25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(handled).toBe(25);
  });

  it('refuses a send beyond its bounded buffer at once, and an invalid payload before buffering', async () => {
    const producer = new BusProducer(
      t.kafka,
      '/tests',
      t.prefix,
      new BusMetrics(new Registry()),
      logger,
      { lingerMs: 50, maxBatchRecords: 100, maxPendingRecords: 10 },
    );
    await producer.connect();
    const event = (i: number) => ({
      event: EVENTS.cleanEvent,
      key: `k${i}`,
      data: { ...validated(i), quality: { flags: [] } },
    });
    const accepted = producer.send(Array.from({ length: 8 }, (_, i) => event(i)));
    expect(producer.pending).toBe(8);
    await expect(
      producer.send(Array.from({ length: 3 }, (_, i) => event(i))),
    ).rejects.toBeInstanceOf(BackpressureError);
    expect(() =>
      producer.send([{ event: EVENTS.cleanEvent, key: 'bad', data: { dataset: 'cards' } }]),
    ).toThrow(/refusing to produce an invalid dev\.mlops\.events\.clean\.v1/);
    await accepted;
    expect(producer.pending).toBe(0);
    await producer.disconnect();
  });

  it('ensureTopics from processes starting together: each returns with the topics led', async () => {
    // Eight services of one stack create the same topics at once; the losers of the race must
    // not return before the winner's topics have leaders.
    const admins = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const a = t.kafka.admin();
        await a.connect();
        return a;
      }),
    );
    const prefix = `${t.prefix}race.`;
    await Promise.all(admins.map((a) => ensureTopics(a, prefix, ['features', 'predictions'])));
    const meta = await t.admin.fetchTopicMetadata({
      topics: [`${prefix}features.v1`, `${prefix}predictions.v1`],
    });
    expect(meta.topics.map((x) => x.partitions.filter((p) => p.leader >= 0).length)).toEqual([
      3, 3,
    ]);
    await Promise.all(admins.map((a) => a.disconnect()));
    await expect(waitForLeaders(t.admin, [`${prefix}nothing.v1`], 300)).rejects.toThrow(
      /nothing\.v1 have no leader after 300 ms/,
    );
  });

  it('readPartitions reads exact ranges of several partitions with one consumer, in order, skipping aborted records', async () => {
    const bus = await newBus('ranges');
    await bus.ensureTopics(['predictions']);
    const topic = t.topic('predictions');
    const rec = (p: number, i: number) => ({ key: `k${p}-${i}`, value: `${p}:${i}`, partition: p });
    await t.producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2].flatMap((p) => Array.from({ length: 10 }, (_, i) => rec(p, i))),
    });
    // An aborted transaction on partition 1 in the middle of the range.
    const tx = t.kafka.producer({
      transactionalId: `${t.prefix}ranges-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    const aborted = await tx.transaction();
    await aborted.send({ topic, messages: [{ key: 'gone', value: 'aborted', partition: 1 }] });
    await aborted.abort();
    await t.producer.send({ topic, acks: -1, messages: [rec(1, 10)] });
    await tx.disconnect();
    // abort() returns once the coordinator has decided; the partition's abort marker is written
    // after that. Until it is, the last stable offset stays at the aborted record, and a read to
    // the partition's end rightly stops there: wait for all 13 offsets (10 + aborted + marker + 1).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const high = (await bus.admin.fetchTopicOffsets(topic)).find((p) => p.partition === 1)!.high;
      if (Number(high) >= 13) break;
      if (Date.now() > deadline) throw new Error(`partition 1 stable offset stuck at ${high}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const got = new Map<number, string[]>();
    await readPartitions(
      t.kafka,
      bus.admin,
      {
        topic,
        partitions: [
          { partition: 0, from: '2', to: '7' },
          { partition: 1, from: '0' },
        ],
      },
      (p, ms) => {
        got.set(p, [...(got.get(p) ?? []), ...ms.map((m) => m.value!.toString())]);
      },
    );
    expect(got.get(0)).toEqual(['0:2', '0:3', '0:4', '0:5', '0:6']);
    expect(got.get(1)).toEqual([...Array.from({ length: 10 }, (_, i) => `1:${i}`), '1:10']);
    expect(got.has(2)).toBe(false);
  });

  it('fence() aborts a transaction a crashed owner left open, so a read_committed read back sees what committed after it', async () => {
    const bus = await newBus('fence');
    await bus.ensureTopics(['dataQualityState']);
    const changelog = t.topic('dataQualityState');
    const entry = (id: string) => ({ key: `state:${id}`, value: id, partition: 0 });
    const keysOnPartition0 = async () => {
      const keys: string[] = [];
      await readPartition(
        t.kafka,
        bus.admin,
        { topic: changelog, partition: 0, from: '0' },
        (ms) => {
          for (const m of ms) keys.push(m.key!.toString());
        },
      );
      return keys;
    };
    const sub = bus.subscribe({
      name: 'fenced',
      groupId: 'fenced',
      event: EVENTS.validatedEvent,
      delivery: 'exactly-once',
      handler: async () => ({}),
    });
    // The crashed owner of input partition 0: its transaction stays open.
    const zombie = t.kafka.producer({
      transactionalId: `${t.prefix}fenced.${t.topic('eventsValidated')}.0`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await zombie.connect();
    const open = await zombie.transaction();
    await open.send({ topic: changelog, messages: [entry('open')] });
    // Another partition's transaction commits after it, on the same changelog partition.
    const other = t.kafka.producer({
      transactionalId: `${t.prefix}fenced-other`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await other.connect();
    const committed = await other.transaction();
    await committed.send({ topic: changelog, messages: [entry('after')] });
    await committed.commit();
    await other.disconnect();

    // The open transaction hides the committed record behind it: the partition's end (its
    // last stable offset) is before both.
    expect(await keysOnPartition0()).toEqual([]);

    await sub.fence();
    expect(await keysOnPartition0()).toEqual(['state:after']);
    await zombie.disconnect().catch(() => {});
  });
});
