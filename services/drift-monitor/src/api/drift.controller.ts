import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { MODEL_NAME } from '@mlops/contracts';
import { ApiError } from '@mlops/nest-kit';
import { MonitorService } from '../io/monitor.service';

const VersionParams = z.object({
  model: z.string().regex(MODEL_NAME, 'a model name is letters, digits, ".", "_" or "-"'),
  version: z.coerce.number().int().positive(),
});
const ReportsQuery = z.object({
  kind: z.enum(['window', 'features', 'performance']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
});

const reasons = (e: z.ZodError) =>
  e.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');

@ApiTags('drift')
@Controller('v1/drift')
export class DriftController {
  constructor(private readonly monitor: MonitorService) {}

  @Get('models')
  @ApiOperation({
    summary:
      'What is watched: every model version with traffic, the alias maps, canaries under judgement, pending joins',
  })
  models() {
    return this.monitor.describe();
  }

  @Get('models/:model/versions/:version/report')
  @ApiOperation({
    summary:
      'The latest drift report of a version: per-feature tests, p-values, PSI and plot-ready histograms; prediction drift; traffic; performance',
  })
  @ApiParam({ name: 'model' })
  @ApiParam({ name: 'version' })
  @ApiQuery({ name: 'kind', required: false, enum: ['window', 'features', 'performance'] })
  @ApiResponse({ status: 404, description: 'No window of that version has closed yet' })
  latest(@Param() params: unknown, @Query() query: unknown) {
    const { model, version } = this.params(params);
    const q = this.query(query);
    const reports = this.monitor
      .reportsOf(model, version)
      .filter((r) => !q.kind || r.kind === q.kind);
    const last = reports[reports.length - 1];
    if (!last)
      throw new ApiError(
        404,
        'no_report',
        `no ${q.kind ?? 'drift'} report for ${model} v${version} yet: no window of its traffic has closed`,
      );
    return last;
  }

  @Get('models/:model/versions/:version/reports')
  @ApiOperation({ summary: 'The latest reports of a version, newest last' })
  @ApiQuery({ name: 'kind', required: false, enum: ['window', 'features', 'performance'] })
  @ApiQuery({ name: 'limit', required: false })
  list(@Param() params: unknown, @Query() query: unknown) {
    const { model, version } = this.params(params);
    const q = this.query(query);
    const reports = this.monitor
      .reportsOf(model, version)
      .filter((r) => !q.kind || r.kind === q.kind);
    return { model, version, reports: reports.slice(-q.limit) };
  }

  @Get('reports/:id')
  @ApiOperation({ summary: 'One report by the id an alert carries (`reportId`)' })
  @ApiResponse({ status: 404, description: 'Unknown, or no longer kept' })
  one(@Param('id') id: string) {
    const report = this.monitor.report(id);
    if (!report)
      throw new ApiError(404, 'unknown_report', `no report ${id} (unknown, or no longer kept)`);
    return report;
  }

  @Get('models/:model/canary')
  @ApiOperation({
    summary: "The canary judge's view of a model: both sides' counts, metric, verdict",
  })
  @ApiResponse({ status: 404, description: 'No canary is being judged for the model' })
  canary(@Param('model') model: string) {
    const c = this.monitor.canaryOf(model);
    if (!c) throw new ApiError(404, 'no_canary', `no canary of ${model} is being judged`);
    return c;
  }

  private params(params: unknown) {
    const p = VersionParams.safeParse(params);
    if (!p.success) throw new ApiError(400, 'invalid_request', reasons(p.error));
    return p.data;
  }

  private query(query: unknown) {
    const q = ReportsQuery.safeParse(query);
    if (!q.success) throw new ApiError(400, 'invalid_request', reasons(q.error));
    return q.data;
  }
}
