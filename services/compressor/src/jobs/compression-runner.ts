import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus } from '@mlops/bus';
import { EVENTS, type CompressionJob, type CompressionState } from '@mlops/contracts';
import { LOGGER } from '@mlops/observability';
import { COMPRESSOR_CONFIG, type CompressorConfig } from '../config';
import type { CompressJobInput, CompressJobResult, CompressWorkerMessage } from './compress.types';

export type { CompressionJob, CompressionState };

/** One job per parent version: the same id for the event and for a REST trigger of it. */
export function compressionJobId(model: string, version: number): string {
  const h = createHash('sha256').update(`${model}\n${version}`, 'utf8').digest('hex');
  return `compress-${h.slice(0, 16)}`;
}

/** `ce_id` of a variant's event: a re-run re-announces the same variant, not a new one. */
export function variantEventId(model: string, parentVersion: number, variant: string): string {
  return `compressed:${model}:${parentVersion}:${variant}`;
}

interface Pending {
  job: CompressionJob;
  input: CompressJobInput;
  resolve: (job: CompressionJob) => void;
}

/**
 * Runs compression jobs one at a time, each in a worker thread (onnxruntime and tfjs hold
 * their thread for whole runs), and announces every variant on models.compressed.v1 when a
 * job ends. A job triggered by models.trained.v1 is durable through the consumer's offset (the
 * handler waits for it); one triggered over REST is kept in memory.
 */
@Injectable()
export class CompressionRunner implements OnModuleDestroy {
  private readonly jobs = new Map<string, CompressionJob>();
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<string, Promise<CompressionJob>>();
  private running: Worker | null = null;
  private stopping = false;
  readonly workerFile = path.join(__dirname, 'compress.worker.js');

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(COMPRESSOR_CONFIG) private readonly config: CompressorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get(jobId: string): CompressionJob | undefined {
    return this.jobs.get(jobId);
  }

  list(limit: number, model?: string): CompressionJob[] {
    return [...this.jobs.values()]
      .filter((j) => model === undefined || j.model === model)
      .sort((a, b) => b.submittedAt.localeCompare(a.submittedAt))
      .slice(0, limit);
  }

  /**
   * Queues a job for `input.parent` unless one for that parent is queued or running (then its
   * promise is shared). Resolves with the job when it has ended and its events are published.
   */
  submit(
    input: CompressJobInput,
    trigger: CompressionJob['trigger'],
  ): { job: CompressionJob; done: Promise<CompressionJob> } {
    const existing = this.inFlight.get(input.jobId);
    if (existing) return { job: this.jobs.get(input.jobId)!, done: existing };
    const job: CompressionJob = {
      jobId: input.jobId,
      model: input.parent.model,
      parentVersion: input.parent.version,
      state: 'queued',
      trigger,
      submittedAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      error: null,
      parentMetric: null,
      variants: [],
      errors: [],
    };
    this.jobs.set(job.jobId, job);
    this.trim();
    const done = new Promise<CompressionJob>((resolve) => this.queue.push({ job, input, resolve }));
    this.inFlight.set(job.jobId, done);
    void done.finally(() => this.inFlight.delete(job.jobId));
    this.next();
    return { job, done };
  }

  private next(): void {
    if (this.running || this.stopping) return;
    const pending = this.queue.shift();
    if (!pending) return;
    void this.run(pending).finally(() => {
      this.running = null;
      this.next();
    });
  }

  private async run({ job, input, resolve }: Pending): Promise<void> {
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    const log = this.logger.child({
      jobId: job.jobId,
      model: job.model,
      parent: job.parentVersion,
    });
    log.info('compression started');
    try {
      const result = await this.inWorker(input, log);
      job.parentMetric = result.parentMetric;
      job.errors = result.errors;
      await this.bus.producer.send(
        result.variants.map(({ event }) => ({
          event: EVENTS.modelCompressed,
          key: event.model,
          data: event,
          attrs: {
            id: variantEventId(event.model, event.parentVersion, event.variant),
            subject: event.model,
          },
        })),
      );
      job.variants = result.variants.map(({ event }) => ({
        variant: event.variant,
        passed: event.gate.passed,
        recommended: event.recommended,
        reasons: event.gate.reasons,
        metrics: event.metrics,
      }));
      job.state = 'succeeded';
      log.info(
        { variants: job.variants.map((v) => `${v.variant}:${v.passed ? 'passed' : 'rejected'}`) },
        'compression finished',
      );
    } catch (err) {
      const e = err as Error & { code?: string };
      job.state = 'failed';
      job.error = { code: e.code ?? 'internal', message: e.message };
      log.warn({ err }, 'compression failed');
    } finally {
      job.finishedAt = new Date().toISOString();
      resolve(job);
    }
  }

  private inWorker(input: CompressJobInput, log: Logger): Promise<CompressJobResult> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.workerFile, { workerData: input });
      this.running = worker;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        settle(() =>
          reject(
            Object.assign(
              new Error(`stopped after ${this.config.COMPRESSOR_JOB_TIMEOUT_SECONDS} s`),
              { code: 'timeout' },
            ),
          ),
        );
        void worker.terminate();
      }, this.config.COMPRESSOR_JOB_TIMEOUT_SECONDS * 1000);
      worker.on('message', (m: CompressWorkerMessage) => {
        if (m.type === 'log') log[m.level](m.fields ?? {}, m.msg);
        else if (m.type === 'done') settle(() => resolve(m.result));
        else settle(() => reject(Object.assign(new Error(m.message), { code: m.code })));
      });
      worker.on('error', (err) =>
        settle(() => reject(Object.assign(err, { code: 'worker_crashed' }))),
      );
      worker.on('exit', (code) =>
        settle(() =>
          reject(
            Object.assign(new Error(`the compression worker exited (${code}) without a result`), {
              code: this.stopping ? 'shutdown' : 'worker_exited',
            }),
          ),
        ),
      );
    });
  }

  private trim(): void {
    const finished = [...this.jobs.values()].filter(
      (j) => j.state === 'succeeded' || j.state === 'failed',
    );
    const excess = this.jobs.size - this.config.COMPRESSOR_HISTORY;
    for (const j of finished.slice(0, Math.max(0, excess))) this.jobs.delete(j.jobId);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.running?.terminate();
  }
}
