import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetSpec, ModelLifecycleEvent, type DatasetSpecInput } from '@mlops/contracts';
import {
  AlreadyExistsError,
  createStore,
  InvalidError,
  MIGRATIONS,
  NotFoundError,
  PostgresRegistryStore,
  SqliteRegistryStore,
  type Actor,
  type NewVersion,
  type OutboxRecord,
  type RegistryStore,
} from './index';

/**
 * The storage port's behaviour, run on both adapters: SQLite on a temporary file (WAL, several
 * connections) and PostgreSQL at DATABASE_URL_TEST, each test in a schema of its own. An
 * unreachable PostgreSQL fails these tests: nothing is skipped.
 */

const PG_URL = process.env.DATABASE_URL_TEST ?? 'postgres://mlops:mlops@127.0.0.1:5432/mlops';

type AnyStore = SqliteRegistryStore | PostgresRegistryStore;

interface Harness {
  readonly dialect: 'sqlite' | 'postgres';
  /** Another store (its own connection or pool) on this test's database; not migrated. */
  open(): AnyStore;
  cleanup(): Promise<void>;
}

/** Every stored time comes from this clock: 1 ms later on each call, so order is certain. */
function testClock(): () => number {
  let t = Date.UTC(2026, 10, 25, 12, 0, 0);
  return () => (t += 1);
}

