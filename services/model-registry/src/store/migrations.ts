/**
 * The registry's schema, as an ordered list of migrations with the SQL of each dialect. A
 * migration is never edited once released: changes are new entries at the end. Both adapters
 * apply the pending ones in one transaction and record them in `schema_migrations`; PostgreSQL
 * first takes {@link MIGRATION_LOCK} so that instances starting together do not race (SQLite's
 * BEGIN IMMEDIATE does the same for it).
 *
 * Dialect differences, kept deliberately small so that one set of queries serves both:
 * - JSON is TEXT in SQLite and JSONB in PostgreSQL (both are written as JSON text).
 * - Times are epoch milliseconds (INTEGER / BIGINT).
 * - Names are compared and sorted bytewise: SQLite's default BINARY collation, `COLLATE "C"` on
 *   PostgreSQL, so ordering and LIKE behave alike whatever the database's locale.
 * - SQLite tables are STRICT, so a wrongly typed value is an error rather than stored as-is.
 *
 * Foreign keys: versions → model; version tags and aliases → version (ON UPDATE CASCADE, so a
 * rename re-points them by updating the versions). Aliases are not cascaded on delete: the store
 * removes them itself, because every removal must append to the alias history and the outbox.
 * Alias history, dataset specs, the outbox and the audit log have no foreign keys: they outlive
 * what they describe.
 */

export interface Migration {
  /** 1, 2, 3… in order; the key in `schema_migrations`. */
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
}

/** Advisory lock key prefix; the schema name is appended so that schemas migrate independently. */
export const MIGRATION_LOCK = 'mlops.model-registry.migrations';

export const SCHEMA_MIGRATIONS_DDL = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`,
} as const;

const initialSqlite = `
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  latest_version INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE model_tags (
  model TEXT NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model, key)
) STRICT;

CREATE TABLE model_versions (
  model TEXT NOT NULL REFERENCES registered_models (name),
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  params TEXT NOT NULL,
  metrics TEXT NOT NULL,
  artifact_uri TEXT,
  artifact_size INTEGER,
  artifact_sha256 TEXT,
  artifact_format TEXT,
  parent_version INTEGER,
  variant TEXT,
  dataset TEXT,
  dataset_spec_version INTEGER,
  featureset_version TEXT,
  trained_on TEXT NOT NULL,
  creator TEXT NOT NULL,
  source_job TEXT,
  run_id TEXT,
  idempotency_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (model, version),
  CONSTRAINT model_versions_idempotency_key UNIQUE (idempotency_key)
) STRICT;
CREATE INDEX model_versions_run_id ON model_versions (run_id);

CREATE TABLE version_tags (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model, version, key),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
    ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;

CREATE TABLE model_aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version) ON UPDATE CASCADE
) STRICT;
CREATE INDEX model_aliases_version ON model_aliases (model, version);

CREATE TABLE alias_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL
) STRICT;
CREATE INDEX alias_history_model ON alias_history (model, alias, id);

-- What an alias change made with an idempotency key (a decision event's id) did, so that a
-- redelivered decision returns it instead of moving the alias again.
CREATE TABLE alias_change_keys (
  idempotency_key TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  aliases TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  at INTEGER NOT NULL
) STRICT;

CREATE TABLE dataset_specs (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;

-- AUTOINCREMENT: an id is never reused, even after the newest rows are pruned, because the
-- relay publishes it as the lifecycle event's sequence.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  payload TEXT NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  published_at INTEGER
) STRICT;
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_target ON audit_log (target, id);
`;

const initialPostgres = `
CREATE TABLE registered_models (
  name TEXT COLLATE "C" PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  latest_version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE model_tags (
  model TEXT COLLATE "C" NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model, key)
);

CREATE TABLE model_versions (
  model TEXT COLLATE "C" NOT NULL REFERENCES registered_models (name),
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  params JSONB NOT NULL,
  metrics JSONB NOT NULL,
  artifact_uri TEXT,
  artifact_size BIGINT,
  artifact_sha256 TEXT,
  artifact_format TEXT,
  parent_version INTEGER,
  variant TEXT,
  dataset TEXT,
  dataset_spec_version INTEGER,
  featureset_version TEXT,
  trained_on JSONB NOT NULL,
  creator TEXT NOT NULL,
  source_job TEXT,
  run_id TEXT,
  idempotency_key TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (model, version),
  CONSTRAINT model_versions_idempotency_key UNIQUE (idempotency_key)
);
CREATE INDEX model_versions_run_id ON model_versions (run_id);

CREATE TABLE version_tags (
  model TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model, version, key),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE model_aliases (
  model TEXT COLLATE "C" NOT NULL,
  alias TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version) ON UPDATE CASCADE
);
CREATE INDEX model_aliases_version ON model_aliases (model, version);

CREATE TABLE alias_history (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model TEXT COLLATE "C" NOT NULL,
  alias TEXT COLLATE "C" NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX alias_history_model ON alias_history (model, alias, id);

CREATE TABLE alias_change_keys (
  idempotency_key TEXT PRIMARY KEY,
  model TEXT COLLATE "C" NOT NULL,
  alias TEXT COLLATE "C" NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  aliases JSONB NOT NULL,
  sequence BIGINT NOT NULL,
  at BIGINT NOT NULL
);

CREATE TABLE dataset_specs (
  name TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  spec JSONB NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  payload JSONB NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  published_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE audit_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT COLLATE "C" NOT NULL,
  details JSONB NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target, id);
`;

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'initial', sqlite: initialSqlite, postgres: initialPostgres },
]);

/** The migrations not yet in `applied`, in order. */
export function pendingMigrations(applied: Iterable<number>): Migration[] {
  const done = new Set(applied);
  return MIGRATIONS.filter((m) => !done.has(m.version));
}
