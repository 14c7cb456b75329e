import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '@mlops/bus';
import {
  EVENTS,
  type DatasetSpec,
  type ModelTrainedEvent,
  type RejectedEvent,
  type TrainingDatasetEvent,
  type TrainingJobEvent,
} from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { HealthRegistry } from '@mlops/observability';
import {
  cardSpec,
  cloudEventMessage,
  consumeUntil,
  publishSpec,
  readAll,
  testKafka,
  type Collected,
  type TestKafka,
} from '@mlops/testing';
import { loadConfig } from '@mlops/config';
import { TrainerEnv } from '../config';
import { DatasetsConsumer } from './datasets.consumer';
import { JobQueue } from './job-queue';
import { jobIdFor } from './job-state';

/**
 * The queue on the real broker with a stand-in worker script (the real job, run-job.ts, is
 * written elsewhere): the worker's behaviour is picked by the request id's prefix. Everything
 * else is the service's: the compacted training.jobs.v1, the spec table, worker threads,
 * terminate, publishing.
 */
const FAKE_WORKER = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const input = workerData;
const kind = input.dataset.requestId.split('-')[0];
const sha = (c) => c.repeat(64);
const ref = (c, format) => ({ uri: '/v1/artifacts/' + sha(c), sha256: sha(c), size: 42, format });
const post = (m) => parentPort.postMessage(m);
const progress = (epoch) => post({ type: 'progress', progress: {
  epoch, epochs: 3, step: epoch * 10, trainLoss: 1 / (epoch + 1), validationMetric: epoch < 2 ? NaN : 0.5,
  learningRate: 0.001 } });
