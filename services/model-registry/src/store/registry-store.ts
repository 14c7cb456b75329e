import type { DatasetSpec, DatasetSpecInput, OffsetRange, TopicKey } from '@mlops/contracts';

/**
 * The registry's storage port. Two adapters implement it with the same behaviour — SQLite
 * (better-sqlite3, the embedded default) and PostgreSQL (`pg`, when DATABASE_URL is set) — and
 * one test suite runs on both. Every write is one database transaction; writes that other
 * services must hear about add their event to the outbox in that same transaction, so the
 * database and the bus never disagree (the relay publishes the outbox afterwards).
 *
 * Times are epoch milliseconds. Versions are 1, 2, 3… per model with no gap, whatever the
 * concurrency. Names are case-sensitive.
 */

export type VersionStatus = 'PENDING_REGISTRATION' | 'READY' | 'FAILED_REGISTRATION';

export interface RegisteredModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  /** The highest version number ever created (0 when none); numbers are never reused. */
  latestVersion: number;
}

export interface StoredArtifact {
  uri: string;
  size: number;
  sha256: string;
  format: string;
}

export interface ModelVersion {
  model: string;
  version: number;
  status: VersionStatus;
  description: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  artifact: StoredArtifact | null;
  /** For a compressed variant: the version it was made from. */
  parentVersion: number | null;
  /** e.g. int8, int4, pruned50; null for a trained version. */
  variant: string | null;
  dataset: string | null;
  datasetSpecVersion: number | null;
  featuresetVersion: string | null;
  trainedOn: OffsetRange[];
  creator: string;
  sourceJob: string | null;
  /** MLflow's run id, when a version is created through the MLflow API with one. */
  runId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewVersion {
  model: string;
  description?: string;
  status?: VersionStatus;
  params?: Record<string, unknown>;
  metrics?: Record<string, number>;
  tags?: Record<string, string>;
  artifact?: StoredArtifact | null;
  parentVersion?: number | null;
  variant?: string | null;
  dataset?: string | null;
  datasetSpecVersion?: number | null;
  featuresetVersion?: string | null;
  trainedOn?: OffsetRange[];
  sourceJob?: string | null;
  runId?: string | null;
  /**
   * Makes creation idempotent: a second call with the same key returns the version the first
   * one created (`created: false`) and changes nothing. Events use their `ce_id`.
   */
  idempotencyKey?: string | null;
  /** Create the registered model if it does not exist (events do; the MLflow API does not). */
  createModelIfMissing?: boolean;
}

export interface AliasChange {
  model: string;
  alias: string;
  from: number | null;
  to: number | null;
  /** The model's full alias map after the change. */
  aliases: Record<string, number>;
  /** The outbox sequence of the lifecycle record written with it. */
  sequence: number;
}

export interface AliasHistoryEntry {
  id: number;
  model: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  at: number;
  actor: string;
  reason: string;
}

export interface DatasetSpecRecord {
  name: string;
  version: number;
  spec: DatasetSpec;
  createdAt: number;
  createdBy: string;
}

export interface OutboxRecord {
  /**
   * Increasing sequence, in commit order (gaps possible); the relay publishes in this order.
   * Lifecycle payloads are stored without `sequence`: the relay sets it to this id when it
   * publishes, so the event's sequence and the outbox id are one number.
   */
  id: number;
  topic: TopicKey;
  key: string;
  /** The event payload (validated by the relay against the topic's event schema). */
  payload: unknown;
  /** CloudEvents id to publish with. */
  eventId: string;
  createdAt: number;
  publishedAt: number | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** Who asks: recorded in the audit log, alias history and `creator`. */
export interface Actor {
  subject: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque token for the next page; null at the end. */
  nextPageToken: string | null;
}

export interface ListOptions {
  /** 1 to 1000; default 100 (InvalidError outside). */
  maxResults?: number;
  /** `nextPageToken` of the previous page (InvalidError when malformed). */
  pageToken?: string | null;
}

export interface ModelQuery extends ListOptions {
  /** Name equals. */
  name?: string;
  /** SQL LIKE pattern on the name (`%` and `_`), case-sensitive. */
  nameLike?: string;
  /** Case-insensitive LIKE on the name. */
  nameILike?: string;
  /** Every tag must match exactly. */
  tags?: Record<string, string>;
  /** Applied in order, then `name asc` as the tie-breaker (and the default, as in MLflow). */
  orderBy?: { field: 'name' | 'createdAt' | 'updatedAt'; direction: 'asc' | 'desc' }[];
}

export interface VersionQuery extends ListOptions {
  /** Model name equals. */
  model?: string;
  /** SQL LIKE pattern on the model name, case-sensitive. */
  nameLike?: string;
  runId?: string;
  versions?: number[];
  tags?: Record<string, string>;
  /**
   * Applied in order, then `name asc, version desc` as tie-breakers (and the default, as in
   * MLflow); `name` is the model name.
   */
  orderBy?: { field: 'version' | 'createdAt' | 'updatedAt' | 'name'; direction: 'asc' | 'desc' }[];
}

/** Thrown for a name that exists already (409 / RESOURCE_ALREADY_EXISTS). */
export class AlreadyExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyExistsError';
  }
}

