import type * as tfl from '@tensorflow/tfjs-layers';
import { exportDenseNetwork, DENSE_OUTPUT } from '@mlops/ml';
import { networkLayers, type Task } from './network';
import { gatherRows } from './loop';

/**
 * The trained network as ONNX bytes (our writer in libs/ml), with the head of its task, and the
 * parity check that must pass before anything is published: onnxruntime-node runs the exported
 * model on the given rows and its outputs must equal tfjs's within `tolerance`.
 */
export function exportNetwork(
  network: tfl.LayersModel,
  task: Task,
  metadata: Record<string, string> = {},
): Uint8Array {
  return exportDenseNetwork(networkLayers(network, task), {
    task,
    graphName: 'mlops_dense',
    metadata,
  });
}

export interface ParityResult {
  rows: number;
  maxAbsDiff: number;
  /** Row and column of the largest difference. */
  worst: { row: number; column: number; onnx: number; tfjs: number } | null;
  passed: boolean;
  tolerance: number;
}

/**
 * Runs the ONNX model in onnxruntime-node on `rows` of `values` (in chunks) and compares its
 * served output (`probability`, `probabilities` or `prediction`) with `expected` (tfjs's
 * outputs of the same rows, row-major, same width).
 */
export async function onnxParity(
  bytes: Uint8Array,
  task: Task,
  values: Float32Array,
  columns: number,
  rows: Uint32Array,
  expected: Float32Array,
  tolerance = 1e-4,
  chunk = 4096,
): Promise<ParityResult> {
  // Loaded here: only the process that checks parity needs the native runtime.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const output =
    task === 'binary'
      ? DENSE_OUTPUT.probability
      : task === 'multiclass'
        ? DENSE_OUTPUT.probabilities
        : DENSE_OUTPUT.prediction;
  const width = expected.length / rows.length;
  let maxAbsDiff = 0;
  let worst: ParityResult['worst'] = null;
  try {
    for (let start = 0; start < rows.length; start += chunk) {
      const end = Math.min(rows.length, start + chunk);
      const x = gatherRows(values, columns, rows.subarray(start, end));
      const result = await session.run({
        [session.inputNames[0]]: new ort.Tensor('float32', x, [end - start, columns]),
      });
      const got = result[output].data as Float32Array;
      for (let i = 0; i < got.length; i++) {
        const e = expected[start * width + i];
        const d = Math.abs(got[i] - e);
        if (!(d <= maxAbsDiff)) {
          maxAbsDiff = Number.isNaN(d) ? Infinity : d;
          worst = { row: start + Math.floor(i / width), column: i % width, onnx: got[i], tfjs: e };
        }
      }
      for (const t of Object.values(result)) t.dispose();
    }
  } finally {
    await session.release();
  }
  return { rows: rows.length, maxAbsDiff, worst, passed: maxAbsDiff <= tolerance, tolerance };
}
