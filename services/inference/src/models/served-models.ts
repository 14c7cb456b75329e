import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, type CompactedTable } from '@mlops/bus';
import {
  ArtifactRef,
  EVENTS,
  resolveServingSpec,
  type ModelLifecycleEvent,
  type ServingSection,
} from '@mlops/contracts';
import { parseFeaturesetArtifact, type Featureset } from '@mlops/features';
import { HealthRegistry, LOGGER } from '@mlops/observability';
import { RegistryClient, type RegisteredVersion } from '@mlops/registry-client';
import { SpecCatalog } from '@mlops/nest-kit';
import { INFERENCE_CONFIG, type InferenceConfig } from '../config';
import { DynamicBatcher } from '../runtime/batcher';
import type { ModelSignature } from '../runtime/tensor';
import { WorkerPool } from '../runtime/worker-pool';
import { InferenceMetrics } from '../metrics';
import { inCanary } from './routing';

export type Task = 'binary' | 'multiclass' | 'regression';

/** One model version loaded into every worker, with its batcher and serving settings. */
export interface LoadedVersion {
  readonly model: string;
  readonly version: number;
  /** `model@version`: the session key in the workers. */
  readonly key: string;
  readonly registered: RegisteredVersion;
  readonly signature: ModelSignature;
  readonly batcher: DynamicBatcher;
  readonly serving: ServingSection;
  readonly dataset: string | null;
  readonly featuresetVersion: string | null;
  /** The featureset the version was trained with (from its training report), if any. */
  readonly featureset: Featureset | null;
  readonly task: Task | null;
  readonly classes: string[] | null;
  readonly loadedAt: string;
}

/** Where a request goes: the version that answers, and one scored beside it (shadow). */
export interface Route {
  target: LoadedVersion;
  alias: string | null;
  shadow: LoadedVersion | null;
}

interface ServedModel {
  /** alias → the loaded version it routes to (only loaded versions are ever routed to). */
  aliases: Map<string, LoadedVersion>;
  /** The last alias map announced, and the load errors of versions it names. */
  announced: Record<string, number>;
  errors: Map<number, string>;
}

export class ModelNotServedError extends Error {
  override readonly name = 'ModelNotServedError';
}

/** The aliases a request without a version goes to, in order of preference. */
const PRIMARY_ALIASES = ['production', 'champion'];

/**
 * The versions behind every served model's aliases, loaded from the registry (sha256 checked by
 * the client) into the worker pool and swapped when models.lifecycle.v1 moves an alias: the new
 * version is loaded before the alias moves, requests already routed to the old one finish
 * (its batcher drains), then its sessions are released.
 */
