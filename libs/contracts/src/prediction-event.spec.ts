import { describe, expect, it } from 'vitest';
import { EVENTS, PredictionEvent } from './events';
import { TOPICS } from './topics';

const valid = {
  model: 'fraud',
  version: 3,
  alias: 'canary',
  dataset: 'cards',
  featuresetVersion: 'fs-0123456789abcdef',
  mode: 'online',
  requestId: 'req-1',
  row: 0,
  entityId: 'card-9',
  features: [0.5, -1, 2],
  outputs: { probability: [0.91], probabilities: [0.09, 0.91] },
  score: 0.91,
  label: 1,
  latencyMs: 1.7,
  cached: false,
  sourceEventId: null,
  at: '2026-11-26T02:00:00.000Z',
};

describe('PredictionEvent', () => {
  it('is the predictions.v1 event', () => {
    expect(EVENTS.prediction.topic).toBe('predictions');
    expect(TOPICS[EVENTS.prediction.topic].name).toBe('predictions.v1');
  });

  it('accepts a served prediction and keeps its values', () => {
    expect(PredictionEvent.parse(valid)).toEqual(valid);
  });

  it('accepts an error prediction, and old events without the field', () => {
    const failed = {
      ...valid,
      outputs: {},
      score: null,
      label: null,
      error: { code: 'model_failed', message: 'onnx run failed' },
    };
    expect(PredictionEvent.parse(failed)).toEqual(failed);
    expect(PredictionEvent.parse(valid).error).toBeUndefined();
  });

  it('does not over-constrain an error prediction: one with outputs still parses', () => {
    const error = { code: 'timeout', message: '' };
    expect(PredictionEvent.safeParse({ ...valid, error }).success).toBe(true);
  });

  it('rejects an error without a code or with an oversized one', () => {
    expect(PredictionEvent.safeParse({ ...valid, error: { message: 'x' } }).success).toBe(false);
    expect(PredictionEvent.safeParse({ ...valid, error: { code: '', message: 'x' } }).success).toBe(
      false,
    );
    expect(
      PredictionEvent.safeParse({ ...valid, error: { code: 'c'.repeat(129), message: 'x' } })
        .success,
    ).toBe(false);
  });

  it('rejects a bad mode, a negative row and a summary with a malformed hash', () => {
    expect(PredictionEvent.safeParse({ ...valid, mode: 'batch' }).success).toBe(false);
    expect(PredictionEvent.safeParse({ ...valid, row: -1 }).success).toBe(false);
    const summary = { count: 3, mean: 0.5, min: -1, max: 2, sha256: 'xyz' };
    expect(PredictionEvent.safeParse({ ...valid, featureSummary: summary }).success).toBe(false);
    expect(
      PredictionEvent.safeParse({
        ...valid,
        featureSummary: { ...summary, sha256: 'a'.repeat(64) },
      }).success,
    ).toBe(true);
  });
});
