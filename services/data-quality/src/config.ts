import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { logLevel, port } from '@mlops/config';

export const DataQualityEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3002),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** Records per handler call (one transaction) at most. */
    DQ_MAX_BATCH: z.coerce.number().int().positive().max(100_000).default(2_000),
    /**
     * A partition's state is snapshotted into the changelog after this many records, or after
     * DQ_SNAPSHOT_INTERVAL_MS; a restore replays at most that much input.
     */
    DQ_SNAPSHOT_EVERY: z.coerce.number().int().positive().default(50_000),
    DQ_SNAPSHOT_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  }),
);
export type DataQualityConfig = z.output<typeof DataQualityEnv>;
export const DQ_CONFIG = Symbol('DQ_CONFIG');
