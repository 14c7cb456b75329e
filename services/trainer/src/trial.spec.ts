import { describe, expect, it } from 'vitest';
import { DatasetSpec } from '@mlops/contracts';
import { cardsSpec } from '@mlops/datagen';
import { trialJobId, withOverrides } from './trial';

describe('trials', () => {
  const spec = DatasetSpec.parse({
    ...cardsSpec(),
    model: { hidden: [64, 32], dropout: 0.2 },
    training: { epochs: 30, optimizer: { type: 'sgd' } },
  });

  it('replace the spec’s model and training keys they name and keep the others', () => {
    const s = withOverrides(spec, {
      model: { hidden: [8] },
      training: { optimizer: { type: 'adamw', learningRate: 0.01 } },
    });
    expect(s.model).toEqual({ hidden: [8], dropout: 0.2 });
    expect(s.training).toEqual({ epochs: 30, optimizer: { type: 'adamw', learningRate: 0.01 } });
    expect(s.fields).toBe(spec.fields);
    expect(withOverrides(spec, {})).toEqual(spec);
  });

  it('get a job id from their name, else from their input and overrides', () => {
    expect(trialJobId('a', 'r1', '{}')).toBe(trialJobId('a', 'r2', '{"x":1}'));
    expect(trialJobId('a', 'r1', '{}')).not.toBe(trialJobId('b', 'r1', '{}'));
    expect(trialJobId(undefined, 'r1', '{}')).not.toBe(trialJobId(undefined, 'r1', '{"m":1}'));
    expect(trialJobId(undefined, 'r1', '{}')).toMatch(/^trial-[a-f0-9]{16}$/);
  });
});
