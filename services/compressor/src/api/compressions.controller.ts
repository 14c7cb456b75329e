import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '@mlops/auth';
import { MODEL_NAME, resolveCompressionSpec } from '@mlops/contracts';
import { ApiError, SpecCatalog } from '@mlops/nest-kit';
import { RegistryClient, RegistryError } from '@mlops/registry-client';
import { COMPRESSOR_CONFIG, type CompressorConfig } from '../config';
import {
  CompressionRunner,
  compressionJobId,
  type CompressionJob,
} from '../jobs/compression-runner';

const Trigger = z.strictObject({
  model: z.string().regex(MODEL_NAME, 'a model name is letters, digits, ".", "_" or "-"'),
  version: z.number().int().positive(),
});

const ListQuery = z.object({
  model: z.string().regex(MODEL_NAME).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const reasons = (e: z.ZodError) =>
  e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

@ApiTags('compressions')
@Controller('v1/compressions')
export class CompressionsController {
  constructor(
    private readonly runner: CompressionRunner,
    private readonly registry: RegistryClient,
    private readonly specs: SpecCatalog,
    @Inject(COMPRESSOR_CONFIG) private readonly config: CompressorConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @Roles('publisher')
  @ApiOperation({
    summary: 'Compress a registered version as its dataset spec asks (202: queued or running)',
  })
  @ApiResponse({ status: 404, description: 'No such model version, or no spec for its dataset' })
  @ApiResponse({
    status: 422,
    description: 'The version cannot be compressed (a variant itself, or no report)',
  })
  async trigger(@Body() body: unknown): Promise<CompressionJob> {
    const parsed = Trigger.safeParse(body);
    if (!parsed.success) throw new ApiError(400, 'invalid_request', reasons(parsed.error));
    const { model, version } = parsed.data;
    let parent;
    try {
      parent = await this.registry.getVersion(model, version);
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404)
        throw new ApiError(
          404,
          'unknown_version',
          `the registry has no version ${version} of ${model}`,
        );
      throw new ApiError(503, 'registry_unavailable', (err as Error).message);
    }
    if (parent.parentVersion !== null)
      throw new ApiError(
        422,
        'not_a_trained_version',
        `${model} v${version} is itself a compressed variant`,
      );
    if (!parent.tags['mlops.report.uri'] || !parent.lineage.dataset)
      throw new ApiError(
        422,
        'no_report',
        `${model} v${version} has no training report to compress from`,
      );
    const spec = await this.specs.resolve(parent.lineage.dataset);
    if (!spec)
      throw new ApiError(404, 'unknown_dataset', `no dataset spec for ${parent.lineage.dataset}`);
    try {
      resolveCompressionSpec(spec);
    } catch (err) {
      throw new ApiError(422, 'spec_invalid', (err as Error).message);
    }
    return this.runner.submit(
      {
        jobId: compressionJobId(model, version),
        parent,
        spec,
        registry: { url: this.config.REGISTRY_URL, apiKey: this.config.REGISTRY_API_KEY },
      },
      'rest',
    ).job;
  }

  @Get()
  @ApiOperation({ summary: 'Compression jobs of this process, newest first' })
  @ApiQuery({ name: 'model', required: false })
  @ApiQuery({ name: 'limit', required: false })
  list(@Query() query: unknown): { jobs: CompressionJob[] } {
    const parsed = ListQuery.safeParse(query);
    if (!parsed.success) throw new ApiError(400, 'invalid_query', reasons(parsed.error));
    return { jobs: this.runner.list(parsed.data.limit, parsed.data.model) };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A compression job: state, the parent metric, every variant and its gate',
  })
  @ApiParam({ name: 'id', description: 'compress-…' })
  @ApiResponse({ status: 404, description: 'No such job' })
  get(@Param('id') id: string): CompressionJob {
    const job = this.runner.get(id);
    if (!job) throw new ApiError(404, 'unknown_job', `no compression job ${id}`);
    return job;
  }
}
