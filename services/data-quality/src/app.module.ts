import { Module, type DynamicModule } from '@nestjs/common';
import { busConfigFromEnv } from '@mlops/bus';
import { BusModule, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import { DQ_CONFIG, type DataQualityConfig } from './config';
import { DedupeConsumer } from './dedupe/dedupe.consumer';

@Module({})
export class DataQualityModule {
  static forRoot(ctx: ServiceContext<DataQualityConfig>): DynamicModule {
    return {
      module: DataQualityModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        BusModule.forRoot(busConfigFromEnv(ctx.config, 'data-quality'), {
          topics: ['eventsValidated', 'eventsClean', 'eventsRejected', 'dataQualityDedupe'],
        }),
      ],
      providers: [{ provide: DQ_CONFIG, useValue: ctx.config }, DedupeConsumer],
    };
  }
}
