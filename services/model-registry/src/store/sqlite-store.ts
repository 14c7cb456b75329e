import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations';
import {
  runWorkSync,
  SqlRegistryStore,
  type Row,
  type SqlDialect,
  type SqlValue,
  type Statement,
  type Work,
} from './sql-registry-store';

export interface SqliteStoreOptions {
  /** A file path (its directory is created), or `:memory:`. */
  path: string;
  /** How long a writer waits for another connection's write lock; default 10 s. */
  busyTimeoutMs?: number;
  /** Clock for every stored time (tests pin it). */
  now?: () => number;
}

/** Prepared statements kept per connection; dynamic search SQL makes the set open-ended. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * `LIKE` pattern → `GLOB` pattern. SQLite's LIKE ignores ASCII case, so the case-sensitive
 * match uses GLOB: `%` → `*`, `_` → `?`, `\x` → a literal x, and GLOB's own metacharacters are
 * escaped as one-character classes.
 */
export function likeToGlob(pattern: string): string {
  let glob = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[++i];
      glob += '*?['.includes(next) ? `[${next}]` : next;
    } else if (c === '%') glob += '*';
    else if (c === '_') glob += '?';
    else if ('*?['.includes(c)) glob += `[${c}]`;
    else glob += c;
  }
  return glob;
}

const sqliteDialect: SqlDialect = {
  lockRow: '',
  lockKey: () => null,
  like: (column, pattern, caseInsensitive) =>
    caseInsensitive
      ? { sql: `${column} LIKE ? ESCAPE '\\'`, params: [pattern] }
      : { sql: `${column} GLOB ?`, params: [likeToGlob(pattern)] },
};

/**
 * The embedded adapter (better-sqlite3, synchronous). A write runs start to finish inside
 * `BEGIN IMMEDIATE`, which takes SQLite's single write lock up front: writers on other
 * connections or processes wait (busy_timeout) instead of failing on a lock upgrade, so
 * concurrent version creations and alias moves are serialised. Within one process the
 * transaction never yields to the event loop, so calls on one store cannot interleave either.
 */
export class SqliteRegistryStore extends SqlRegistryStore {
  readonly dialect = 'sqlite' as const;
  protected readonly sql = sqliteDialect;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly transaction: Database.Transaction<(run: () => unknown) => unknown>;

  constructor(options: SqliteStoreOptions) {
    super(options.now);
    if (options.path !== ':memory:')
      mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    this.db = new Database(options.path);
    // WAL: readers never block the writer nor the writer them; one writer at a time.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
    this.db.pragma('foreign_keys = ON');
    this.transaction = this.db.transaction((run: () => unknown) => run());
  }

  async migrate(): Promise<void> {
    this.transaction.immediate(() => {
      this.db.exec(SCHEMA_MIGRATIONS_DDL.sqlite);
      const applied = this.db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => Number((r as Row).version));
      const record = this.db.prepare(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
      );
      for (const migration of pendingMigrations(applied)) {
        this.db.exec(migration.sqlite);
        record.run(migration.version, migration.name, this.now());
      }
    });
  }

  /** Versions recorded in `schema_migrations` (for tests and health checks). */
  appliedMigrations(): number[] {
    return this.db
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .all()
      .map((r) => Number((r as Row).version));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  protected async write<T>(work: () => Work<T>): Promise<T> {
    return this.transaction.immediate(() => runWorkSync(work(), (s) => this.exec(s))) as T;
  }

  protected async read<T>(work: () => Work<T>, options?: { snapshot: boolean }): Promise<T> {
    if (options?.snapshot === false) return runWorkSync(work(), (s) => this.exec(s));
    return this.transaction.deferred(() => runWorkSync(work(), (s) => this.exec(s))) as T;
  }

  private exec(statement: Statement): Row[] {
    const stmt = this.prepare(statement.sql);
    const params = statement.params as SqlValue[];
    if (stmt.reader) return stmt.all(...params) as Row[];
    stmt.run(...params);
    return [];
  }

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}
