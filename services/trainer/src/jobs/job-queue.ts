import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  Bus,
  OutputSchemaError,
  PermanentError,
  withRetry,
  type CompactedTable,
  type RetryPolicy,
} from '@mlops/bus';
import {
  EVENTS,
  ModelTrainedEvent,
  TrainingJobEvent,
  type TrainingDatasetEvent,
  type TrainingJobState,
} from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { HealthRegistry, LOGGER, METRICS_REGISTRY } from '@mlops/observability';
import { selectBackend, type BackendInfo } from '@mlops/training';
import { TRAINER_CONFIG, type TrainerConfig } from '../config';
import {
  cancelledJob,
  failedJob,
  isTerminal,
  listJobs,
  newJob,
  pickNext,
  progressRecord,
  recoverJob,
  startedJob,
  trainedEventId,
  type JobFilter,
} from './job-state';
import type { TrainJobInput, TrainJobProgress, TrainJobResult, WorkerMessage } from './job.types';
import { TrainerMetrics } from './trainer-metrics';

export interface JobQueueOptions {
  /** The worker-thread script of a run; default: the built `train.worker.js` beside this file. */
  workerFile?: string | URL;
  /** Least time between two progress records of one job on training.jobs.v1. */
  progressIntervalMs?: number;
  /** How long a state change is retried when the broker refuses it. */
  publishRetry?: RetryPolicy;
}

export const JOB_QUEUE_OPTIONS = Symbol('JOB_QUEUE_OPTIONS');

export type CancelOutcome =
  | { outcome: 'cancelled'; job: TrainingJobEvent }
  | { outcome: 'not_found' }
  /** The job had already ended: it is returned as it is. */
  | { outcome: 'finished'; job: TrainingJobEvent };

/** One run of a job in a worker thread of this process. */
interface Run {
  readonly jobId: string;
  readonly startedAtMs: number;
  worker?: Worker;
  timeout?: NodeJS.Timeout;
  progressTimer?: NodeJS.Timeout;
  lastProgressAt: number;
  /**
   * Set once the run's end is decided (a result, a failure, a crash, a cancel, the timeout or
   * the shutdown); what the worker says or does afterwards is ignored.
   */
  settled: boolean;
  /** Resolves once that end is recorded. */
  finished?: Promise<void>;
}

const DEFAULT_PUBLISH_RETRY: RetryPolicy = { retries: 6, initialMs: 200, maxMs: 5_000 };

