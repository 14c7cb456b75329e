import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Principal, Roles, type AuthPrincipal } from '@mlops/auth';
import { DATASET_NAME, TRAINING_JOB_STATES, type TrainingJobEvent } from '@mlops/contracts';
import { ApiError } from '@mlops/nest-kit';
import { JobQueue } from '../jobs/job-queue';

const ListQuery = z.object({
  dataset: z
    .string()
    .regex(DATASET_NAME, 'a dataset name is lower case letters, digits, _ or -')
    .optional(),
  state: z.enum(TRAINING_JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly queue: JobQueue) {}

  @Get()
  @ApiOperation({ summary: 'Training jobs, newest first' })
  @ApiQuery({ name: 'dataset', required: false })
  @ApiQuery({ name: 'state', required: false, enum: TRAINING_JOB_STATES })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 1000 (default 100)' })
  list(@Query() query: unknown): { jobs: TrainingJobEvent[] } {
    const parsed = ListQuery.safeParse(query);
    if (!parsed.success) {
      throw new ApiError(
        400,
        'invalid_query',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    const { dataset, state, limit } = parsed.data;
    return {
      jobs: this.queue.list({
        limit,
        ...(dataset !== undefined ? { dataset } : {}),
        ...(state !== undefined ? { state } : {}),
      }),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A training job: state, attempt, progress, error or result' })
  @ApiParam({ name: 'id', description: 'The job id (train-…)' })
  @ApiResponse({ status: 404, description: 'No such job' })
  get(@Param('id') id: string): TrainingJobEvent {
    const job = this.queue.get(id);
    if (!job) throw unknownJob(id);
    return job;
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('publisher')
  @ApiOperation({
    summary:
      'Cancel a training job: a queued one at once, a running one after its worker is stopped',
  })
  @ApiResponse({ status: 200, description: 'The cancelled job' })
  @ApiResponse({ status: 404, description: 'No such job' })
  @ApiResponse({ status: 409, description: 'The job has already ended (details: its state)' })
  async cancel(
    @Param('id') id: string,
    @Principal() caller: AuthPrincipal,
  ): Promise<TrainingJobEvent> {
    const result = await this.queue.cancel(id, caller.subject);
    switch (result.outcome) {
      case 'cancelled':
        return result.job;
      case 'not_found':
        throw unknownJob(id);
      case 'finished':
        throw new ApiError(
          409,
          'job_finished',
          `training job "${id}" has already ended (${result.job.state})`,
          { state: result.job.state },
        );
    }
  }
}

function unknownJob(id: string): ApiError {
  return new ApiError(404, 'unknown_job', `no training job "${id.slice(0, 256)}"`);
}
