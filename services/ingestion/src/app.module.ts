import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from '@mlops/auth';
import { busConfigFromEnv } from '@mlops/bus';
import { ApiExceptionFilter, BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import { INGESTION_CONFIG, type IngestionConfig } from './config';
import { EventsController } from './ingest/events.controller';
import { FeedbackController } from './ingest/feedback.controller';
import { IngestService } from './ingest/ingest.service';
import { RestIngest } from './ingest/rest-request';
import { RawEventsConsumer } from './ingest/raw-events.consumer';

@Module({})
export class IngestionModule {
  static forRoot(ctx: ServiceContext<IngestionConfig>): DynamicModule {
    return {
      module: IngestionModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(ctx.config),
        BusModule.forRoot(busConfigFromEnv(ctx.config, 'ingestion'), {
          topics: ['ingestRaw', 'eventsValidated', 'eventsRejected', 'feedback', 'pipelineSpecs'],
        }),
      ],
      controllers: [EventsController, FeedbackController],
      providers: [
        { provide: INGESTION_CONFIG, useValue: ctx.config },
        { provide: APP_FILTER, useValue: new ApiExceptionFilter(ctx.logger) },
        SpecCatalog,
        IngestService,
        RestIngest,
        RawEventsConsumer,
      ],
    };
  }
}
