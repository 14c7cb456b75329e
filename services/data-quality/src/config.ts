import { z } from 'zod';
import { BusEnv } from '@mlops/bus';
import { logLevel, port } from '@mlops/config';

export const DataQualityEnv = BusEnv.and(
  z.object({
    PORT: port(3002),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** Event ids remembered for exact de-duplication. */
    DQ_DEDUPE_WINDOW: z.coerce.number().int().positive().default(1_000_000),
  }),
);
export type DataQualityConfig = z.output<typeof DataQualityEnv>;
export const DQ_CONFIG = Symbol('DQ_CONFIG');
