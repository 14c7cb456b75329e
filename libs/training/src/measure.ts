import type * as Ort from 'onnxruntime-node';
import { DENSE_OUTPUT } from '@mlops/ml';
import { evaluateOutputs, flatMetrics, watchedValue, type WatchedMetric } from './evaluation';
import type { Task } from './network';

export interface OnnxMeasurement {
  /** Served outputs on the measured rows (P(1), K probabilities, or the prediction). */
  outputs: Float32Array;
  /** The primary metric. */
  metric: number;
  /** Every metric of the task on those rows, prefixed `test_`. */
  metrics: Record<string, number>;
  finite: boolean;
  latencyB1Ms: number;
  latencyB32Ms: number;
}

/** The gate's metric of a task: PR-AUC (binary), accuracy (multiclass), R² (regression). */
export function primaryMetric(task: Task, configured: string): WatchedMetric {
  if (configured !== 'auto') return configured as WatchedMetric;
  return task === 'binary' ? 'pr_auc' : task === 'multiclass' ? 'accuracy' : 'r2';
}

/**
 * Loads an ONNX model in onnxruntime-node (one intra-op thread, every graph optimisation, as
 * inference runs it), scores `x`, evaluates the outputs against `labels`, and times `run()` at
 * batch 1 and 32: the median of `latencyRuns` runs after 10 warm-ups each.
 */
export async function measureOnnx(
  bytes: Uint8Array,
  o: {
    task: Task;
    classes: number;
    x: Float32Array;
    columns: number;
    labels: number[];
    metric: WatchedMetric;
    latencyRuns: number;
    /**
     * Rows per `run()` while scoring, default 4,096. Give the server's batch size (the spec's
     * `serving.batching.maxBatchSize`) to score as it will be served: a dynamically quantized
     * model computes its activation scale over each batch, so one outlier among 4,096 rows
     * coarsens every other row's quantization, which the server's batches of at most 64 never
     * do. A float model gives the same outputs at any batch size.
     */
    evalBatch?: number;
  },
): Promise<OnnxMeasurement> {
  // Loaded here: only the processes that measure need the native runtime.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const name =
      o.task === 'binary'
        ? DENSE_OUTPUT.probability
        : o.task === 'multiclass'
          ? DENSE_OUTPUT.probabilities
          : DENSE_OUTPUT.prediction;
    const rows = o.x.length / o.columns;
    const width = o.task === 'multiclass' ? o.classes : 1;
    const outputs = new Float32Array(rows * width);
    const input = session.inputNames[0];
    const step = Math.max(1, Math.floor(o.evalBatch ?? 4096));
    for (let start = 0; start < rows; start += step) {
      const end = Math.min(rows, start + step);
      const result = await session.run({
        [input]: new ort.Tensor('float32', o.x.subarray(start * o.columns, end * o.columns), [
          end - start,
          o.columns,
        ]),
      });
      outputs.set(result[name].data as Float32Array, start * width);
    }
    const finite = outputs.every((v) => Number.isFinite(v));
    const out = { task: o.task, rows, values: outputs, classes: width };
    const report = finite ? evaluateOutputs(out, o.labels) : null;
    const metric = report ? watchedValue(o.metric, report, NaN) : NaN;
    const time = async (batch: number) => {
      const n = Math.min(batch, rows);
      const feeds = {
        [input]: new ort.Tensor('float32', o.x.subarray(0, n * o.columns), [n, o.columns]),
      };
      for (let i = 0; i < 10; i++) await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < o.latencyRuns; i++) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      times.sort((a, b) => a - b);
      return times[times.length >> 1];
    };
    return {
      outputs,
      metric,
      metrics: report ? flatMetrics(report, 'test_') : {},
      finite,
      latencyB1Ms: await time(1),
      latencyB32Ms: await time(32),
    };
  } finally {
    await session.release();
  }
}
