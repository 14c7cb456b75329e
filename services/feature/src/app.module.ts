import {
  Inject,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { json } from 'express';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule } from '@mlops/auth';
import { busConfigFromEnv } from '@mlops/bus';
import { ApiExceptionFilter, BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';
import { FeaturesController } from './api/features.controller';
import { FEATURE_CONFIG, type FeatureConfig } from './config';
import { FeaturesetCatalog } from './featuresets/featureset.catalog';
import { InProcessOnlineStore, RedisOnlineStore, type OnlineStore } from './online/online-store';
import { ONLINE_STORE } from './online/online.tokens';
import { TrainingConsumer } from './training/training.consumer';
import { FeaturesConsumer } from './vectors/features.consumer';

@Module({})
export class FeatureModule implements NestModule, OnApplicationShutdown {
  constructor(@Inject(ONLINE_STORE) private readonly online: OnlineStore) {}

  static forRoot(ctx: ServiceContext<FeatureConfig>): DynamicModule {
    const c = ctx.config;
    return {
      module: FeatureModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(c),
        BusModule.forRoot(busConfigFromEnv(c, 'feature'), {
          topics: [
            'eventsClean',
            'features',
            'eventsRejected',
            'pipelineSpecs',
            'featuresets',
            'trainingRequests',
            'trainingDatasets',
          ],
          dlqFor: ['trainingRequests'],
        }),
      ],
      controllers: [FeaturesController],
      providers: [
        { provide: FEATURE_CONFIG, useValue: c },
        { provide: APP_FILTER, useValue: new ApiExceptionFilter(ctx.logger) },
        {
          provide: RegistryClient,
          useValue: new RegistryClient({ url: c.REGISTRY_URL, apiKey: c.REGISTRY_API_KEY }),
        },
        {
          provide: ONLINE_STORE,
          useFactory: (): OnlineStore =>
            c.REDIS_URL
              ? new RedisOnlineStore(
                  c.REDIS_URL,
                  c.KAFKA_TOPIC_PREFIX ?? '',
                  c.FEATURE_ONLINE_TTL_SECONDS ?? null,
                )
              : new InProcessOnlineStore(c.FEATURE_ONLINE_CAPACITY),
        },
        SpecCatalog,
        FeaturesetCatalog,
        FeaturesConsumer,
        TrainingConsumer,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Small JSON bodies only (training requests).
    consumer.apply(json({ limit: '64kb' })).forRoutes('*path');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.online.close();
  }
}