/**
 * The trainer's job queue. The jobs live in Kafka: training.jobs.v1 is compacted by job id, read
 * whole at start, and every state change is published there (keyed by job id) — the topic is
 * the queue's persistence and the jobs' history at once. At start, queued jobs wait again and
 * jobs left `running` by the previous process are queued for another attempt (or fail with
 * `interrupted` past TRAINER_MAX_ATTEMPTS). At most TRAINER_CONCURRENCY runs at a time, oldest
 * first, each in a worker thread of its own (tfjs blocks its thread for whole batches).
 *
 * A finished run publishes models.trained.v1 first and the `succeeded` state after it: a crash
 * in between leaves the job `running`, so it runs again rather than losing the model; the
 * trained event's ce_id is fixed per job, so the registry registers one version per job.
 *
 * One trainer process owns the queue: replicas would each run the jobs they find queued.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly jobs = new Map<string, TrainingJobEvent>();
  private readonly runs = new Map<string, Run>();
  /** Per job, the tail of its publishes: state changes reach the topic in the order made. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly metrics: TrainerMetrics;
  private readonly workerFile: string | URL;
  private readonly progressIntervalMs: number;
  private readonly publishRetry: RetryPolicy;
  private table: CompactedTable<typeof EVENTS.trainingJob> | undefined;
  private loaded = false;
  private backend: BackendInfo | undefined;
  private accepting = false;
  private stopping = false;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TRAINER_CONFIG) private readonly config: TrainerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly health: HealthRegistry,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Optional() @Inject(JOB_QUEUE_OPTIONS) options?: JobQueueOptions,
  ) {
    this.metrics = new TrainerMetrics(registry);
    this.workerFile = options?.workerFile ?? path.join(__dirname, 'train.worker.js');
    this.progressIntervalMs = options?.progressIntervalMs ?? 5_000;
    this.publishRetry = options?.publishRetry ?? DEFAULT_PUBLISH_RETRY;
  }

  async onModuleInit(): Promise<void> {
    // The backend the runs will take (each worker thread selects it again, the same way), said
    // once at start so an operator sees it without running a job.
    const backend = await selectBackend(this.config.TRAINER_BACKEND ?? 'auto');
    this.backend = backend;
    this.logger.info(
      {
        backend: backend.name,
        package: backend.package,
        simd: backend.simd,
        skipped: backend.skipped,
      },
      'tfjs backend selected',
    );
    await this.load();
  }

  /** Specs are loaded by now (every onModuleInit has finished): runs may start. */
  onApplicationBootstrap(): void {
    this.begin();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /**
   * Reads training.jobs.v1 whole and settles what the previous process left: `running` jobs
   * are queued again (or failed). Readiness waits for this.
   */
  async load(timeoutMs = 60_000): Promise<void> {
    this.health.addReadiness('jobs', () => ({
      ok: this.loaded,
      details: {
        backend: this.backend?.name ?? null,
        jobs: this.jobs.size,
        queued: this.count('queued'),
        running: this.runs.size,
      },
    }));
    this.table = this.bus.table({
      name: 'training-jobs',
      event: EVENTS.trainingJob,
      // This process writes every change of its jobs and keeps them in memory first; the echo
      // from the topic only adds jobs it does not know (for the API).
      onChange: (_key, value) => {
        if (this.loaded && value && !this.jobs.has(value.jobId)) this.jobs.set(value.jobId, value);
      },
    });
    await this.table.start(timeoutMs);
    for (const [, job] of this.table.entries()) this.jobs.set(job.jobId, job);
    const now = new Date();
    const recovered: Promise<void>[] = [];
    for (const job of [...this.jobs.values()]) {
      const next = recoverJob(job, this.config.TRAINER_MAX_ATTEMPTS, now);
      if (!next) continue;
      this.logger.warn(
        { jobId: job.jobId, attempt: job.attempt, state: next.state },
        next.state === 'queued'
          ? 'job was interrupted by a restart; queued for another attempt'
          : 'job was interrupted by a restart too often; failed',
      );
      recovered.push(this.record(next));
    }
    await Promise.all(recovered);
    this.loaded = true;
    this.logger.info(
      { jobs: this.jobs.size, queued: this.count('queued') },
      'training jobs loaded',
    );
  }

  /** Starts taking jobs. */
  begin(): void {
    this.accepting = true;
    this.pump();
  }

  /**
   * Graceful stop: no new runs; running workers are terminated and their jobs left `running`
   * on the topic, so that the next start runs them again; pending publishes are flushed.
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.accepting = false;
    this.stopping = true;
    const waits: Promise<unknown>[] = [];
    for (const run of this.runs.values()) {
      if (run.settled) {
        if (run.finished) waits.push(run.finished);
        continue;
      }
      run.settled = true;
      this.clearTimers(run);
      if (run.worker) waits.push(run.worker.terminate());
      this.logger.info({ jobId: run.jobId }, 'run stopped by the shutdown; it runs again at start');
    }
    waits.push(...this.chains.values());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(waits),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.runs.clear();
    this.metrics.running.set(0);
  }

  get ready(): boolean {
    return this.loaded;
  }

  get(jobId: string): TrainingJobEvent | undefined {
    return this.jobs.get(jobId);
  }

  list(filter: JobFilter): TrainingJobEvent[] {
    return listJobs(this.jobs.values(), filter);
  }

  /**
   * Queues a job for a training dataset; resolves once the `queued` record is acknowledged.
   * A job id already known is left alone (a redelivered dataset event) and returned.
   */
  async enqueue(
    jobId: string,
    input: TrainingDatasetEvent,
    model: string,
  ): Promise<TrainingJobEvent> {
    const existing = this.jobs.get(jobId);
    if (existing) return existing;
    const job = newJob(jobId, input, model, new Date());
    await this.recordNew(job);
    this.logger.info({ jobId, dataset: input.dataset, model }, 'training job queued');
    this.pump();
    return job;
  }

  /** Records a job that fails before it is queued (its spec cannot be trained), so users see why. */
  async reject(
    jobId: string,
    input: TrainingDatasetEvent,
    model: string,
    error: { code: string; message: string },
  ): Promise<TrainingJobEvent> {
    const existing = this.jobs.get(jobId);
    if (existing) return existing;
    const now = new Date();
    const job = failedJob(newJob(jobId, input, model, now), error.code, error.message, now);
    await this.recordNew(job);
    this.logger.warn({ jobId, dataset: input.dataset, ...error }, 'training job refused');
    return job;
  }

  /**
   * Cancels a job: a queued one at once, a running one after its worker is terminated. A job
   * that has already ended is returned as it is (`finished`).
   */
  async cancel(jobId: string, by: string): Promise<CancelOutcome> {
    const job = this.jobs.get(jobId);
    if (!job) return { outcome: 'not_found' };
    if (isTerminal(job.state)) return { outcome: 'finished', job };
    const run = this.runs.get(jobId);
    if (run) {
      if (run.settled) {
        // Its end is being recorded (a result, a failure): that end stands.
        await run.finished;
        const now = this.jobs.get(jobId)!;
        if (isTerminal(now.state)) return { outcome: 'finished', job: now };
        // Not recorded (the shutdown cut it short): nothing left to stop.
      } else {
        await this.conclude(
          run,
          async () => {
            await run.worker?.terminate();
            const current = this.jobs.get(jobId)!;
            this.observeDuration(run, 'cancelled');
            await this.record(cancelledJob(current, by, new Date()));
          },
          true,
        );
        this.logger.info({ jobId, by }, 'running training job cancelled');
        return { outcome: 'cancelled', job: this.jobs.get(jobId)! };
      }
    }
    // Queued (or running somewhere else): the record is the cancel.
    const cancelled = cancelledJob(this.jobs.get(jobId)!, by, new Date());
    await this.record(cancelled);
    this.logger.info({ jobId, by }, 'training job cancelled');
    return { outcome: 'cancelled', job: cancelled };
  }

  private count(state: TrainingJobState): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.state === state) n += 1;
    return n;
  }

  /** Starts queued jobs while there are free slots. */
  private pump(): void {
    if (!this.accepting || this.stopping) return;
    const queued = [...this.jobs.values()].filter(
      (j) => j.state === 'queued' && !this.runs.has(j.jobId),
    );
    for (const job of pickNext(queued, this.runs.size, this.config.TRAINER_CONCURRENCY)) {
      this.start(job);
    }
  }

  private start(queued: TrainingJobEvent): void {
    const run: Run = {
      jobId: queued.jobId,
      startedAtMs: Date.now(),
      lastProgressAt: Date.now(),
      settled: false,
    };
    this.runs.set(run.jobId, run);
    this.metrics.running.set(this.runs.size);
    const job = startedJob(queued, new Date());
    void this.record(job).catch(() => {});
    const log = this.logger.child({ jobId: job.jobId, attempt: job.attempt });
    log.info({ dataset: job.input.dataset, model: job.model }, 'training job started');

    const spec = this.specs.get(job.input.dataset);
    if (!spec) {
      void this.conclude(run, () =>
        this.fail(run, 'spec_missing', `no dataset spec named "${job.input.dataset}" any more`),
      );
      return;
    }
    if (spec.version !== job.input.specVersion)
      log.warn(
        { specVersion: spec.version, datasetSpecVersion: job.input.specVersion },
        'training with the current dataset spec, not the version the dataset was built with',
      );
    const input: TrainJobInput = {
      jobId: job.jobId,
      dataset: job.input,
      spec,
      registry: {
        url: this.config.REGISTRY_URL,
        ...(this.config.REGISTRY_API_KEY ? { apiKey: this.config.REGISTRY_API_KEY } : {}),
      },
      ...(this.config.TRAINER_BACKEND ? { backend: this.config.TRAINER_BACKEND } : {}),
    };
    let worker: Worker;
    try {
      worker = new Worker(this.workerFile, { workerData: input });
    } catch (err) {
      void this.conclude(run, () =>
        this.fail(run, 'worker_crashed', `the training worker did not start: ${messageOf(err)}`),
      );
      return;
    }
    run.worker = worker;
    const timeoutS = this.config.TRAINER_JOB_TIMEOUT_SECONDS;
    run.timeout = setTimeout(() => {
      void this.conclude(run, async () => {
        log.warn({ timeoutSeconds: timeoutS }, 'training job timed out; terminating its worker');
        await worker.terminate();
        await this.fail(
          run,
          'timeout',
          `the run took longer than TRAINER_JOB_TIMEOUT_SECONDS (${timeoutS} s) and was stopped`,
        );
      });
    }, timeoutS * 1000);
    worker.on('message', (message: WorkerMessage) => this.onMessage(run, message, log));
    worker.on('error', (err) => {
      if (run.settled) return;
      log.error({ err }, 'training worker crashed');
      void this.conclude(run, () =>
        this.fail(run, 'worker_crashed', `the training worker crashed: ${messageOf(err)}`),
      );
    });
    worker.on('exit', (code) => {
      if (run.settled) return;
      log.error({ code }, 'training worker exited without a result');
      void this.conclude(run, () =>
        this.fail(
          run,
          code === 0 ? 'worker_exited' : 'worker_crashed',
          `the training worker exited with code ${code} before it reported a result`,
        ),
      );
    });
  }

  private onMessage(run: Run, message: WorkerMessage, log: Logger): void {
    if (run.settled) return;
    switch (message.type) {
      case 'progress':
        this.onProgress(run, message.progress);
        return;
      case 'log':
        if (message.level === 'warn') log.warn(message.fields ?? {}, message.msg);
        else log.info(message.fields ?? {}, message.msg);
        return;
      case 'done':
        void this.conclude(run, () => this.succeed(run, message.result, log));
        return;
      case 'failed':
        log.warn({ code: message.code, message: message.message }, 'training job failed');
        void this.conclude(run, () => this.fail(run, message.code, message.message));
        return;
      default: {
        const unknown: never = message;
        log.warn({ message: unknown }, 'ignoring an unknown message from the training worker');
      }
    }
  }

  /** Progress is kept at once and published at most every progressIntervalMs (the last one too). */
  private onProgress(run: Run, progress: TrainJobProgress): void {
    const job = this.jobs.get(run.jobId);
    if (!job || job.state !== 'running') return;
    this.jobs.set(run.jobId, { ...job, progress: progressRecord(progress) });
    const publishLatest = () => {
      run.lastProgressAt = Date.now();
      const current = this.jobs.get(run.jobId);
      if (!run.settled && current?.state === 'running') void this.publish(current).catch(() => {});
    };
    const wait = run.lastProgressAt + this.progressIntervalMs - Date.now();
    if (wait <= 0) publishLatest();
    else
      run.progressTimer ??= setTimeout(() => {
        run.progressTimer = undefined;
        publishLatest();
      }, wait);
  }

  /** models.trained.v1 first, then `succeeded`: never a succeeded job whose model is not announced. */
  private async succeed(run: Run, result: TrainJobResult, log: Logger): Promise<void> {
    const job = this.jobs.get(run.jobId)!;
    const trained = ModelTrainedEvent.safeParse(result?.trained);
    if (!trained.success) {
      return this.fail(
        run,
        'invalid_result',
        `the job's models.trained.v1 payload is invalid: ${trained.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
      );
    }
    if (!trained.data.report) {
      return this.fail(run, 'invalid_result', 'the job returned no training report');
    }
    const succeeded = TrainingJobEvent.safeParse({
      ...job,
      state: 'succeeded',
      finishedAt: new Date().toISOString(),
      error: null,
      result: {
        artifact: trained.data.artifact,
        report: trained.data.report,
        metrics: trained.data.metrics,
        backend: result.backend,
        durationMs: result.durationMs,
      },
      updatedBy: 'trainer',
    } satisfies TrainingJobEvent);
    if (!succeeded.success) {
      return this.fail(
        run,
        'invalid_result',
        `the job's result is invalid: ${succeeded.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
      );
    }
    try {
      await this.send(() =>
        this.bus.producer.send([
          {
            event: EVENTS.modelTrained,
            key: trained.data.model,
            data: trained.data,
            attrs: { id: trainedEventId(job.jobId), subject: trained.data.model },
          },
        ]),
      );
    } catch (err) {
      log.error({ err }, 'models.trained.v1 could not be published');
      return this.fail(
        run,
        'publish_failed',
        `models.trained.v1 could not be published: ${messageOf(err)}`,
      );
    }
    this.observeDuration(run, 'succeeded');
    await this.record(succeeded.data);
    log.info(
      {
        model: trained.data.model,
        artifact: trained.data.artifact.uri,
        backend: result.backend,
        durationMs: result.durationMs,
      },
      'training job succeeded',
    );
  }

  private async fail(run: Run, code: string, message: string): Promise<void> {
    const job = this.jobs.get(run.jobId);
    if (!job || isTerminal(job.state)) return;
    this.observeDuration(run, 'failed');
    await this.record(failedJob(job, code, message, new Date()));
  }

  /**
   * Ends a run once: marks it settled (later worker events are ignored), runs `work` (which
   * records the end), then frees the slot and starts what waits. Errors of `work` are logged
   * (the service never crashes on a job), unless `rethrow`.
   */
  private conclude(run: Run, work: () => Promise<void>, rethrow = false): Promise<void> {
    if (run.settled) return run.finished ?? Promise.resolve();
    run.settled = true;
    this.clearTimers(run);
    const finished = work()
      .catch((err: unknown) => {
        this.logger.error({ err, jobId: run.jobId }, 'recording the end of a training run failed');
        if (rethrow) throw err;
      })
      .finally(() => {
        if (this.runs.get(run.jobId) === run) this.runs.delete(run.jobId);
        this.metrics.running.set(this.runs.size);
        this.pump();
      });
    run.finished = finished.catch(() => {});
    return finished;
  }

  private clearTimers(run: Run): void {
    clearTimeout(run.timeout);
    clearTimeout(run.progressTimer);
    run.progressTimer = undefined;
  }

  private observeDuration(run: Run, state: TrainingJobState): void {
    this.metrics.duration.observe({ state }, (Date.now() - run.startedAtMs) / 1000);
  }

  /** A state change: kept in memory at once, counted, and published (resolves once acknowledged). */
  private record(job: TrainingJobEvent): Promise<void> {
    const before = this.jobs.get(job.jobId);
    this.jobs.set(job.jobId, job);
    if (before?.state !== job.state) this.metrics.entered(job.state);
    return this.publish(job);
  }

  /** A new job's first record: forgotten again when it cannot be published (the caller retries). */
  private async recordNew(job: TrainingJobEvent): Promise<void> {
    try {
      await this.record(job);
    } catch (err) {
      if (this.jobs.get(job.jobId) === job && !this.runs.has(job.jobId))
        this.jobs.delete(job.jobId);
      throw err;
    }
  }

  /** Publishes a job record after the job's earlier ones. */
  private publish(job: TrainingJobEvent): Promise<void> {
    const previous = this.chains.get(job.jobId) ?? Promise.resolve();
    const sent = previous.then(() =>
      this.send(() =>
        this.bus.producer.send([
          {
            event: EVENTS.trainingJob,
            key: job.jobId,
            data: job,
            attrs: { subject: job.input.dataset },
          },
        ]),
      ),
    );
    const tail = sent.then(
      () => undefined,
      (err: unknown) =>
        this.logger.error(
          { err, jobId: job.jobId, state: job.state },
          'publishing a training job state failed',
        ),
    );
    this.chains.set(job.jobId, tail);
    void tail.then(() => {
      if (this.chains.get(job.jobId) === tail) this.chains.delete(job.jobId);
    });
    return sent;
  }

  /** Retries what the broker refuses for a while; an invalid payload is not retried. */
  private send(fn: () => Promise<void>): Promise<void> {
    return withRetry(
      () =>
        fn().catch((err: unknown) => {
          if (err instanceof OutputSchemaError)
            throw new PermanentError('output_schema_mismatch', err.message);
          throw err;
        }),
      this.publishRetry,
      (err, attempt, waitMs) =>
        this.logger.warn({ err, attempt, waitMs }, 'publish failed; retrying'),
    );
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