async function sqliteHarness(): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'registry-store-'));
  const file = path.join(dir, 'registry.db');
  const now = testClock();
  const stores: AnyStore[] = [];
  return {
    dialect: 'sqlite',
    open: () => {
      const store = new SqliteRegistryStore({ path: file, now });
      stores.push(store);
      return store;
    },
    cleanup: async () => {
      await Promise.all(stores.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresHarness(): Promise<Harness> {
  const admin = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  const schema = `registry_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const now = testClock();
  const stores: AnyStore[] = [];
  return {
    dialect: 'postgres',
    open: () => {
      const store = new PostgresRegistryStore({ connectionString: PG_URL, schema, now });
      stores.push(store);
      return store;
    },
    cleanup: async () => {
      await Promise.all(stores.map((s) => s.close()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

const alice: Actor = { subject: 'alice' };
const bob: Actor = { subject: 'bob' };

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A fixed permutation, so that concurrent calls are issued out of order. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i -= 1) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Lifecycle outbox records, parsed as the relay publishes them (sequence = outbox id). */
async function lifecycleRecords(
  store: RegistryStore,
  model?: string,
): Promise<ModelLifecycleEvent[]> {
  const records = await store.pendingOutbox(1000);
  return records
    .filter((r) => r.topic === 'modelsLifecycle' && (model === undefined || r.key === model))
    .map((r) => ModelLifecycleEvent.parse({ ...(r.payload as object), sequence: r.id }));
}

async function withVersions(store: RegistryStore, model: string, n: number): Promise<void> {
  await store.createModel({ name: model }, alice);
  for (let i = 0; i < n; i += 1) await store.createVersion({ model }, alice);
}

const specInput = (description: string): Omit<DatasetSpecInput, 'version'> => ({
  name: 'transactions',
  description,
  fields: [
    { name: 'id', type: 'entity_id' },
    { name: 'amount', type: 'numeric', min: 0 },
    { name: 'is_fraud', type: 'label' },
  ],
});

describe.each([
  { dialect: 'sqlite', harness: sqliteHarness },
  { dialect: 'postgres', harness: postgresHarness },
])('RegistryStore on $dialect', ({ harness }) => {
  let h: Harness;
  let store: AnyStore;

  beforeEach(async () => {
    h = await harness();
    store = h.open();
    await store.migrate();
  });

  afterEach(async () => {
    await h?.cleanup();
  });

  describe('migrations', () => {
    it('are numbered 1..N in order', () => {
      expect(MIGRATIONS.map((m) => m.version)).toEqual(range(1, MIGRATIONS.length));
    });

    it('apply once: migrating again changes nothing and keeps the data', async () => {
      await store.createModel({ name: 'fraud' }, alice);
      await store.migrate();
      const other = h.open();
      await other.migrate();
      expect(await store.appliedMigrations()).toEqual(range(1, MIGRATIONS.length));
      expect((await other.getModel('fraud')).name).toBe('fraud');
    });

    it('two instances migrating an empty database at once both succeed', async () => {
      const fresh = await harness();
      try {
        const [a, b] = [fresh.open(), fresh.open()];
        await Promise.all([a.migrate(), b.migrate()]);
        expect(await a.appliedMigrations()).toEqual(range(1, MIGRATIONS.length));
        await a.createModel({ name: 'fraud' }, alice);
        expect((await b.getModel('fraud')).latestVersion).toBe(0);
      } finally {
        await fresh.cleanup();
      }
    });
  });

  describe('errors', () => {
    it('carry the class and an MLflow-style message', async () => {
      await withVersions(store, 'fraud', 1);
      const cases: [() => Promise<unknown>, new (m: string) => Error, string][] = [
        [() => store.getModel('nope'), NotFoundError, 'Registered Model with name=nope not found'],
        [
          () => store.getVersion('fraud', 7),
          NotFoundError,
          'Model Version (name=fraud, version=7) not found',
        ],
        [
          () => store.getVersion('nope', 1),
          NotFoundError,
          'Model Version (name=nope, version=1) not found',
        ],
        [
          () => store.getAliases('nope'),
          NotFoundError,
          'Registered Model with name=nope not found',
        ],
        [
          () => store.deleteAlias('fraud', 'canary', alice, 'x'),
          NotFoundError,
          'Registered model alias canary not found for model fraud',
        ],
        [() => store.getSpec('nope'), NotFoundError, 'Dataset spec with name=nope not found'],
        [
          () => store.getSpec('nope', 2),
          NotFoundError,
          'Dataset spec (name=nope, version=2) not found',
        ],
        [
          () => store.createModel({ name: 'fraud' }, alice),
          AlreadyExistsError,
          'Registered Model (name=fraud) already exists.',
        ],
        [
          () => store.createModel({ name: 'bad name' }, alice),
          InvalidError,
          "Invalid model name 'bad name'",
        ],
        [
          () => store.createVersion({ model: 'nope' }, alice),
          NotFoundError,
          'Registered Model with name=nope not found',
        ],
        [
          () => store.searchModels({ maxResults: 1001 }),
          InvalidError,
          'It must be at most 1000, but got value 1001',
        ],
      ];
      for (const [call, type, message] of cases) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(type);
        expect((err as Error).name).toBe(type.name);
        expect((err as Error).message).toContain(message);
      }
    });
  });

  describe('registered models', () => {
    it('creates, reads, updates and tags a model, auditing each change', async () => {
      const created = await store.createModel(
        { name: 'fraud', description: 'card fraud', tags: { team: 'risk' } },
        alice,
      );
      expect(created).toEqual({
        name: 'fraud',
        description: 'card fraud',
        tags: { team: 'risk' },
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
        latestVersion: 0,
      });
      expect(await store.getModel('fraud')).toEqual(created);

      const updated = await store.updateModel(
        'fraud',
        { description: 'card-not-present fraud' },
        bob,
      );
      expect(updated.description).toBe('card-not-present fraud');
      expect(updated.updatedAt).toBeGreaterThan(created.updatedAt);

      await store.setModelTag('fraud', 'team', 'fraud-ops', bob);
      await store.setModelTag('fraud', 'tier', '1', bob);
      await store.deleteModelTag('fraud', 'tier', alice);
      await store.deleteModelTag('fraud', 'absent', alice); // no-op, not audited
      // An empty patch changes nothing and is not audited.
      expect((await store.updateModel('fraud', {}, alice)).updatedAt).toBe(updated.updatedAt);
      expect((await store.getModel('fraud')).tags).toEqual({ team: 'fraud-ops' });

      await expect(store.updateModel('nope', { description: 'x' }, bob)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(store.setModelTag('nope', 'a', 'b', bob)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.setModelTag('fraud', '', 'b', bob)).rejects.toBeInstanceOf(InvalidError);

      const audit = await store.audit(10, 'model:fraud');
      expect(audit.map((a) => [a.actor, a.action])).toEqual([
        ['alice', 'model.tag.delete'],
        ['bob', 'model.tag.set'],
        ['bob', 'model.tag.set'],
        ['bob', 'model.update'],
        ['alice', 'model.create'],
      ]);
      expect(audit[4].details).toEqual({ description: 'card fraud', tags: { team: 'risk' } });
    });

    it('renames a model with its versions, tags and aliases', async () => {
      await withVersions(store, 'fraud', 2);
      await store.setModelTag('fraud', 'team', 'risk', alice);
      await store.setVersionTag('fraud', 1, 'quant', 'fp32', alice);
      await store.setAlias('fraud', 'production', 2, alice, 'launch');
      const before = await store.getModel('fraud');

      const renamed = await store.renameModel('fraud', 'fraud-v2', bob);
      expect(renamed).toEqual({ ...before, name: 'fraud-v2', updatedAt: renamed.updatedAt });
      await expect(store.getModel('fraud')).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.getVersion('fraud-v2', 1)).tags).toEqual({ quant: 'fp32' });
      expect((await store.getVersion('fraud-v2', 2)).model).toBe('fraud-v2');
      expect(await store.getAliases('fraud-v2')).toEqual({ production: 2 });

      const [oldName] = (await lifecycleRecords(store, 'fraud')).slice(-1);
      expect(oldName.change.kind).toBe('model_deleted');
      expect(oldName.aliases).toEqual({});
      const newName = await lifecycleRecords(store, 'fraud-v2');
      expect(
        newName.map((r) => [
          r.change.kind,
          r.change.alias,
          r.change.to,
          r.aliases,
          r.latestVersion,
        ]),
      ).toEqual([['alias_set', 'production', 2, { production: 2 }, 2]]);
      expect((await store.aliasHistory('fraud', 'production'))[0]).toMatchObject({
        fromVersion: 2,
        toVersion: null,
        actor: 'bob',
        reason: 'model renamed to fraud-v2',
      });
      expect((await store.aliasHistory('fraud-v2'))[0]).toMatchObject({
        fromVersion: null,
        toVersion: 2,
      });

      expect((await store.createVersion({ model: 'fraud-v2' }, alice)).version.version).toBe(3);
      await store.createModel({ name: 'churn' }, alice);
      await expect(store.renameModel('churn', 'fraud-v2', bob)).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      await expect(store.renameModel('nope', 'other', bob)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.renameModel('churn', 'no spaces', bob)).rejects.toBeInstanceOf(
        InvalidError,
      );
      expect((await store.audit(10, 'model:fraud'))[0]).toMatchObject({
        actor: 'bob',
        action: 'model.rename',
        details: { newName: 'fraud-v2' },
      });
    });

    it('deletes a model with its versions, tags and aliases, and keeps the alias history', async () => {
      await withVersions(store, 'fraud', 2);
      await store.setModelTag('fraud', 'team', 'risk', alice);
      await store.setVersionTag('fraud', 2, 'quant', 'int8', alice);
      await store.setAlias('fraud', 'production', 1, alice, 'launch');
      await store.setAlias('fraud', 'canary', 2, alice, 'try int8');

      await store.deleteModel('fraud', bob);

      await expect(store.getModel('fraud')).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getVersion('fraud', 1)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getAliases('fraud')).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.searchVersions({ model: 'fraud' })).items).toEqual([]);
      const history = await store.aliasHistory('fraud');
      expect(history.map((e) => [e.alias, e.fromVersion, e.toVersion, e.actor, e.reason])).toEqual([
        ['production', 1, null, 'bob', 'model deleted'],
        ['canary', 2, null, 'bob', 'model deleted'],
        ['canary', null, 2, 'alice', 'try int8'],
        ['production', null, 1, 'alice', 'launch'],
      ]);
      const last = (await lifecycleRecords(store, 'fraud')).at(-1)!;
      expect(last.change).toMatchObject({
        kind: 'model_deleted',
        alias: null,
        from: null,
        to: null,
        actor: 'bob',
      });
      expect(last.aliases).toEqual({});
      expect(last.latestVersion).toBe(0);
      expect((await store.audit(1))[0]).toMatchObject({
        actor: 'bob',
        action: 'model.delete',
        target: 'model:fraud',
      });

      // The name is free again, and its versions start over.
      await store.createModel({ name: 'fraud' }, alice);
      expect((await store.getModel('fraud')).tags).toEqual({});
      expect((await store.createVersion({ model: 'fraud' }, alice)).version.version).toBe(1);
      expect((await store.getVersion('fraud', 1)).tags).toEqual({});
      await expect(store.deleteModel('nope', bob)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('versions', () => {
    it('stores every field of a version and fills defaults', async () => {
      await store.createModel({ name: 'fraud' }, alice);
      const first = await store.createVersion({ model: 'fraud' }, alice);
      expect(first.created).toBe(true);
      expect(first.version).toEqual({
        model: 'fraud',
        version: 1,
        status: 'READY',
        description: '',
        params: {},
        metrics: {},
        tags: {},
        artifact: null,
        parentVersion: null,
        variant: null,
        dataset: null,
        datasetSpecVersion: null,
        featuresetVersion: null,
        trainedOn: [],
        creator: 'alice',
        sourceJob: null,
        runId: null,
        createdAt: first.version.createdAt,
        updatedAt: first.version.createdAt,
      });

      const input: NewVersion = {
        model: 'fraud',
        description: 'int8 variant',
        status: 'PENDING_REGISTRATION',
        params: { lr: 0.01, layers: [64, 32], optimizer: { name: 'adam' } },
        metrics: { auc: 0.91, loss: 0.25 },
        tags: { quant: 'int8', gate: 'passed' },
        artifact: {
          uri: 'file:///artifacts/fraud/2/model.onnx',
          size: 5_000_000_000,
          sha256: 'ab'.repeat(32),
          format: 'onnx',
        },
        parentVersion: 1,
        variant: 'int8',
        dataset: 'transactions',
        datasetSpecVersion: 3,
        featuresetVersion: 'fs-2026-11-25',
        trainedOn: [
          { topic: 'features.v1', partition: 0, from: '0', to: '1200' },
          { topic: 'features.v1', partition: 1, from: '17', to: '99000000000' },
        ],
        sourceJob: 'compress-42',
        runId: 'run-abc',
        idempotencyKey: 'evt-1',
      };
      const second = await store.createVersion(input, bob);
      const { model, idempotencyKey: _k, ...fields } = input;
      expect(second.version).toEqual({
        ...fields,
        model,
        version: 2,
        creator: 'bob',
        createdAt: second.version.createdAt,
        updatedAt: second.version.createdAt,
      });
      expect(second.version.createdAt).toBeGreaterThan(first.version.createdAt);
      expect(await store.getVersion('fraud', 2)).toEqual(second.version);
      expect((await store.getModel('fraud')).latestVersion).toBe(2);
      expect((await store.audit(1))[0]).toMatchObject({
        actor: 'bob',
        action: 'version.create',
        target: 'model:fraud/v2',
        details: { parentVersion: 1, variant: 'int8', idempotencyKey: 'evt-1', runId: 'run-abc' },
      });
    });

    it('writes a version_created lifecycle record with the current alias map', async () => {
      await withVersions(store, 'fraud', 1);
      const change = await store.setAlias('fraud', 'production', 1, alice, 'launch');
      await store.createVersion({ model: 'fraud' }, bob);
      const records = (await store.pendingOutbox(100)).filter((r) => r.topic === 'modelsLifecycle');
      const last = records.at(-1)!;
      expect(last.key).toBe('fraud');
      expect(last.id).toBeGreaterThan(change.sequence);
      expect(last.publishedAt).toBeNull();
      expect(last.payload).not.toHaveProperty('sequence');
      expect(last.payload).toEqual({
        model: 'fraud',
        aliases: { production: 1 },
        latestVersion: 2,
        change: {
          kind: 'version_created',
          alias: null,
          from: null,
          to: 2,
          actor: 'bob',
          reason: 'version created',
          at: new Date(last.createdAt).toISOString(),
        },
      });
      expect(
        ModelLifecycleEvent.safeParse({ ...(last.payload as object), sequence: last.id }).success,
      ).toBe(true);
    });

    it('numbers 50 concurrent creations 1..50 without gap or duplicate', async () => {
      await store.createModel({ name: 'fraud' }, alice);
      const results = await Promise.all(
        range(0, 49).map((i) =>
          store.createVersion({ model: 'fraud', description: `call ${i}` }, alice),
        ),
      );
      expect(results.map((r) => r.version.version).sort((a, b) => a - b)).toEqual(range(1, 50));
      expect(results.every((r) => r.created)).toBe(true);
      for (const [i, r] of results.entries()) {
        expect((await store.getVersion('fraud', r.version.version)).description).toBe(`call ${i}`);
      }
      expect((await store.getModel('fraud')).latestVersion).toBe(50);
      // Outbox ids follow commit order, so the lifecycle records count up too.
      const created = (await lifecycleRecords(store, 'fraud')).map((r) => r.change.to);
      expect(created).toEqual(range(1, 50));
    });

    it('numbers 50 creations racing through two store instances 1..50', async () => {
      const other = h.open();
      await store.createModel({ name: 'fraud' }, alice);
      const results = await Promise.all(
        range(0, 49).map((i) =>
          (i % 2 ? store : other).createVersion(
            { model: 'fraud', createModelIfMissing: true },
            alice,
          ),
        ),
      );
      expect(results.map((r) => r.version.version).sort((a, b) => a - b)).toEqual(range(1, 50));
      expect((await other.getModel('fraud')).latestVersion).toBe(50);
      expect((await store.searchVersions({ model: 'fraud' })).items.map((v) => v.version)).toEqual(
        range(1, 50).reverse(),
      );
    });

    it('creates the model when asked to, once, under concurrency', async () => {
      await expect(store.createVersion({ model: 'churn' }, alice)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      const results = await Promise.all(
        range(1, 20).map(() =>
          store.createVersion({ model: 'churn', createModelIfMissing: true }, bob),
        ),
      );
      expect(results.map((r) => r.version.version).sort((a, b) => a - b)).toEqual(range(1, 20));
      const audit = await store.audit(100, 'model:churn');
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        actor: 'bob',
        action: 'model.create',
        details: { implicit: true },
      });
      await expect(
        store.createVersion({ model: 'bad name', createModelIfMissing: true }, bob),
      ).rejects.toBeInstanceOf(InvalidError);
    });

    it('is idempotent by key: the same key returns the first version and writes nothing', async () => {
      await withVersions(store, 'fraud', 0);
      await store.createModel({ name: 'churn' }, alice);
      const first = await store.createVersion(
        { model: 'fraud', idempotencyKey: 'evt-1', params: { lr: 0.1 } },
        alice,
      );
      const outboxBefore = (await store.pendingOutbox(100)).length;
      const auditBefore = (await store.audit(100)).length;

      const again = await store.createVersion(
        { model: 'fraud', idempotencyKey: 'evt-1', params: { lr: 0.5 } },
        bob,
      );
      expect(again).toEqual({ version: first.version, created: false });
      expect((await store.getModel('fraud')).latestVersion).toBe(1);
      expect((await store.pendingOutbox(100)).length).toBe(outboxBefore);
      expect((await store.audit(100)).length).toBe(auditBefore);

      await expect(
        store.createVersion({ model: 'churn', idempotencyKey: 'evt-1' }, alice),
      ).rejects.toBeInstanceOf(AlreadyExistsError);

      const racing = await Promise.all(
        range(1, 10).map(() =>
          store.createVersion({ model: 'fraud', idempotencyKey: 'evt-2' }, alice),
        ),
      );
      expect(racing.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(racing.map((r) => r.version.version))).toEqual(new Set([2]));
      expect((await store.getModel('fraud')).latestVersion).toBe(2);
    });

    it('requires the parent version to exist and checks its input', async () => {
      await withVersions(store, 'fraud', 1);
      await expect(
        store.createVersion({ model: 'fraud', parentVersion: 5 }, alice),
      ).rejects.toThrow(new InvalidError('Parent version 5 of model fraud does not exist'));
      expect(
        (await store.createVersion({ model: 'fraud', parentVersion: 1, variant: 'int8' }, alice))
          .version,
      ).toMatchObject({
        version: 2,
        parentVersion: 1,
      });
      const invalid: NewVersion[] = [
        { model: 'fraud', status: 'DONE' as never },
        { model: 'fraud', metrics: { auc: Number.NaN } },
        { model: 'fraud', parentVersion: 0 },
        { model: 'fraud', tags: { '': 'x' } },
        { model: 'fraud', artifact: { uri: '', size: 1, sha256: 'x', format: 'onnx' } },
      ];
      for (const input of invalid) {
        await expect(store.createVersion(input, alice)).rejects.toBeInstanceOf(InvalidError);
      }
      expect((await store.getModel('fraud')).latestVersion).toBe(2);
    });

    it('updates and tags a version', async () => {
      await withVersions(store, 'fraud', 1);
      const v1 = await store.getVersion('fraud', 1);
      const artifact = {
        uri: 'file:///a/model.onnx',
        size: 1024,
        sha256: 'cd'.repeat(32),
        format: 'onnx',
      };
      const updated = await store.updateVersion(
        'fraud',
        1,
        { description: 'retrained', status: 'FAILED_REGISTRATION', artifact },
        bob,
      );
      expect(updated).toEqual({
        ...v1,
        description: 'retrained',
        status: 'FAILED_REGISTRATION',
        artifact,
        updatedAt: updated.updatedAt,
      });
      expect(updated.updatedAt).toBeGreaterThan(v1.updatedAt);

      await store.setVersionTag('fraud', 1, 'quant', 'fp32', alice);
      await store.setVersionTag('fraud', 1, 'quant', 'int8', alice);
      await store.setVersionTag('fraud', 1, 'gate', 'passed', alice);
      await store.deleteVersionTag('fraud', 1, 'gate', bob);
      await store.deleteVersionTag('fraud', 1, 'absent', bob); // no-op, not audited
      expect((await store.updateVersion('fraud', 1, {}, bob)).updatedAt).toBe(updated.updatedAt);
      expect((await store.getVersion('fraud', 1)).tags).toEqual({ quant: 'int8' });

      await expect(
        store.updateVersion('fraud', 9, { description: 'x' }, bob),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        store.updateVersion('fraud', 1, { status: 'DONE' as never }, bob),
      ).rejects.toBeInstanceOf(InvalidError);
      await expect(store.setVersionTag('fraud', 9, 'a', 'b', bob)).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(
        store.setVersionTag('fraud', 1, 'a', 'x'.repeat(5001), bob),
      ).rejects.toBeInstanceOf(InvalidError);
      expect((await store.audit(10, 'model:fraud/v1')).map((a) => [a.actor, a.action])).toEqual([
        ['bob', 'version.tag.delete'],
        ['alice', 'version.tag.set'],
        ['alice', 'version.tag.set'],
        ['alice', 'version.tag.set'],
        ['bob', 'version.update'],
        ['alice', 'version.create'],
      ]);
    });

    it('deleting a version removes the aliases on it, with history and lifecycle records', async () => {
      await withVersions(store, 'fraud', 3);
      await store.setVersionTag('fraud', 2, 'quant', 'int8', alice);
      await store.setAlias('fraud', 'production', 2, alice, 'launch');
      await store.setAlias('fraud', 'canary', 2, alice, 'launch');
      await store.setAlias('fraud', 'staging', 3, alice, 'next');

      await store.deleteVersion('fraud', 2, bob);

      await expect(store.getVersion('fraud', 2)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.getAliases('fraud')).toEqual({ staging: 3 });
      for (const alias of ['production', 'canary']) {
        expect((await store.aliasHistory('fraud', alias))[0]).toMatchObject({
          fromVersion: 2,
          toVersion: null,
          actor: 'bob',
          reason: 'version 2 deleted',
        });
      }
      const records = (await lifecycleRecords(store, 'fraud')).slice(-2);
      expect(
        records.map((r) => [r.change.kind, r.change.alias, r.change.from, r.change.to, r.aliases]),
      ).toEqual([
        ['alias_deleted', 'canary', 2, null, { production: 2, staging: 3 }],
        ['alias_deleted', 'production', 2, null, { staging: 3 }],
      ]);
      expect((await store.audit(1))[0]).toMatchObject({
        action: 'version.delete',
        target: 'model:fraud/v2',
        details: { removedAliases: ['canary', 'production'] },
      });
      // Numbers are never reused.
      expect((await store.getModel('fraud')).latestVersion).toBe(3);
      expect((await store.createVersion({ model: 'fraud' }, alice)).version.version).toBe(4);
      expect((await store.searchVersions({ model: 'fraud' })).items.map((v) => v.version)).toEqual([
        4, 3, 1,
      ]);
      await expect(store.deleteVersion('fraud', 2, bob)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('aliases', () => {
    it('sets, moves and deletes an alias with history, outbox record and sequence', async () => {
      await withVersions(store, 'fraud', 3);
      const set = await store.setAlias('fraud', 'production', 1, alice, 'launch');
      expect(set).toEqual({
        model: 'fraud',
        alias: 'production',
        from: null,
        to: 1,
        aliases: { production: 1 },
        sequence: set.sequence,
      });
      const moved = await store.setAlias('fraud', 'production', 2, bob, 'better auc');
      expect(moved).toMatchObject({ from: 1, to: 2, aliases: { production: 2 } });
      expect(moved.sequence).toBeGreaterThan(set.sequence);

      const outbox = await store.pendingOutbox(100);
      const record = outbox.find((r) => r.id === moved.sequence)!;
      expect(record.topic).toBe('modelsLifecycle');
      expect(record.key).toBe('fraud');
      expect(record.payload).toEqual({
        model: 'fraud',
        aliases: { production: 2 },
        latestVersion: 3,
        change: {
          kind: 'alias_set',
          alias: 'production',
          from: 1,
          to: 2,
          actor: 'bob',
          reason: 'better auc',
          at: new Date(record.createdAt).toISOString(),
        },
      });

      // The same version again: nothing changes.
      const same = await store.setAlias('fraud', 'production', 2, alice, 'again');
      expect(same).toEqual({
        model: 'fraud',
        alias: 'production',
        from: 2,
        to: 2,
        aliases: { production: 2 },
        sequence: 0,
      });
      expect((await store.pendingOutbox(100)).length).toBe(outbox.length);

      const canary = await store.setAlias('fraud', 'canary', 3, alice, 'try');
      expect(canary.aliases).toEqual({ canary: 3, production: 2 });
      expect(await store.getAliases('fraud')).toEqual({ canary: 3, production: 2 });

      const deleted = await store.deleteAlias('fraud', 'canary', bob, 'rejected');
      expect(deleted).toEqual({
        model: 'fraud',
        alias: 'canary',
        from: 3,
        to: null,
        aliases: { production: 2 },
        sequence: deleted.sequence,
      });
      const last = (await lifecycleRecords(store, 'fraud')).at(-1)!;
      expect(last.sequence).toBe(deleted.sequence);
      expect(last.change).toMatchObject({
        kind: 'alias_deleted',
        alias: 'canary',
        from: 3,
        to: null,
        reason: 'rejected',
      });
      expect(last.aliases).toEqual({ production: 2 });

      const history = await store.aliasHistory('fraud');
      expect(history.map((e) => [e.alias, e.fromVersion, e.toVersion, e.actor, e.reason])).toEqual([
        ['canary', 3, null, 'bob', 'rejected'],
        ['canary', null, 3, 'alice', 'try'],
        ['production', 1, 2, 'bob', 'better auc'],
        ['production', null, 1, 'alice', 'launch'],
      ]);
      expect((await store.aliasHistory('fraud', 'production', 1)).map((e) => e.toVersion)).toEqual([
        2,
      ]);
      expect((await store.audit(10, 'model:fraud')).map((a) => a.action)).toEqual([
        'alias.delete',
        'alias.set',
        'alias.set',
        'alias.set',
        'model.create',
      ]);
    });

    it('refuses bad alias names, absent versions and models', async () => {
      await withVersions(store, 'fraud', 1);
      for (const alias of ['Prod', '1st', 'a b', 'x'.repeat(65), 'latest', 'v2', '']) {
        await expect(store.setAlias('fraud', alias, 1, alice, 'r')).rejects.toBeInstanceOf(
          InvalidError,
        );
      }
      await expect(store.setAlias('fraud', 'production', 0, alice, 'r')).rejects.toBeInstanceOf(
        InvalidError,
      );
      await expect(store.setAlias('fraud', 'production', 9, alice, 'r')).rejects.toThrow(
        'Model Version (name=fraud, version=9) not found',
      );
      await expect(store.setAlias('nope', 'production', 1, alice, 'r')).rejects.toThrow(
        'Registered Model with name=nope not found',
      );
      await expect(store.deleteAlias('fraud', 'production', alice, 'r')).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await store.aliasHistory('fraud')).toEqual([]);
      expect(await lifecycleRecords(store, 'fraud')).toHaveLength(1); // version_created only
    });

    it('20 concurrent moves: the alias, the last history entry and the last lifecycle record agree', async () => {
      const other = h.open();
      await withVersions(store, 'fraud', 20);
      const targets = shuffled(range(1, 20));
      const changes = await Promise.all(
        targets.map((v, i) =>
          (i % 2 ? other : store).setAlias(
            'fraud',
            'production',
            v,
            { subject: `user-${i}` },
            `move ${i}`,
          ),
        ),
      );
      const final = (await store.getAliases('fraud')).production;
      const history = await store.aliasHistory('fraud', 'production', 100);
      const records = (await lifecycleRecords(store, 'fraud')).filter(
        (r) => r.change.kind === 'alias_set',
      );

      expect(history).toHaveLength(20);
      expect(history[0].toVersion).toBe(final);
      expect(records.at(-1)!.aliases.production).toBe(final);
      // History is a chain: each move starts where the previous one ended.
      const chronological = [...history].reverse();
      expect(chronological[0].fromVersion).toBeNull();
      for (let i = 1; i < chronological.length; i += 1) {
        expect(chronological[i].fromVersion).toBe(chronological[i - 1].toVersion);
      }
      // The outbox saw the moves in the same order as the history, one record per move.
      expect(records.map((r) => r.change.to)).toEqual(chronological.map((e) => e.toVersion));
      expect(records.map((r) => r.change.from)).toEqual(chronological.map((e) => e.fromVersion));
      expect(changes.map((c) => c.sequence).sort((a, b) => a - b)).toEqual(
        records.map((r) => r.sequence),
      );
    });

    it('is idempotent by key, also for a change that changed nothing', async () => {
      await withVersions(store, 'fraud', 3);
      await store.createModel({ name: 'churn' }, alice);
      const first = await store.setAlias('fraud', 'production', 1, alice, 'launch', 'decision-1');
      const outbox = (await store.pendingOutbox(100)).length;
      expect(await store.setAlias('fraud', 'production', 2, alice, 'launch', 'decision-1')).toEqual(
        first,
      );
      expect(await store.aliasChangeByKey('decision-1')).toEqual(first);
      expect(await store.aliasChangeByKey('unknown')).toBeNull();
      expect(await store.getAliases('fraud')).toEqual({ production: 1 });
      expect((await store.pendingOutbox(100)).length).toBe(outbox);

      // A redelivered no-op must not move the alias back later.
      const noop = await store.setAlias('fraud', 'production', 1, bob, 'again', 'decision-2');
      expect(noop.sequence).toBe(0);
      await store.setAlias('fraud', 'production', 3, bob, 'newer');
      expect(await store.setAlias('fraud', 'production', 1, bob, 'again', 'decision-2')).toEqual(
        noop,
      );
      expect(await store.getAliases('fraud')).toEqual({ production: 3 });

      const removed = await store.deleteAlias('fraud', 'production', bob, 'retire', 'decision-3');
      expect(await store.deleteAlias('fraud', 'production', bob, 'retire', 'decision-3')).toEqual(
        removed,
      );

      await expect(
        store.setAlias('churn', 'production', 1, bob, 'x', 'decision-1'),
      ).rejects.toBeInstanceOf(AlreadyExistsError);

      const racing = await Promise.all(
        range(1, 10).map(() => store.setAlias('fraud', 'canary', 2, alice, 'race', 'decision-4')),
      );
      expect(new Set(racing.map((c) => c.sequence)).size).toBe(1);
      expect(await store.aliasHistory('fraud', 'canary')).toHaveLength(1);
    });
  });

  describe('dataset specs', () => {
    it('numbers versions 1, 2, 3 and puts each on the outbox for pipeline.specs.v1', async () => {
      const records = [];
      for (const d of ['first', 'second', 'third'])
        records.push(await store.createSpec(specInput(d), alice));
      expect(records.map((r) => r.version)).toEqual([1, 2, 3]);
      expect(records[2]).toEqual({
        name: 'transactions',
        version: 3,
        spec: DatasetSpec.parse({ ...specInput('third'), version: 3 }),
        createdAt: records[2].createdAt,
        createdBy: 'alice',
      });
      // Defaults are applied by the schema.
      expect(records[0].spec.unknownFields).toBe('drop');
      expect(await store.getSpec('transactions')).toEqual(records[2]);
      expect(await store.getSpec('transactions', 2)).toEqual(records[1]);

      const outbox = (await store.pendingOutbox(100)).filter((r) => r.topic === 'pipelineSpecs');
      expect(outbox.map((r) => r.key)).toEqual(['transactions', 'transactions', 'transactions']);
      expect(outbox.map((r) => r.payload)).toEqual(records.map((r) => r.spec));
      for (const r of outbox) expect(DatasetSpec.safeParse(r.payload).success).toBe(true);
      expect((await store.audit(10)).map((a) => [a.actor, a.action, a.target])).toEqual([
        ['alice', 'spec.create', 'spec:transactions/v3'],
        ['alice', 'spec.create', 'spec:transactions/v2'],
        ['alice', 'spec.create', 'spec:transactions/v1'],
      ]);
    });

    it('refuses an invalid spec with the schema message and stores nothing', async () => {
      await store.createSpec(specInput('first'), alice);
      const bad = { ...specInput('no id'), fields: [{ name: 'amount', type: 'numeric' as const }] };
      await expect(store.createSpec(bad, alice)).rejects.toThrow(
        /exactly one field must be of type entity_id/,
      );
      await expect(
        store.createSpec({ ...specInput('x'), name: 'Bad Name' }, alice),
      ).rejects.toBeInstanceOf(InvalidError);
      expect((await store.pendingOutbox(100)).length).toBe(1);
      expect((await store.createSpec(specInput('second'), bob)).version).toBe(2);
    });

    it('numbers concurrent creations without gap and lists the latest of each', async () => {
      const created = await Promise.all(
        range(1, 10).map((i) => store.createSpec(specInput(`v${i}`), alice)),
      );
      expect(created.map((r) => r.version).sort((a, b) => a - b)).toEqual(range(1, 10));
      await store.createSpec({ ...specInput('other'), name: 'clicks' }, bob);
      expect((await store.listSpecs()).map((s) => [s.name, s.version])).toEqual([
        ['clicks', 1],
        ['transactions', 10],
      ]);
    });
  });

  describe('search', () => {
    const names = ['alpha', 'beta', 'Beta', 'beta_1', 'betaX1', 'gamma'];
    const tags: Record<string, Record<string, string>> = {
      alpha: { team: 'risk' },
      beta: { team: 'risk', stage: 'prod' },
      Beta: { team: 'growth' },
      betaX1: { stage: 'prod' },
      gamma: { team: 'risk', stage: 'prod' },
    };

    async function models(): Promise<void> {
      for (const name of names) await store.createModel({ name, tags: tags[name] }, alice);
    }
    const found = async (q: Parameters<RegistryStore['searchModels']>[0]) =>
      (await store.searchModels(q)).items.map((m) => m.name);

    it('filters models by name, LIKE, ILIKE and tags', async () => {
      await models();
      expect(await found({})).toEqual(['Beta', 'alpha', 'beta', 'betaX1', 'beta_1', 'gamma']);
      expect(await found({ name: 'beta' })).toEqual(['beta']);
      expect(await found({ nameLike: 'beta%' })).toEqual(['beta', 'betaX1', 'beta_1']);
      expect(await found({ nameLike: 'beta_1' })).toEqual(['betaX1', 'beta_1']);
      expect(await found({ nameLike: 'beta\\_1' })).toEqual(['beta_1']);
      expect(await found({ nameLike: '%a' })).toEqual(['Beta', 'alpha', 'beta', 'gamma']);
      expect(await found({ nameILike: 'BETA%' })).toEqual(['Beta', 'beta', 'betaX1', 'beta_1']);
      expect(await found({ tags: { team: 'risk' } })).toEqual(['alpha', 'beta', 'gamma']);
      expect(await found({ tags: { team: 'risk', stage: 'prod' } })).toEqual(['beta', 'gamma']);
      expect(await found({ nameLike: 'b%', tags: { stage: 'prod' } })).toEqual(['beta', 'betaX1']);
      expect(await found({ nameLike: 'zeta%' })).toEqual([]);
      const [beta] = (await store.searchModels({ name: 'beta' })).items;
      expect(beta.tags).toEqual({ team: 'risk', stage: 'prod' });
    });

    it('orders models as asked, name ascending by default and as tie-breaker', async () => {
      await models();
      expect(await found({ orderBy: [{ field: 'name', direction: 'desc' }] })).toEqual([
        'gamma',
        'beta_1',
        'betaX1',
        'beta',
        'alpha',
        'Beta',
      ]);
      expect(await found({ orderBy: [{ field: 'createdAt', direction: 'desc' }] })).toEqual(
        [...names].reverse(),
      );
      expect(await found({ orderBy: [{ field: 'createdAt', direction: 'asc' }] })).toEqual(names);
      await store.updateModel('beta', { description: 'touched' }, bob);
      expect(await found({ orderBy: [{ field: 'updatedAt', direction: 'desc' }] })).toEqual([
        'beta',
        'gamma',
        'betaX1',
        'beta_1',
        'Beta',
        'alpha',
      ]);
      await expect(
        store.searchModels({ orderBy: [{ field: 'bogus' as never, direction: 'asc' }] }),
      ).rejects.toBeInstanceOf(InvalidError);
      await expect(
        store.searchModels({ orderBy: [{ field: 'name', direction: 'up' as never }] }),
      ).rejects.toBeInstanceOf(InvalidError);
    });

    it('pages models with an opaque token', async () => {
      await models();
      const pages: string[][] = [];
      let token: string | null = null;
      do {
        const page = await store.searchModels({ maxResults: 2, pageToken: token });
        pages.push(page.items.map((m) => m.name));
        token = page.nextPageToken;
      } while (token !== null);
      expect(pages).toEqual([
        ['Beta', 'alpha'],
        ['beta', 'betaX1'],
        ['beta_1', 'gamma'],
      ]);
      const first = await store.searchModels({ nameILike: 'beta%', maxResults: 3 });
      expect(first.items.map((m) => m.name)).toEqual(['Beta', 'beta', 'betaX1']);
      const second = await store.searchModels({
        nameILike: 'beta%',
        maxResults: 3,
        pageToken: first.nextPageToken,
      });
      expect(second).toMatchObject({ nextPageToken: null });
      expect(second.items.map((m) => m.name)).toEqual(['beta_1']);
      expect((await store.searchModels({ maxResults: 1000 })).items).toHaveLength(6);

      for (const maxResults of [0, 1001, 1.5]) {
        await expect(store.searchModels({ maxResults })).rejects.toBeInstanceOf(InvalidError);
      }
      for (const pageToken of ['not a token', Buffer.from('{"offset":-1}').toString('base64url')]) {
        await expect(store.searchModels({ pageToken })).rejects.toBeInstanceOf(InvalidError);
      }
    });

    async function versions(): Promise<void> {
      for (const name of ['fraud', 'churn', 'fraud-eu']) await store.createModel({ name }, alice);
      const add = (model: string, runId: string, tags: Record<string, string> = {}) =>
        store.createVersion({ model, runId, tags }, alice);
      await add('fraud', 'run-a', { quant: 'fp32' });
      await add('churn', 'run-c');
      await add('fraud', 'run-b', { quant: 'int8' });
      await add('fraud-eu', 'run-d');
      await add('churn', 'run-a', { quant: 'int8' });
      await add('fraud', 'run-b', { quant: 'int8', gate: 'passed' });
    }
    const foundVersions = async (q: Parameters<RegistryStore['searchVersions']>[0]) =>
      (await store.searchVersions(q)).items.map((v) => `${v.model}/v${v.version}`);

    it('filters and orders versions, model name ascending then version descending by default', async () => {
      await versions();
      expect(await foundVersions({})).toEqual([
        'churn/v2',
        'churn/v1',
        'fraud/v3',
        'fraud/v2',
        'fraud/v1',
        'fraud-eu/v1',
      ]);
      expect(await foundVersions({ model: 'fraud' })).toEqual(['fraud/v3', 'fraud/v2', 'fraud/v1']);
      expect(await foundVersions({ model: 'fraud', versions: [1, 3] })).toEqual([
        'fraud/v3',
        'fraud/v1',
      ]);
      expect(await foundVersions({ versions: [] })).toEqual([]);
      expect(await foundVersions({ nameLike: 'fraud%' })).toEqual([
        'fraud/v3',
        'fraud/v2',
        'fraud/v1',
        'fraud-eu/v1',
      ]);
      expect(await foundVersions({ nameLike: 'FRAUD%' })).toEqual([]);
      expect(await foundVersions({ runId: 'run-b' })).toEqual(['fraud/v3', 'fraud/v2']);
      expect(await foundVersions({ runId: 'run-a' })).toEqual(['churn/v2', 'fraud/v1']);
      expect(await foundVersions({ tags: { quant: 'int8' } })).toEqual([
        'churn/v2',
        'fraud/v3',
        'fraud/v2',
      ]);
      expect(await foundVersions({ tags: { quant: 'int8', gate: 'passed' } })).toEqual([
        'fraud/v3',
      ]);
      expect(
        await foundVersions({ model: 'fraud', orderBy: [{ field: 'version', direction: 'asc' }] }),
      ).toEqual(['fraud/v1', 'fraud/v2', 'fraud/v3']);
      expect(await foundVersions({ orderBy: [{ field: 'createdAt', direction: 'asc' }] })).toEqual([
        'fraud/v1',
        'churn/v1',
        'fraud/v2',
        'fraud-eu/v1',
        'churn/v2',
        'fraud/v3',
      ]);
      await store.updateVersion('churn', 1, { description: 'touched' }, bob);
      expect(
        (await foundVersions({ orderBy: [{ field: 'updatedAt', direction: 'desc' }] }))[0],
      ).toBe('churn/v1');
      expect(await foundVersions({ orderBy: [{ field: 'name', direction: 'desc' }] })).toEqual([
        'fraud-eu/v1',
        'fraud/v3',
        'fraud/v2',
        'fraud/v1',
        'churn/v2',
        'churn/v1',
      ]);
      const [v3] = (await store.searchVersions({ model: 'fraud', versions: [3] })).items;
      expect(v3.tags).toEqual({ quant: 'int8', gate: 'passed' });
      await expect(store.searchVersions({ versions: [0] })).rejects.toBeInstanceOf(InvalidError);
    });

    it('pages versions', async () => {
      await versions();
      const first = await store.searchVersions({ maxResults: 4 });
      expect(first.items.map((v) => `${v.model}/v${v.version}`)).toEqual([
        'churn/v2',
        'churn/v1',
        'fraud/v3',
        'fraud/v2',
      ]);
      expect(first.items[2].tags).toEqual({ quant: 'int8', gate: 'passed' });
      const second = await store.searchVersions({ maxResults: 4, pageToken: first.nextPageToken });
      expect(second.items.map((v) => `${v.model}/v${v.version}`)).toEqual([
        'fraud/v1',
        'fraud-eu/v1',
      ]);
      expect(second.items[0].tags).toEqual({ quant: 'fp32' });
      expect(second.nextPageToken).toBeNull();
      await expect(store.searchVersions({ maxResults: 5000 })).rejects.toBeInstanceOf(InvalidError);
    });
  });

  describe('outbox and audit', () => {
    it('lists pending records oldest first and marks them published', async () => {
      await withVersions(store, 'fraud', 3);
      await store.createSpec(specInput('first'), alice);
      const pending = await store.pendingOutbox(100);
      expect(pending.map((r) => [r.topic, r.key])).toEqual([
        ['modelsLifecycle', 'fraud'],
        ['modelsLifecycle', 'fraud'],
        ['modelsLifecycle', 'fraud'],
        ['pipelineSpecs', 'transactions'],
      ]);
      const ids = pending.map((r) => r.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(pending.map((r: OutboxRecord) => r.eventId)).size).toBe(4);
      expect(pending.every((r) => r.publishedAt === null && r.createdAt > 0)).toBe(true);
      expect((await store.pendingOutbox(2)).map((r) => r.id)).toEqual(ids.slice(0, 2));

      await store.markPublished([ids[0], ids[2]]);
      await store.markPublished([]);
      expect((await store.pendingOutbox(100)).map((r) => r.id)).toEqual([ids[1], ids[3]]);
      await store.markPublishedUpTo(ids[1]);
      expect((await store.pendingOutbox(100)).map((r) => r.id)).toEqual([ids[3]]);
      await store.markPublishedUpTo(ids[3]);
      expect(await store.pendingOutbox(100)).toEqual([]);

      // New records get later ids.
      await store.createVersion({ model: 'fraud' }, alice);
      const [next] = await store.pendingOutbox(100);
      expect(next.id).toBeGreaterThan(ids[3]);
    });

    it('commits outbox ids in order: no record appears below one already seen', async () => {
      // The relay publishes in id order and, after a crash, marks everything up to the last
      // sequence on the bus as published; a lower id committing later would be lost.
      const models = range(1, 8).map((i) => `model-${i}`);
      for (const name of models) await store.createModel({ name }, alice);
      const seen = new Set<number>();
      const late: number[] = [];
      let max = 0;
      let writing = true;
      const poller = (async () => {
        while (writing) {
          const fresh = (await store.pendingOutbox(1000)).filter((r) => !seen.has(r.id));
          for (const r of fresh) {
            if (r.id < max) late.push(r.id);
            seen.add(r.id);
          }
          max = Math.max(max, ...fresh.map((r) => r.id));
        }
      })();
      await Promise.all(
        range(0, 119).map((i) => store.createVersion({ model: models[i % models.length] }, alice)),
      );
      writing = false;
      await poller;
      expect(late).toEqual([]);
      expect((await store.pendingOutbox(1000)).length).toBe(120);
    });

    it('records every write with its actor, newest first, filterable by target', async () => {
      await store.createModel({ name: 'fraud' }, alice);
      await store.createVersion({ model: 'fraud' }, alice);
      await store.setAlias('fraud', 'production', 1, bob, 'launch');
      await store.setAlias('fraud', 'production', 1, bob, 'no-op, not audited');
      await store.setModelTag('fraud', 'team', 'risk', bob);
      await store.setVersionTag('fraud', 1, 'quant', 'int8', alice);
      await store.updateVersion('fraud', 1, { description: 'first' }, bob);
      await store.createSpec(specInput('first'), alice);
      await store.deleteAlias('fraud', 'production', bob, 'pause');
      await store.createVersion(
        { model: 'churn', createModelIfMissing: true },
        { subject: 'trainer' },
      );

      const audit = await store.audit(100);
      expect(audit.map((a) => [a.actor, a.action, a.target])).toEqual([
        ['trainer', 'version.create', 'model:churn/v1'],
        ['trainer', 'model.create', 'model:churn'],
        ['bob', 'alias.delete', 'model:fraud'],
        ['alice', 'spec.create', 'spec:transactions/v1'],
        ['bob', 'version.update', 'model:fraud/v1'],
        ['alice', 'version.tag.set', 'model:fraud/v1'],
        ['bob', 'model.tag.set', 'model:fraud'],
        ['bob', 'alias.set', 'model:fraud'],
        ['alice', 'version.create', 'model:fraud/v1'],
        ['alice', 'model.create', 'model:fraud'],
      ]);
      const ids = audit.map((a) => a.id);
      expect([...ids].sort((a, b) => b - a)).toEqual(ids);
      expect(audit[7].details).toEqual({
        alias: 'production',
        from: null,
        to: 1,
        reason: 'launch',
      });
      expect(audit[2].details).toEqual({ alias: 'production', from: 1, reason: 'pause' });
      expect(audit[0].at).toBeGreaterThan(audit[9].at);
      expect((await store.audit(100, 'model:fraud/v1')).map((a) => a.action)).toEqual([
        'version.update',
        'version.tag.set',
        'version.create',
      ]);
      expect((await store.audit(2)).map((a) => a.action)).toEqual([
        'version.create',
        'model.create',
      ]);
      await expect(store.audit(0)).rejects.toBeInstanceOf(InvalidError);
    });
  });
});

describe('SQLite across threads', () => {
  // Worker threads need JavaScript: they load the adapter that the test run's global setup
  // compiled to dist/ (as the e2e tests run the built services).
  const compiled = path.resolve(
    __dirname,
    '../../../../dist/services/model-registry/src/store/sqlite-store.js',
  );
  const workerSource = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { SqliteRegistryStore } = require(workerData.module);
    const gate = new Int32Array(workerData.gate);
    const actor = { subject: workerData.who };
    (async () => {
      const store = new SqliteRegistryStore({ path: workerData.path });
      parentPort.postMessage({ phase: 'ready' });
      Atomics.wait(gate, 0, 0);
      const versions = [];
      for (let i = 0; i < workerData.count; i += 1) {
        const { version } = await store.createVersion({ model: 'fraud', createModelIfMissing: true }, actor);
        versions.push(version.version);
      }
      parentPort.postMessage({ phase: 'created', versions });
      Atomics.wait(gate, 0, 1);
      const sequences = [];
      for (const v of versions.slice(0, workerData.moves)) {
        sequences.push((await store.setAlias('fraud', 'production', v, actor, 'race')).sequence);
      }
      await store.close();
      parentPort.postMessage({ phase: 'done', sequences });
    })().catch((err) => parentPort.postMessage({ phase: 'error', message: String((err && err.stack) || err) }));
  `;

  interface Racer {
    worker: Worker;
    next(phase: string): Promise<Record<string, unknown>>;
  }

  function racer(workerData: Record<string, unknown>): Racer {
    const worker = new Worker(workerSource, { eval: true, workerData });
    const inbox: Record<string, unknown>[] = [];
    let waiting: ((m: Record<string, unknown>) => void) | undefined;
    let failure: Error | undefined;
    const deliver = (m: Record<string, unknown>) => {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(m);
      } else inbox.push(m);
    };
    worker.on('message', deliver);
    worker.on('error', (err) => {
      failure = err;
      deliver({ phase: 'error', message: err.message });
    });
    return {
      worker,
      next: async (phase) => {
        if (failure) throw failure;
        const m =
          inbox.shift() ??
          (await new Promise<Record<string, unknown>>((resolve) => (waiting = resolve)));
        if (m.phase !== phase)
          throw new Error(`worker: expected ${phase}, got ${JSON.stringify(m)}`);
        return m;
      },
    };
  }

  it('two connections in two threads create versions 1..50 and move an alias consistently', async () => {
    expect(existsSync(compiled), `${compiled} (built by the global setup)`).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'registry-threads-'));
    const file = path.join(dir, 'registry.db');
    const store = new SqliteRegistryStore({ path: file });
    const racers: Racer[] = [];
    try {
      await store.migrate();
      const gate = new Int32Array(new SharedArrayBuffer(4));
      for (const who of ['thread-a', 'thread-b']) {
        racers.push(
          racer({ module: compiled, path: file, gate: gate.buffer, who, count: 25, moves: 10 }),
        );
      }
      for (const r of racers) await r.next('ready');
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      const created = await Promise.all(racers.map((r) => r.next('created')));
      const versions = created.flatMap((m) => m.versions as number[]);
      expect([...versions].sort((a, b) => a - b)).toEqual(range(1, 50));
      for (const m of created) {
        const own = m.versions as number[];
        expect(own).toEqual([...own].sort((a, b) => a - b));
      }
      Atomics.store(gate, 0, 2);
      Atomics.notify(gate, 0);
      await Promise.all(racers.map((r) => r.next('done')));

      expect((await store.getModel('fraud')).latestVersion).toBe(50);
      const final = (await store.getAliases('fraud')).production;
      const history = await store.aliasHistory('fraud', 'production', 100);
      const lifecycle = (await lifecycleRecords(store, 'fraud')).filter(
        (r) => r.change.kind === 'alias_set',
      );
      expect(history).toHaveLength(20);
      expect(history[0].toVersion).toBe(final);
      expect(lifecycle.at(-1)!.aliases.production).toBe(final);
      expect(lifecycle.map((r) => r.change.to)).toEqual(
        [...history].reverse().map((e) => e.toVersion),
      );
    } finally {
      await Promise.all(racers.map((r) => r.worker.terminate()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createStore', () => {
  it('picks PostgreSQL for a postgres URL and SQLite otherwise', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'registry-create-'));
    try {
      const sqlite = createStore({ sqlitePath: path.join(dir, 'nested', 'registry.db') });
      expect(sqlite.dialect).toBe('sqlite');
      await sqlite.migrate();
      await sqlite.close();
      const blank = createStore({ databaseUrl: ' ', sqlitePath: ':memory:' });
      expect(blank.dialect).toBe('sqlite');
      await blank.close();
      for (const url of [PG_URL, PG_URL.replace(/^postgres:/, 'postgresql:')]) {
        const pgStore = createStore({ databaseUrl: url });
        expect(pgStore.dialect).toBe('postgres');
        await pgStore.close();
      }
      expect(() => createStore({ databaseUrl: 'mysql://localhost/registry' })).toThrow(
        /postgres:\/\//,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
