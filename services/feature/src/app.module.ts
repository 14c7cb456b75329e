import { Module, type DynamicModule } from '@nestjs/common';
import { busConfigFromEnv } from '@mlops/bus';
import { BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import type { FeatureConfig } from './config';
import { FeaturesConsumer } from './vectors/features.consumer';

@Module({})
export class FeatureModule {
  static forRoot(ctx: ServiceContext<FeatureConfig>): DynamicModule {
    return {
      module: FeatureModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        BusModule.forRoot(busConfigFromEnv(ctx.config, 'feature'), {
          topics: ['eventsClean', 'features', 'eventsRejected', 'pipelineSpecs'],
        }),
      ],
      providers: [SpecCatalog, FeaturesConsumer],
    };
  }
}
