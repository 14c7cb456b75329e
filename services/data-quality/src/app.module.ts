import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from '@mlops/auth';
import { busConfigFromEnv } from '@mlops/bus';
import { ApiExceptionFilter, BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import { DQ_CONFIG, type DataQualityConfig } from './config';
import { QualityController } from './reports/quality.controller';
import { ReportsView } from './reports/reports.view';
import { QualityStage } from './stage/quality.stage';

@Module({})
export class DataQualityModule {
  static forRoot(ctx: ServiceContext<DataQualityConfig>): DynamicModule {
    return {
      module: DataQualityModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(ctx.config),
        BusModule.forRoot(busConfigFromEnv(ctx.config, 'data-quality'), {
          topics: [
            'eventsValidated',
            'eventsClean',
            'eventsRejected',
            'qualityReports',
            'dataQualityState',
            'pipelineSpecs',
          ],
        }),
      ],
      controllers: [QualityController],
      providers: [
        { provide: DQ_CONFIG, useValue: ctx.config },
        { provide: APP_FILTER, useValue: new ApiExceptionFilter(ctx.logger) },
        SpecCatalog,
        QualityStage,
        ReportsView,
      ],
    };
  }
}
