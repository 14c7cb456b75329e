import { randomUUID } from 'node:crypto';
import {
  ALIAS_NAME,
  DatasetSpec,
  type DatasetSpecInput,
  MODEL_NAME,
  type ModelLifecycleEvent,
  type OffsetRange,
  type TopicKey,
} from '@mlops/contracts';
import { z } from 'zod';
import {
  AlreadyExistsError,
  InvalidError,
  NotFoundError,
  type Actor,
  type AliasChange,
  type AliasHistoryEntry,
  type AuditEntry,
  type DatasetSpecRecord,
  type ListOptions,
  type ModelQuery,
  type ModelVersion,
  type NewVersion,
  type OutboxRecord,
  type Page,
  type RegisteredModel,
  type RegistryStore,
  type StoredArtifact,
  type VersionQuery,
  type VersionStatus,
} from './registry-store';

/** What a statement binds: both drivers accept these (better-sqlite3 refuses booleans). */
export type SqlValue = string | number | null;

export interface Statement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export type Row = Record<string, unknown>;

/**
 * A unit of database work, written once for both dialects: a generator that yields statements
 * and receives their rows. better-sqlite3's transactions must not await, so the SQLite adapter
 * drives it synchronously inside `db.transaction(...).immediate()`; the PostgreSQL adapter
 * drives it with `await` on one pooled client between BEGIN and COMMIT. The behaviour is thus
 * the same code on both, and only the drivers and a few dialect hooks differ.
 */
export type Work<T> = Generator<Statement, T, Row[]>;

/** Runs a statement inside a {@link Work}: `const rows = yield* query(sql, a, b)`. */
export function* query(sql: string, ...params: SqlValue[]): Work<Row[]> {
  return yield { sql, params };
}

function* queryOne(sql: string, ...params: SqlValue[]): Work<Row | undefined> {
  const rows = yield { sql, params };
  return rows[0];
}

export function runWorkSync<T>(work: Work<T>, exec: (statement: Statement) => Row[]): T {
  let step = work.next();
  while (!step.done) step = work.next(exec(step.value));
  return step.value;
}

export async function runWork<T>(
  work: Work<T>,
  exec: (statement: Statement) => Promise<Row[]>,
): Promise<T> {
  let step = work.next();
  while (!step.done) step = work.next(await exec(step.value));
  return step.value;
}

/** The few places where SQLite and PostgreSQL need different SQL. */
export interface SqlDialect {
  /**
   * Appended to the SELECT that reads a model row before changing anything of that model.
   * PostgreSQL: ` FOR UPDATE`, so writers of one model queue on its row. SQLite: nothing, as
   * BEGIN IMMEDIATE already holds the database's single write lock.
   */
  readonly lockRow: string;
  /**
   * A statement that serialises the transactions that take `key`, until they end; null where
   * every write transaction is serialised anyway (SQLite).
   */
  lockKey(key: string): Statement | null;
  /** `column` LIKE `pattern` (`%`, `_`, `\` escapes), case-sensitive or not. */
  like(
    column: string,
    pattern: string,
    caseInsensitive: boolean,
  ): { sql: string; params: SqlValue[] };
}

export const DEFAULT_MAX_RESULTS = 100;
export const MAX_RESULTS_LIMIT = 1000;
const TAG_KEY_MAX = 250;
const TAG_VALUE_MAX = 5000;
/** MLflow reserves these: `models:/name@latest` and `@v3` would be ambiguous. */
const RESERVED_ALIAS = /^(latest|v\d+)$/;
const STATUSES: readonly VersionStatus[] = ['PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION'];

const MODEL_COLUMNS = 'name, description, created_at, updated_at, latest_version';
const VERSION_COLUMNS = `model, version, status, description, params, metrics, artifact_uri,
  artifact_size, artifact_sha256, artifact_format, parent_version, variant, dataset,
  dataset_spec_version, featureset_version, trained_on, creator, source_job, run_id, created_at,
  updated_at`;
const OUTBOX_COLUMNS = 'id, topic, key, payload, event_id, created_at, published_at';

type LifecyclePayload = Omit<ModelLifecycleEvent, 'sequence'>;
type ChangeKind = LifecyclePayload['change']['kind'];

const modelNotFound = (name: string) =>
  new NotFoundError(`Registered Model with name=${name} not found`);
const versionNotFound = (name: string, version: number) =>
  new NotFoundError(`Model Version (name=${name}, version=${version}) not found`);

// Row readers. PostgreSQL returns BIGINT as a string and JSONB parsed; SQLite returns numbers
// and JSON text. These accept both.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : (v as string);
function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

function toModel(row: Row, tags: Record<string, string>): RegisteredModel {
  return {
    name: str(row.name),
    description: str(row.description),
    tags,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    latestVersion: num(row.latest_version),
  };
}

