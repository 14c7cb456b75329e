import { z } from 'zod';
import { BusEnv } from '@mlops/bus';
import { logLevel, port } from '@mlops/config';

export const FeatureEnv = BusEnv.and(
  z.object({
    PORT: port(3003),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
  }),
);
export type FeatureConfig = z.output<typeof FeatureEnv>;
