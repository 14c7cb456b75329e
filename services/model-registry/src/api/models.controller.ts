import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { Principal, Roles, type AuthPrincipal } from '@mlops/auth';
import { RegistryService } from '../domain/registry.service';
import { NotFoundError } from '../store/registry-store';
import {
  aliasParam,
  CreateModelBody,
  CreateVersionBody,
  DecisionBody,
  DeleteAliasBody,
  SetAliasBody,
  TagBody,
  UpdateModelBody,
  UpdateVersionBody,
  versionParam,
} from './dto';
import { presentAliasChange, presentHistory, presentModel, presentVersion } from './present';

const schema = (s: z.ZodType) => ({
  schema: z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object,
});
const actorOf = (p: AuthPrincipal) => ({ subject: p.subject });
const pageQuery = z.object({
  maxResults: z.coerce.number().int().positive().max(1000).default(100),
  pageToken: z.string().max(1000).optional(),
  nameLike: z.string().max(256).optional(),
});

@ApiTags('models')
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly registry: RegistryService) {}

  private get store() {
    return this.registry.store;
  }

  @Post()
  @ApiOperation({ summary: 'Register a model' })
  @ApiBody(schema(CreateModelBody))
  async create(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const input = CreateModelBody.parse(body);
    const model = await this.store.createModel(input, actorOf(who));
    return presentModel(model, {});
  }

  @Get()
  @ApiOperation({ summary: 'List models (nameLike is a SQL LIKE pattern)' })
  async list(@Query() query: unknown) {
    const q = pageQuery.parse(query);
    const page = await this.store.searchModels({
      maxResults: q.maxResults,
      pageToken: q.pageToken ?? null,
      ...(q.nameLike ? { nameLike: q.nameLike } : {}),
    });
    const models = await Promise.all(
      page.items.map(async (m) => presentModel(m, await this.store.getAliases(m.name))),
    );
    return { models, nextPageToken: page.nextPageToken };
  }

  @Get(':name')
  async get(@Param('name') name: string) {
    const model = await this.store.getModel(name);
    return presentModel(model, await this.store.getAliases(name));
  }

  @Patch(':name')
  @ApiBody(schema(UpdateModelBody))
  async update(
    @Param('name') name: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    const model = await this.store.updateModel(name, UpdateModelBody.parse(body), actorOf(who));
    return presentModel(model, await this.store.getAliases(name));
  }

  @Delete(':name')
  @Roles('admin')
  @HttpCode(204)
  async delete(@Param('name') name: string, @Principal() who: AuthPrincipal) {
    await this.store.deleteModel(name, actorOf(who));
    this.registry.published();
  }

  @Put(':name/tags/:key')
  @HttpCode(204)
  async setTag(
    @Param('name') name: string,
    @Param('key') key: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    await this.store.setModelTag(name, key, TagBody.parse(body).value, actorOf(who));
  }

  @Delete(':name/tags/:key')
  @HttpCode(204)
  async deleteTag(
    @Param('name') name: string,
    @Param('key') key: string,
    @Principal() who: AuthPrincipal,
  ) {
    await this.store.deleteModelTag(name, key, actorOf(who));
  }

  @Post(':name/versions')
  @ApiOperation({ summary: 'Create the next version (Idempotency-Key makes a retry safe)' })
  @ApiBody(schema(CreateVersionBody))
  async createVersion(
    @Param('name') name: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Principal() who: AuthPrincipal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const input = CreateVersionBody.parse(body);
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length === 0 || idempotencyKey.length > 256)
    ) {
      throw new z.ZodError([
        {
          code: 'custom',
          path: ['Idempotency-Key'],
          message: 'must be 1 to 256 characters',
          input: idempotencyKey,
        },
      ]);
    }
    const { version, created } = await this.store.createVersion(
      { model: name, ...input, status: 'READY', idempotencyKey: idempotencyKey ?? null },
      actorOf(who),
    );
    this.registry.published();
    res.status(created ? 201 : 200);
    return presentVersion(version, await this.store.getAliases(name));
  }

  @Get(':name/versions')
  async listVersions(@Param('name') name: string, @Query() query: unknown) {
    await this.store.getModel(name);
    const q = pageQuery.parse(query);
    const page = await this.store.searchVersions({
      model: name,
      maxResults: q.maxResults,
      pageToken: q.pageToken ?? null,
      orderBy: [{ field: 'version', direction: 'desc' }],
    });
    const aliases = await this.store.getAliases(name);
    return {
      versions: page.items.map((v) => presentVersion(v, aliases)),
      nextPageToken: page.nextPageToken,
    };
  }

  @Get(':name/versions/:version')
  async getVersion(@Param('name') name: string, @Param('version') version: string) {
    const v = await this.store.getVersion(name, versionParam.parse(version));
    return presentVersion(v, await this.store.getAliases(name));
  }

  @Patch(':name/versions/:version')
  @ApiBody(schema(UpdateVersionBody))
  async updateVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    const v = await this.store.updateVersion(
      name,
      versionParam.parse(version),
      UpdateVersionBody.parse(body),
      actorOf(who),
    );
    return presentVersion(v, await this.store.getAliases(name));
  }

  @Delete(':name/versions/:version')
  @Roles('admin')
  @HttpCode(204)
  async deleteVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Principal() who: AuthPrincipal,
  ) {
    await this.store.deleteVersion(name, versionParam.parse(version), actorOf(who));
    this.registry.published();
  }

  @Put(':name/versions/:version/tags/:key')
  @HttpCode(204)
  async setVersionTag(
    @Param('name') name: string,
    @Param('version') version: string,
    @Param('key') key: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    await this.store.setVersionTag(
      name,
      versionParam.parse(version),
      key,
      TagBody.parse(body).value,
      actorOf(who),
    );
  }

  @Delete(':name/versions/:version/tags/:key')
  @HttpCode(204)
  async deleteVersionTag(
    @Param('name') name: string,
    @Param('version') version: string,
    @Param('key') key: string,
    @Principal() who: AuthPrincipal,
  ) {
    await this.store.deleteVersionTag(name, versionParam.parse(version), key, actorOf(who));
  }

  @Get(':name/versions/:version/lineage')
  @ApiOperation({
    summary:
      'Where a version came from: parents, dataset spec, featureset, Kafka offsets; and its variants',
  })
  async lineage(@Param('name') name: string, @Param('version') version: string) {
    const v = await this.store.getVersion(name, versionParam.parse(version));
    const ancestors = [];
    let parent = v.parentVersion;
    while (parent !== null) {
      const p = await this.store.getVersion(name, parent).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (!p) break;
      ancestors.push({ version: p.version, variant: p.variant, artifact: p.artifact });
      parent = p.parentVersion;
    }
    const all = await this.store.searchVersions({ model: name, maxResults: 1000 });
    const variants = all.items
      .filter((x) => x.parentVersion === v.version)
      .map((x) => ({ version: x.version, variant: x.variant, metrics: x.metrics }));
    const spec =
      v.dataset && v.datasetSpecVersion
        ? await this.store.getSpec(v.dataset, v.datasetSpecVersion).catch(() => null)
        : null;
    return {
      model: name,
      version: v.version,
      artifact: v.artifact,
      dataset: v.dataset,
      datasetSpecVersion: v.datasetSpecVersion,
      datasetSpec: spec?.spec ?? null,
      featuresetVersion: v.featuresetVersion,
      trainedOn: v.trainedOn,
      params: v.params,
      metrics: v.metrics,
      sourceJob: v.sourceJob,
      ancestors,
      variants,
    };
  }

  @Get(':name/aliases')
  async aliases(@Param('name') name: string) {
    await this.store.getModel(name);
    return { model: name, aliases: await this.store.getAliases(name) };
  }

  @Get(':name/aliases/:alias')
  @ApiOperation({ summary: 'The version behind an alias' })
  async byAlias(@Param('name') name: string, @Param('alias') alias: string) {
    const aliases = await this.store.getAliases(name);
    const version = aliases[aliasParam.parse(alias)];
    if (version === undefined)
      throw new NotFoundError(`Registered Model ${name} has no alias ${alias}`);
    return presentVersion(await this.store.getVersion(name, version), aliases);
  }

  @Put(':name/aliases/:alias')
  @ApiOperation({
    summary:
      'Point an alias at a version (recorded in the alias history, announced on models.lifecycle.v1)',
  })
  @ApiBody(schema(SetAliasBody))
  async setAlias(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    const { version, reason } = SetAliasBody.parse(body);
    return presentAliasChange(
      await this.registry.setAlias(name, aliasParam.parse(alias), version, actorOf(who), reason),
    );
  }

  @Delete(':name/aliases/:alias')
  async deleteAlias(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    const { reason } = DeleteAliasBody.parse(body ?? {});
    return presentAliasChange(
      await this.registry.deleteAlias(name, aliasParam.parse(alias), actorOf(who), reason),
    );
  }

  @Get(':name/aliases/:alias/history')
  async history(
    @Param('name') name: string,
    @Param('alias') alias: string,
    @Query('limit') limit?: string,
  ) {
    await this.store.getModel(name);
    const n = z.coerce.number().int().positive().max(10_000).default(100).parse(limit);
    return {
      model: name,
      alias,
      history: (await this.store.aliasHistory(name, aliasParam.parse(alias), n)).map(
        presentHistory,
      ),
    };
  }

  @Get(':name/history')
  async allHistory(@Param('name') name: string) {
    await this.store.getModel(name);
    return {
      model: name,
      history: (await this.store.aliasHistory(name, undefined, 1000)).map(presentHistory),
    };
  }

  @Post(':name/decisions')
  @ApiOperation({
    summary:
      'Promote, roll back, set or delete an alias — what models.decisions.v1 does, over REST',
  })
  @ApiBody(schema(DecisionBody))
  async decide(
    @Param('name') name: string,
    @Body() body: unknown,
    @Principal() who: AuthPrincipal,
  ) {
    const decision = DecisionBody.parse(body);
    return presentAliasChange(
      await this.registry.decide(
        { ...decision, model: name, decidedBy: who.subject },
        actorOf(who),
      ),
    );
  }
}