function toVersion(row: Row, tags: Record<string, string>): ModelVersion {
  const artifact: StoredArtifact | null =
    row.artifact_uri === null || row.artifact_uri === undefined
      ? null
      : {
          uri: str(row.artifact_uri),
          size: num(row.artifact_size),
          sha256: str(row.artifact_sha256),
          format: str(row.artifact_format),
        };
  return {
    model: str(row.model),
    version: num(row.version),
    status: str(row.status) as VersionStatus,
    description: str(row.description),
    params: json<Record<string, unknown>>(row.params),
    metrics: json<Record<string, number>>(row.metrics),
    tags,
    artifact,
    parentVersion: numOrNull(row.parent_version),
    variant: strOrNull(row.variant),
    dataset: strOrNull(row.dataset),
    datasetSpecVersion: numOrNull(row.dataset_spec_version),
    featuresetVersion: strOrNull(row.featureset_version),
    trainedOn: json<OffsetRange[]>(row.trained_on),
    creator: str(row.creator),
    sourceJob: strOrNull(row.source_job),
    runId: strOrNull(row.run_id),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toSpec(row: Row): DatasetSpecRecord {
  return {
    name: str(row.name),
    version: num(row.version),
    spec: json<DatasetSpec>(row.spec),
    createdAt: num(row.created_at),
    createdBy: str(row.created_by),
  };
}

function toOutbox(row: Row): OutboxRecord {
  return {
    id: num(row.id),
    topic: str(row.topic) as TopicKey,
    key: str(row.key),
    payload: json<unknown>(row.payload),
    eventId: str(row.event_id),
    createdAt: num(row.created_at),
    publishedAt: numOrNull(row.published_at),
  };
}

function toHistory(row: Row): AliasHistoryEntry {
  return {
    id: num(row.id),
    model: str(row.model),
    alias: str(row.alias),
    fromVersion: numOrNull(row.from_version),
    toVersion: numOrNull(row.to_version),
    at: num(row.at),
    actor: str(row.actor),
    reason: str(row.reason),
  };
}

function toAudit(row: Row): AuditEntry {
  return {
    id: num(row.id),
    at: num(row.at),
    actor: str(row.actor),
    action: str(row.action),
    target: str(row.target),
    details: json<Record<string, unknown>>(row.details),
  };
}

// Validation of what the database cannot check by itself (or should not be the one to refuse).

const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

function checkModelName(name: string): void {
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
    throw new InvalidError(
      `Invalid model name '${String(name)}': letters, digits, '.', '_' or '-', starting with a letter or digit, 128 at most`,
    );
  }
}

function checkVersionNumber(version: number): void {
  if (!isPositiveInt(version))
    throw new InvalidError(`Invalid version '${String(version)}': a positive integer`);
}

function checkAlias(alias: string): void {
  if (typeof alias !== 'string' || !ALIAS_NAME.test(alias)) {
    throw new InvalidError(
      `Invalid alias '${String(alias)}': lower case letters, digits, '_' or '-', starting with a letter, 64 at most`,
    );
  }
  if (RESERVED_ALIAS.test(alias)) {
    throw new InvalidError(`Invalid alias '${alias}': 'latest' and 'v<number>' are reserved`);
  }
}

function checkTag(key: string, value: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > TAG_KEY_MAX) {
    throw new InvalidError(`Invalid tag key '${String(key)}': 1 to ${TAG_KEY_MAX} characters`);
  }
  if (typeof value !== 'string' || value.length > TAG_VALUE_MAX) {
    throw new InvalidError(
      `Invalid value for tag '${key}': a string of ${TAG_VALUE_MAX} characters at most`,
    );
  }
}

function checkTags(tags: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(tags ?? {})) checkTag(key, value);
}

function checkStatus(status: VersionStatus): void {
  if (!STATUSES.includes(status)) {
    throw new InvalidError(`Invalid status '${String(status)}': one of ${STATUSES.join(', ')}`);
  }
}

function checkArtifact(artifact: StoredArtifact): void {
  const ok =
    typeof artifact.uri === 'string' &&
    artifact.uri.length > 0 &&
    Number.isSafeInteger(artifact.size) &&
    artifact.size >= 0 &&
    typeof artifact.sha256 === 'string' &&
    typeof artifact.format === 'string';
  if (!ok)
    throw new InvalidError('Invalid artifact: uri, a non-negative integer size, sha256 and format');
}

function checkNewVersion(input: NewVersion): void {
  if (input.status !== undefined) checkStatus(input.status);
  for (const [field, value] of [
    ['parentVersion', input.parentVersion],
    ['datasetSpecVersion', input.datasetSpecVersion],
  ] as const) {
    if (value !== undefined && value !== null && !isPositiveInt(value)) {
      throw new InvalidError(`Invalid ${field} '${String(value)}': a positive integer`);
    }
  }
  for (const [name, value] of Object.entries(input.metrics ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidError(`Invalid metric '${name}': a finite number`);
    }
  }
  if (input.trainedOn !== undefined && !Array.isArray(input.trainedOn)) {
    throw new InvalidError('Invalid trainedOn: a list of offset ranges');
  }
  if (input.artifact) checkArtifact(input.artifact);
  checkTags(input.tags);
}

function pageWindow(options: ListOptions): { limit: number; offset: number } {
  const limit = options.maxResults ?? DEFAULT_MAX_RESULTS;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidError(
      `Invalid value for max_results: a positive integer, got ${String(limit)}`,
    );
  }
  if (limit > MAX_RESULTS_LIMIT) {
    throw new InvalidError(
      `Invalid value for request parameter max_results. It must be at most ${MAX_RESULTS_LIMIT}, but got value ${limit}`,
    );
  }
  return { limit, offset: options.pageToken ? decodePageToken(options.pageToken) : 0 };
}

/** Page tokens are opaque to callers: base64url of `{"offset": n}`. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodePageToken(token: string): number {
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown })
      .offset;
  } catch {
    offset = undefined;
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new InvalidError(`Invalid page token '${token}'`);
  }
  return offset as number;
}

type Direction = 'asc' | 'desc';

/**
 * ORDER BY from the requested fields, then the tie-breakers not already named, so that pages
 * never overlap or skip. `columns` is the whitelist: nothing else reaches the SQL text.
 */
function orderBy<F extends string>(
  requested: readonly { field: F; direction: Direction }[] | undefined,
  columns: Record<F, string>,
  tieBreakers: readonly [F, Direction][],
): string {
  const terms: [string, Direction][] = [];
  for (const { field, direction } of requested ?? []) {
    if (!Object.hasOwn(columns, field)) {
      throw new InvalidError(
        `Invalid order_by field '${String(field)}': one of ${Object.keys(columns).join(', ')}`,
      );
    }
    if (direction !== 'asc' && direction !== 'desc') {
      throw new InvalidError(`Invalid order_by direction '${String(direction)}': asc or desc`);
    }
    if (!terms.some(([column]) => column === columns[field]))
      terms.push([columns[field], direction]);
  }
  for (const [field, direction] of tieBreakers) {
    if (!terms.some(([column]) => column === columns[field]))
      terms.push([columns[field], direction]);
  }
  return terms.map(([column, direction]) => `${column} ${direction.toUpperCase()}`).join(', ');
}

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * Everything of {@link RegistryStore} that is the same on both databases, which is all of the
 * behaviour. Subclasses provide the drivers (`write`, `read`), the dialect hooks and migrations.
 *
 * Concurrency rule: every write that concerns a model first reads the model row with
 * `dialect.lockRow`, before reading anything else of that model. On PostgreSQL that row lock
 * serialises the model's writers (version numbers and alias moves follow commit order), and
 * a lock taken at the first outbox insert keeps outbox ids in commit order (see `enqueue`);
 * on SQLite the immediate transaction serialises all writers.
 */
