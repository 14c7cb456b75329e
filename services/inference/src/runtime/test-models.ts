/**
 * ONNX models and helpers for the runtime's specs (not used by the service): a small binary
 * classifier from the trainer's exporter, and Identity graphs over any element type and shape,
 * built with @mlops/ml's encoder.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DataType,
  type DenseLayer,
  type Dim,
  type NetworkLayer,
  Rng,
  encodeModel,
  exportDenseNetwork,
} from '@mlops/ml';
import type { TensorData } from './tensor';

/** The worker as `node infra/scripts/build.mjs` compiles it. */
export const BUILT_WORKER = path.resolve(
  __dirname,
  '../../../../dist/services/inference/src/runtime/ort.worker.js',
);

/** Dense → ReLU → Dense → sigmoid over `features` [N, F], random weights from `seed`. */
export function binaryLayers(features: number, hidden: number, seed: number): NetworkLayer[] {
  const rng = new Rng(seed);
  const dense = (inputs: number, units: number, activation: DenseLayer['activation']) => ({
    kind: 'dense' as const,
    weights: Float32Array.from({ length: inputs * units }, () => rng.normal(0, 0.7)),
    bias: Float32Array.from({ length: units }, () => rng.normal(0, 0.1)),
    activation,
  });
  return [dense(features, hidden, 'relu'), dense(hidden, 1, 'sigmoid')];
}

export function binaryModel(layers: readonly NetworkLayer[]): Uint8Array {
  return exportDenseNetwork(layers, { task: 'binary' });
}

/** ONNX `TensorProto.DataType` of each element type the identity models use. */
export const ELEM = {
  FP32: DataType.FLOAT,
  FP64: DataType.DOUBLE,
  INT32: DataType.INT32,
  INT64: DataType.INT64,
  BOOL: DataType.BOOL,
  // STRING (8) and UINT8 are not in @mlops/ml's DataType table: its exporters never emit them.
  BYTES: 8 as DataType,
  UINT8: DataType.UINT8,
} as const;

/**
 * A graph whose outputs are its inputs: `<name>` → Identity → `<name>_out`, same type and
 * shape. Not validated by the encoder, which does not know the STRING type.
 */
export function identityModel(
  inputs: readonly { name: string; elem: DataType; shape: readonly Dim[] }[],
): Uint8Array {
  return encodeModel(
    {
      graph: {
        name: 'identity',
        inputs: inputs.map((i) => ({ name: i.name, elemType: i.elem, shape: i.shape })),
        outputs: inputs.map((i) => ({ name: `${i.name}_out`, elemType: i.elem, shape: i.shape })),
        nodes: inputs.map((i) => ({
          opType: 'Identity',
          name: `identity_${i.name}`,
          inputs: [i.name],
          outputs: [`${i.name}_out`],
        })),
      },
    },
    { validate: false },
  );
}

/** `rows` × `features` float32 values from `seed`, as a request's `features` tensor. */
export function featureRows(rows: number, features: number, rng: Rng): TensorData<'FP32'> {
  return {
    datatype: 'FP32',
    shape: [rows, features],
    data: Float32Array.from({ length: rows * features }, () => rng.normal(0, 1)),
  };
}

/**
 * A worker entry that wraps the real one and misbehaves on a poisoned batch, before the real
 * handler sees the message: first FP32 value −777 → `process.exit(7)`; −888 → an uncaught
 * exception; −999 → the thread stalls for 1 s, then runs the batch.
 */
export function writeCrashingWorker(dir: string): string {
  const file = path.join(dir, 'crashing.worker.js');
  writeFileSync(
    file,
    `const { parentPort } = require('node:worker_threads');
const first = (m) => Object.values(m.feeds || {}).find((t) => t.datatype === 'FP32')?.data[0];
parentPort.on('message', (m) => {
  if (m.type === 'run' && first(m) === -777) process.exit(7);
  if (m.type === 'run' && first(m) === -888) throw new Error('boom in the worker');
  if (m.type === 'run' && first(m) === -999) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
});
require(${JSON.stringify(BUILT_WORKER)});
`,
  );
  return file;
}
