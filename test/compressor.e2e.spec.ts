import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  EVENTS,
  type ModelCompressedEvent,
  type ModelTrainedEvent,
  type TrainingDatasetEvent,
  resolveServingSpec,
} from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import {
  encodeMatrix,
  featuresetArtifact,
  fitFeatureset,
  recordLabel,
  splitOf,
  SPLITS,
  transform,
} from '@mlops/features';
import { evaluate } from '@mlops/ml';
import { RegistryClient } from '@mlops/registry-client';
import {
  cloudEventMessage,
  consumeUntil,
  readAll,
  startService,
  testKafka,
  type Collected,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

/**
 * The compressor on the real broker with the registry and the trainer: a trained model is
 * compressed as its spec asks, every variant measured in onnxruntime-node against its parent
 * on the test split; accepted variants become child versions, a reckless one (95 % of the
 * weights pruned, no fine-tuning) is rejected with the measured drop; a REST trigger of the same
 * parent makes no second set of versions.
 */

const N = 20_000;
const SPEC = DatasetSpec.parse({
  ...cardsSpec(),
  model: { name: 'cards-c', hidden: [64, 32] },
  training: { epochs: 6, classWeights: 'balanced' },
  compression: {
    methods: ['int8_dynamic', 'int4', 'distill', 'prune_unstructured'],
    pruning: { sparsity: 0.95, fineTuneEpochs: 0 },
    distillation: { epochs: 4 },
    latencyRuns: 20,
  },
});

const parse = <T>(r: Collected) => JSON.parse(r.value!) as T;

describe('compressor: gated variants of every trained version', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  let trainer: RunningService;
  let compressor: RunningService;
  let client: RegistryClient;
  const env = () => ({ KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix });

  beforeAll(async () => {
    t = await testKafka('compressor');
    dir = mkdtempSync(path.join(tmpdir(), 'compressor-e2e-'));
    await t.createTopics(['pipelineSpecs', 'trainingDatasets']);
    registry = await startService('model-registry', {
      ...env(),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
    });
    client = new RegistryClient({ url: registry.url });
    const res = await fetch(`${registry.url}/v1/specs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SPEC),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    trainer = await startService('trainer', { ...env(), REGISTRY_URL: registry.url });
    compressor = await startService('compressor', { ...env(), REGISTRY_URL: registry.url });
  });
  afterAll(async () => {
    await compressor?.stop();
    await trainer?.stop();
    await registry?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the variants within budget, rejects the reckless one with its drop, and is idempotent', async () => {
    // A training matrix as the feature service makes one.
    const records = generateCards({ n: N, seed: 21 }).records as unknown as Record<
      string,
      unknown
    >[];
    const fs = fitFeatureset(SPEC, records);
    const columns = fs.names.length;
    const values = new Float32Array(N * columns);
    const labels = new Float64Array(N);
    const split = new Uint8Array(N);
    const rows = { train: 0, validation: 0, test: 0 };
    records.forEach((r, i) => {
      values.set(transform(fs, r), i * columns);
      labels[i] = recordLabel(fs, r) ?? NaN;
      const s = splitOf(String(r.card_id), fs.spec.split);
      split[i] = SPLITS.indexOf(s);
      rows[s] += 1;
    });
    const matrix = await client.upload(
      encodeMatrix({
        header: {
          rows: N,
          columns,
          names: fs.names,
          classes: fs.classes,
          featuresetVersion: fs.version,
          dataset: 'cards',
        },
        values,
        labels,
        split,
      }),
      'other',
    );
    const td: TrainingDatasetEvent = {
      requestId: 'c-1',
      dataset: 'cards',
      specVersion: SPEC.version,
      featuresetVersion: fs.version,
      featureset: await client.upload(featuresetArtifact(fs), 'json'),
      matrix,
      trainedOn: [{ topic: 'events.clean.v1', partition: 0, from: '0', to: String(N) }],
      columns,
      rows,
      classCounts: {},
      labelField: 'is_fraud',
    };
    await t.producer.send({
      topic: t.topic('trainingDatasets'),
      acks: -1,
      messages: [cloudEventMessage(EVENTS.trainingDataset.type, 'cards', td, 'td:c-1')],
    });

    // Trained, then compressed: one event per method.
    const trained = await consumeUntil(
      t.kafka,
      t.topic('modelsTrained'),
      (rs) => rs.length >= 1,
      300_000,
    );
    const parentEvent = parse<ModelTrainedEvent>(trained[0]);
    const compressed = (
      await consumeUntil(t.kafka, t.topic('modelsCompressed'), (rs) => rs.length >= 4, 600_000)
    ).map((r) => ({ id: r.headers.ce_id, e: parse<ModelCompressedEvent>(r) }));
    const byVariant = new Map(compressed.map((c) => [c.e.variant, c.e]));
    expect([...byVariant.keys()].sort()).toEqual([
      'distill',
      'int4',
      'int8_dynamic',
      'prune_unstructured',
    ]);
    for (const c of compressed) {
      expect(c.id).toBe(`compressed:cards-c:1:${c.e.variant}`);
      expect(c.e.parentVersion).toBe(1);
      expect(c.e.featuresetVersion).toBe(fs.version);
      expect(c.e.metrics.parent_pr_auc).toBeCloseTo(parentEvent.metrics.test_pr_auc, 3);
    }

    // INT8: smaller, the same decisions, within budget.
    const int8 = byVariant.get('int8_dynamic')!;
    expect(int8.gate).toEqual({ passed: true, reasons: [] });
    expect(int8.metrics.size_ratio).toBeGreaterThan(2.5);
    expect(int8.metrics.top1_agreement).toBeGreaterThan(0.99);
    expect(byVariant.get('int4')!.metrics.size_ratio).toBeGreaterThan(int8.metrics.size_ratio);
    // 95 % of the weights gone without fine-tuning: rejected, the drop measured and said.
    const reckless = byVariant.get('prune_unstructured')!;
    expect(reckless.gate.passed).toBe(false);
    expect(reckless.metrics.metric_drop_pts).toBeGreaterThan(1);
    expect(reckless.gate.reasons[0]).toMatch(/pr_auc dropped [\d.]+ points/);
    // One recommendation, among the accepted.
    const recommended = compressed.filter((c) => c.e.recommended);
    expect(recommended).toHaveLength(1);
    expect(recommended[0].e.gate.passed).toBe(true);

    // The registry: accepted variants are child versions; the rejected one is not.
    const passed = compressed.filter((c) => c.e.gate.passed);
    const versions = async () => {
      const res = await fetch(`${registry.url}/v1/models/cards-c/versions?maxResults=100`);
      return (
        (await res.json()) as {
          versions: {
            version: number;
            parentVersion: number | null;
            variant: string | null;
            tags: Record<string, string>;
          }[];
        }
      ).versions;
    };
    const deadline = Date.now() + 30_000;
    while ((await versions()).length < 1 + passed.length) {
      if (Date.now() > deadline) throw new Error('variants not registered');
      await new Promise((r) => setTimeout(r, 250));
    }
    const children = (await versions()).filter((v) => v.parentVersion === 1);
    expect(children.map((v) => v.variant).sort()).toEqual(passed.map((c) => c.e.variant).sort());
    expect(
      children.find((v) => v.variant === recommended[0].e.variant)!.tags['mlops.recommended'],
    ).toBe('true');

    // Recomputed independently: the INT8 model from the registry scores the test split as said.
    const matrixRows = [...Array(N).keys()].filter(
      (r) => split[r] === 2 && !Number.isNaN(labels[r]),
    );
    const x = new Float32Array(matrixRows.length * columns);
    matrixRows.forEach((r, i) =>
      x.set(values.subarray(r * columns, (r + 1) * columns), i * columns),
    );
    // Scored in the batches the server makes (serving.batching.maxBatchSize): INT8 dynamic
    // computes its activation scale per batch.
    const batch = resolveServingSpec(SPEC).batching.maxBatchSize;
    const session = await ort.InferenceSession.create(await client.download(int8.artifact));
    const scores: number[] = [];
    for (let start = 0; start < matrixRows.length; start += batch) {
      const end = Math.min(matrixRows.length, start + batch);
      const out = await session.run({
        features: new ort.Tensor('float32', x.subarray(start * columns, end * columns), [
          end - start,
          columns,
        ]),
      });
      scores.push(...(out.probability.data as Float32Array));
    }
    const report = evaluate(
      'binary',
      matrixRows.map((r) => labels[r]),
      scores,
    );
    await session.release();
    expect(report.averagePrecision!).toBeCloseTo(int8.metrics.pr_auc, 6);

    // A REST trigger of the same parent: the same job id and variant ids, no new versions.
    const before = (await versions()).length;
    const trigger = await fetch(`${compressor.url}/v1/compressions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cards-c', version: 1 }),
    });
    expect(trigger.status).toBe(202);
    const job = (await trigger.json()) as { jobId: string };
    const jobDeadline = Date.now() + 600_000;
    let state = '';
    while (state !== 'succeeded') {
      const res = await fetch(`${compressor.url}/v1/compressions/${job.jobId}`);
      state = ((await res.json()) as { state: string }).state;
      if (state === 'failed' || Date.now() > jobDeadline)
        throw new Error(`REST-triggered job ${state}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await versions()).length).toBe(before);
    const all = await readAll(t.kafka, t.admin, t.topic('modelsCompressed'));
    expect(new Set(all.map((r) => r.headers.ce_id)).size).toBe(4);

    // Bad triggers get reasons.
    const bad = await fetch(`${compressor.url}/v1/compressions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cards-c', version: 99 }),
    });
    expect(bad.status).toBe(404);
    const child = await fetch(`${compressor.url}/v1/compressions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cards-c', version: children[0].version }),
    });
    expect(child.status).toBe(422);
    expect(
      (
        await fetch(`${compressor.url}/v1/compressions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"model":1}',
        })
      ).status,
    ).toBe(400);
  }, 900_000);
});
