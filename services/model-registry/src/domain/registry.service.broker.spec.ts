import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelDecisionEvent } from '@mlops/contracts';
import type { OutboxRelay } from '../outbox/outbox-relay';
import {
  NotFoundError,
  PostgresRegistryStore,
  SqliteRegistryStore,
  type Actor,
  type RegistryStore,
} from '../store';
import { RegistryService } from './registry.service';

/**
 * `decide` on the real stores: SQLite on a temporary file and PostgreSQL at DATABASE_URL_TEST
 * (a schema per test), as the store's own tests run. The relay is a counter of notifications.
 */

const PG_URL = process.env.DATABASE_URL_TEST ?? 'postgres://mlops:mlops@127.0.0.1:5432/mlops';
const logger = pino({ level: 'silent' });
const alice: Actor = { subject: 'alice' };
const monitor: Actor = { subject: 'drift-monitor' };

interface Harness {
  store: RegistryStore & { migrate(): Promise<void> };
  cleanup(): Promise<void>;
}

async function sqliteHarness(): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'registry-service-'));
  const store = new SqliteRegistryStore({ path: path.join(dir, 'registry.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresHarness(): Promise<Harness> {
  const admin = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  const schema = `registry_service_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const store = new PostgresRegistryStore({ connectionString: PG_URL, schema });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

describe.each([
  { dialect: 'sqlite', harness: sqliteHarness },
  { dialect: 'postgres', harness: postgresHarness },
])('RegistryService.decide on $dialect', ({ harness }) => {
  let h: Harness;
  let store: Harness['store'];
  let notified: number;
  let registry: RegistryService;

  beforeEach(async () => {
    h = await harness();
    store = h.store;
    await store.migrate();
    notified = 0;
    const relay = { notify: () => void notified++ } as unknown as OutboxRelay;
    registry = new RegistryService(store, relay, logger);
    await store.createModel({ name: 'fraud' }, alice);
    for (let i = 0; i < 3; i++) await store.createVersion({ model: 'fraud' }, alice);
    await store.setAlias('fraud', 'production', 1, alice, 'launch');
    await store.setAlias('fraud', 'canary', 2, alice, 'try v2');
  });

  afterEach(async () => {
    await h?.cleanup();
  });

  const rollback = (fields: Partial<ModelDecisionEvent> = {}): ModelDecisionEvent => ({
    model: 'fraud',
    action: 'rollback',
    reason: 'canary error rate 3x production',
    decidedBy: 'drift-monitor',
    ...fields,
  });

  it('rolls the canary back by removing its alias, once per idempotency key', async () => {
    const outbox = (await store.pendingOutbox(100)).length;
    const change = await registry.decide(rollback({ alias: 'canary' }), monitor, 'decision-7');
    expect(change).toMatchObject({
      model: 'fraud',
      alias: 'canary',
      from: 2,
      to: null,
      aliases: { production: 1 },
    });
    expect(change.sequence).toBeGreaterThan(0);
    expect(await store.getAliases('fraud')).toEqual({ production: 1 });
    expect((await store.pendingOutbox(100)).length).toBe(outbox + 1);
    expect(notified).toBe(1);

    // Redelivered: the recorded change again, no error, nothing written.
    expect(await registry.decide(rollback({ alias: 'canary' }), monitor, 'decision-7')).toEqual(
      change,
    );
    expect(await store.getAliases('fraud')).toEqual({ production: 1 });
    expect((await store.pendingOutbox(100)).length).toBe(outbox + 1);
    const history = await store.aliasHistory('fraud', 'canary', 100);
    expect(history.map((e) => [e.fromVersion, e.toVersion])).toEqual([
      [2, null],
      [null, 2],
    ]);

    // A new decision (another key) with the canary already gone is refused, as delete_alias is.
    await expect(
      registry.decide(rollback({ alias: 'canary' }), monitor, 'decision-8'),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('still moves the canary to a version when the decision names one', async () => {
    const change = await registry.decide(
      rollback({ alias: 'canary', version: 3 }),
      monitor,
      'decision-9',
    );
    expect(change).toMatchObject({ alias: 'canary', from: 2, to: 3 });
    expect(await store.getAliases('fraud')).toEqual({ production: 1, canary: 3 });
  });

  it('still rolls production back to the version it pointed at before', async () => {
    await store.setAlias('fraud', 'production', 2, alice, 'promote');
    const change = await registry.decide(rollback(), monitor, 'decision-10');
    expect(change).toMatchObject({ alias: 'production', from: 2, to: 1 });
    expect(await registry.decide(rollback(), monitor, 'decision-10')).toEqual(change);
    expect(await store.getAliases('fraud')).toEqual({ production: 1, canary: 2 });
  });
});
