import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { failureOf } from './job-state';
import type { TrainJobInput, WorkerMessage } from './job.types';
import { runTrainingJob } from './run-job';

/**
 * The worker-thread entry of one training run (started by JobQueue with the job's
 * TrainJobInput as `workerData`): runs the job, reports progress, log lines and the end as
 * WorkerMessages, and exits — 0 after `done`, 1 after `failed`.
 */

type Port = NonNullable<typeof parentPort>;

function post(port: Port, message: WorkerMessage): void {
  try {
    port.postMessage(message);
  } catch (err) {
    // A log line whose fields cannot cross the thread boundary (functions, handles): send them
    // as JSON instead of losing the line.
    if (message.type !== 'log' || !message.fields) throw err;
    port.postMessage({ ...message, fields: jsonSafe(message.fields) } satisfies WorkerMessage);
  }
}

function jsonSafe(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(
      JSON.stringify(fields, (_k, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message } : v,
      ),
    ) as Record<string, unknown>;
  } catch {
    return { fields: '[not serialisable]' };
  }
}

export async function runWorker(port: Port, input: TrainJobInput): Promise<number> {
  try {
    const result = await runTrainingJob(input, {
      progress: (progress) => post(port, { type: 'progress', progress }),
      log: (level, msg, fields) =>
        post(port, { type: 'log', level, msg, ...(fields ? { fields } : {}) }),
    });
    post(port, { type: 'done', result });
    return 0;
  } catch (err) {
    post(port, { type: 'failed', ...failureOf(err) });
    return 1;
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  void runWorker(port, workerData as TrainJobInput).then(
    // Messages posted before the exit are still delivered; the exit ends whatever the job left
    // running (timers, wasm threads) so the thread does not linger.
    (code) => process.exit(code),
    (err: unknown) => {
      // Posting the end failed (an uncloneable result): say so rather than die silently.
      try {
        port.postMessage({
          type: 'failed',
          code: 'internal',
          message: `the training worker could not report its result: ${failureOf(err).message}`,
        } satisfies WorkerMessage);
      } finally {
        process.exit(1);
      }
    },
  );
}
