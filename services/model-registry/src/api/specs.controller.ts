import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Principal, type AuthPrincipal } from '@mlops/auth';
import { DatasetSpec } from '@mlops/contracts';
import { RegistryService } from '../domain/registry.service';
import { versionParam } from './dto';
import { presentSpec } from './present';

@ApiTags('specs')
@Controller('v1/specs')
export class SpecsController {
  constructor(private readonly registry: RegistryService) {}

  @Post()
  @ApiOperation({
    summary: 'Register the next version of a dataset spec; published on pipeline.specs.v1',
  })
  @ApiBody({
    schema: z.toJSONSchema(DatasetSpec, { io: 'input', unrepresentable: 'any' }) as object,
  })
  async create(@Body() body: unknown, @Principal() who: AuthPrincipal) {
    const input = z.object({ name: z.string() }).passthrough().parse(body);
    const { version: _ignored, ...spec } = input as { version?: unknown; name: string };
    const record = await this.registry.store.createSpec(spec as never, { subject: who.subject });
    this.registry.published();
    return presentSpec(record);
  }

  @Get()
  async list() {
    return { specs: (await this.registry.store.listSpecs()).map(presentSpec) };
  }

  @Get(':name')
  async latest(@Param('name') name: string) {
    return presentSpec(await this.registry.store.getSpec(name));
  }

  @Get(':name/versions/:version')
  async version(@Param('name') name: string, @Param('version') version: string) {
    return presentSpec(await this.registry.store.getSpec(name, versionParam.parse(version)));
  }
}