if (kind === 'done') {
  post({ type: 'log', level: 'info', msg: 'fake training', fields: { backend: input.backend ?? 'spec' } });
  progress(0); progress(1);
  setTimeout(() => {
    progress(2);
    post({ type: 'done', result: {
      trained: {
        model: (input.spec.model && input.spec.model.name) || input.spec.name,
        jobId: input.jobId,
        dataset: input.dataset.dataset,
        datasetSpecVersion: input.dataset.specVersion,
        featuresetVersion: input.dataset.featuresetVersion,
        artifact: ref('c', 'onnx'),
        report: ref('d', 'json'),
        params: { epochs: 3 },
        metrics: { pr_auc: 0.75 },
        trainedOn: input.dataset.trainedOn,
        tags: {},
        task: 'binary',
      },
      backend: 'fake',
      durationMs: 123,
    } });
    process.exit(0);
  }, 300);
} else if (kind === 'fail') {
  post({ type: 'failed', code: 'parity_failed', message: 'ONNX and tfjs disagree' });
  process.exit(1);
} else if (kind === 'crash') {
  throw new Error('segfault-ish');
} else if (kind === 'exit') {
  process.exit(3);
} else if (kind === 'sleep') {
  progress(0);
  setInterval(() => {}, 1000);
}
`;

const logger = pino({ level: 'silent' });
const sha = (c: string) => c.repeat(64);

function dataset(requestId: string, name = 'cards'): TrainingDatasetEvent {
  return {
    requestId,
    dataset: name,
    specVersion: 1,
    featuresetVersion: 'fs-0123456789abcdef',
    featureset: { uri: `/v1/artifacts/${sha('a')}`, sha256: sha('a'), size: 10, format: 'json' },
    matrix: { uri: `/v1/artifacts/${sha('b')}`, sha256: sha('b'), size: 20, format: 'other' },
    trainedOn: [{ topic: 'events.clean.v1', partition: 0, from: '0', to: '100' }],
    columns: 4,
    rows: { train: 80, validation: 10, test: 10 },
    classCounts: {},
    labelField: 'is_fraud',
  };
}

interface Instance {
  bus: Bus;
  queue: JobQueue;
  specs: SpecCatalog;
  health: HealthRegistry;
  registry: Registry;
}

describe('trainer job queue on the real broker', () => {
  let t: TestKafka;
  let dir: string;
  let workerFile: string;
  const instances: Instance[] = [];

  /** One trainer "process": its own bus, spec table and queue, loaded and taking jobs. */
  async function startTrainer(env: Record<string, string> = {}): Promise<Instance> {
    const config = loadConfig('trainer', TrainerEnv, {
      TRAINER_CONCURRENCY: '1',
      TRAINER_MAX_ATTEMPTS: '2',
      TRAINER_JOB_TIMEOUT_SECONDS: '30',
      TRAINER_BACKEND: 'cpu',
      ...env,
    });
    const bus = new Bus(
      {
        brokers: t.brokers.split(','),
        clientId: 'trainer',
        topicPrefix: t.prefix,
        connectionTimeoutMs: 3000,
        requestTimeoutMs: 30000,
      },
      logger,
      new Registry(),
    );
    await bus.connect();
    await bus.ensureTopics(['trainingDatasets', 'trainingJobs', 'modelsTrained', 'pipelineSpecs'], {
      dlqFor: ['trainingDatasets'],
    });
    const health = new HealthRegistry();
    const registry = new Registry();
    const specs = new SpecCatalog(bus, health, logger);
    const queue = new JobQueue(bus, config, logger, specs, health, registry, {
      workerFile,
      progressIntervalMs: 200,
    });
    await specs.onModuleInit();
    await queue.onModuleInit();
    queue.onApplicationBootstrap();
    const instance = { bus, queue, specs, health, registry };
    instances.push(instance);
    return instance;
  }

  async function stopTrainer(i: Instance): Promise<void> {
    await i.queue.onModuleDestroy();
    await i.bus.shutdown();
    instances.splice(instances.indexOf(i), 1);
  }

  const parse = (r: Collected) => JSON.parse(r.value!) as TrainingJobEvent;

  /** The job's records on training.jobs.v1, in order, once `until` holds for them. */
  async function jobRecords(
    jobId: string,
    until: (states: TrainingJobEvent[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<TrainingJobEvent[]> {
    const records = await consumeUntil(
      t.kafka,
      t.topic('trainingJobs'),
      (rs) => until(rs.filter((r) => r.key === jobId).map(parse)),
      timeoutMs,
    );
    return records.filter((r) => r.key === jobId).map(parse);
  }

  const ends = (state: string) => (rs: TrainingJobEvent[]) => rs.at(-1)?.state === state;

  async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** A counter's or gauge's value for the labels. */
  const metric = async (reg: Registry, name: string, labels: Record<string, string> = {}) => {
    const values = (await reg.getSingleMetric(name)?.get())?.values ?? [];
    const v = values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value ?? 0;
  };

  beforeAll(async () => {
    t = await testKafka('trainer-queue');
    dir = mkdtempSync(path.join(tmpdir(), 'trainer-worker-'));
    workerFile = path.join(dir, 'fake-train.worker.cjs');
    writeFileSync(workerFile, FAKE_WORKER);
    await t.createTopics(['pipelineSpecs']);
    const spec: DatasetSpec = { ...cardSpec('cards'), model: { name: 'cards-fraud' } };
    await publishSpec(t, spec);
    await publishSpec(t, { ...cardSpec('broken'), training: { epochs: -1 } });
  });

  afterAll(async () => {
    for (const i of [...instances]) await stopTrainer(i).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('runs a job: queued, running, progress, then models.trained.v1 and succeeded', async () => {
    const trainer = await startTrainer();
    expect((await trainer.health.ready()).checks.jobs.ok).toBe(true);
    const jobId = jobIdFor('done-1');
    const queued = await trainer.queue.enqueue(jobId, dataset('done-1'), 'cards-fraud');
    expect(queued).toMatchObject({ jobId, state: 'queued', attempt: 1, model: 'cards-fraud' });

    const records = await jobRecords(jobId, ends('succeeded'));
    const states = records.map((r) => r.state);
    expect(states[0]).toBe('queued');
    expect(states[1]).toBe('running');
    expect(states.at(-1)).toBe('succeeded');
    // Progress records are `running` ones with numbers only (the NaN metric left out).
    const withProgress = records.filter((r) => r.state === 'running' && r.progress);
    expect(withProgress.length).toBeGreaterThan(0);
    expect(withProgress[0].progress).not.toHaveProperty('validationMetric');
    const done = records.at(-1)!;
    expect(done).toMatchObject({
      attempt: 1,
      error: null,
      result: {
        artifact: { sha256: sha('c'), format: 'onnx' },
        report: { sha256: sha('d'), format: 'json' },
        metrics: { pr_auc: 0.75 },
        backend: 'fake',
        durationMs: 123,
      },
    });
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();

    const trained = await consumeUntil(t.kafka, t.topic('modelsTrained'), (rs) =>
      rs.some((r) => r.headers.ce_id === `trained:${jobId}`),
    );
    const event = trained.find((r) => r.headers.ce_id === `trained:${jobId}`)!;
    expect(event.key).toBe('cards-fraud');
    expect(event.headers.ce_type).toBe(EVENTS.modelTrained.type);
    expect(JSON.parse(event.value!) as ModelTrainedEvent).toMatchObject({
      model: 'cards-fraud',
      jobId,
      dataset: 'cards',
    });

    expect(trainer.queue.get(jobId)?.state).toBe('succeeded');
    expect(await metric(trainer.registry, 'trainer_jobs_total', { state: 'succeeded' })).toBe(1);
    expect(await metric(trainer.registry, 'trainer_jobs_running')).toBe(0);
    await stopTrainer(trainer);
  });

  it('fails jobs with the worker’s code, on a crash, on an exit and on the timeout', async () => {
    const trainer = await startTrainer({
      TRAINER_CONCURRENCY: '4',
      TRAINER_JOB_TIMEOUT_SECONDS: '2',
    });
    const cases = {
      'fail-1': { code: 'parity_failed', message: 'ONNX and tfjs disagree' },
      'crash-1': { code: 'worker_crashed', message: 'segfault-ish' },
      'exit-1': { code: 'worker_crashed', message: 'exited with code 3' },
      'sleep-timeout': { code: 'timeout', message: 'TRAINER_JOB_TIMEOUT_SECONDS (2 s)' },
    };
    for (const requestId of Object.keys(cases))
      await trainer.queue.enqueue(jobIdFor(requestId), dataset(requestId), 'cards-fraud');
    for (const [requestId, expected] of Object.entries(cases)) {
      const records = await jobRecords(jobIdFor(requestId), ends('failed'));
      const failed = records.at(-1)!;
      expect(failed.error?.code, requestId).toBe(expected.code);
      expect(failed.error?.message, requestId).toContain(expected.message);
      expect(failed.finishedAt).not.toBeNull();
    }
    expect(await metric(trainer.registry, 'trainer_jobs_total', { state: 'failed' })).toBe(4);
    await waitFor(() => trainer.queue.list({ state: 'running', limit: 10 }).length === 0);
    expect(await metric(trainer.registry, 'trainer_jobs_running')).toBe(0);
    await stopTrainer(trainer);
  });

  it('cancels a queued job at once and a running one by terminating its worker', async () => {
    const trainer = await startTrainer({ TRAINER_CONCURRENCY: '1' });
    const running = jobIdFor('sleep-cancel');
    const waiting = jobIdFor('done-cancel');
    await trainer.queue.enqueue(running, dataset('sleep-cancel'), 'cards-fraud');
    await trainer.queue.enqueue(waiting, dataset('done-cancel'), 'cards-fraud');
    await waitFor(() => trainer.queue.get(running)?.state === 'running');
    // One slot: the second job waits.
    expect(trainer.queue.get(waiting)?.state).toBe('queued');

    const c1 = await trainer.queue.cancel(waiting, 'alice');
    expect(c1).toMatchObject({
      outcome: 'cancelled',
      job: { state: 'cancelled', updatedBy: 'alice' },
    });
    expect(await trainer.queue.cancel(waiting, 'alice')).toMatchObject({
      outcome: 'finished',
      job: { state: 'cancelled' },
    });

    const c2 = await trainer.queue.cancel(running, 'bob');
    expect(c2).toMatchObject({
      outcome: 'cancelled',
      job: { state: 'cancelled', updatedBy: 'bob', error: { code: 'cancelled' } },
    });
    expect(await metric(trainer.registry, 'trainer_jobs_running')).toBe(0);
    expect(await trainer.queue.cancel('train-nope', 'bob')).toEqual({ outcome: 'not_found' });

    expect((await jobRecords(waiting, ends('cancelled'))).map((r) => r.state)).toEqual([
      'queued',
      'cancelled',
    ]);
    const runningStates = (await jobRecords(running, ends('cancelled'))).map((r) => r.state);
    expect(runningStates[0]).toBe('queued');
    expect(runningStates.slice(1, -1).every((s) => s === 'running')).toBe(true);
    expect(runningStates.at(-1)).toBe('cancelled');
    // The cancelled job was not started afterwards, and its slot went to nobody (the other
    // job was cancelled too).
    await new Promise((r) => setTimeout(r, 500));
    expect(trainer.queue.get(waiting)?.state).toBe('cancelled');
    await stopTrainer(trainer);
  });

  it('re-runs a job interrupted by a restart once more, then fails it `interrupted`', async () => {
    const interrupted = jobIdFor('sleep-restart');
    const behind = jobIdFor('done-restart');

    // First process: the sleeper runs, the other job waits; then a graceful stop.
    const first = await startTrainer();
    await first.queue.enqueue(interrupted, dataset('sleep-restart'), 'cards-fraud');
    await first.queue.enqueue(behind, dataset('done-restart'), 'cards-fraud');
    await waitFor(() => first.queue.get(interrupted)?.state === 'running');
    await jobRecords(interrupted, ends('running'));
    await stopTrainer(first);
    // The stop leaves the job `running` on the topic: the next start must run it again.
    let all = await readAll(t.kafka, t.admin, t.topic('trainingJobs'));
    const last = (id: string) =>
      all
        .filter((r) => r.key === id)
        .map(parse)
        .at(-1);
    expect(last(interrupted)).toMatchObject({ state: 'running', attempt: 1 });
    expect(last(behind)).toMatchObject({ state: 'queued', attempt: 1 });

    // Second process: the job is queued again for attempt 2 and, being older, runs first.
    const second = await startTrainer();
    expect(second.queue.get(interrupted)?.attempt).toBe(2);
    await waitFor(() => second.queue.get(interrupted)?.state === 'running');
    expect(second.queue.get(behind)?.state).toBe('queued');
    const secondRun = await jobRecords(interrupted, (rs) =>
      rs.some((r) => r.state === 'running' && r.attempt === 2),
    );
    expect(secondRun.map((r) => `${r.state}:${r.attempt}`)).toContain('queued:2');
    await stopTrainer(second);

    // Third process: the second interrupted run was the last (TRAINER_MAX_ATTEMPTS=2).
    const third = await startTrainer();
    expect(third.queue.get(interrupted)).toMatchObject({
      state: 'failed',
      attempt: 2,
      error: { code: 'interrupted' },
    });
    // The job that waited behind it runs now.
    await jobRecords(behind, ends('succeeded'));
    all = await readAll(t.kafka, t.admin, t.topic('trainingJobs'));
    expect(last(interrupted)).toMatchObject({ state: 'failed', error: { code: 'interrupted' } });
    expect(last(behind)).toMatchObject({ state: 'succeeded', attempt: 1 });
    await stopTrainer(third);
  });

  it('turns training datasets into jobs once, dead-letters a missing spec, fails an invalid one', async () => {
    const trainer = await startTrainer();
    const consumer = new DatasetsConsumer(trainer.bus, logger, trainer.specs, trainer.queue);
    await t.producer.send({
      topic: t.topic('trainingDatasets'),
      acks: -1,
      messages: [
        cloudEventMessage(EVENTS.trainingDataset.type, 'cards', dataset('done-ds')),
        // Redelivered (or sent twice): the same request id makes no second job.
        cloudEventMessage(EVENTS.trainingDataset.type, 'cards', dataset('done-ds')),
        cloudEventMessage(EVENTS.trainingDataset.type, 'ghost', dataset('done-ghost', 'ghost')),
        cloudEventMessage(EVENTS.trainingDataset.type, 'broken', dataset('done-br', 'broken')),
      ],
    });
    await consumer.onApplicationBootstrap();

    const ok = await jobRecords(jobIdFor('done-ds'), ends('succeeded'));
    expect(ok.filter((r) => r.state === 'queued')).toHaveLength(1);
    expect(ok[0]).toMatchObject({ model: 'cards-fraud', input: { requestId: 'done-ds' } });

    const broken = await jobRecords(jobIdFor('done-br'), ends('failed'));
    expect(broken.map((r) => r.state)).toEqual(['failed']);
    expect(broken[0]).toMatchObject({ model: 'broken', error: { code: 'spec_invalid' } });
    expect(broken[0].error?.message).toContain('training.epochs');

    const dlq = await consumeUntil(
      t.kafka,
      `${t.topic('trainingDatasets')}.dlq`,
      (rs) => rs.length > 0,
    );
    const letter = JSON.parse(dlq[0].value!) as RejectedEvent;
    expect(letter.reasons[0].code).toBe('spec_missing');
    expect(letter.dataset).toBe('ghost');
    expect(trainer.queue.get(jobIdFor('done-ghost'))).toBeUndefined();
    await stopTrainer(trainer);
  });
});
