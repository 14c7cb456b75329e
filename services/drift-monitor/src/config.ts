import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { bool, logLevel, port } from '@mlops/config';

export const DriftMonitorEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3008),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** Where versions and their training reports (the drift reference) are read. */
    REGISTRY_URL: z.string().url().default('http://127.0.0.1:3006'),
    REGISTRY_API_KEY: z.string().min(1).optional(),
    /** The monitor's state is written to its changelog at least this often while it changes. */
    DRIFT_SNAPSHOT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
    /** Predictions (and early labels) waiting for their join, at most; the oldest go first. */
    DRIFT_MAX_PENDING: z.coerce.number().int().min(100).max(10_000_000).default(200_000),
    /** Reports kept per model version for the REST API (the latest also survives restarts). */
    DRIFT_REPORTS_KEPT: z.coerce.number().int().min(1).max(1000).default(20),
    /**
     * Judge feature drift on features.v1 (every vector of a dataset counts for its models'
     * production versions) instead of on the features the predictions carry: for predictions
     * logged with `serving.predictionLog.features` summary or none, or sampled.
     */
    DRIFT_CONSUME_FEATURES: bool(false),
    /** Events per handler call. */
    DRIFT_MAX_BATCH: z.coerce.number().int().min(1).max(100_000).default(2000),
  }),
);
export type DriftMonitorConfig = z.output<typeof DriftMonitorEnv>;
export const DRIFT_CONFIG = Symbol('DRIFT_CONFIG');
