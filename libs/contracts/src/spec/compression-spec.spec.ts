import { describe, expect, it } from 'vitest';
import { CompressionSpecError, resolveCompressionSpec } from './compression-spec';

describe('resolveCompressionSpec', () => {
  it('fills the defaults', () => {
    const c = resolveCompressionSpec({});
    expect(c.enabled).toBe(true);
    expect(c.methods).toEqual([
      'int8_dynamic',
      'int4',
      'prune_structured',
      'distill',
      'prune_structured+int8_dynamic',
    ]);
    expect(c.budget).toEqual({ metric: 'auto', maxDropPoints: 1 });
    expect(c.distillation).toEqual({ temperature: 2, alpha: 0.7, shrink: 4, epochs: 10 });
    expect(c.pruning).toEqual({
      sparsity: 0.5,
      fraction: 0.5,
      fineTuneEpochs: 2,
      fineTuneLearningRate: 3e-4,
    });
    expect(c.int4).toEqual({ blockSize: 32, accuracyLevel: 4 });
  });

  it('takes overrides and names every bad path', () => {
    expect(
      resolveCompressionSpec({ compression: { methods: ['int4'], int4: { blockSize: 64 } } }).int4
        .blockSize,
    ).toBe(64);
    expect(() =>
      resolveCompressionSpec({ compression: { methods: ['int3'], pruning: { sparsity: 1.5 } } }),
    ).toThrow(CompressionSpecError);
    expect(() => resolveCompressionSpec({ compression: { pruning: { sparsity: 1.5 } } })).toThrow(
      /compression\.pruning\.sparsity/,
    );
  });
});
