import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  EVENTS,
  type CleanEvent,
  type ModelTrainedEvent,
  type TrainingDatasetEvent,
  type TrainingJobEvent,
  type TrainingRequestEvent,
} from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import { decodeMatrix } from '@mlops/features';
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
 * The trainer on the real broker with the real registry and feature service: a training request
 * becomes a matrix (feature), a job (trainer) that trains an MLP with the spec's optimisations,
 * checks its ONNX export and registers it; the registered artifact, run again in onnxruntime,
 * scores the test split as the event says. A matrix whose sha256 does not match fails its job
 * with a reason; a running job can be cancelled; the service stays up throughout.
 */

const N = 20_000;
const SPEC = DatasetSpec.parse({
  ...cardsSpec(),
  model: { name: 'cards-fraud', hidden: [32, 16], batchNorm: true, dropout: 0.1 },
  training: {
    epochs: 4,
    batchSize: 128,
    accumulationSteps: 2,
    optimizer: { type: 'adamw', learningRate: 0.003 },
    schedule: { type: 'cosineWarmRestarts', lr: 0.003, t0: 1, tMult: 2 },
    clipNorm: 5,
    classWeights: 'balanced',
    sampling: { target: { '0': 0.7, '1': 0.3 }, adjustEvery: 20 },
  },
});

/** The same data under a spec that trains for ever: a job to cancel while it runs. */
const SLOW = DatasetSpec.parse({
  ...cardsSpec(),
  name: 'cards-slow',
  training: { epochs: 10_000, earlyStopping: { enabled: false } },
});

const parse = <T>(r: Collected) => JSON.parse(r.value!) as T;

