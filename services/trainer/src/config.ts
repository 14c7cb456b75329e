import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { logLevel, port } from '@mlops/config';

export const TRAINER_BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

export const TrainerEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3004),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** The model registry: the training matrix is read from it, the model and report go to it. */
    REGISTRY_URL: z.string().url().default('http://127.0.0.1:3006'),
    REGISTRY_API_KEY: z.string().min(1).optional(),
    /** Training jobs run at the same time at most (one worker thread each). */
    TRAINER_CONCURRENCY: z.coerce.number().int().positive().max(64).default(1),
    /**
     * Runs of one job at most: a job still `running` when the trainer (re)starts was interrupted
     * and runs again while it has attempts left, else fails with code `interrupted`.
     */
    TRAINER_MAX_ATTEMPTS: z.coerce.number().int().positive().max(100).default(2),
    /** A run longer than this is stopped (its worker terminated) and fails with code `timeout`. */
    TRAINER_JOB_TIMEOUT_SECONDS: z.coerce.number().positive().max(2_000_000).default(3600),
    /** The tfjs backend of every job, over the spec's `training.backend`. */
    TRAINER_BACKEND: z.enum(TRAINER_BACKENDS).optional(),
  }),
);
export type TrainerConfig = z.output<typeof TrainerEnv>;
export const TRAINER_CONFIG = Symbol('TRAINER_CONFIG');
