import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { z } from 'zod';
import { Principal, ReadOnly, type AuthPrincipal } from '@mlops/auth';
import { sha256OfUri, type ArtifactStore } from '../artifacts/artifact-store';
import { ARTIFACT_STORE } from '../config';
import { RegistryService } from '../domain/registry.service';
import {
  InvalidError,
  type ModelQuery,
  type ModelVersion,
  type RegisteredModel,
  type VersionQuery,
} from '../store/registry-store';
import { parseFilter, parseOrderBy } from './filter';

/**
 * The MLflow Model Registry REST API (2.0), the subset that reads and writes models, versions,
 * tags and aliases, with MLflow's field names and error shape — so MLflow's own client and
 * tools can list and read what this registry holds. Stages are deprecated in MLflow; every
 * version here is in stage "None" and aliases replace them.
 */
const str = z.string();
const name = z.string().min(1, "Missing value for required parameter 'name'");
const version = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `Parameter 'version' must be an integer, got '${String(v)}'`,
    });
    return z.NEVER;
  }
  return n;
});
const tagList = z.array(z.object({ key: str.min(1), value: str.default('') })).default([]);
/**
 * MLflow's client asks for up to 10,000 versions at once (its server allows 200,000); pages
 * here hold at most 1,000 and say so with a next_page_token, which the protocol permits.
 */
const maxResults = z
  .union([z.string(), z.number()])
  .transform(Number)
  .pipe(z.number().int().positive().max(200_000, 'max_results must be at most 200000'))
  .transform((n) => Math.min(n, 1000));
/** GET sends order_by once per value (order_by=a&order_by=b) or not at all. */
const orderBy = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .optional();

function tagsToList(tags: Record<string, string>) {
  return Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}

function visibleTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).filter(([k]) => !k.startsWith('mlflow.internal.')),
  );
}

/** Fields left out when empty, as MLflow's proto serialisation does. */
function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o).filter(
      ([, v]) => v !== '' && v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0),
    ),
  ) as Partial<T>;
}

export function mlflowVersion(v: ModelVersion, aliases: Record<string, number>) {
  return compact({
    name: v.model,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    user_id: v.creator,
    current_stage: 'None',
    description: v.description,
    source: v.artifact?.uri ?? v.tags['mlflow.internal.source'] ?? '',
    run_id: v.runId ?? '',
    status: v.status,
    tags: tagsToList(visibleTags(v.tags)),
    run_link: v.tags['mlflow.internal.run_link'] ?? '',
    aliases: Object.entries(aliases)
      .filter(([, n]) => n === v.version)
      .map(([a]) => a)
      .sort(),
  });
}

export function mlflowModel(
  m: RegisteredModel,
  aliases: Record<string, number>,
  latest: ModelVersion | undefined,
) {
  return compact({
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    description: m.description,
    latest_versions: latest ? [mlflowVersion(latest, aliases)] : [],
    tags: tagsToList(m.tags),
    aliases: Object.entries(aliases)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([alias, v]) => ({ alias, version: String(v) })),
  });
}

