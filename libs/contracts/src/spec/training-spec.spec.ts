import { describe, expect, it } from 'vitest';
import { TrainingSpecError, resolveTrainingSpec } from './training-spec';

describe('resolveTrainingSpec', () => {
  it('fills every default when the sections are absent', () => {
    const r = resolveTrainingSpec({ name: 'cards' });
    expect(r.modelName).toBe('cards');
    expect(r.model).toEqual({
      type: 'mlp',
      hidden: [64, 32],
      activation: 'relu',
      dropout: 0,
      batchNorm: false,
      l2: 0,
    });
    expect(r.training.epochs).toBe(20);
    expect(r.training.batchSize).toBe(256);
    expect(r.training.accumulationSteps).toBe(1);
    expect(r.training.optimizer).toEqual({
      type: 'adam',
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
    });
    expect(r.training.classWeights).toBe('none');
    expect(r.training.sampling.strategy).toBe('none');
    expect(r.training.earlyStopping).toEqual({
      enabled: true,
      metric: 'auto',
      patience: 5,
      minDelta: 0,
      restoreBest: true,
    });
    expect(r.training.seed).toBe(42);
    expect(r.training.backend).toBe('auto');
  });

  it('takes the model name, optimizer defaults per type and a nested schedule', () => {
    const r = resolveTrainingSpec({
      name: 'cards',
      model: { name: 'fraud-mlp', hidden: [128], batchNorm: true, dropout: 0.2 },
      training: {
        optimizer: { type: 'adamw', learningRate: 3e-3 },
        schedule: {
          type: 'linearWarmup',
          steps: 1,
          then: { type: 'cosineWarmRestarts', lr: 3e-3, t0: 2, tMult: 2 },
        },
        sampling: { target: { '0': 0.7, '1': 0.3 }, adjustEvery: 20 },
        classWeights: 'balanced',
      },
    });
    expect(r.modelName).toBe('fraud-mlp');
    expect(r.model.hidden).toEqual([128]);
    expect(r.training.optimizer).toEqual({
      type: 'adamw',
      learningRate: 3e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      weightDecay: 0.01,
    });
    expect(r.training.sampling).toEqual({
      strategy: 'dynamic',
      target: { '0': 0.7, '1': 0.3 },
      adjustEvery: 20,
      strength: 1,
      validationRows: 20_000,
    });
    expect(r.training.schedule).toMatchObject({ type: 'linearWarmup', then: { t0: 2, tMult: 2 } });
  });

  it('names every bad path in one error', () => {
    let error: unknown;
    try {
      resolveTrainingSpec({
        name: 'cards',
        model: { type: 'transformer', dropout: 1.5 },
        training: {
          optimizer: { type: 'sgd', momentum: 2 },
          schedule: {
            type: 'sequential',
            schedules: [
              { type: 'constant', lr: 1 },
              { type: 'constant', lr: 0.1 },
            ],
            milestones: [],
          },
          extra: true,
        },
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TrainingSpecError);
    const paths = (error as TrainingSpecError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        'model.type',
        'model.dropout',
        'training.optimizer.momentum',
        'training',
      ]),
    );
  });

  it('checks sequential milestones against the schedules', () => {
    expect(() =>
      resolveTrainingSpec({
        name: 'cards',
        training: {
          schedule: {
            type: 'sequential',
            schedules: [
              { type: 'constant', lr: 1e-3 },
              { type: 'constant', lr: 1e-4 },
            ],
            milestones: [],
          },
        },
      }),
    ).toThrow(/milestone fewer/);
  });
});
