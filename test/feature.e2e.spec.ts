import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  EVENTS,
  type CleanEvent,
  type FeaturesetEvent,
  type FeatureVectorEvent,
  type TrainingDatasetEvent,
  type TrainingRequestEvent,
} from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import { decodeMatrix, parseFeaturesetArtifact, transform } from '@mlops/features';
import { RegistryClient } from '@mlops/registry-client';
import {
  cloudEventMessage,
  consumeUntil,
  publishSpec,
  readAll,
  startService,
  testKafka,
  type Collected,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

/**
 * The feature service on the real broker with the real registry: a training request fits a
 * featureset on an exact offset range of events.clean.v1 and materialises the matrix; the stream
 * then computes every vector with that featureset — equal, bit for bit, to the library's vector
 * of the same record; a refit of the same range gives the same featureset; a request is
 * answered once, also when the service is killed while fitting.
 */

const SPEC = DatasetSpec.parse(cardsSpec());
const N = 10_000;

function cleanEvents(seed: number, idPrefix: string): { id: string; event: CleanEvent }[] {
  const gen = generateCards({ n: N, seed, idPrefix });
  return gen.records.map((r, i) => ({
    id: gen.ids[i],
    event: {
      dataset: 'cards',
      specVersion: SPEC.version,
      entityId: r.card_id,
      record: r as unknown as Record<string, unknown>,
      ingestedAt: new Date().toISOString(),
      via: 'kafka',
      source: 'e2e',
      quality: { flags: [] },
    },
  }));
}

async function produceClean(t: TestKafka, rows: { id: string; event: CleanEvent }[]) {
  for (let i = 0; i < rows.length; i += 2000) {
    await t.producer.send({
      topic: t.topic('eventsClean'),
      acks: -1,
      messages: rows
        .slice(i, i + 2000)
        .map((r) =>
          cloudEventMessage(EVENTS.cleanEvent.type, `cards:${r.event.entityId}`, r.event, r.id),
        ),
    });
  }
}

async function request(t: TestKafka, req: TrainingRequestEvent) {
  await t.producer.send({
    topic: t.topic('trainingRequests'),
    acks: -1,
    messages: [
      cloudEventMessage(EVENTS.trainingRequest.type, req.dataset, req, `req:${req.requestId}`),
    ],
  });
}

const parse = <T>(r: Collected) => JSON.parse(r.value!) as T;

describe('feature service: fit on an offset range, stream with the fitted featureset', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  let feature: RunningService;
  let client: RegistryClient;
  const env = () => ({ KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix });

  beforeAll(async () => {
    t = await testKafka('feature');
    dir = mkdtempSync(path.join(tmpdir(), 'feature-e2e-'));
    await t.createTopics(['pipelineSpecs', 'eventsClean', 'trainingRequests']);
    await publishSpec(t, SPEC);
    registry = await startService('model-registry', {
      ...env(),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
    });
    client = new RegistryClient({ url: registry.url });
    feature = await startService('feature', { ...env(), REGISTRY_URL: registry.url });
  });
  afterAll(async () => {
    await feature?.stop();
    await registry?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fits once per request, streams bit-identical vectors, refits the same range identically, and survives a kill mid-fit', async () => {
    // 1. The first 10,000 records, before any fit: raw numeric vectors.
    const first = cleanEvents(1, 'a');
    await produceClean(t, first);
    await consumeUntil(t.kafka, t.topic('features'), (r) => r.length >= N, 120_000);
    const ends = await t.admin.fetchTopicOffsets(t.topic('eventsClean'));
    const range = ends.map((p) => ({ partition: p.partition, from: '0', to: p.high }));

    // 2. Fit on exactly that range.
    const r1: TrainingRequestEvent = {
      requestId: 'r1',
      dataset: 'cards',
      range: { kind: 'offsets', partitions: range },
      reason: 'e2e',
      requestedBy: 'test',
    };
    await request(t, r1);
    const answered = (id: string) => (rs: Collected[]) =>
      rs.some((r) => parse<TrainingDatasetEvent>(r).requestId === id);
    await consumeUntil(t.kafka, t.topic('trainingDatasets'), answered('r1'), 180_000);
    const td1 = (await readAll(t.kafka, t.admin, t.topic('trainingDatasets')))
      .map((r) => parse<TrainingDatasetEvent>(r))
      .find((d) => d.requestId === 'r1')!;
    expect(td1.rows.train + td1.rows.validation + td1.rows.test).toBe(N);
    expect(td1.rows.test).toBeGreaterThan(N * 0.05);
    expect(td1.trainedOn.map((r) => [r.partition, r.from, r.to])).toEqual(
      range.map((r) => [r.partition, r.from, r.to]),
    );
    const fs = parseFeaturesetArtifact(await client.download(td1.featureset));
    expect(fs.version).toBe(td1.featuresetVersion);
    expect(fs.records).toBe(N);
    const announced = (await readAll(t.kafka, t.admin, t.topic('featuresets'))).map((r) =>
      parse<FeaturesetEvent>(r),
    );
    expect(announced.at(-1)!.version).toBe(fs.version);
    expect(announced.at(-1)!.names).toEqual(fs.names);
    // The matrix: the library's vectors of the same records, as float32.
    const matrix = decodeMatrix(await client.download(td1.matrix));
    expect(matrix.header).toMatchObject({ rows: N, columns: fs.names.length });
    const byId = new Map(first.map((r) => [r.id, r.event]));
    const fraud = first.filter((r) => r.event.record.is_fraud === 1).length;
    expect(Object.values(td1.classCounts['1'] ?? {}).reduce((a, b) => a + b, 0)).toBe(fraud);

    // The service follows featuresets.v1: wait until it serves the new version.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${feature.url}/v1/datasets/cards/featureset`);
      if (res.ok && ((await res.json()) as FeaturesetEvent).version === fs.version) break;
      if (Date.now() > deadline) throw new Error('the service did not pick up the featureset');
      await new Promise((r) => setTimeout(r, 100));
    }

    // 3. The next 10,000 go through the fitted featureset: bit for bit the library's vector.
    const second = cleanEvents(2, 'b');
    for (const r of second) byId.set(r.id, r.event);
    await produceClean(t, second);
    const fitted = (rs: Collected[]) =>
      rs.filter((r) => parse<FeatureVectorEvent>(r).featuresetVersion === fs.version).length >= N;
    const vectors = (await consumeUntil(t.kafka, t.topic('features'), fitted, 180_000)).filter(
      (r) => parse<FeatureVectorEvent>(r).featuresetVersion === fs.version,
    );
    expect(vectors).toHaveLength(N);
    let compared = 0;
    for (const r of vectors) {
      const v = parse<FeatureVectorEvent>(r);
      const record = byId.get(r.headers.ce_id)!.record;
      expect(v.vector).toEqual(transform(fs, record));
      compared += 1;
    }
    expect(compared).toBe(N);
    void matrix;

    // 4. The online store holds each entity's latest vector.
    const last = second.at(-1)!;
    const res = await fetch(
      `${feature.url}/v1/datasets/cards/entities/${last.event.entityId}/features`,
    );
    expect(res.status).toBe(200);
    const online = (await res.json()) as {
      featuresetVersion: string;
      vector: number[];
      names: string[];
    };
    expect(online.featuresetVersion).toBe(fs.version);
    expect(online.names).toEqual(fs.names);
    const latestOfEntity = second.filter((r) => r.event.entityId === last.event.entityId).at(-1)!;
    expect(online.vector).toEqual(transform(fs, latestOfEntity.event.record));
    expect((await fetch(`${feature.url}/v1/datasets/cards/entities/nobody/features`)).status).toBe(
      404,
    );

    // 5. The same range again under another id: the same featureset and matrix. The first id
    //    again: no second answer. A third request, with the service killed right after it.
    // r2 over REST, as a user would ask.
    const posted = await fetch(`${feature.url}/v1/datasets/cards/training-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: 'r2', range: r1.range }),
    });
    expect(posted.status).toBe(202);
    expect(await posted.json()).toMatchObject({ requestId: 'r2', requestedBy: 'anonymous' });
    const bad = await fetch(`${feature.url}/v1/datasets/cards/training-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ range: { kind: 'yesterday' } }),
    });
    expect(bad.status).toBe(400);
    await request(t, r1);
    await consumeUntil(t.kafka, t.topic('trainingDatasets'), answered('r2'), 180_000);
    await request(t, { ...r1, requestId: 'r3' });
    await feature.kill();
    feature = await startService('feature', { ...env(), REGISTRY_URL: registry.url });
    await consumeUntil(t.kafka, t.topic('trainingDatasets'), answered('r3'), 180_000);
    const all = (await readAll(t.kafka, t.admin, t.topic('trainingDatasets'))).map((r) =>
      parse<TrainingDatasetEvent>(r),
    );
    expect(all.map((d) => d.requestId).sort()).toEqual(['r1', 'r2', 'r3']);
    for (const d of all) {
      expect(d.featuresetVersion).toBe(fs.version);
      expect(d.matrix.sha256).toBe(td1.matrix.sha256);
    }
  });
});
