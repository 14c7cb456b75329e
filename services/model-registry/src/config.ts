import { z } from 'zod';
import { AuthEnv } from '@mlops/auth';
import { BusEnv } from '@mlops/bus';
import { bool, bytes, logLevel, port } from '@mlops/config';

export const RegistryEnv = BusEnv.and(AuthEnv).and(
  z.object({
    PORT: port(3006),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: logLevel,
    /** PostgreSQL when set (postgres://…); else SQLite at REGISTRY_SQLITE_PATH. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    REGISTRY_SQLITE_PATH: z.string().min(1).default('data/registry/registry.sqlite'),
    ARTIFACT_DIR: z.string().min(1).default('data/registry/artifacts'),
    ARTIFACT_MAX_BYTES: bytes(1024 * 1024 * 1024),
    /** JSON bodies of the REST APIs. */
    REGISTRY_MAX_JSON_BYTES: bytes(1024 * 1024),
    OUTBOX_POLL_MS: z.coerce.number().int().positive().default(250),
    /** Off only to exercise recovery: writes then stay in the outbox. */
    OUTBOX_RELAY: bool(true),
  }),
);
export type RegistryConfig = z.output<typeof RegistryEnv>;
export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');
export const REGISTRY_STORE = Symbol('REGISTRY_STORE');
export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
