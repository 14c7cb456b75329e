import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { MIGRATION_LOCK, SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations';
import {
  runWork,
  SqlRegistryStore,
  type Row,
  type SqlDialect,
  type SqlValue,
  type Statement,
  type Work,
} from './sql-registry-store';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /**
   * Schema for every table (sets `search_path` on each connection); it must exist. Default:
   * the server's search_path (normally `public`).
   */
  schema?: string;
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** Clock for every stored time (tests pin it). */
  now?: () => number;
  /** Errors of idle pooled connections (e.g. a server restart); the pool drops the client. */
  onPoolError?: (err: Error) => void;
  /** Any other `pg` pool settings. */
  pool?: Omit<PoolConfig, 'connectionString' | 'max' | 'options'>;
}

/** serialization_failure and deadlock_detected: the database asks for the transaction again. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

interface PgError {
  code?: string;
  constraint?: string;
}

/**
 * Retried: serialisation failures and deadlocks; and a clash on an idempotency key, which only
 * two concurrent calls with one key for two different models can cause (their model locks
 * differ): on the retry the key is found and reported.
 */
function retryable(err: unknown): boolean {
  const { code, constraint } = (err ?? {}) as PgError;
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  return (
    code === '23505' &&
    (constraint === 'model_versions_idempotency_key' || constraint === 'alias_change_keys_pkey')
  );
}

const postgresDialect: SqlDialect = {
  lockRow: ' FOR UPDATE',
  lockKey: (key) => ({
    sql: "SELECT pg_advisory_xact_lock(hashtext(?::text || ':' || coalesce(current_schema(), '')))",
    params: [key],
  }),
  like: (column, pattern, caseInsensitive) => ({
    sql: `${column} ${caseInsensitive ? 'ILIKE' : 'LIKE'} ?`,
    params: [pattern],
  }),
};

/** `?` placeholders (the queries are shared with SQLite) → `$1, $2…`. No query has a literal `?`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The PostgreSQL adapter (`pg` pool). Each write is one READ COMMITTED transaction on one pooled
 * client. Writers of a model queue on its row (`SELECT … FOR UPDATE` first, then `UPDATE
 * registered_models SET latest_version = latest_version + 1 … RETURNING` for a new version), so
 * version numbers have no gap and no duplicate, alias moves apply one after another, and the
 * outbox ids of one model follow commit order. Spec creation per name is serialised by a
 * transaction-scoped advisory lock. Reads run in a REPEATABLE READ, READ ONLY transaction, so a
 * model and its tags come from one snapshot.
 */
export class PostgresRegistryStore extends SqlRegistryStore {
  readonly dialect = 'postgres' as const;
  protected readonly sql = postgresDialect;
  private readonly pool: Pool;
  private readonly numberedSql = new Map<string, string>();
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    super(options.now);
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
      throw new Error(`Invalid schema name '${options.schema}'`);
    }
    this.pool = new Pool({
      connectionTimeoutMillis: 10_000,
      ...options.pool,
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // Without a listener an idle client's error would be thrown as an uncaught 'error' event.
    this.pool.on('error', (err) => options.onPoolError?.(err));
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // Instances starting together queue here; the second finds the migrations applied.
      await client.query(
        "SELECT pg_advisory_xact_lock(hashtext($1::text || ':' || coalesce(current_schema(), '')))",
        [MIGRATION_LOCK],
      );
      await client.query(SCHEMA_MIGRATIONS_DDL.postgres);
      const { rows } = await client.query<{ version: number }>(
        'SELECT version FROM schema_migrations',
      );
      for (const migration of pendingMigrations(rows.map((r) => r.version))) {
        await client.query(migration.postgres);
        await client.query(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
          [migration.version, migration.name, this.now()],
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      broken = await this.rollback(client);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Versions recorded in `schema_migrations` (for tests and health checks). */
  async appliedMigrations(): Promise<number[]> {
    const { rows } = await this.pool.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    return rows.map((r) => r.version);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  protected async write<T>(work: () => Work<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.transaction('BEGIN', work);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !retryable(err)) throw err;
        // Jittered exponential backoff, so the retried transactions do not collide again.
        await sleep(Math.random() * 10 * 2 ** attempt);
      }
    }
  }

  protected read<T>(work: () => Work<T>, options?: { snapshot: boolean }): Promise<T> {
    if (options?.snapshot === false) {
      return runWork(
        work(),
        async (s) =>
          (await this.pool.query<Row>(this.numbered(s.sql), s.params as SqlValue[])).rows,
      );
    }
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', work);
  }

  private async transaction<T>(begin: string, work: () => Work<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await runWork(work(), (s) => this.exec(client, s));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = await this.rollback(client);
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Rolls back; returns the error when that failed too, so the client is discarded, not reused. */
  private async rollback(client: PoolClient): Promise<Error | undefined> {
    try {
      await client.query('ROLLBACK');
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private async exec(client: PoolClient, statement: Statement): Promise<Row[]> {
    const result = await client.query<Row>(
      this.numbered(statement.sql),
      statement.params as SqlValue[],
    );
    return result.rows;
  }

  private numbered(sql: string): string {
    let converted = this.numberedSql.get(sql);
    if (converted === undefined) {
      converted = numbered(sql);
      if (this.numberedSql.size >= 256) this.numberedSql.clear();
      this.numberedSql.set(sql, converted);
    }
    return converted;
  }
}