export abstract class SqlRegistryStore implements RegistryStore {
  abstract readonly dialect: 'sqlite' | 'postgres';
  protected abstract readonly sql: SqlDialect;
  protected readonly now: () => number;

  protected constructor(now: (() => number) | undefined) {
    this.now = now ?? Date.now;
  }

  /** Runs `work` in one write transaction (retried by the adapter where the database asks). */
  protected abstract write<T>(work: () => Work<T>): Promise<T>;
  /**
   * Runs read-only `work` on one consistent snapshot; `snapshot: false` for a single statement,
   * which needs no transaction around it.
   */
  protected abstract read<T>(work: () => Work<T>, options?: { snapshot: boolean }): Promise<T>;
  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;

  // ---------------------------------------------------------------- registered models

  async createModel(
    input: { name: string; description?: string; tags?: Record<string, string> },
    actor: Actor,
  ): Promise<RegisteredModel> {
    checkModelName(input.name);
    checkTags(input.tags);
    return this.write(() => this.createModelWork(input, actor));
  }

  private *createModelWork(
    input: { name: string; description?: string; tags?: Record<string, string> },
    actor: Actor,
  ): Work<RegisteredModel> {
    const at = this.now();
    const inserted = yield* queryOne(
      `INSERT INTO registered_models (name, description, created_at, updated_at, latest_version)
       VALUES (?, ?, ?, ?, 0) ON CONFLICT (name) DO NOTHING RETURNING name`,
      input.name,
      input.description ?? '',
      at,
      at,
    );
    if (!inserted)
      throw new AlreadyExistsError(`Registered Model (name=${input.name}) already exists.`);
    for (const [key, value] of Object.entries(input.tags ?? {})) {
      yield* query(
        'INSERT INTO model_tags (model, key, value) VALUES (?, ?, ?)',
        input.name,
        key,
        value,
      );
    }
    yield* this.recordAudit(at, actor, 'model.create', `model:${input.name}`, {
      description: input.description ?? '',
      tags: input.tags ?? {},
    });
    return yield* this.loadModel(input.name);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return this.read(() => this.loadModel(name));
  }

  async searchModels(q: ModelQuery): Promise<Page<RegisteredModel>> {
    const { limit, offset } = pageWindow(q);
    const order = orderBy(
      q.orderBy,
      { name: 'm.name', createdAt: 'm.created_at', updatedAt: 'm.updated_at' },
      [['name', 'asc']],
    );
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (q.name !== undefined) {
      where.push('m.name = ?');
      params.push(q.name);
    }
    for (const [pattern, insensitive] of [
      [q.nameLike, false],
      [q.nameILike, true],
    ] as const) {
      if (pattern === undefined) continue;
      const like = this.sql.like('m.name', pattern, insensitive);
      where.push(like.sql);
      params.push(...like.params);
    }
    for (const [key, value] of Object.entries(q.tags ?? {})) {
      where.push(
        'EXISTS (SELECT 1 FROM model_tags t WHERE t.model = m.name AND t.key = ? AND t.value = ?)',
      );
      params.push(key, value);
    }
    const sql = `SELECT ${MODEL_COLUMNS} FROM registered_models m
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${order} LIMIT ? OFFSET ?`;
    return this.read(() =>
      this.searchModelsWork(sql, [...params, limit + 1, offset], limit, offset),
    );
  }

  private *searchModelsWork(
    sql: string,
    params: SqlValue[],
    limit: number,
    offset: number,
  ): Work<Page<RegisteredModel>> {
    const rows = yield* query(sql, ...params);
    const page = rows.slice(0, limit);
    const names = page.map((r) => str(r.name));
    const tags = new Map<string, Record<string, string>>(names.map((n) => [n, {}]));
    if (names.length > 0) {
      const tagRows = yield* query(
        `SELECT model, key, value FROM model_tags WHERE model IN (${placeholders(names.length)})`,
        ...names,
      );
      for (const t of tagRows) tags.get(str(t.model))![str(t.key)] = str(t.value);
    }
    return {
      items: page.map((r) => toModel(r, tags.get(str(r.name))!)),
      nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null,
    };
  }

  async updateModel(
    name: string,
    patch: { description?: string },
    actor: Actor,
  ): Promise<RegisteredModel> {
    return this.write(() => this.updateModelWork(name, patch, actor));
  }

  private *updateModelWork(
    name: string,
    patch: { description?: string },
    actor: Actor,
  ): Work<RegisteredModel> {
    yield* this.lockModel(name);
    if (patch.description === undefined) return yield* this.loadModel(name);
    const at = this.now();
    yield* query(
      'UPDATE registered_models SET description = ?, updated_at = ? WHERE name = ?',
      patch.description,
      at,
      name,
    );
    yield* this.recordAudit(at, actor, 'model.update', `model:${name}`, { ...patch });
    return yield* this.loadModel(name);
  }

  async renameModel(name: string, newName: string, actor: Actor): Promise<RegisteredModel> {
    checkModelName(newName);
    return this.write(() => this.renameModelWork(name, newName, actor));
  }

