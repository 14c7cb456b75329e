import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CompressJobInput, CompressWorkerMessage } from './compress.types';
import { runCompressionJob } from './run-compression';

/** The worker-thread entry of one compression job: runs it and reports its end. */
if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (m: CompressWorkerMessage) => port.postMessage(m);
  runCompressionJob(workerData as CompressJobInput, {
    log: (level, msg, fields) => post({ type: 'log', level, msg, ...(fields ? { fields } : {}) }),
  }).then(
    (result) => {
      post({ type: 'done', result });
      process.exit(0);
    },
    (err: unknown) => {
      const e = err as Error & { code?: unknown };
      post({
        type: 'failed',
        code: e.name === 'CompressJobError' && typeof e.code === 'string' ? e.code : 'internal',
        message: e.message ?? String(err),
      });
      process.exit(1);
    },
  );
}
