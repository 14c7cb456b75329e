import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '@mlops/auth';
import { RegistryService } from '../domain/registry.service';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly registry: RegistryService) {}

  @Get()
  @Roles('admin')
  async list(@Query() query: unknown) {
    const q = z
      .object({
        limit: z.coerce.number().int().positive().max(10_000).default(100),
        target: z.string().max(300).optional(),
      })
      .parse(query);
    const entries = await this.registry.store.audit(q.limit, q.target);
    return { entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
  }
}