  /**
   * A rename moves versions, tags and aliases to the new name. To consumers of the lifecycle
   * topic (keyed by model) the old name disappears and the new one gains its aliases, so that
   * is what is written: for the old name a history entry ending each alias and one
   * `model_deleted` record; for the new name a history entry and an `alias_set` record per
   * alias. History rows already written stay under the name they were written for.
   */
  private *renameModelWork(name: string, newName: string, actor: Actor): Work<RegisteredModel> {
    const old = yield* this.lockModel(name);
    if (newName === name) return yield* this.loadModel(name);
    const at = this.now();
    const inserted = yield* queryOne(
      `INSERT INTO registered_models (name, description, created_at, updated_at, latest_version)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name`,
      newName,
      str(old.description),
      num(old.created_at),
      at,
      num(old.latest_version),
    );
    if (!inserted)
      throw new AlreadyExistsError(`Registered Model (name=${newName}) already exists.`);
    const aliases = yield* this.aliasMap(name);
    yield* query('UPDATE model_tags SET model = ? WHERE model = ?', newName, name);
    // Version tags and aliases follow through ON UPDATE CASCADE.
    yield* query(
      'UPDATE model_versions SET model = ?, updated_at = ? WHERE model = ?',
      newName,
      at,
      name,
    );
    yield* query('DELETE FROM registered_models WHERE name = ?', name);

    const entries = Object.entries(aliases);
    for (const [alias, version] of entries) {
      yield* this.appendHistory(
        name,
        alias,
        version,
        null,
        at,
        actor,
        `model renamed to ${newName}`,
      );
    }
    yield* this.lifecycle(
      name,
      0,
      { kind: 'model_deleted', alias: null, from: null, to: null },
      actor,
      `model renamed to ${newName}`,
      at,
    );
    for (const [alias, version] of entries) {
      const reason = `model renamed from ${name}`;
      yield* this.appendHistory(newName, alias, null, version, at, actor, reason);
      yield* this.lifecycle(
        newName,
        num(old.latest_version),
        { kind: 'alias_set', alias, from: null, to: version },
        actor,
        reason,
        at,
      );
    }
    yield* this.recordAudit(at, actor, 'model.rename', `model:${name}`, { newName });
    return yield* this.loadModel(newName);
  }

  async deleteModel(name: string, actor: Actor): Promise<void> {
    return this.write(() => this.deleteModelWork(name, actor));
  }

  private *deleteModelWork(name: string, actor: Actor): Work<void> {
    const model = yield* this.lockModel(name);
    const at = this.now();
    const aliases = yield* this.aliasMap(name);
    for (const [alias, version] of Object.entries(aliases)) {
      yield* this.appendHistory(name, alias, version, null, at, actor, 'model deleted');
    }
    yield* query('DELETE FROM model_aliases WHERE model = ?', name);
    const deleted = yield* query(
      'DELETE FROM model_versions WHERE model = ? RETURNING version',
      name,
    );
    yield* query('DELETE FROM registered_models WHERE name = ?', name);
    // latestVersion 0: a model created again under this name starts at version 1.
    yield* this.lifecycle(
      name,
      0,
      { kind: 'model_deleted', alias: null, from: null, to: null },
      actor,
      'model deleted',
      at,
    );
    yield* this.recordAudit(at, actor, 'model.delete', `model:${name}`, {
      versions: deleted.length,
      latestVersion: num(model.latest_version),
      aliases,
    });
  }

  async setModelTag(name: string, key: string, value: string, actor: Actor): Promise<void> {
    checkTag(key, value);
    return this.write(() => this.setModelTagWork(name, key, value, actor));
  }

  private *setModelTagWork(name: string, key: string, value: string, actor: Actor): Work<void> {
    yield* this.lockModel(name);
    yield* query(
      `INSERT INTO model_tags (model, key, value) VALUES (?, ?, ?)
       ON CONFLICT (model, key) DO UPDATE SET value = excluded.value`,
      name,
      key,
      value,
    );
    yield* this.recordAudit(this.now(), actor, 'model.tag.set', `model:${name}`, { key, value });
  }

  /** Deleting a tag that is not there changes nothing (as in MLflow); the model must exist. */
  async deleteModelTag(name: string, key: string, actor: Actor): Promise<void> {
    return this.write(() => this.deleteModelTagWork(name, key, actor));
  }

  private *deleteModelTagWork(name: string, key: string, actor: Actor): Work<void> {
    yield* this.lockModel(name);
    const deleted = yield* query(
      'DELETE FROM model_tags WHERE model = ? AND key = ? RETURNING key',
      name,
      key,
    );
    if (deleted.length > 0)
      yield* this.recordAudit(this.now(), actor, 'model.tag.delete', `model:${name}`, { key });
  }

  // ---------------------------------------------------------------- versions

  async createVersion(
    input: NewVersion,
    actor: Actor,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    checkNewVersion(input);
    return this.write(() => this.createVersionWork(input, actor));
  }

  private *createVersionWork(
    input: NewVersion,
    actor: Actor,
  ): Work<{ version: ModelVersion; created: boolean }> {
    const name = input.model;
    const key = input.idempotencyKey ?? null;
    if (key !== null) {
      const replay = yield* this.replay(key, name);
      if (replay) return { version: replay, created: false };
    }
    let model = yield* queryOne(
      `SELECT ${MODEL_COLUMNS} FROM registered_models WHERE name = ?${this.sql.lockRow}`,
      name,
    );
    if (!model) {
      if (!input.createModelIfMissing) throw modelNotFound(name);
      checkModelName(name);
      const at = this.now();
      // ON CONFLICT: a concurrent creator may insert it first; then we wait for it and go on.
      const inserted = yield* queryOne(
        `INSERT INTO registered_models (name, description, created_at, updated_at, latest_version)
         VALUES (?, '', ?, ?, 0) ON CONFLICT (name) DO NOTHING RETURNING name`,
        name,
        at,
        at,
      );
      if (inserted)
        yield* this.recordAudit(at, actor, 'model.create', `model:${name}`, { implicit: true });
      model = yield* this.lockModel(name);
    }
    // Again under the model's lock: a concurrent call with the same key has committed by now.
    if (key !== null) {
      const replay = yield* this.replay(key, name);
      if (replay) return { version: replay, created: false };
    }
    const parent = input.parentVersion ?? null;
    if (parent !== null) {
      const found = yield* queryOne(
        'SELECT version FROM model_versions WHERE model = ? AND version = ?',
        name,
        parent,
      );
      if (!found)
        throw new InvalidError(`Parent version ${parent} of model ${name} does not exist`);
    }
    const at = this.now();
    const bumped = yield* queryOne(
      'UPDATE registered_models SET latest_version = latest_version + 1, updated_at = ? WHERE name = ? RETURNING latest_version',
      at,
      name,
    );
    const version = num(bumped!.latest_version);
    const artifact = input.artifact ?? null;
    yield* query(
      `INSERT INTO model_versions (${VERSION_COLUMNS}, idempotency_key)
       VALUES (${placeholders(22)})`,
      name,
      version,
      input.status ?? 'READY',
      input.description ?? '',
      JSON.stringify(input.params ?? {}),
      JSON.stringify(input.metrics ?? {}),
      artifact?.uri ?? null,
      artifact?.size ?? null,
      artifact?.sha256 ?? null,
      artifact?.format ?? null,
      parent,
      input.variant ?? null,
      input.dataset ?? null,
      input.datasetSpecVersion ?? null,
      input.featuresetVersion ?? null,
      JSON.stringify(input.trainedOn ?? []),
      actor.subject,
      input.sourceJob ?? null,
      input.runId ?? null,
      at,
      at,
      key,
    );
    for (const [tagKey, value] of Object.entries(input.tags ?? {})) {
      yield* query(
        'INSERT INTO version_tags (model, version, key, value) VALUES (?, ?, ?, ?)',
        name,
        version,
        tagKey,
        value,
      );
    }
    yield* this.lifecycle(
      name,
      version,
      { kind: 'version_created', alias: null, from: null, to: version },
      actor,
      'version created',
      at,
    );
    yield* this.recordAudit(at, actor, 'version.create', `model:${name}/v${version}`, {
      status: input.status ?? 'READY',
      parentVersion: parent,
      variant: input.variant ?? null,
      runId: input.runId ?? null,
      sourceJob: input.sourceJob ?? null,
      idempotencyKey: key,
      artifact,
    });
    return { version: yield* this.loadVersion(name, version), created: true };
  }

