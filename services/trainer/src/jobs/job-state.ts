import { createHash } from 'node:crypto';
import type { TrainingDatasetEvent, TrainingJobEvent, TrainingJobState } from '@mlops/contracts';
import { TrainJobError, type TrainJobProgress } from './job.types';

/**
 * The pure decisions of the job queue: job ids, the records of each state change, what a
 * restart does with the jobs it finds, and which queued jobs start next. No I/O here.
 */

export const TERMINAL_STATES: readonly TrainingJobState[] = ['succeeded', 'failed', 'cancelled'];

export function isTerminal(state: TrainingJobState): boolean {
  return TERMINAL_STATES.includes(state);
}

/**
 * The job of a training dataset: `train-` and the first 16 hex digits of sha256(requestId).
 * Deterministic, so a redelivered training.datasets.v1 event finds its job instead of making a
 * second one.
 */
export function jobIdFor(requestId: string): string {
  return `train-${createHash('sha256').update(requestId, 'utf8').digest('hex').slice(0, 16)}`;
}

/** A new job waiting for its first run (attempt 1). */
export function newJob(
  jobId: string,
  input: TrainingDatasetEvent,
  model: string,
  now: Date,
): TrainingJobEvent {
  return {
    jobId,
    state: 'queued',
    input,
    model,
    attempt: 1,
    queuedAt: now.toISOString(),
    startedAt: null,
    finishedAt: null,
    progress: null,
    error: null,
    result: null,
    updatedBy: 'trainer',
  };
}

export function startedJob(job: TrainingJobEvent, now: Date): TrainingJobEvent {
  return {
    ...job,
    state: 'running',
    startedAt: now.toISOString(),
    finishedAt: null,
    progress: null,
    error: null,
    result: null,
    updatedBy: 'trainer',
  };
}

/** Longest error message kept on a job record. */
export const MAX_ERROR_MESSAGE = 4000;

export function failedJob(
  job: TrainingJobEvent,
  code: string,
  message: string,
  now: Date,
): TrainingJobEvent {
  return {
    ...job,
    state: 'failed',
    finishedAt: now.toISOString(),
    error: { code, message: message.slice(0, MAX_ERROR_MESSAGE) },
    result: null,
    updatedBy: 'trainer',
  };
}

export function cancelledJob(job: TrainingJobEvent, by: string, now: Date): TrainingJobEvent {
  return {
    ...job,
    state: 'cancelled',
    finishedAt: now.toISOString(),
    error: {
      code: 'cancelled',
      message: `cancelled by ${by} while ${job.state === 'running' ? 'running' : 'queued'}`,
    },
    result: null,
    updatedBy: by.slice(0, 256) || 'trainer',
  };
}

/**
 * What a starting trainer does with a job it finds in training.jobs.v1. A `queued` job waits
 * again as it is. A `running` one was interrupted (the previous process stopped or died during
 * the run): it is queued again for its next attempt, keeping its place (`queuedAt`), or fails
 * with code `interrupted` once `maxAttempts` runs were started. Finished jobs stay as they are.
 * Returns the record to publish, or `undefined` when nothing changes.
 */
export function recoverJob(
  job: TrainingJobEvent,
  maxAttempts: number,
  now: Date,
): TrainingJobEvent | undefined {
  if (job.state !== 'running') return undefined;
  if (job.attempt >= maxAttempts) {
    return failedJob(
      job,
      'interrupted',
      `the trainer stopped during the run ${job.attempt} times (TRAINER_MAX_ATTEMPTS=${maxAttempts}); not retried again`,
      now,
    );
  }
  return {
    ...job,
    state: 'queued',
    attempt: job.attempt + 1,
    startedAt: null,
    finishedAt: null,
    progress: null,
    error: null,
    result: null,
    updatedBy: 'trainer',
  };
}

/** First in, first out: by `queuedAt`, then by job id (a stable order for equal times). */
export function fifoOrder(a: TrainingJobEvent, b: TrainingJobEvent): number {
  const byTime = Date.parse(a.queuedAt) - Date.parse(b.queuedAt);
  if (byTime !== 0) return byTime;
  return a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0;
}

/**
 * The queued jobs to start now, in order: the oldest ones, as many as the free slots allow.
 * `running` is how many runs this process has; `queued` needs no order.
 */
export function pickNext(
  queued: readonly TrainingJobEvent[],
  running: number,
  concurrency: number,
): TrainingJobEvent[] {
  const free = Math.max(0, concurrency - running);
  if (free === 0) return [];
  return queued
    .filter((j) => j.state === 'queued')
    .sort(fifoOrder)
    .slice(0, free);
}

export interface JobFilter {
  dataset?: string;
  state?: TrainingJobState;
  limit: number;
}

/** Jobs matching the filter, newest (`queuedAt`) first. */
export function listJobs(jobs: Iterable<TrainingJobEvent>, filter: JobFilter): TrainingJobEvent[] {
  const out: TrainingJobEvent[] = [];
  for (const j of jobs) {
    if (filter.dataset !== undefined && j.input.dataset !== filter.dataset) continue;
    if (filter.state !== undefined && j.state !== filter.state) continue;
    out.push(j);
  }
  return out.sort((a, b) => fifoOrder(b, a)).slice(0, filter.limit);
}

/**
 * A progress report as the job record carries it: numbers only, and only finite ones (the
 * validation metric is NaN before the first epoch ends, which JSON cannot carry).
 */
export function progressRecord(p: TrainJobProgress): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(p))
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/**
 * The failure a worker reports for what `runTrainingJob` threw: a TrainJobError keeps its code
 * (also one from another copy of the class, recognised by name and code); anything else is
 * `internal` with its message.
 */
export function failureOf(err: unknown): { code: string; message: string } {
  if (err instanceof TrainJobError) return { code: err.code, message: err.message };
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && err.name === 'TrainJobError' && typeof code === 'string' && code)
    return { code, message: err.message };
  if (err instanceof Error) return { code: 'internal', message: err.message || err.name };
  return { code: 'internal', message: String(err) };
}

/**
 * The `ce_id` of a job's models.trained.v1 event. One per job, not per attempt: when a trainer
 * dies between publishing the model and publishing `succeeded`, the re-run's event is the same
 * event to the registry (which de-duplicates by ce_id), so one job makes one model version.
 */
export function trainedEventId(jobId: string): string {
  return `trained:${jobId}`;
}