@ApiExcludeController()
@Controller('api/2.0/mlflow')
export class MlflowController {
  constructor(
    private readonly registry: RegistryService,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  private get store() {
    return this.registry.store;
  }

  private async latestOf(model: string): Promise<ModelVersion | undefined> {
    const page = await this.store.searchVersions({
      model,
      maxResults: 1,
      orderBy: [{ field: 'version', direction: 'desc' }],
    });
    return page.items[0];
  }

  private async model(m: RegisteredModel) {
    return mlflowModel(m, await this.store.getAliases(m.name), await this.latestOf(m.name));
  }

  // ── registered models ──────────────────────────────────────────────────────────────

  @Post('registered-models/create')
  @HttpCode(200)
  async createModel(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, tags: tagList, description: str.optional() }).parse(body);
    const m = await this.store.createModel(
      {
        name: b.name,
        description: b.description ?? '',
        tags: Object.fromEntries(b.tags.map((t) => [t.key, t.value])),
      },
      { subject: who.subject },
    );
    return { registered_model: await this.model(m) };
  }

  @Get('registered-models/get')
  async getModel(@Query() query: unknown) {
    const q = z.object({ name }).parse(query);
    return { registered_model: await this.model(await this.store.getModel(q.name)) };
  }

  @Post('registered-models/rename')
  @HttpCode(200)
  async rename(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, new_name: name }).parse(body);
    const m = await this.store.renameModel(b.name, b.new_name, { subject: who.subject });
    return { registered_model: await this.model(m) };
  }

  @Patch('registered-models/update')
  async updateModel(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, description: str.optional() }).parse(body);
    const m =
      b.description === undefined
        ? await this.store.getModel(b.name)
        : await this.store.updateModel(
            b.name,
            { description: b.description },
            { subject: who.subject },
          );
    return { registered_model: await this.model(m) };
  }

  @Delete('registered-models/delete')
  async deleteModel(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name }).parse(body);
    await this.store.deleteModel(b.name, { subject: who.subject });
    this.registry.published();
    return {};
  }

  @Get('registered-models/search')
  async searchModels(@Query() query: unknown) {
    const q = z
      .object({
        filter: str.optional(),
        max_results: maxResults.default(100),
        order_by: orderBy,
        page_token: str.optional(),
      })
      .parse(query);
    const search: ModelQuery = {
      maxResults: q.max_results,
      pageToken: q.page_token ?? null,
      orderBy: parseOrderBy(q.order_by, {
        name: 'name',
        creation_timestamp: 'createdAt',
        last_updated_timestamp: 'updatedAt',
        timestamp: 'updatedAt',
      }),
    };
    // MLflow's client adds `tag.mlflow.prompt.is_prompt != 'true'` to leave prompts out; a tag
    // inequality is applied to the page the store returns.
    const tagNot: [string, string][] = [];
    for (const c of parseFilter(q.filter)) {
      if (c.attribute.startsWith('tags.') && c.op === '!=') {
        tagNot.push([c.attribute.slice(5), c.values[0]]);
        continue;
      }
      if (c.attribute === 'name' && c.op === '=') search.name = c.values[0];
      else if (c.attribute === 'name' && c.op === 'LIKE') search.nameLike = c.values[0];
      else if (c.attribute === 'name' && c.op === 'ILIKE') search.nameILike = c.values[0];
      else if (c.attribute.startsWith('tags.') && c.op === '=')
        search.tags = { ...search.tags, [c.attribute.slice(5)]: c.values[0] };
      else
        throw new InvalidError(
          `Invalid filter: '${c.attribute} ${c.op}' is not supported for registered models (name =/LIKE/ILIKE, tags.<key> =)`,
        );
    }
    const page = await this.store.searchModels(search);
    const items = page.items.filter((m) => tagNot.every(([k, v]) => m.tags[k] !== v));
    return compact({
      registered_models: await Promise.all(items.map((m) => this.model(m))),
      next_page_token: page.nextPageToken ?? '',
    });
  }

  @Post('registered-models/get-latest-versions')
  @HttpCode(200)
  @ReadOnly()
  async latestPost(@Body() body: unknown) {
    return this.latestVersions(body);
  }

  @Get('registered-models/get-latest-versions')
  async latestGet(@Query() query: unknown) {
    return this.latestVersions(query);
  }

  private async latestVersions(input: unknown) {
    const b = z
      .object({ name, stages: z.union([z.string(), z.array(z.string())]).optional() })
      .parse(input);
    const stages = b.stages === undefined ? [] : Array.isArray(b.stages) ? b.stages : [b.stages];
    await this.store.getModel(b.name);
    const latest = await this.latestOf(b.name);
    // Every version is in stage None: it is the answer when None (or no stage) is asked for.
    const wanted = stages.length === 0 || stages.some((s) => s.toLowerCase() === 'none');
    return {
      model_versions:
        latest && wanted ? [mlflowVersion(latest, await this.store.getAliases(b.name))] : [],
    };
  }

  @Post('registered-models/set-tag')
  @HttpCode(200)
  async setModelTag(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, key: str.min(1), value: str }).parse(body);
    await this.store.setModelTag(b.name, b.key, b.value, { subject: who.subject });
    return {};
  }

  @Delete('registered-models/delete-tag')
  async deleteModelTag(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, key: str.min(1) }).parse(body);
    await this.store.deleteModelTag(b.name, b.key, { subject: who.subject });
    return {};
  }

  @Post('registered-models/alias')
  @HttpCode(200)
  async setAlias(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, alias: str.min(1), version }).parse(body);
    await this.registry.setAlias(
      b.name,
      b.alias,
      b.version,
      { subject: who.subject },
      'set through the MLflow API',
    );
    return {};
  }

  @Delete('registered-models/alias')
  async deleteAlias(
    @Body() body: unknown,
    @Query() query: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    // MLflow's client sends DELETE parameters in the body; curl users often use the query.
    const b = z
      .object({ name, alias: str.min(1) })
      .parse({ ...(query as object), ...(body as object) });
    await this.registry.deleteAlias(
      b.name,
      b.alias,
      { subject: who.subject },
      'deleted through the MLflow API',
    );
    return {};
  }

  @Get('registered-models/alias')
  async byAlias(@Query() query: unknown) {
    const q = z.object({ name, alias: str.min(1) }).parse(query);
    const aliases = await this.store.getAliases(q.name);
    const v = aliases[q.alias];
    if (v === undefined) {
      await this.store.getModel(q.name);
      throw new InvalidError(`Registered model alias ${q.alias} not found.`);
    }
    return { model_version: mlflowVersion(await this.store.getVersion(q.name, v), aliases) };
  }

  // ── model versions ─────────────────────────────────────────────────────────────────

  @Post('model-versions/create')
  @HttpCode(200)
  async createVersion(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z
      .object({
        name,
        source: str.min(1, "Missing value for required parameter 'source'"),
        run_id: str.optional(),
        tags: tagList,
        run_link: str.optional(),
        description: str.optional(),
      })
      .parse(body);
    const tags = Object.fromEntries(b.tags.map((t) => [t.key, t.value]));
    const sha = sha256OfUri(b.source);
    const blob = sha ? await this.artifacts.stat(sha) : undefined;
    if (!blob) tags['mlflow.internal.source'] = b.source;
    if (b.run_link) tags['mlflow.internal.run_link'] = b.run_link;
    const { version: v } = await this.store.createVersion(
      {
        model: b.name,
        description: b.description ?? '',
        status: 'READY',
        tags,
        runId: b.run_id ?? null,
        artifact: blob
          ? { uri: b.source, sha256: blob.sha256, size: blob.size, format: 'other' }
          : null,
      },
      { subject: who.subject },
    );
    this.registry.published();
    return { model_version: mlflowVersion(v, await this.store.getAliases(b.name)) };
  }

  @Get('model-versions/get')
  async getVersion(@Query() query: unknown) {
    const q = z.object({ name, version }).parse(query);
    return {
      model_version: mlflowVersion(
        await this.store.getVersion(q.name, q.version),
        await this.store.getAliases(q.name),
      ),
    };
  }

  @Patch('model-versions/update')
  async updateVersion(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, version, description: str.optional() }).parse(body);
    const v =
      b.description === undefined
        ? await this.store.getVersion(b.name, b.version)
        : await this.store.updateVersion(
            b.name,
            b.version,
            { description: b.description },
            { subject: who.subject },
          );
    return { model_version: mlflowVersion(v, await this.store.getAliases(b.name)) };
  }

  @Delete('model-versions/delete')
  async deleteVersion(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, version }).parse(body);
    await this.store.deleteVersion(b.name, b.version, { subject: who.subject });
    this.registry.published();
    return {};
  }

  @Get('model-versions/search')
  async searchVersions(@Query() query: unknown) {
    const q = z
      .object({
        filter: str.optional(),
        max_results: maxResults.default(1000),
        order_by: orderBy,
        page_token: str.optional(),
      })
      .parse(query);
    const search: VersionQuery = {
      maxResults: q.max_results,
      pageToken: q.page_token ?? null,
      orderBy: parseOrderBy(q.order_by, {
        name: 'name',
        version_number: 'version',
        creation_timestamp: 'createdAt',
        last_updated_timestamp: 'updatedAt',
        timestamp: 'updatedAt',
      }),
    };
    for (const c of parseFilter(q.filter)) {
      if (c.attribute === 'name' && c.op === '=') search.model = c.values[0];
      else if (c.attribute === 'name' && c.op === 'LIKE') search.nameLike = c.values[0];
      else if (c.attribute === 'run_id' && c.op === '=') search.runId = c.values[0];
      else if (c.attribute === 'version_number' && (c.op === '=' || c.op === 'IN'))
        search.versions = c.values.map(Number);
      else if (c.attribute.startsWith('tags.') && c.op === '=')
        search.tags = { ...search.tags, [c.attribute.slice(5)]: c.values[0] };
      else
        throw new InvalidError(
          `Invalid filter: '${c.attribute} ${c.op}' is not supported for model versions (name =/LIKE, run_id =, version_number =/IN, tags.<key> =)`,
        );
    }
    const page = await this.store.searchVersions(search);
    const aliasCache = new Map<string, Record<string, number>>();
    const versions = [];
    for (const v of page.items) {
      if (!aliasCache.has(v.model)) aliasCache.set(v.model, await this.store.getAliases(v.model));
      versions.push(mlflowVersion(v, aliasCache.get(v.model)!));
    }
    return compact({ model_versions: versions, next_page_token: page.nextPageToken ?? '' });
  }

  @Get('model-versions/get-download-uri')
  async downloadUri(@Query() query: unknown) {
    const q = z.object({ name, version }).parse(query);
    const v = await this.store.getVersion(q.name, q.version);
    return { artifact_uri: v.artifact?.uri ?? v.tags['mlflow.internal.source'] ?? '' };
  }

  @Post('model-versions/set-tag')
  @HttpCode(200)
  async setVersionTag(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, version, key: str.min(1), value: str }).parse(body);
    await this.store.setVersionTag(b.name, b.version, b.key, b.value, { subject: who.subject });
    return {};
  }

  @Delete('model-versions/delete-tag')
  async deleteVersionTag(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const b = z.object({ name, version, key: str.min(1) }).parse(body);
    await this.store.deleteVersionTag(b.name, b.version, b.key, { subject: who.subject });
    return {};
  }
}