@Injectable()
export class ServedModels implements OnModuleInit, OnApplicationShutdown {
  private table: CompactedTable<typeof EVENTS.modelLifecycle> | undefined;
  private readonly models = new Map<string, ServedModel>();
  /** Every loaded version by key, aliased or draining. */
  private readonly loaded = new Map<string, LoadedVersion>();
  private readonly loading = new Map<string, Promise<LoadedVersion>>();
  /** One reconciliation at a time per model; a change during one triggers another. */
  private readonly reconciling = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  private readonly servingMemo = new Map<
    string,
    { specVersion: number; serving: ServingSection }
  >();
  private ready = false;
  private closed = false;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(INFERENCE_CONFIG) private readonly config: InferenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly registry: RegistryClient,
    private readonly specs: SpecCatalog,
    private readonly pool: WorkerPool,
    private readonly health: HealthRegistry,
    private readonly metrics: InferenceMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.addReadiness('models', () => ({ ok: this.ready, details: this.describe() }));
    await this.pool.start();
    this.table = this.bus.table({
      name: 'lifecycle',
      event: EVENTS.modelLifecycle,
      onChange: (model) => {
        if (this.ready) void this.reconcile(model);
      },
    });
    await this.table.start(60_000);
    // Ready once every model's aliased versions are loaded (or have failed to).
    await Promise.all([...this.table.entries()].map(([model]) => this.reconcile(model)));
    this.ready = true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const r of this.retries.values()) clearTimeout(r.timer);
    await Promise.allSettled([...this.reconciling.values()]);
    await Promise.allSettled([...this.loaded.values()].map((v) => v.batcher.drain()));
    await this.pool.close();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Served model names. */
  names(): string[] {
    return [...this.models.entries()]
      .filter(([, m]) => m.aliases.size > 0)
      .map(([name]) => name)
      .sort();
  }

  /** The loaded versions of a model (aliased ones; draining ones are not offered). */
  versions(model: string): LoadedVersion[] {
    const m = this.models.get(model);
    if (!m) return [];
    const unique = new Map<number, LoadedVersion>();
    for (const v of m.aliases.values()) unique.set(v.version, v);
    return [...unique.values()].sort((a, b) => a.version - b.version);
  }

  /** The entity-id field of the records the model's versions were trained on, if known. */
  entityFieldOf(model: string): string | undefined {
    return this.versions(model).find((v) => v.featureset)?.featureset?.spec.entityField;
  }

  aliasesOf(model: string, version: number): string[] {
    const m = this.models.get(model);
    if (!m) return [];
    return [...m.aliases.entries()]
      .filter(([, v]) => v.version === version)
      .map(([a]) => a)
      .sort();
  }

  /** A version addressed by number; throws {@link ModelNotServedError} when not loaded. */
  version(model: string, version: number): LoadedVersion {
    const v = this.versions(model).find((x) => x.version === version);
    if (v) return v;
    const served = this.versions(model).map((x) => x.version);
    throw new ModelNotServedError(
      served.length === 0
        ? `model "${model}" is not served`
        : `version ${version} of "${model}" is not served; served versions: ${served.join(', ')}`,
    );
  }

  /**
   * The version that answers a request without a version: the canary for the keys in its
   * share (or, in shadow mode, production answering with the canary scored beside it), else
   * production (else the first alias by name).
   */
  route(model: string, routingKey: string): Route {
    const m = this.models.get(model);
    if (!m || m.aliases.size === 0) throw new ModelNotServedError(`model "${model}" is not served`);
    const primaryAlias =
      PRIMARY_ALIASES.find((a) => m.aliases.has(a)) ?? [...m.aliases.keys()].sort()[0];
    const primary = m.aliases.get(primaryAlias)!;
    const canary = m.aliases.get('canary');
    if (!canary || canary.version === primary.version || primaryAlias === 'canary')
      return { target: primary, alias: primaryAlias, shadow: null };
    const { share, shadow } = this.servingOf(canary).canary;
    if (!inCanary(routingKey, share)) return { target: primary, alias: primaryAlias, shadow: null };
    return shadow
      ? { target: primary, alias: primaryAlias, shadow: canary }
      : { target: canary, alias: 'canary', shadow: null };
  }

  /**
   * A version's serving settings as its dataset spec says now: the canary split, cache and
   * prediction log follow spec changes at once; batching is fixed when the version loads.
   */
  servingOf(v: LoadedVersion): ServingSection {
    if (!v.dataset) return v.serving;
    const spec = this.specs.get(v.dataset);
    if (!spec) return v.serving;
    const memo = this.servingMemo.get(v.dataset);
    if (memo && memo.specVersion === spec.version) return memo.serving;
    let serving: ServingSection;
    try {
      serving = this.operatorOverrides({
        ...resolveServingSpec(spec),
        batching: v.serving.batching,
      });
    } catch {
      serving = v.serving;
    }
    this.servingMemo.set(v.dataset, { specVersion: spec.version, serving });
    return serving;
  }

  /** What the environment forces whatever the specs say: cache off, the log's sample rate. */
  private operatorOverrides(serving: ServingSection): ServingSection {
    const rate = this.config.INFERENCE_PREDICTION_LOG_SAMPLE_RATE;
    return {
      ...serving,
      ...(this.config.INFERENCE_CACHE ? {} : { cache: { ...serving.cache, enabled: false } }),
      ...(rate === undefined
        ? {}
        : { predictionLog: { ...serving.predictionLog, sampleRate: rate } }),
    };
  }

  /** The production version and, if different, the canary (stream scoring scores both). */
  production(model: string): { production: LoadedVersion | null; canary: LoadedVersion | null } {
    const m = this.models.get(model);
    const production = m?.aliases.get('production') ?? null;
    const canary = m?.aliases.get('canary') ?? null;
    return {
      production,
      canary: canary && canary.version !== production?.version ? canary : null,
    };
  }

  describe(): Record<string, unknown> {
    return Object.fromEntries(
      [...this.models.entries()].map(([name, m]) => [
        name,
        {
          aliases: Object.fromEntries([...m.aliases].map(([a, v]) => [a, v.version])),
          announced: m.announced,
          ...(m.errors.size > 0 ? { errors: Object.fromEntries(m.errors) } : {}),
        },
      ]),
    );
  }

  private wanted(model: string): boolean {
    return (
      this.config.INFERENCE_MODELS.length === 0 || this.config.INFERENCE_MODELS.includes(model)
    );
  }

  /** Brings a model's loaded versions in line with its latest lifecycle record. */
  private reconcile(model: string): Promise<void> {
    this.dirty.add(model);
    const running = this.reconciling.get(model);
    if (running) return running;
    const run = (async () => {
      while (this.dirty.has(model) && !this.closed) {
        this.dirty.delete(model);
        let failed: boolean;
        try {
          failed = await this.reconcileOnce(model);
        } catch (err) {
          failed = true;
          this.logger.error({ err, model }, 'could not apply the lifecycle change');
        }
        this.scheduleRetry(model, failed);
      }
    })().finally(() => this.reconciling.delete(model));
    this.reconciling.set(model, run);
    return run;
  }

  /**
   * A version that failed to load (registry unreachable, artifact missing) is tried again with
   * a doubling delay, up to a minute, until it loads or no alias names it any more.
   */
  private scheduleRetry(model: string, failed: boolean): void {
    clearTimeout(this.retries.get(model)?.timer);
    if (!failed || this.closed) {
      this.retries.delete(model);
      return;
    }
    const attempt = (this.retries.get(model)?.attempt ?? 0) + 1;
    const delay = Math.min(60_000, 500 * 2 ** Math.min(attempt, 7));
    const timer = setTimeout(() => void this.reconcile(model), delay);
    timer.unref();
    this.retries.set(model, { attempt, timer });
  }

  /** Returns whether a version some alias names could not be loaded. */
  private async reconcileOnce(model: string): Promise<boolean> {
    const event: ModelLifecycleEvent | undefined = this.table?.get(model);
    const announced = event && this.wanted(model) ? event.aliases : {};
    const served: ServedModel = this.models.get(model) ?? {
      aliases: new Map(),
      announced: {},
      errors: new Map(),
    };
    served.announced = announced;
    served.errors = new Map();
    const versions = [...new Set(Object.values(announced))];
    const results = await Promise.all(
      versions.map(async (v) => {
        try {
          return [v, await this.load(model, v)] as const;
        } catch (err) {
          const message = (err as Error).message;
          served.errors.set(v, message);
          this.logger.error({ err, model, version: v }, 'could not load a model version');
          this.metrics.loadFailures.inc({ model });
          return [v, null] as const;
        }
      }),
    );
    const byVersion = new Map(results.filter(([, l]) => l !== null) as [number, LoadedVersion][]);
    // An alias moves only to a version that loaded; one whose new version failed keeps serving
    // what it served (a broken upload must not take production down).
    const next = new Map<string, LoadedVersion>();
    for (const [alias, v] of Object.entries(announced)) {
      const target = byVersion.get(v) ?? served.aliases.get(alias);
      if (target) next.set(alias, target);
    }
    const before = new Map([...served.aliases].map(([a, v]) => [a, v.version]));
    served.aliases = next;
    this.models.set(model, served);
    const changed = [...next].filter(([a, v]) => before.get(a) !== v.version);
    for (const [alias, v] of changed)
      this.logger.info(
        { model, alias, from: before.get(alias) ?? null, to: v.version },
        'alias now serves a new version',
      );
    // Versions no alias names any more: finish their requests, then release them.
    const kept = new Set([...this.models.values()].flatMap((m) => [...m.aliases.values()]));
    const retired = [...this.loaded.values()].filter((v) => v.model === model && !kept.has(v));
    await Promise.all(retired.map((v) => this.retire(v)));
    return served.errors.size > 0;
  }

  private load(model: string, version: number): Promise<LoadedVersion> {
    const key = `${model}@${version}`;
    const have = this.loaded.get(key);
    if (have) return Promise.resolve(have);
    let p = this.loading.get(key);
    if (!p) {
      p = this.loadVersion(model, version, key).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  private async loadVersion(model: string, version: number, key: string): Promise<LoadedVersion> {
    const started = Date.now();
    const registered = await this.registry.getVersion(model, version);
    const dataset = registered.lineage.dataset;
    const spec = dataset ? await this.specs.resolve(dataset) : undefined;
    let serving: ServingSection;
    try {
      serving = resolveServingSpec(spec);
    } catch (err) {
      this.logger.warn({ err, model, version }, 'invalid serving section; serving with defaults');
      serving = resolveServingSpec(undefined);
    }
    if (this.config.INFERENCE_BATCHING !== 'spec')
      serving = {
        ...serving,
        batching: { ...serving.batching, enabled: this.config.INFERENCE_BATCHING === 'on' },
      };
    serving = this.operatorOverrides(serving);

    const bytes = await this.registry.download(registered.artifact);
    const { featureset, task, classes } = await this.trainingContext(registered);
    const signature = await this.pool.load(key, bytes);
    const labels = { model, version: String(version) };
    const batcher = new DynamicBatcher(key, signature, this.pool, serving.batching, {
      onBatch: (b) => {
        this.metrics.batchSize.observe(labels, b.rows);
        this.metrics.computeSeconds.observe(labels, b.computeMs / 1000);
      },
    });
    const loaded: LoadedVersion = {
      model,
      version,
      key,
      registered,
      signature,
      batcher,
      serving,
      dataset,
      featuresetVersion: registered.lineage.featuresetVersion,
      featureset,
      task,
      classes,
      loadedAt: new Date().toISOString(),
    };
    this.loaded.set(key, loaded);
    this.metrics.loadedVersions.set(this.loaded.size);
    this.logger.info(
      {
        model,
        version,
        bytes: bytes.length,
        inputs: signature.inputs.map((i) => `${i.name}:${i.datatype}[${i.shape.join(',')}]`),
        batchable: signature.batchable,
        batching: serving.batching.enabled,
        featureset: featureset?.version ?? null,
        ms: Date.now() - started,
      },
      'model version loaded',
    );
    return loaded;
  }

  /**
   * The task, class names and featureset of a version trained by the platform, read from the
   * training report its tags name (compressed variants carry their parent's). A model uploaded
   * by hand has none and is served through /v2 only.
   */
  private async trainingContext(
    v: RegisteredVersion,
  ): Promise<{ featureset: Featureset | null; task: Task | null; classes: string[] | null }> {
    const tagTask = v.tags['mlops.task'];
    const task =
      tagTask === 'binary' || tagTask === 'multiclass' || tagTask === 'regression' ? tagTask : null;
    if (!v.tags['mlops.report.uri']) return { featureset: null, task, classes: null };
    const report = JSON.parse(
      (
        await this.registry.download({
          uri: v.tags['mlops.report.uri'],
          sha256: v.tags['mlops.report.sha256'],
          size: Number(v.tags['mlops.report.size']),
        })
      ).toString('utf8'),
    ) as { task?: Task; classes?: string[] | null; artifacts?: { featureset?: unknown } };
    const ref = ArtifactRef.safeParse(report.artifacts?.featureset);
    let featureset: Featureset | null = null;
    if (ref.success) {
      featureset = parseFeaturesetArtifact(await this.registry.download(ref.data));
      if (v.lineage.featuresetVersion && featureset.version !== v.lineage.featuresetVersion)
        throw new Error(
          `the report of ${v.model} v${v.version} names featureset ${featureset.version}, its lineage ${v.lineage.featuresetVersion}`,
        );
    }
    return {
      featureset,
      task: report.task ?? task,
      classes: Array.isArray(report.classes) ? report.classes.map(String) : null,
    };
  }

  private async retire(v: LoadedVersion): Promise<void> {
    this.loaded.delete(v.key);
    const timeout = this.config.INFERENCE_DRAIN_TIMEOUT_SECONDS * 1000;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      v.batcher.drain().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (!drained)
      this.logger.warn({ model: v.model, version: v.version }, 'drain timed out; releasing anyway');
    await this.pool
      .unload(v.key)
      .catch((err: unknown) =>
        this.logger.warn({ err, model: v.model, version: v.version }, 'unload failed'),
      );
    this.metrics.loadedVersions.set(this.loaded.size);
    this.logger.info({ model: v.model, version: v.version }, 'model version retired');
  }
}
