import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { bytes, logLevel, port } from '@mlops/config';

export const IngestionEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3001),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    INGEST_MAX_BODY_BYTES: bytes(5 * 1024 * 1024),
    INGEST_MAX_ROWS: z.coerce.number().int().positive().max(1_000_000).default(10_000),
  }),
);
export type IngestionConfig = z.output<typeof IngestionEnv>;
export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');
