import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '@mlops/bus';
import type { ModelLifecycleEvent } from '@mlops/contracts';
import { readAll, testKafka, type TestKafka } from '@mlops/testing';
import { createStore } from '../store';
import type { RegistryStore } from '../store/registry-store';
import { OUTBOX_SEQ_HEADER, OutboxRelay, RELAYED_TOPICS } from './outbox-relay';

const logger = pino({ level: 'silent' });
const actor = { subject: 'test' };

describe('outbox relay on the real broker', () => {
  let t: TestKafka;
  let dir: string;
  let store: RegistryStore;
  let bus: Bus;

  const lifecycle = async () =>
    (await readAll(t.kafka, t.admin, t.topic('modelsLifecycle'))).map((r) => ({
      seq: r.headers[OUTBOX_SEQ_HEADER],
      payload: JSON.parse(r.value!) as ModelLifecycleEvent,
    }));

  beforeAll(async () => {
    t = await testKafka('outbox');
    dir = mkdtempSync(path.join(tmpdir(), 'outbox-'));
    store = createStore({ sqlitePath: path.join(dir, 'r.sqlite') });
    await store.migrate();
    bus = new Bus(
      {
        brokers: t.brokers.split(','),
        clientId: 'model-registry',
        topicPrefix: t.prefix,
        connectionTimeoutMs: 3000,
        requestTimeoutMs: 30000,
      },
      logger,
      new Registry(),
    );
    await bus.connect();
    await bus.ensureTopics(RELAYED_TOPICS);
  });
  afterAll(async () => {
    await bus.shutdown();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('publishes each record once even when it crashed after publishing and before marking', async () => {
    await store.createModel({ name: 'm' }, actor);
    for (let i = 0; i < 3; i++) await store.createVersion({ model: 'm' }, actor);
    await store.setAlias('m', 'production', 2, actor, 'first');
    const pending = await store.pendingOutbox(100);
    expect(pending.map((r) => r.topic)).toEqual([
      'modelsLifecycle',
      'modelsLifecycle',
      'modelsLifecycle',
      'modelsLifecycle',
    ]);

    // A relay that "dies" right after Kafka acknowledged the batch: the marks never happen.
    const crashing: RegistryStore = Object.create(store, {
      markPublished: { value: () => Promise.reject(new Error('killed before marking')) },
    }) as RegistryStore;
    const first = new OutboxRelay(crashing, bus, logger, new Registry(), {
      pollMs: 50,
      batchSize: 100,
    });
    await expect(first.drain()).rejects.toThrow('killed before marking');
    expect(await store.pendingOutbox(100)).toHaveLength(4);
    expect((await lifecycle()).map((r) => r.seq)).toEqual(pending.map((r) => String(r.id)));

    // The restarted relay learns from the topic's tail that they went out.
    const second = new OutboxRelay(store, bus, logger, new Registry(), {
      pollMs: 50,
      batchSize: 100,
    });
    expect(await second.recover()).toBe(pending[3].id);
    expect(await store.pendingOutbox(100)).toEqual([]);
    expect(await second.drain()).toBe(0);

    await store.setAlias('m', 'production', 3, actor, 'next');
    expect(await second.drain()).toBe(1);
    const all = await lifecycle();
    expect(all).toHaveLength(5);
    expect(all.map((r) => r.payload.sequence)).toEqual([
      ...pending.map((r) => r.id),
      pending[3].id + 1,
    ]);
    expect(all[4].payload).toMatchObject({
      model: 'm',
      aliases: { production: 3 },
      latestVersion: 3,
      change: {
        kind: 'alias_set',
        alias: 'production',
        from: 2,
        to: 3,
        actor: 'test',
        reason: 'next',
      },
    });
  });
});