/** Thrown for a model, version, alias or spec that does not exist (404 / RESOURCE_DOES_NOT_EXIST). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Thrown for a request that breaks a rule (400 / INVALID_PARAMETER_VALUE). */
export class InvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidError';
  }
}

export interface RegistryStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending migrations (idempotent; safe with several instances starting at once). */
  migrate(): Promise<void>;
  close(): Promise<void>;

  createModel(
    input: { name: string; description?: string; tags?: Record<string, string> },
    actor: Actor,
  ): Promise<RegisteredModel>;
  getModel(name: string): Promise<RegisteredModel>;
  searchModels(query: ModelQuery): Promise<Page<RegisteredModel>>;
  updateModel(
    name: string,
    patch: { description?: string },
    actor: Actor,
  ): Promise<RegisteredModel>;
  renameModel(name: string, newName: string, actor: Actor): Promise<RegisteredModel>;
  /** Deletes the model, its versions, aliases (alias history is kept) and tags. */
  deleteModel(name: string, actor: Actor): Promise<void>;
  setModelTag(name: string, key: string, value: string, actor: Actor): Promise<void>;
  deleteModelTag(name: string, key: string, actor: Actor): Promise<void>;

  createVersion(
    input: NewVersion,
    actor: Actor,
  ): Promise<{ version: ModelVersion; created: boolean }>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  searchVersions(query: VersionQuery): Promise<Page<ModelVersion>>;
  updateVersion(
    model: string,
    version: number,
    patch: { description?: string; status?: VersionStatus; artifact?: StoredArtifact },
    actor: Actor,
  ): Promise<ModelVersion>;
  /** Deletes a version; aliases pointing at it are removed (with history and lifecycle event). */
  deleteVersion(model: string, version: number, actor: Actor): Promise<void>;
  setVersionTag(
    model: string,
    version: number,
    key: string,
    value: string,
    actor: Actor,
  ): Promise<void>;
  deleteVersionTag(model: string, version: number, key: string, actor: Actor): Promise<void>;

  /**
   * Points `alias` at `version` (which must exist), appends to the alias history and writes the
   * model's full alias map to the outbox for `models.lifecycle.v1` — all in one transaction.
   * Setting an alias to the version it already has changes nothing and returns `sequence: 0`.
   */
  setAlias(
    model: string,
    alias: string,
    version: number,
    actor: Actor,
    reason: string,
    idempotencyKey?: string | null,
  ): Promise<AliasChange>;
  /** Removes `alias` (NotFoundError when absent), with history and lifecycle record. */
  deleteAlias(
    model: string,
    alias: string,
    actor: Actor,
    reason: string,
    idempotencyKey?: string | null,
  ): Promise<AliasChange>;
  /**
   * The change that a setAlias / deleteAlias call with this idempotency key made, or null. With a
   * key (a decision event's `ce_id`), a second call returns the first call's change and changes
   * nothing, also when the first changed nothing (`sequence: 0`); a key used for another model
   * is an AlreadyExistsError.
   */
  aliasChangeByKey(key: string): Promise<AliasChange | null>;
  getAliases(model: string): Promise<Record<string, number>>;
  /** Newest first. */
  aliasHistory(model: string, alias?: string, limit?: number): Promise<AliasHistoryEntry[]>;

  /** Stores the next version of a dataset spec and adds it to the outbox for `pipeline.specs.v1`. */
  createSpec(spec: Omit<DatasetSpecInput, 'version'>, actor: Actor): Promise<DatasetSpecRecord>;
  getSpec(name: string, version?: number): Promise<DatasetSpecRecord>;
  /** The latest version of every dataset spec, by name. */
  listSpecs(): Promise<DatasetSpecRecord[]>;

  /** Unpublished outbox records, oldest first. */
  pendingOutbox(limit: number): Promise<OutboxRecord[]>;
  /** Relay bookkeeping, not audited. */
  markPublished(ids: number[]): Promise<void>;
  /** Marks every record up to and including `id` as published (recovery after a crash). */
  markPublishedUpTo(id: number): Promise<void>;

  /** Newest first; `target` is exact (`model:fraud`, `model:fraud/v3`, `spec:transactions/v2`). */
  audit(limit: number, target?: string): Promise<AuditEntry[]>;
}