  /** The version an idempotency key created, if any; a key is never reused for another model. */
  private *replay(key: string, model: string): Work<ModelVersion | null> {
    const row = yield* queryOne(
      'SELECT model, version FROM model_versions WHERE idempotency_key = ?',
      key,
    );
    if (!row) return null;
    if (str(row.model) !== model) {
      throw new AlreadyExistsError(
        `Idempotency key ${key} already created version ${num(row.version)} of model ${str(row.model)}, not of ${model}`,
      );
    }
    return yield* this.loadVersion(model, num(row.version));
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    return this.read(() => this.loadVersion(model, version));
  }

  async searchVersions(q: VersionQuery): Promise<Page<ModelVersion>> {
    const { limit, offset } = pageWindow(q);
    const order = orderBy(
      q.orderBy,
      {
        name: 'v.model',
        version: 'v.version',
        createdAt: 'v.created_at',
        updatedAt: 'v.updated_at',
      },
      [
        ['name', 'asc'],
        ['version', 'desc'],
      ],
    );
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (q.model !== undefined) {
      where.push('v.model = ?');
      params.push(q.model);
    }
    if (q.nameLike !== undefined) {
      const like = this.sql.like('v.model', q.nameLike, false);
      where.push(like.sql);
      params.push(...like.params);
    }
    if (q.runId !== undefined) {
      where.push('v.run_id = ?');
      params.push(q.runId);
    }
    if (q.versions !== undefined) {
      for (const v of q.versions) checkVersionNumber(v);
      where.push(q.versions.length ? `v.version IN (${placeholders(q.versions.length)})` : '1 = 0');
      params.push(...q.versions);
    }
    for (const [key, value] of Object.entries(q.tags ?? {})) {
      where.push(
        'EXISTS (SELECT 1 FROM version_tags t WHERE t.model = v.model AND t.version = v.version AND t.key = ? AND t.value = ?)',
      );
      params.push(key, value);
    }
    const sql = `SELECT ${VERSION_COLUMNS} FROM model_versions v
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${order} LIMIT ? OFFSET ?`;
    return this.read(() =>
      this.searchVersionsWork(sql, [...params, limit + 1, offset], limit, offset),
    );
  }

  private *searchVersionsWork(
    sql: string,
    params: SqlValue[],
    limit: number,
    offset: number,
  ): Work<Page<ModelVersion>> {
    const rows = yield* query(sql, ...params);
    const page = rows.slice(0, limit);
    const id = (model: unknown, version: unknown) => `${str(model)}\u0000${num(version)}`;
    const tags = new Map<string, Record<string, string>>(
      page.map((r) => [id(r.model, r.version), {}]),
    );
    if (page.length > 0) {
      // A superset (every pair of the page's models and versions), trimmed by the map lookup.
      const models = [...new Set(page.map((r) => str(r.model)))];
      const versions = [...new Set(page.map((r) => num(r.version)))];
      const tagRows = yield* query(
        `SELECT model, version, key, value FROM version_tags
         WHERE model IN (${placeholders(models.length)}) AND version IN (${placeholders(versions.length)})`,
        ...models,
        ...versions,
      );
      for (const t of tagRows) {
        const bucket = tags.get(id(t.model, t.version));
        if (bucket) bucket[str(t.key)] = str(t.value);
      }
    }
    return {
      items: page.map((r) => toVersion(r, tags.get(id(r.model, r.version))!)),
      nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null,
    };
  }

  async updateVersion(
    model: string,
    version: number,
    patch: { description?: string; status?: VersionStatus; artifact?: StoredArtifact },
    actor: Actor,
  ): Promise<ModelVersion> {
    if (patch.status !== undefined) checkStatus(patch.status);
    if (patch.artifact !== undefined) checkArtifact(patch.artifact);
    return this.write(() => this.updateVersionWork(model, version, patch, actor));
  }

  private *updateVersionWork(
    model: string,
    version: number,
    patch: { description?: string; status?: VersionStatus; artifact?: StoredArtifact },
    actor: Actor,
  ): Work<ModelVersion> {
    yield* this.lockVersion(model, version);
    const { description, status, artifact } = patch;
    if (description === undefined && status === undefined && artifact === undefined) {
      return yield* this.loadVersion(model, version);
    }
    const at = this.now();
    const sets: string[] = ['updated_at = ?'];
    const params: SqlValue[] = [at];
    if (description !== undefined) {
      sets.push('description = ?');
      params.push(description);
    }
    if (status !== undefined) {
      sets.push('status = ?');
      params.push(status);
    }
    if (artifact !== undefined) {
      sets.push(
        'artifact_uri = ?',
        'artifact_size = ?',
        'artifact_sha256 = ?',
        'artifact_format = ?',
      );
      params.push(artifact.uri, artifact.size, artifact.sha256, artifact.format);
    }
    yield* query(
      `UPDATE model_versions SET ${sets.join(', ')} WHERE model = ? AND version = ?`,
      ...params,
      model,
      version,
    );
    yield* this.recordAudit(at, actor, 'version.update', `model:${model}/v${version}`, {
      ...patch,
    });
    return yield* this.loadVersion(model, version);
  }

