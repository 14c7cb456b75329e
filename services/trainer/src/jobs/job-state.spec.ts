import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TrainingDatasetEvent, TrainingJobEvent } from '@mlops/contracts';
import { TrainingJobEvent as TrainingJobSchema } from '@mlops/contracts';
import { TrainJobError } from './job.types';
import {
  cancelledJob,
  failedJob,
  failureOf,
  isTerminal,
  jobIdFor,
  listJobs,
  newJob,
  pickNext,
  progressRecord,
  recoverJob,
  startedJob,
  trainedEventId,
} from './job-state';

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

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function job(id: string, queuedAfterSeconds: number, patch: Partial<TrainingJobEvent> = {}) {
  return { ...newJob(id, dataset(`req-${id}`), 'cards', at(queuedAfterSeconds)), ...patch };
}

describe('job ids', () => {
  it('are train- and the first 16 hex digits of sha256(requestId)', () => {
    const expected = createHash('sha256').update('req-1').digest('hex').slice(0, 16);
    expect(jobIdFor('req-1')).toBe(`train-${expected}`);
    expect(jobIdFor('req-1')).toMatch(/^train-[0-9a-f]{16}$/);
  });

  it('are the same for a redelivered request and differ between requests', () => {
    expect(jobIdFor('req-1')).toBe(jobIdFor('req-1'));
    expect(jobIdFor('req-1')).not.toBe(jobIdFor('req-2'));
    expect(jobIdFor('é')).toBe(jobIdFor('é'));
  });

  it('give the trained event one ce_id per job, whatever the attempt', () => {
    expect(trainedEventId('train-1')).toBe('trained:train-1');
    expect(trainedEventId('train-1')).not.toBe(trainedEventId('train-2'));
  });
});

describe('job records', () => {
  it('are valid training.jobs.v1 payloads in every state', () => {
    const q = newJob('train-1', dataset('r'), 'cards', T0);
    expect(q).toMatchObject({ state: 'queued', attempt: 1, startedAt: null, updatedBy: 'trainer' });
    const r = startedJob(q, at(1));
    const f = failedJob(r, 'timeout', 'x'.repeat(10_000), at(2));
    const c = cancelledJob(r, 'alice', at(3));
    for (const j of [q, r, f, c]) expect(TrainingJobSchema.safeParse(j).success).toBe(true);
    expect(r).toMatchObject({ state: 'running', startedAt: at(1).toISOString() });
    expect(f.error?.code).toBe('timeout');
    expect(f.error?.message.length).toBe(4000);
    expect(c).toMatchObject({
      state: 'cancelled',
      updatedBy: 'alice',
      error: { code: 'cancelled' },
    });
    expect(c.error?.message).toContain('while running');
    expect(cancelledJob(q, 'bob', at(1)).error?.message).toContain('while queued');
  });

  it('know which states are final', () => {
    expect(['queued', 'running'].map((s) => isTerminal(s as 'queued'))).toEqual([false, false]);
    expect(['succeeded', 'failed', 'cancelled'].every((s) => isTerminal(s as 'failed'))).toBe(true);
  });

  it('carry only finite progress numbers', () => {
    expect(
      progressRecord({
        epoch: 0,
        epochs: 20,
        step: 3,
        trainLoss: 0.7,
        validationMetric: NaN,
        learningRate: 0.001,
      }),
    ).toEqual({ epoch: 0, epochs: 20, step: 3, trainLoss: 0.7, learningRate: 0.001 });
  });
});

describe('restart recovery', () => {
  it('leaves queued and finished jobs as they are', () => {
    for (const state of ['queued', 'succeeded', 'failed', 'cancelled'] as const)
      expect(recoverJob(job('a', 0, { state }), 2, at(100))).toBeUndefined();
  });

  it('queues an interrupted run again for its next attempt, keeping its place', () => {
    const running = startedJob(job('a', 5), at(10));
    const next = recoverJob({ ...running, progress: { epoch: 3 } }, 2, at(100));
    expect(next).toEqual({
      ...running,
      state: 'queued',
      attempt: 2,
      startedAt: null,
      progress: null,
      queuedAt: at(5).toISOString(),
    });
  });

  it('fails it with `interrupted` once TRAINER_MAX_ATTEMPTS runs were started', () => {
    const second = startedJob(job('a', 0, { attempt: 2 }), at(10));
    const next = recoverJob(second, 2, at(100));
    expect(next).toMatchObject({
      state: 'failed',
      attempt: 2,
      finishedAt: at(100).toISOString(),
      error: { code: 'interrupted' },
    });
    // Default of 2: the first interrupted run goes once more, the second fails.
    expect(recoverJob(startedJob(job('b', 0), at(1)), 2, at(2))?.state).toBe('queued');
    expect(recoverJob(startedJob(job('c', 0), at(1)), 1, at(2))?.state).toBe('failed');
  });
});

describe('scheduling', () => {
  const queued = [job('c', 30), job('a', 10), job('b', 20), job('d', 40)];

  it('starts the oldest queued jobs first, as many as there are free slots', () => {
    expect(pickNext(queued, 0, 1).map((j) => j.jobId)).toEqual(['a']);
    expect(pickNext(queued, 0, 3).map((j) => j.jobId)).toEqual(['a', 'b', 'c']);
    expect(pickNext(queued, 1, 3).map((j) => j.jobId)).toEqual(['a', 'b']);
    expect(pickNext(queued, 0, 10).map((j) => j.jobId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('starts nothing when every slot is taken', () => {
    expect(pickNext(queued, 1, 1)).toEqual([]);
    expect(pickNext(queued, 5, 2)).toEqual([]);
  });

  it('orders equal queue times by job id and skips jobs that are not queued', () => {
    const same = [job('y', 0), job('x', 0), job('w', 0, { state: 'running' })];
    expect(pickNext(same, 0, 5).map((j) => j.jobId)).toEqual(['x', 'y']);
  });

  it('keeps a re-queued job ahead of newer ones', () => {
    const requeued = recoverJob(startedJob(job('old', 1), at(50)), 2, at(60))!;
    expect(pickNext([job('new', 55), requeued], 0, 1)[0].jobId).toBe('old');
  });
});

describe('listing', () => {
  const jobs = [
    job('a', 10),
    job('b', 20, { state: 'failed' }),
    { ...job('c', 30), input: dataset('req-c', 'loans') },
    job('d', 40, { state: 'failed' }),
  ];

  it('lists newest first, filtered by dataset and state, up to the limit', () => {
    expect(listJobs(jobs, { limit: 10 }).map((j) => j.jobId)).toEqual(['d', 'c', 'b', 'a']);
    expect(listJobs(jobs, { limit: 2 }).map((j) => j.jobId)).toEqual(['d', 'c']);
    expect(listJobs(jobs, { dataset: 'cards', limit: 10 }).map((j) => j.jobId)).toEqual([
      'd',
      'b',
      'a',
    ]);
    expect(listJobs(jobs, { state: 'failed', limit: 10 }).map((j) => j.jobId)).toEqual(['d', 'b']);
  });
});

describe('worker failures', () => {
  it('keep a TrainJobError code, and make anything else `internal`', () => {
    expect(failureOf(new TrainJobError('parity_failed', 'onnx differs'))).toEqual({
      code: 'parity_failed',
      message: 'onnx differs',
    });
    const foreign = Object.assign(new Error('hash'), { name: 'TrainJobError', code: 'x_y' });
    expect(failureOf(foreign)).toEqual({ code: 'x_y', message: 'hash' });
    expect(failureOf(new RangeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(failureOf('text')).toEqual({ code: 'internal', message: 'text' });
  });
});
