import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from '@mlops/auth';
import { busConfigFromEnv } from '@mlops/bus';
import { ApiExceptionFilter, BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import { JobsController } from './api/jobs.controller';
import { TRAINER_CONFIG, type TrainerConfig } from './config';
import { DatasetsConsumer } from './jobs/datasets.consumer';
import { JobQueue } from './jobs/job-queue';

@Module({})
export class TrainerModule {
  static forRoot(ctx: ServiceContext<TrainerConfig>): DynamicModule {
    const c = ctx.config;
    return {
      module: TrainerModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(c),
        BusModule.forRoot(busConfigFromEnv(c, 'trainer'), {
          topics: ['trainingDatasets', 'trainingJobs', 'modelsTrained', 'pipelineSpecs'],
          dlqFor: ['trainingDatasets'],
        }),
      ],
      controllers: [JobsController],
      providers: [
        { provide: TRAINER_CONFIG, useValue: c },
        { provide: APP_FILTER, useValue: new ApiExceptionFilter(ctx.logger) },
        SpecCatalog,
        JobQueue,
        DatasetsConsumer,
      ],
    };
  }
}