  async deleteVersion(model: string, version: number, actor: Actor): Promise<void> {
    return this.write(() => this.deleteVersionWork(model, version, actor));
  }

  private *deleteVersionWork(model: string, version: number, actor: Actor): Work<void> {
    const row = yield* this.lockVersion(model, version);
    const at = this.now();
    const pointing = yield* query(
      'SELECT alias FROM model_aliases WHERE model = ? AND version = ? ORDER BY alias',
      model,
      version,
    );
    const reason = `version ${version} deleted`;
    for (const { alias } of pointing) {
      yield* query('DELETE FROM model_aliases WHERE model = ? AND alias = ?', model, str(alias));
      yield* this.appendHistory(model, str(alias), version, null, at, actor, reason);
      yield* this.lifecycle(
        model,
        num(row.latest_version),
        { kind: 'alias_deleted', alias: str(alias), from: version, to: null },
        actor,
        reason,
        at,
      );
    }
    yield* query('DELETE FROM model_versions WHERE model = ? AND version = ?', model, version);
    yield* query('UPDATE registered_models SET updated_at = ? WHERE name = ?', at, model);
    yield* this.recordAudit(at, actor, 'version.delete', `model:${model}/v${version}`, {
      removedAliases: pointing.map((r) => str(r.alias)),
    });
  }

  async setVersionTag(
    model: string,
    version: number,
    key: string,
    value: string,
    actor: Actor,
  ): Promise<void> {
    checkTag(key, value);
    return this.write(() => this.setVersionTagWork(model, version, key, value, actor));
  }

  private *setVersionTagWork(
    model: string,
    version: number,
    key: string,
    value: string,
    actor: Actor,
  ): Work<void> {
    yield* this.lockVersion(model, version);
    yield* query(
      `INSERT INTO version_tags (model, version, key, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value`,
      model,
      version,
      key,
      value,
    );
    yield* this.recordAudit(this.now(), actor, 'version.tag.set', `model:${model}/v${version}`, {
      key,
      value,
    });
  }

  /** Deleting a tag that is not there changes nothing (as in MLflow); the version must exist. */
  async deleteVersionTag(model: string, version: number, key: string, actor: Actor): Promise<void> {
    return this.write(() => this.deleteVersionTagWork(model, version, key, actor));
  }

  private *deleteVersionTagWork(
    model: string,
    version: number,
    key: string,
    actor: Actor,
  ): Work<void> {
    yield* this.lockVersion(model, version);
    const deleted = yield* query(
      'DELETE FROM version_tags WHERE model = ? AND version = ? AND key = ? RETURNING key',
      model,
      version,
      key,
    );
    if (deleted.length > 0) {
      yield* this.recordAudit(
        this.now(),
        actor,
        'version.tag.delete',
        `model:${model}/v${version}`,
        { key },
      );
    }
  }

  // ---------------------------------------------------------------- aliases

  async setAlias(
    model: string,
    alias: string,
    version: number,
    actor: Actor,
    reason: string,
    idempotencyKey?: string | null,
  ): Promise<AliasChange> {
    checkAlias(alias);
    checkVersionNumber(version);
    const key = idempotencyKey ?? null;
    return this.write(() =>
      this.keyedAliasChange(model, key, () =>
        this.setAliasWork(model, alias, version, actor, reason),
      ),
    );
  }

