import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@mlops/config';
import { TrainerEnv } from './config';

describe('trainer config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig('trainer', TrainerEnv, {});
    expect(c).toMatchObject({
      PORT: 3004,
      REGISTRY_URL: 'http://127.0.0.1:3006',
      TRAINER_CONCURRENCY: 1,
      TRAINER_MAX_ATTEMPTS: 2,
      TRAINER_JOB_TIMEOUT_SECONDS: 3600,
    });
    expect(c.TRAINER_BACKEND).toBeUndefined();
    expect(c.REGISTRY_API_KEY).toBeUndefined();
  });

  it('reads the trainer settings and refuses bad ones by name', () => {
    const c = loadConfig('trainer', TrainerEnv, {
      TRAINER_CONCURRENCY: '3',
      TRAINER_BACKEND: 'wasm',
      TRAINER_JOB_TIMEOUT_SECONDS: '90',
    });
    expect(c).toMatchObject({
      TRAINER_CONCURRENCY: 3,
      TRAINER_BACKEND: 'wasm',
      TRAINER_JOB_TIMEOUT_SECONDS: 90,
    });
    expect(() => loadConfig('trainer', TrainerEnv, { TRAINER_BACKEND: 'gpu' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig('trainer', TrainerEnv, { TRAINER_CONCURRENCY: '0' })).toThrow(
      /TRAINER_CONCURRENCY/,
    );
  });
});
