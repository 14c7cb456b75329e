import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS, type DatasetSpec, type ModelLifecycleEvent } from '@mlops/contracts';
import {
  cardSpec,
  freshDatabase,
  cloudEventMessage,
  consumeUntil,
  readAll,
  startService,
  testKafka,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  publisher: 'publisher-key-0123456789ab',
  viewer: 'viewer-key-0123456789abcdef',
};
const AUTH_ENV = {
  AUTH_MODE: 'api-key',
  AUTH_API_KEYS: `${KEYS.admin}:admin:alice,${KEYS.publisher}:publisher:trainer-bot,${KEYS.viewer}:viewer:bob`,
  AUTH_OPEN_READS: 'true',
};

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

describe.each(['sqlite', 'postgres'] as const)('model registry on %s', (backend) => {
  let t: TestKafka;
  let dir: string;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let registry: RunningService;
  let env: Record<string, string>;

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    key: string | null = KEYS.publisher,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${registry.url}${url}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, any>) : null,
    };
  };
  const upload = async (
    bytes: Buffer,
    declared = sha256(bytes),
    key: string | null = KEYS.publisher,
  ) => {
    const res = await fetch(`${registry.url}/v1/artifacts`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'x-artifact-sha256': declared,
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: new Uint8Array(bytes),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    t = await testKafka(`registry-${backend}`);
    dir = mkdtempSync(path.join(tmpdir(), 'registry-e2e-'));
    db = backend === 'postgres' ? await freshDatabase('registry') : undefined;
    env = {
      KAFKA_BROKERS: t.brokers,
      KAFKA_TOPIC_PREFIX: t.prefix,
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      ARTIFACT_MAX_BYTES: String(1024 * 1024),
      ...(db
        ? { DATABASE_URL: db.url }
        : { REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite') }),
      ...AUTH_ENV,
    };
    registry = await startService('model-registry', env);
  });
  afterAll(async () => {
    await registry?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('needs a role for every write: 401 without a token, 403 for a viewer', async () => {
    const noToken = await call('POST', '/v1/models', { name: 'fraud' }, null);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toBe('Bearer');
    expect(noToken.body).toEqual({
      error: { code: 'unauthenticated', message: expect.any(String) },
    });
    const viewer = await call('POST', '/v1/models', { name: 'fraud' }, KEYS.viewer);
    expect(viewer.status).toBe(403);
    expect(viewer.body?.error.code).toBe('forbidden');
    const mlflowNoToken = await call(
      'POST',
      '/api/2.0/mlflow/registered-models/create',
      { name: 'fraud' },
      null,
    );
    expect(mlflowNoToken.status).toBe(401);
    expect(mlflowNoToken.body).toEqual({
      error_code: 'UNAUTHENTICATED',
      message: expect.any(String),
    });
    // Reads are open by configuration.
    expect((await call('GET', '/v1/models', undefined, null)).status).toBe(200);
    const created = await call('POST', '/v1/models', {
      name: 'fraud',
      description: 'card fraud',
      tags: { team: 'risk' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'fraud',
      description: 'card fraud',
      tags: { team: 'risk' },
      latestVersion: 0,
      aliases: {},
    });
    // Deleting needs admin.
    expect((await call('DELETE', '/v1/models/fraud')).status).toBe(403);
    const audit = await call('GET', '/v1/audit?target=model:fraud', undefined, KEYS.admin);
    expect(audit.status).toBe(200);
    expect(audit.body?.entries[0]).toMatchObject({
      actor: 'trainer-bot',
      action: 'model.create',
      target: 'model:fraud',
    });
  });

  it('stores an artifact only when its sha256 matches, and serves it with ETag and Content-Length', async () => {
    const bytes = randomBytes(100_000);
    const wrong = await upload(bytes, sha256(Buffer.from('something else')));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('digest_mismatch');
    const stored = () =>
      existsSync(path.join(dir, 'artifacts', 'sha256'))
        ? readdirSync(path.join(dir, 'artifacts', 'sha256'), { recursive: true }).filter(
            (f) => String(f).length > 60,
          )
        : [];
    expect(stored()).toEqual([]);
    expect(readdirSync(path.join(dir, 'artifacts', 'tmp'))).toEqual([]);
    expect((await fetch(`${registry.url}/v1/artifacts/${sha256(bytes)}`)).status).toBe(404);

    const tooBig = await upload(randomBytes(1024 * 1024 + 1));
    expect(tooBig.status).toBe(413);
    const noDigest = await fetch(`${registry.url}/v1/artifacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.publisher}` },
      body: new Uint8Array(bytes),
    });
    expect(noDigest.status).toBe(400);

    const ok = await upload(bytes);
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({
      uri: `/v1/artifacts/${sha256(bytes)}`,
      sha256: sha256(bytes),
      size: 100_000,
    });
    expect((await upload(bytes)).status).toBe(200);
    const res = await fetch(`${registry.url}${ok.body.uri}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(res.headers.get('content-length')).toBe('100000');
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(bytes));
    const cached = await fetch(`${registry.url}${ok.body.uri}`, {
      headers: { 'if-none-match': `"${sha256(bytes)}"` },
    });
    expect(cached.status).toBe(304);
  });

  it('numbers 50 concurrent version creations 1..50 with no gap and no duplicate', async () => {
    await call('POST', '/v1/models', { name: 'concurrent' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call('POST', '/v1/models/concurrent/versions', { description: `v${i}`, params: { i } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
    expect(results.map((r) => r.body!.version).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const model = await call('GET', '/v1/models/concurrent');
    expect(model.body?.latestVersion).toBe(50);
    // The same Idempotency-Key twice makes one version.
    const first = await call(
      'POST',
      '/v1/models/concurrent/versions',
      { description: 'retry' },
      KEYS.publisher,
      { 'idempotency-key': 'job-42' },
    );
    const again = await call(
      'POST',
      '/v1/models/concurrent/versions',
      { description: 'retry' },
      KEYS.publisher,
      { 'idempotency-key': 'job-42' },
    );
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body?.version).toBe(first.body?.version);
    expect(first.body?.version).toBe(51);
  });

  it('moves an alias 20 times concurrently: the final alias, the last history entry and the last lifecycle record agree', async () => {
    const versions = await call('GET', '/v1/models/concurrent/versions?maxResults=1000');
    expect(versions.body?.versions).toHaveLength(51);
    const moves = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('PUT', '/v1/models/concurrent/aliases/production', {
          version: i + 1,
          reason: `move ${i}`,
        }),
      ),
    );
    expect(moves.map((m) => m.status)).toEqual(Array(20).fill(200));
    const final = (await call('GET', '/v1/models/concurrent/aliases')).body!.aliases
      .production as number;
    const history = (await call('GET', '/v1/models/concurrent/aliases/production/history')).body!
      .history as { from: number | null; to: number; actor: string }[];
    expect(history).toHaveLength(20);
    expect(history[0].to).toBe(final);
    expect(history[history.length - 1].from).toBeNull();
    // Each entry starts where the one before it ended: no lost update.
    for (let i = 0; i < history.length - 1; i++) expect(history[i].from).toBe(history[i + 1].to);
    expect(history[0].actor).toBe('trainer-bot');
    const byAlias = await call('GET', '/v1/models/concurrent/aliases/production');
    expect(byAlias.body).toMatchObject({
      model: 'concurrent',
      version: final,
      aliases: ['production'],
    });

    const lifecycle = await consumeUntil(t.kafka, t.topic('modelsLifecycle'), (r) => {
      const mine = r
        .map((x) => JSON.parse(x.value!) as ModelLifecycleEvent)
        .filter((p) => p.model === 'concurrent' && p.change.kind === 'alias_set');
      return mine.length >= 20;
    });
    const records = lifecycle
      .map((x) => JSON.parse(x.value!) as ModelLifecycleEvent)
      .filter((p) => p.model === 'concurrent');
    const last = records[records.length - 1];
    expect(last.aliases.production).toBe(final);
    expect(records.filter((p) => p.change.kind === 'alias_set')).toHaveLength(20);
    expect(new Set(records.map((p) => p.sequence)).size).toBe(records.length);
    expect(last.latestVersion).toBe(51);
  });

  it('registers models.trained.v1 once per event id, links compressed variants, and applies decisions', async () => {
    const bytes = randomBytes(5000);
    const art = (await upload(bytes)).body;
    const trained = {
      model: 'from-events',
      jobId: 'train-1',
      dataset: 'cards',
      datasetSpecVersion: 1,
      featuresetVersion: 'fs-1',
      artifact: { uri: art.uri, sha256: art.sha256, size: art.size, format: 'onnx' },
      params: { lr: 0.01 },
      metrics: { pr_auc: 0.61 },
      trainedOn: [{ topic: 'events.clean.v1', partition: 0, from: '0', to: '5000' }],
    };
    const msg = cloudEventMessage(
      EVENTS.modelTrained.type,
      'from-events',
      trained,
      'trained-evt-1',
    );
    await t.producer.send({
      topic: t.topic('modelsTrained'),
      acks: -1,
      messages: [
        msg,
        msg,
        cloudEventMessage(
          EVENTS.modelTrained.type,
          'from-events',
          {
            ...trained,
            artifact: {
              ...trained.artifact,
              sha256: 'a'.repeat(64),
              uri: `/v1/artifacts/${'a'.repeat(64)}`,
            },
          },
          'trained-missing',
        ),
      ],
    });
    const dlq = await consumeUntil(
      t.kafka,
      `${t.topic('modelsTrained')}.dlq`,
      (r) => r.length >= 1,
    );
    expect(JSON.parse(dlq[0].value!)).toMatchObject({
      eventId: 'trained-missing',
      reasons: [{ code: 'artifact_missing' }],
    });
    const v1 = await call('GET', '/v1/models/from-events/versions/1');
    expect(v1.body).toMatchObject({
      version: 1,
      status: 'READY',
      artifact: { sha256: art.sha256, size: 5000 },
      metrics: { pr_auc: 0.61 },
      lineage: {
        dataset: 'cards',
        featuresetVersion: 'fs-1',
        sourceJob: 'train-1',
        trainedOn: trained.trainedOn,
      },
    });
    expect((await call('GET', '/v1/models/from-events/versions')).body?.versions).toHaveLength(1);

    const compressed = {
      ...trained,
      jobId: 'compress-1',
      parentVersion: 1,
      variant: 'int8',
      metrics: { pr_auc: 0.6 },
      gate: { passed: true, reasons: [] },
    };
    await t.producer.send({
      topic: t.topic('modelsCompressed'),
      acks: -1,
      messages: [
        cloudEventMessage(EVENTS.modelCompressed.type, 'from-events', compressed, 'compressed-1'),
      ],
    });
    let lineage: Record<string, any> | null = null;
    for (let i = 0; i < 100 && !lineage; i++) {
      const r = await call('GET', '/v1/models/from-events/versions/2/lineage');
      if (r.status === 200) lineage = r.body;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(lineage).toMatchObject({
      version: 2,
      ancestors: [{ version: 1, variant: null }],
      trainedOn: trained.trainedOn,
    });
    expect((await call('GET', '/v1/models/from-events/versions/1/lineage')).body?.variants).toEqual(
      [{ version: 2, variant: 'int8', metrics: { pr_auc: 0.6 } }],
    );

    // production → 1, canary → 2; promote; then roll back to where production was.
    await call('PUT', '/v1/models/from-events/aliases/production', { version: 1, reason: 'first' });
    await call('PUT', '/v1/models/from-events/aliases/canary', { version: 2, reason: 'try int8' });
    const decisions = [
      cloudEventMessage(
        EVENTS.modelDecision.type,
        'from-events',
        {
          model: 'from-events',
          action: 'promote',
          alias: 'canary',
          reason: 'canary as good',
          decidedBy: 'drift-monitor',
        },
        'decision-1',
      ),
      cloudEventMessage(
        EVENTS.modelDecision.type,
        'from-events',
        {
          model: 'from-events',
          action: 'rollback',
          reason: 'accuracy fell 5 points',
          decidedBy: 'drift-monitor',
        },
        'decision-2',
      ),
    ];
    await t.producer.send({ topic: t.topic('modelsDecisions'), acks: -1, messages: decisions });
    // Redelivered: a rollback applied twice would flip production back again.
    await t.producer.send({
      topic: t.topic('modelsDecisions'),
      acks: -1,
      messages: [decisions[1]],
    });
    const history = async () =>
      (await call('GET', '/v1/models/from-events/aliases/production/history')).body!.history as {
        from: number | null;
        to: number;
        actor: string;
        reason: string;
      }[];
    for (let i = 0; i < 100 && (await history()).length < 3; i++)
      await new Promise((res) => setTimeout(res, 100));
    const h = await history();
    expect(h.map((e) => [e.from, e.to, e.actor])).toEqual([
      [2, 1, 'drift-monitor'],
      [1, 2, 'drift-monitor'],
      [null, 1, 'trainer-bot'],
    ]);
    // Wait for the redelivered decision to be handled before judging that it changed nothing.
    await consumeUntil(
      t.kafka,
      t.topic('modelsLifecycle'),
      (r) =>
        r.filter(
          (x) =>
            (JSON.parse(x.value!) as ModelLifecycleEvent).model === 'from-events' &&
            (JSON.parse(x.value!) as ModelLifecycleEvent).change.kind === 'alias_set',
        ).length >= 4,
    );
    const groups = await t.admin.fetchOffsets({
      groupId: `${t.prefix}model-registry.decisions`,
      topics: [t.topic('modelsDecisions')],
    });
    for (let i = 0; i < 100 && Number(groups[0].partitions[0].offset) < 3; i++) {
      await new Promise((res) => setTimeout(res, 100));
      groups.splice(
        0,
        1,
        ...(await t.admin.fetchOffsets({
          groupId: `${t.prefix}model-registry.decisions`,
          topics: [t.topic('modelsDecisions')],
        })),
      );
    }
    expect(groups[0].partitions[0].offset).toBe('3');
    expect(await history()).toHaveLength(3);
  });

  it('rolls a canary back by removing its alias, once even when the decision is redelivered', async () => {
    const model = 'canary-judged';
    await call('POST', '/v1/models', { name: model });
    for (let i = 0; i < 2; i++) await call('POST', `/v1/models/${model}/versions`, {});
    await call('PUT', `/v1/models/${model}/aliases/production`, { version: 1, reason: 'launch' });
    await call('PUT', `/v1/models/${model}/aliases/canary`, { version: 2, reason: 'try v2' });
    const decision = cloudEventMessage(
      EVENTS.modelDecision.type,
      model,
      {
        model,
        action: 'rollback',
        alias: 'canary',
        reason: 'canary error rate 3x production',
        decidedBy: 'drift-monitor',
      },
      'canary-rollback-1',
    );
    const topic = t.topic('modelsDecisions');
    // Sent, then redelivered: the second must neither fail nor change anything.
    await t.producer.send({ topic, acks: -1, messages: [decision] });
    await t.producer.send({ topic, acks: -1, messages: [decision] });
    const ends = await t.admin.fetchTopicOffsets(topic);
    const handled = async () => {
      const [committed] = await t.admin.fetchOffsets({
        groupId: `${t.prefix}model-registry.decisions`,
        topics: [topic],
      });
      return ends.every(
        (e) =>
          Number(committed.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >=
          Number(e.high),
      );
    };
    for (let i = 0; i < 200 && !(await handled()); i++)
      await new Promise((res) => setTimeout(res, 100));
    expect(await handled()).toBe(true);

    expect((await call('GET', `/v1/models/${model}/aliases`)).body?.aliases).toEqual({
      production: 1,
    });
    const history = (await call('GET', `/v1/models/${model}/aliases/canary/history`)).body!
      .history as { from: number | null; to: number | null; actor: string }[];
    expect(history.map((e) => [e.from, e.to, e.actor])).toEqual([
      [2, null, 'drift-monitor'],
      [null, 2, 'trainer-bot'],
    ]);
    const dlq = await readAll(t.kafka, t.admin, `${topic}.dlq`);
    expect(dlq.filter((r) => r.value?.includes('canary-rollback-1'))).toEqual([]);
    const mine = (x: { value: string | null }) => {
      const p = JSON.parse(x.value!) as ModelLifecycleEvent;
      return p.model === model && p.change.kind === 'alias_deleted';
    };
    const lifecycle = await consumeUntil(t.kafka, t.topic('modelsLifecycle'), (r) => r.some(mine));
    const deleted = lifecycle
      .map((x) => JSON.parse(x.value!) as ModelLifecycleEvent)
      .filter((p) => p.model === model && p.change.kind === 'alias_deleted');
    expect(deleted.map((p) => [p.change.alias, p.change.from, p.aliases])).toEqual([
      ['canary', 2, { production: 1 }],
    ]);
  });

  it('versions dataset specs and publishes each on pipeline.specs.v1', async () => {
    const { name, fields, unknownFields } = cardSpec('txns');
    const first = await call('POST', '/v1/specs', { name, fields, unknownFields });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'txns', version: 1, createdBy: 'trainer-bot' });
    const second = await call('POST', '/v1/specs', {
      name,
      fields: fields.slice(0, 3),
      version: 99,
    });
    expect(second.body?.version).toBe(2);
    const bad = await call('POST', '/v1/specs', {
      name: 'txns',
      fields: [{ name: 'a', type: 'numeric' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body?.error.message).toMatch(/entity_id/);
    const specs = await consumeUntil(
      t.kafka,
      t.topic('pipelineSpecs'),
      (r) => r.filter((x) => x.key === 'txns').length >= 2,
    );
    const published = specs
      .filter((x) => x.key === 'txns')
      .map((x) => JSON.parse(x.value!) as DatasetSpec);
    expect(published.map((s) => s.version)).toEqual([1, 2]);
    expect(published[1].fields).toHaveLength(3);
    expect((await call('GET', '/v1/specs/txns')).body?.version).toBe(2);
    expect((await call('GET', '/v1/specs/txns/versions/1')).body?.spec.fields).toHaveLength(
      fields.length,
    );
  });

  it('publishes a write made while the relay was down after a SIGKILL and restart — once', async () => {
    await registry.stop();
    registry = await startService('model-registry', { ...env, OUTBOX_RELAY: 'false' });
    const change = await call('PUT', '/v1/models/concurrent/aliases/staging', {
      version: 7,
      reason: 'before the crash',
    });
    expect(change.status).toBe(200);
    await registry.kill();
    const countStaging = async () =>
      (await readAll(t.kafka, t.admin, t.topic('modelsLifecycle')))
        .map((x) => JSON.parse(x.value!) as ModelLifecycleEvent)
        .filter((p) => p.model === 'concurrent' && p.change.alias === 'staging');
    expect(await countStaging()).toHaveLength(0);
    registry = await startService('model-registry', env);
    await consumeUntil(t.kafka, t.topic('modelsLifecycle'), (r) =>
      r.some((x) => (JSON.parse(x.value!) as ModelLifecycleEvent).change.alias === 'staging'),
    );
    // A second restart must not publish it again.
    await registry.kill();
    registry = await startService('model-registry', env);
    await call('PUT', '/v1/models/concurrent/aliases/staging', { version: 8, reason: 'after' });
    await consumeUntil(t.kafka, t.topic('modelsLifecycle'), (r) =>
      r.some(
        (x) =>
          (JSON.parse(x.value!) as ModelLifecycleEvent).change.to === 8 &&
          (JSON.parse(x.value!) as ModelLifecycleEvent).change.alias === 'staging',
      ),
    );
    const staging = await countStaging();
    expect(staging.map((p) => p.change.to)).toEqual([7, 8]);
    expect(staging[0].aliases).toMatchObject({ staging: 7 });
  });
});
