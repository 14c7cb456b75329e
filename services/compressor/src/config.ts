import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { logLevel, port } from '@mlops/config';

export const CompressorEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3005),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** Where the parent model, its report, weights and data are read, and the variants stored. */
    REGISTRY_URL: z.string().url().default('http://127.0.0.1:3006'),
    REGISTRY_API_KEY: z.string().min(1).optional(),
    /** A compression job longer than this is stopped (its worker terminated) and fails. */
    COMPRESSOR_JOB_TIMEOUT_SECONDS: z.coerce.number().positive().max(2_000_000).default(3600),
    /** How long to wait for the registry to register a trained event's version. */
    COMPRESSOR_PARENT_WAIT_SECONDS: z.coerce.number().positive().max(3600).default(60),
    /** Jobs finished or failed kept for GET /v1/compressions. */
    COMPRESSOR_HISTORY: z.coerce.number().int().positive().max(100_000).default(1000),
  }),
);
export type CompressorConfig = z.output<typeof CompressorEnv>;
export const COMPRESSOR_CONFIG = Symbol('COMPRESSOR_CONFIG');
