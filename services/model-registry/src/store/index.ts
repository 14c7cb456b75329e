import { PostgresRegistryStore } from './postgres-store';
import type { RegistryStore } from './registry-store';
import { SqliteRegistryStore } from './sqlite-store';

export * from './registry-store';
export { MIGRATIONS, type Migration } from './migrations';
export { PostgresRegistryStore, type PostgresStoreOptions } from './postgres-store';
export { SqliteRegistryStore, type SqliteStoreOptions } from './sqlite-store';
export { DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT } from './sql-registry-store';

/** Where the embedded database lives when nothing else is configured (git-ignored `data/`). */
export const DEFAULT_SQLITE_PATH = 'data/model-registry.db';

export interface StoreConfig {
  /** `postgres://` or `postgresql://`: use PostgreSQL. */
  databaseUrl?: string;
  /** The SQLite file (or `:memory:`) when no database URL is given. */
  sqlitePath?: string;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * PostgreSQL when `databaseUrl` is a postgres URL, else SQLite at `sqlitePath`. Any other
 * non-empty URL is refused rather than silently falling back to a local file. The caller runs
 * `migrate()` before use.
 */
export function createStore(config: StoreConfig): RegistryStore {
  const url = config.databaseUrl?.trim();
  if (url) {
    if (!POSTGRES_URL.test(url)) {
      throw new Error(
        'DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for SQLite)',
      );
    }
    return new PostgresRegistryStore({ connectionString: url });
  }
  return new SqliteRegistryStore({ path: config.sqlitePath ?? DEFAULT_SQLITE_PATH });
}
