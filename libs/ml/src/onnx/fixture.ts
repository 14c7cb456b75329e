// Typed view of fixtures/onnx.json (written by fixtures/make_onnx_fixtures.py with the official
// onnx package), shared by the ONNX specs.
import reference from '../../fixtures/onnx.json';
import type { DenseExportOptions, DenseTask, NetworkLayer } from './mlp';

export interface MessageCase {
  readonly name: string;
  readonly base64: string;
}

/** A network as Python built it: layers as JSON numbers, serialized model, reference outputs. */
export interface NetworkCase {
  readonly name: string;
  readonly task: DenseTask;
  readonly options: Omit<DenseExportOptions, 'task'>;
  readonly layers: readonly Readonly<Record<string, unknown>>[];
  readonly base64: string;
  /** Input rows, row-major. */
  readonly x: readonly number[];
  /** onnx.reference.ReferenceEvaluator's outputs, row-major, by output name. */
  readonly reference: Readonly<Record<string, readonly number[]>>;
}

export interface OnnxFixture {
  readonly generator: string;
  readonly irVersion: number;
  readonly opset: number;
  readonly messages: readonly MessageCase[];
  readonly networks: readonly NetworkCase[];
}

export const fixture = reference as unknown as OnnxFixture;

export function fixtureBytes(name: string): Uint8Array {
  const found = fixture.messages.find((m) => m.name === name);
  if (!found) throw new Error(`no fixture message ${name}`);
  return new Uint8Array(Buffer.from(found.base64, 'base64'));
}

const FLOAT_ARRAYS = ['weights', 'bias', 'gamma', 'beta', 'movingMean', 'movingVariance'];

/** The fixture's JSON layers with their number arrays as Float32Array (exact: they are float32). */
export function fixtureLayers(c: NetworkCase): NetworkLayer[] {
  return c.layers.map((layer) => {
    const out: Record<string, unknown> = { ...layer };
    for (const key of FLOAT_ARRAYS) {
      const v = layer[key];
      if (Array.isArray(v)) out[key] = new Float32Array(v as number[]);
    }
    return out as unknown as NetworkLayer;
  });
}
