import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { logLevel, port } from '@mlops/config';

export const FeatureEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3003),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** The model registry, where featuresets and training matrices are stored as artifacts. */
    REGISTRY_URL: z.string().url().default('http://127.0.0.1:3006'),
    REGISTRY_API_KEY: z.string().min(1).optional(),
    /** Online store: Redis when set, else in-process (bounded by FEATURE_ONLINE_CAPACITY). */
    REDIS_URL: z.string().url().optional(),
    FEATURE_ONLINE_TTL_SECONDS: z.coerce.number().int().positive().optional(),
    FEATURE_ONLINE_CAPACITY: z.coerce.number().int().positive().default(1_000_000),
    /** A training request over more records than this is refused (dead-lettered). */
    FEATURE_MAX_FIT_RECORDS: z.coerce.number().int().positive().default(2_000_000),
  }),
);
export type FeatureConfig = z.output<typeof FeatureEnv>;
export const FEATURE_CONFIG = Symbol('FEATURE_CONFIG');