function cleanEvents(seed: number): { id: string; event: CleanEvent }[] {
  const gen = generateCards({ n: N, seed, idPrefix: 't' });
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

describe('trainer: a training dataset becomes a checked, registered ONNX model', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  let feature: RunningService;
  let trainer: RunningService;
  let client: RegistryClient;
  const env = () => ({ KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix });

  const jobs = async () =>
    (await readAll(t.kafka, t.admin, t.topic('trainingJobs'))).map((r) =>
      parse<TrainingJobEvent>(r),
    );
  const untilJob = (pred: (j: TrainingJobEvent) => boolean, timeoutMs: number) =>
    consumeUntil(
      t.kafka,
      t.topic('trainingJobs'),
      (rs) => rs.some((r) => pred(parse<TrainingJobEvent>(r))),
      timeoutMs,
    );

  beforeAll(async () => {
    t = await testKafka('trainer');
    dir = mkdtempSync(path.join(tmpdir(), 'trainer-e2e-'));
    await t.createTopics(['pipelineSpecs', 'eventsClean', 'trainingRequests', 'trainingDatasets']);
    registry = await startService('model-registry', {
      ...env(),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
    });
    client = new RegistryClient({ url: registry.url });
    // Specs the way users register them: through the registry, which versions them and
    // publishes them on pipeline.specs.v1.
    for (const spec of [SPEC, SLOW]) {
      const res = await fetch(`${registry.url}/v1/specs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }
    feature = await startService('feature', { ...env(), REGISTRY_URL: registry.url });
    trainer = await startService('trainer', { ...env(), REGISTRY_URL: registry.url });
  });
  afterAll(async () => {
    await trainer?.stop();
    await feature?.stop();
    await registry?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains, checks parity, registers with lineage and a drift reference; fails a bad matrix; cancels', async () => {
    expect(trainer.output()).toMatch(/tfjs backend selected/);
    expect(trainer.output()).toMatch(/"backend":"wasm"/);

    // 1. Clean events and a training request over all of them.
    const rows = cleanEvents(3);
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
    const ends = await t.admin.fetchTopicOffsets(t.topic('eventsClean'));
    const req: TrainingRequestEvent = {
      requestId: 'train-1',
      dataset: 'cards',
      range: {
        kind: 'offsets',
        partitions: ends.map((p) => ({ partition: p.partition, from: '0', to: p.high })),
      },
      reason: 'e2e',
      requestedBy: 'test',
    };
    await t.producer.send({
      topic: t.topic('trainingRequests'),
      acks: -1,
      messages: [cloudEventMessage(EVENTS.trainingRequest.type, 'cards', req, 'req:train-1')],
    });

    // 2. The job runs to the end.
    const done = await untilJob(
      (j) => j.input.requestId === 'train-1' && j.state === 'succeeded',
      300_000,
    );
    const states = done
      .map((r) => parse<TrainingJobEvent>(r))
      .filter((j) => j.input.requestId === 'train-1');
    expect(states.map((j) => j.state)).toEqual(
      expect.arrayContaining(['queued', 'running', 'succeeded']),
    );
    const job = states.find((j) => j.state === 'succeeded')!;
    const td = job.input;
    expect(td.rows.train + td.rows.validation + td.rows.test).toBe(N);

    // 3. models.trained.v1: lineage, metrics, report.
    const trained = (await readAll(t.kafka, t.admin, t.topic('modelsTrained'))).filter(
      (r) => parse<ModelTrainedEvent>(r).jobId === job.jobId,
    );
    expect(trained).toHaveLength(1);
    expect(trained[0].headers.ce_id).toBe(`trained:${job.jobId}`);
    const ev = parse<ModelTrainedEvent>(trained[0]);
    expect(ev.model).toBe('cards-fraud');
    expect(ev.featuresetVersion).toBe(td.featuresetVersion);
    expect(ev.trainedOn).toEqual(td.trainedOn);
    expect(ev.task).toBe('binary');
    expect(ev.params).toMatchObject({ backend: 'wasm', seed: 42, inputs: td.columns });
    expect(ev.metrics.parity_max_abs_diff).toBeLessThanOrEqual(1e-4);
    expect(ev.metrics.epochs).toBeGreaterThanOrEqual(1);
    expect(job.result!.artifact).toEqual(ev.artifact);

    // 4. The registry has the version with the report's tags.
    const deadline = Date.now() + 30_000;
    let version:
      | {
          version: number;
          metrics: Record<string, number>;
          tags: Record<string, string>;
          lineage: { sourceJob: string };
        }
      | undefined;
    while (!version) {
      const res = await fetch(`${registry.url}/v1/models/cards-fraud/versions/1`);
      if (res.ok) version = (await res.json()) as typeof version;
      else if (Date.now() > deadline) throw new Error(`no registered version: ${res.status}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(version.metrics).toEqual(ev.metrics);
    expect(version.tags['mlops.report.sha256']).toBe(ev.report!.sha256);
    expect(version.tags['mlops.task']).toBe('binary');
    expect(version.lineage.sourceJob).toBe(job.jobId);

    // 5. The registered ONNX model scores the test split as the event says (onnxruntime, not tfjs).
    const matrix = decodeMatrix(await client.download(td.matrix));
    const test = [...Array(matrix.header.rows).keys()].filter(
      (r) => matrix.split[r] === 2 && !Number.isNaN(matrix.labels[r]),
    );
    const cols = matrix.header.columns;
    const x = new Float32Array(test.length * cols);
    test.forEach((r, i) => x.set(matrix.values.subarray(r * cols, (r + 1) * cols), i * cols));
    const session = await ort.InferenceSession.create(await client.download(ev.artifact));
    const out = await session.run({ features: new ort.Tensor('float32', x, [test.length, cols]) });
    const scores = Array.from(out.probability.data as Float32Array);
    const report = evaluate(
      'binary',
      test.map((r) => matrix.labels[r]),
      scores,
    );
    await session.release();
    expect(report.averagePrecision!).toBeCloseTo(ev.metrics.test_pr_auc, 3);
    expect(report.rocAuc!).toBeCloseTo(ev.metrics.test_roc_auc, 3);
    expect(ev.metrics.test_roc_auc).toBeGreaterThan(0.6);

    // 6. The report: curves, evaluation and the drift reference.
    const stored = JSON.parse((await client.download(ev.report!)).toString('utf8')) as {
      curves: { epoch: number; samplingShares: number[] | null }[];
      evaluation: { test: { n: number } };
      reference: {
        features: { rows: number; features: { name: string }[] };
        predictions: { task: string; count: number };
      };
    };
    expect(stored.curves).toHaveLength(ev.metrics.epochs);
    expect(stored.curves[0].samplingShares![1]).toBeGreaterThan(0.05);
    expect(stored.evaluation.test.n).toBe(test.length);
    expect(stored.reference.features.features.map((f) => f.name)).toEqual(matrix.header.names);
    expect(stored.reference.features.rows).toBe(td.rows.train);
    expect(stored.reference.predictions).toMatchObject({
      task: 'binary',
      count: td.rows.validation,
    });

    // 7. REST status.
    const status = (await (
      await fetch(`${trainer.url}/v1/jobs/${job.jobId}`)
    ).json()) as TrainingJobEvent;
    expect(status.state).toBe('succeeded');
    expect((await fetch(`${trainer.url}/v1/jobs/nope`)).status).toBe(404);

    // 8. A matrix whose hash does not match: the job fails with the reason, nothing is registered.
    const bad: TrainingDatasetEvent = {
      ...td,
      requestId: 'bad-sha',
      matrix: {
        ...td.matrix,
        sha256: td.matrix.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      },
    };
    await t.producer.send({
      topic: t.topic('trainingDatasets'),
      acks: -1,
      messages: [cloudEventMessage(EVENTS.trainingDataset.type, 'cards', bad, 'td:bad-sha')],
    });
    await untilJob((j) => j.input.requestId === 'bad-sha' && j.state === 'failed', 60_000);
    const failed = (await jobs()).filter((j) => j.input.requestId === 'bad-sha').at(-1)!;
    expect(failed.error?.code).toBe('artifact_mismatch');
    expect(failed.error?.message).toMatch(/sha256/);

    // 9. Cancel a running job: its worker stops, no model comes of it.
    const slow: TrainingDatasetEvent = { ...td, dataset: 'cards-slow', requestId: 'to-cancel' };
    await t.producer.send({
      topic: t.topic('trainingDatasets'),
      acks: -1,
      messages: [
        cloudEventMessage(EVENTS.trainingDataset.type, 'cards-slow', slow, 'td:to-cancel'),
      ],
    });
    await untilJob((j) => j.input.requestId === 'to-cancel' && j.state === 'running', 60_000);
    const running = (await jobs()).filter((j) => j.input.requestId === 'to-cancel').at(-1)!;
    const cancel = await fetch(`${trainer.url}/v1/jobs/${running.jobId}/cancel`, {
      method: 'POST',
    });
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as TrainingJobEvent).state).toBe('cancelled');
    const again = await fetch(`${trainer.url}/v1/jobs/${running.jobId}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    await untilJob((j) => j.jobId === running.jobId && j.state === 'cancelled', 30_000);

    // 10. A trial as a Kubernetes Job would run it: the same dataset, other hyper-parameters.
    const trial = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', 'dist', 'services', 'trainer', 'src', 'trial.js')],
      {
        env: {
          ...process.env,
          ...env(),
          REGISTRY_URL: registry.url,
          TRIAL_ID: 'lr-baseline',
          TRIAL_DATASET: JSON.stringify(td),
          TRIAL_OVERRIDES: JSON.stringify({
            model: { type: 'logistic_regression' },
            training: { epochs: 2, sampling: { strategy: 'none' } },
          }),
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(trial.status, trial.stderr).toBe(0);
    const trialJob = (await jobs()).find((j) => j.jobId.startsWith('trial-'))!;
    expect(trialJob.state).toBe('succeeded');

    // The service is up; the queued job and the trial made one model version each.
    expect((await fetch(`${trainer.url}/health/ready`)).status).toBe(200);
    const models = (await readAll(t.kafka, t.admin, t.topic('modelsTrained'))).map((r) =>
      parse<ModelTrainedEvent>(r),
    );
    expect(models.map((m) => m.jobId)).toEqual([job.jobId, trialJob.jobId]);
    const lr = models[1];
    expect(lr.params).toMatchObject({ model: { type: 'logistic_regression' }, epochsRun: 2 });
    expect(lr.tags['mlops.trial']).toBe('lr-baseline');
    expect(lr.metrics.parity_max_abs_diff).toBeLessThanOrEqual(1e-4);
    const v2 = await fetch(`${registry.url}/v1/models/cards-fraud/versions/2`);
    expect(v2.status).toBe(200);
  }, 600_000);
});
