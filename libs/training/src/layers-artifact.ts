import type { NetworkLayer } from '@mlops/ml';

/**
 * A trained network's layers as an artifact (format `tfjs`): JSON with every weight array as
 * base64 float32 little-endian. The ONNX model is what is served; this is what the compressor
 * edits (prunes, quantises, distils from) without parsing ONNX back.
 */
export const LAYERS_FORMAT = 1;

type Encoded = Record<string, unknown> & { kind: NetworkLayer['kind'] };

const ARRAYS = ['weights', 'bias', 'gamma', 'beta', 'movingMean', 'movingVariance'] as const;

export function layersArtifact(layers: readonly NetworkLayer[]): Buffer {
  const encoded = layers.map((layer) => {
    const out: Encoded = { ...layer };
    for (const key of ARRAYS) {
      const v = (layer as unknown as Record<string, unknown>)[key];
      if (v instanceof Float32Array)
        out[key] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    }
    return out;
  });
  return Buffer.from(JSON.stringify({ format: LAYERS_FORMAT, layers: encoded }), 'utf8');
}

export function parseLayersArtifact(bytes: Buffer): NetworkLayer[] {
  const doc = JSON.parse(bytes.toString('utf8')) as { format: number; layers: Encoded[] };
  if (doc.format !== LAYERS_FORMAT)
    throw new Error(`unsupported layers format ${String(doc.format)}`);
  return doc.layers.map((layer) => {
    const out: Record<string, unknown> = { ...layer };
    for (const key of ARRAYS) {
      const v = layer[key];
      if (typeof v === 'string') {
        const buf = Buffer.from(v, 'base64');
        const copy = new Uint8Array(buf.byteLength);
        copy.set(buf);
        out[key] = new Float32Array(copy.buffer);
      }
    }
    return out as unknown as NetworkLayer;
  });
}