  private *setAliasWork(
    model: string,
    alias: string,
    version: number,
    actor: Actor,
    reason: string,
  ): Work<AliasChange> {
    const row = yield* this.lockModel(model);
    const target = yield* queryOne(
      'SELECT version FROM model_versions WHERE model = ? AND version = ?',
      model,
      version,
    );
    if (!target) throw versionNotFound(model, version);
    const current = yield* queryOne(
      'SELECT version FROM model_aliases WHERE model = ? AND alias = ?',
      model,
      alias,
    );
    const from = current ? num(current.version) : null;
    if (from === version) {
      return { model, alias, from, to: version, aliases: yield* this.aliasMap(model), sequence: 0 };
    }
    const at = this.now();
    yield* query(
      `INSERT INTO model_aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      model,
      alias,
      version,
      at,
    );
    yield* this.appendHistory(model, alias, from, version, at, actor, reason);
    const { sequence, aliases } = yield* this.lifecycle(
      model,
      num(row.latest_version),
      { kind: 'alias_set', alias, from, to: version },
      actor,
      reason,
      at,
    );
    yield* this.recordAudit(at, actor, 'alias.set', `model:${model}`, {
      alias,
      from,
      to: version,
      reason,
    });
    return { model, alias, from, to: version, aliases, sequence };
  }

  async deleteAlias(
    model: string,
    alias: string,
    actor: Actor,
    reason: string,
    idempotencyKey?: string | null,
  ): Promise<AliasChange> {
    const key = idempotencyKey ?? null;
    return this.write(() =>
      this.keyedAliasChange(model, key, () => this.deleteAliasWork(model, alias, actor, reason)),
    );
  }

  async aliasChangeByKey(key: string): Promise<AliasChange | null> {
    return this.read(() => this.aliasChangeByKeyWork(key), { snapshot: false });
  }

  private *aliasChangeByKeyWork(key: string): Work<AliasChange | null> {
    const row = yield* queryOne('SELECT * FROM alias_change_keys WHERE idempotency_key = ?', key);
    if (!row) return null;
    return {
      model: str(row.model),
      alias: str(row.alias),
      from: numOrNull(row.from_version),
      to: numOrNull(row.to_version),
      aliases: json<Record<string, number>>(row.aliases),
      sequence: num(row.sequence),
    };
  }

  /**
   * Runs an alias change once per idempotency key: a key seen before returns the change it
   * recorded. The key is looked up before and again after taking the model's lock, so that of
   * two concurrent calls with one key the second finds the first's record.
   */
  private *keyedAliasChange(
    model: string,
    key: string | null,
    change: () => Work<AliasChange>,
  ): Work<AliasChange> {
    if (key === null) return yield* change();
    const seen = yield* this.aliasReplay(key, model);
    if (seen) return seen;
    yield* this.lockModel(model);
    // Again under the model's lock: a concurrent call with the same key has committed by now.
    const again = yield* this.aliasReplay(key, model);
    if (again) return again;
    const result = yield* change();
    yield* query(
      `INSERT INTO alias_change_keys (idempotency_key, model, alias, from_version, to_version, aliases, sequence, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      key,
      model,
      result.alias,
      result.from,
      result.to,
      JSON.stringify(result.aliases),
      result.sequence,
      this.now(),
    );
    return result;
  }

  private *aliasReplay(key: string, model: string): Work<AliasChange | null> {
    const seen = yield* this.aliasChangeByKeyWork(key);
    if (seen && seen.model !== model) {
      throw new AlreadyExistsError(
        `Idempotency key ${key} already changed alias ${seen.alias} of model ${seen.model}, not of ${model}`,
      );
    }
    return seen;
  }

  private *deleteAliasWork(
    model: string,
    alias: string,
    actor: Actor,
    reason: string,
  ): Work<AliasChange> {
    const row = yield* this.lockModel(model);
    const removed = yield* queryOne(
      'DELETE FROM model_aliases WHERE model = ? AND alias = ? RETURNING version',
      model,
      alias,
    );
    if (!removed)
      throw new NotFoundError(`Registered model alias ${alias} not found for model ${model}`);
    const from = num(removed.version);
    const at = this.now();
    yield* this.appendHistory(model, alias, from, null, at, actor, reason);
    const { sequence, aliases } = yield* this.lifecycle(
      model,
      num(row.latest_version),
      { kind: 'alias_deleted', alias, from, to: null },
      actor,
      reason,
      at,
    );
    yield* this.recordAudit(at, actor, 'alias.delete', `model:${model}`, { alias, from, reason });
    return { model, alias, from, to: null, aliases, sequence };
  }

  async getAliases(model: string): Promise<Record<string, number>> {
    // One statement, so no snapshot transaction is needed: this is the serving path's read.
    return this.read(() => this.aliasesWork(model), { snapshot: false });
  }

  private *aliasesWork(model: string): Work<Record<string, number>> {
    const rows = yield* query(
      `SELECT a.alias, a.version FROM registered_models m
       LEFT JOIN model_aliases a ON a.model = m.name
       WHERE m.name = ? ORDER BY a.alias`,
      model,
    );
    if (rows.length === 0) throw modelNotFound(model);
    return Object.fromEntries(
      rows.filter((r) => r.alias !== null).map((r) => [str(r.alias), num(r.version)]),
    );
  }

  async aliasHistory(model: string, alias?: string, limit = 100): Promise<AliasHistoryEntry[]> {
    if (!isPositiveInt(limit))
      throw new InvalidError(`Invalid limit '${String(limit)}': a positive integer`);
    return this.read(
      function* () {
        const rows =
          alias === undefined
            ? yield* query(
                'SELECT * FROM alias_history WHERE model = ? ORDER BY id DESC LIMIT ?',
                model,
                limit,
              )
            : yield* query(
                'SELECT * FROM alias_history WHERE model = ? AND alias = ? ORDER BY id DESC LIMIT ?',
                model,
                alias,
                limit,
              );
        return rows.map(toHistory);
      },
      { snapshot: false },
    );
  }

  // ---------------------------------------------------------------- dataset specs

  async createSpec(
    spec: Omit<DatasetSpecInput, 'version'>,
    actor: Actor,
  ): Promise<DatasetSpecRecord> {
    return this.write(() => this.createSpecWork(spec, actor));
  }

  private *createSpecWork(
    spec: Omit<DatasetSpecInput, 'version'>,
    actor: Actor,
  ): Work<DatasetSpecRecord> {
    const name = typeof spec.name === 'string' ? spec.name : '';
    const lock = this.sql.lockKey(`dataset_spec:${name}`);
    if (lock) yield* query(lock.sql, ...lock.params);
    const max = yield* queryOne(
      'SELECT MAX(version) AS version FROM dataset_specs WHERE name = ?',
      name,
    );
    const version = (numOrNull(max?.version) ?? 0) + 1;
    const parsed = DatasetSpec.safeParse({ ...spec, version });
    if (!parsed.success)
      throw new InvalidError(`Invalid dataset spec: ${z.prettifyError(parsed.error)}`);
    const at = this.now();
    yield* query(
      'INSERT INTO dataset_specs (name, version, spec, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
      name,
      version,
      JSON.stringify(parsed.data),
      at,
      actor.subject,
    );
    yield* this.enqueue('pipelineSpecs', name, parsed.data, at);
    yield* this.recordAudit(at, actor, 'spec.create', `spec:${name}/v${version}`, { version });
    return { name, version, spec: parsed.data, createdAt: at, createdBy: actor.subject };
  }

  async getSpec(name: string, version?: number): Promise<DatasetSpecRecord> {
    return this.read(
      function* () {
        const row =
          version === undefined
            ? yield* queryOne(
                'SELECT * FROM dataset_specs WHERE name = ? ORDER BY version DESC LIMIT 1',
                name,
              )
            : yield* queryOne(
                'SELECT * FROM dataset_specs WHERE name = ? AND version = ?',
                name,
                version,
              );
        if (!row) {
          throw new NotFoundError(
            version === undefined
              ? `Dataset spec with name=${name} not found`
              : `Dataset spec (name=${name}, version=${version}) not found`,
          );
        }
        return toSpec(row);
      },
      { snapshot: false },
    );
  }

  async listSpecs(): Promise<DatasetSpecRecord[]> {
    return this.read(
      function* () {
        const rows = yield* query(
          `SELECT s.* FROM dataset_specs s
         WHERE s.version = (SELECT MAX(x.version) FROM dataset_specs x WHERE x.name = s.name)
         ORDER BY s.name`,
        );
        return rows.map(toSpec);
      },
      { snapshot: false },
    );
  }

  // ---------------------------------------------------------------- outbox and audit

  async pendingOutbox(limit: number): Promise<OutboxRecord[]> {
    if (!isPositiveInt(limit))
      throw new InvalidError(`Invalid limit '${String(limit)}': a positive integer`);
    return this.read(
      function* () {
        const rows = yield* query(
          `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?`,
          limit,
        );
        return rows.map(toOutbox);
      },
      { snapshot: false },
    );
  }

  async markPublished(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const sql = `UPDATE outbox SET published_at = ? WHERE published_at IS NULL AND id IN (${placeholders(ids.length)})`;
    return this.write(() => this.runWrite(sql, this.now(), ...ids));
  }

  async markPublishedUpTo(id: number): Promise<void> {
    const sql = 'UPDATE outbox SET published_at = ? WHERE published_at IS NULL AND id <= ?';
    return this.write(() => this.runWrite(sql, this.now(), id));
  }

  private *runWrite(sql: string, ...params: SqlValue[]): Work<void> {
    yield* query(sql, ...params);
  }

  async audit(limit: number, target?: string): Promise<AuditEntry[]> {
    if (!isPositiveInt(limit))
      throw new InvalidError(`Invalid limit '${String(limit)}': a positive integer`);
    return this.read(
      function* () {
        const rows =
          target === undefined
            ? yield* query('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?', limit)
            : yield* query(
                'SELECT * FROM audit_log WHERE target = ? ORDER BY id DESC LIMIT ?',
                target,
                limit,
              );
        return rows.map(toAudit);
      },
      { snapshot: false },
    );
  }

  // ---------------------------------------------------------------- building blocks

  /** Reads the model row, locking it on PostgreSQL; NotFoundError when absent. */
  private *lockModel(name: string): Work<Row> {
    const row = yield* queryOne(
      `SELECT ${MODEL_COLUMNS} FROM registered_models WHERE name = ?${this.sql.lockRow}`,
      name,
    );
    if (!row) throw modelNotFound(name);
    return row;
  }

  /** Locks the model (see {@link lockModel}) and checks that the version exists. */
  private *lockVersion(model: string, version: number): Work<Row> {
    const row = yield* queryOne(
      `SELECT ${MODEL_COLUMNS} FROM registered_models WHERE name = ?${this.sql.lockRow}`,
      model,
    );
    if (!row) throw versionNotFound(model, version);
    const found = yield* queryOne(
      'SELECT version FROM model_versions WHERE model = ? AND version = ?',
      model,
      version,
    );
    if (!found) throw versionNotFound(model, version);
    return row;
  }

  private *requireModel(name: string): Work<Row> {
    const row = yield* queryOne(
      `SELECT ${MODEL_COLUMNS} FROM registered_models WHERE name = ?`,
      name,
    );
    if (!row) throw modelNotFound(name);
    return row;
  }

  private *loadModel(name: string): Work<RegisteredModel> {
    const row = yield* this.requireModel(name);
    const tagRows = yield* query('SELECT key, value FROM model_tags WHERE model = ?', name);
    return toModel(row, Object.fromEntries(tagRows.map((t) => [str(t.key), str(t.value)])));
  }

  private *loadVersion(model: string, version: number): Work<ModelVersion> {
    const row = yield* queryOne(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? AND version = ?`,
      model,
      version,
    );
    if (!row) throw versionNotFound(model, version);
    const tagRows = yield* query(
      'SELECT key, value FROM version_tags WHERE model = ? AND version = ?',
      model,
      version,
    );
    return toVersion(row, Object.fromEntries(tagRows.map((t) => [str(t.key), str(t.value)])));
  }

  private *aliasMap(model: string): Work<Record<string, number>> {
    const rows = yield* query(
      'SELECT alias, version FROM model_aliases WHERE model = ? ORDER BY alias',
      model,
    );
    return Object.fromEntries(rows.map((r) => [str(r.alias), num(r.version)]));
  }

  private *appendHistory(
    model: string,
    alias: string,
    from: number | null,
    to: number | null,
    at: number,
    actor: Actor,
    reason: string,
  ): Work<void> {
    yield* query(
      'INSERT INTO alias_history (model, alias, from_version, to_version, at, actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
      model,
      alias,
      from,
      to,
      at,
      actor.subject,
      reason,
    );
  }

  /**
   * Adds a record to the outbox; its id is the sequence the relay publishes it with. On
   * PostgreSQL an id is drawn when the row is inserted, not at commit, so two transactions
   * could commit their ids out of order and the relay (publishing in id order, and marking
   * "everything up to the last sequence on the bus" after a crash) could skip the lower one.
   * Holding a lock from the insert to the commit makes ids follow commit order; the section it
   * serialises is only the tail of a transaction.
   */
  private *enqueue(topic: TopicKey, key: string, payload: unknown, at: number): Work<number> {
    const lock = this.sql.lockKey('outbox');
    if (lock) yield* query(lock.sql, ...lock.params);
    const row = yield* queryOne(
      'INSERT INTO outbox (topic, key, payload, event_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
      topic,
      key,
      JSON.stringify(payload),
      randomUUID(),
      at,
    );
    return num(row!.id);
  }

  /** The `models.lifecycle.v1` record of a change: the model's alias map as it is now. */
  private *lifecycle(
    model: string,
    latestVersion: number,
    change: { kind: ChangeKind; alias: string | null; from: number | null; to: number | null },
    actor: Actor,
    reason: string,
    at: number,
  ): Work<{ sequence: number; aliases: Record<string, number> }> {
    const aliases = change.kind === 'model_deleted' ? {} : yield* this.aliasMap(model);
    const payload: LifecyclePayload = {
      model,
      aliases,
      latestVersion,
      change: { ...change, actor: actor.subject, reason, at: new Date(at).toISOString() },
    };
    return { sequence: yield* this.enqueue('modelsLifecycle', model, payload, at), aliases };
  }

  private *recordAudit(
    at: number,
    actor: Actor,
    action: string,
    target: string,
    details: Record<string, unknown>,
  ): Work<void> {
    yield* query(
      'INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)',
      at,
      actor.subject,
      action,
      target,
      JSON.stringify(details),
    );
  }
}
