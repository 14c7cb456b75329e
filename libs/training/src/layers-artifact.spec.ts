import { describe, expect, it } from 'vitest';
import type { NetworkLayer } from '@mlops/ml';
import { layersArtifact, parseLayersArtifact } from './layers-artifact';

describe('layers artifact', () => {
  it('gives back the same layers, bit for bit', () => {
    const layers: NetworkLayer[] = [
      {
        kind: 'dense',
        weights: Float32Array.from([0.1, -2.5, 3e-8, 1e30, -0, 7]),
        bias: Float32Array.from([1, 2, 3]),
        units: 3,
        activation: 'relu',
      },
      {
        kind: 'batchNorm',
        gamma: Float32Array.from([1, 0.5, 2]),
        movingMean: Float32Array.from([0, 1, 2]),
        movingVariance: Float32Array.from([1, 1, 4]),
        epsilon: 1e-3,
      },
      { kind: 'dropout', rate: 0.2 },
      { kind: 'dense', weights: Float32Array.from([1, 2, 3]), units: 1, activation: 'sigmoid' },
    ];
    const back = parseLayersArtifact(layersArtifact(layers));
    expect(back).toEqual(layers);
    expect(Object.is((back[0] as { weights: Float32Array }).weights[4], -0)).toBe(true);
    expect(() => parseLayersArtifact(Buffer.from('{"format":9,"layers":[]}'))).toThrow(/format 9/);
  });
});
