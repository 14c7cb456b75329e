import { describe, expect, it } from 'vitest';
import { resolveServingSpec, ServingSpecError } from './serving-spec';

describe('resolveServingSpec', () => {
  it('fills the defaults, also without a spec', () => {
    for (const s of [resolveServingSpec(undefined), resolveServingSpec({})]) {
      expect(s.canary).toEqual({ share: 0.1, shadow: false });
      expect(s.batching).toEqual({
        enabled: true,
        maxBatchSize: 64,
        maxQueueDelayMs: 0,
        preferredBatchSizes: [],
        maxQueueRequests: 2048,
        timeoutMs: 5000,
      });
      expect(s.cache).toEqual({ enabled: true, ttlSeconds: 300 });
      expect(s.streamScoring).toEqual({ enabled: false });
      expect(s.predictionLog).toEqual({ sampleRate: 1, features: 'full' });
      expect(s.maxRowsPerRequest).toBe(1024);
    }
  });

  it('takes overrides', () => {
    const s = resolveServingSpec({
      serving: { canary: { share: 0.25, shadow: true }, batching: { maxBatchSize: 8 } },
    });
    expect(s.canary).toEqual({ share: 0.25, shadow: true });
    expect(s.batching.maxBatchSize).toBe(8);
    expect(s.batching.enabled).toBe(true);
  });

  it('names every bad path', () => {
    expect(() =>
      resolveServingSpec({ serving: { canary: { share: 1.5 }, batching: { maxBatchSize: 0 } } }),
    ).toThrow(/serving\.canary\.share.*serving\.batching\.maxBatchSize/);
    expect(() => resolveServingSpec({ serving: { cache: { size: 3 } } })).toThrow(ServingSpecError);
    expect(() =>
      resolveServingSpec({ serving: { batching: { maxBatchSize: 8, preferredBatchSizes: [16] } } }),
    ).toThrow(/16 is above maxBatchSize 8/);
  });
});
