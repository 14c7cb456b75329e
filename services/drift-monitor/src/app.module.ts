import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { json } from 'express';
import type { Logger } from 'pino';
import { AuthModule } from '@mlops/auth';
import { Bus, busConfigFromEnv } from '@mlops/bus';
import { ApiExceptionFilter, BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { LOGGER, ObservabilityModule } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';
import { DriftController } from './api/drift.controller';
import { DRIFT_CONFIG, type DriftMonitorConfig } from './config';
import { MonitorService } from './io/monitor.service';
import { ProfileStore } from './io/profiles';
import { StateStore } from './io/state-store';

@Module({})
export class DriftMonitorModule implements NestModule {
  static forRoot(ctx: ServiceContext<DriftMonitorConfig>): DynamicModule {
    const c = ctx.config;
    return {
      module: DriftMonitorModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(c),
        BusModule.forRoot(busConfigFromEnv(c, 'drift-monitor'), {
          topics: [
            'predictions',
            'feedback',
            'modelsLifecycle',
            'pipelineSpecs',
            'driftAlerts',
            'modelsDecisions',
            'trainingRequests',
            'eventsClean',
            'driftMonitorState',
            'features',
          ],
          dlqFor: ['predictions', 'feedback', 'features'],
        }),
      ],
      controllers: [DriftController],
      providers: [
        { provide: DRIFT_CONFIG, useValue: c },
        { provide: APP_FILTER, useValue: new ApiExceptionFilter(ctx.logger) },
        {
          provide: ProfileStore,
          useFactory: (logger: Logger) =>
            new ProfileStore(
              new RegistryClient({ url: c.REGISTRY_URL, apiKey: c.REGISTRY_API_KEY }),
              logger,
            ),
          inject: [LOGGER],
        },
        {
          provide: StateStore,
          useFactory: (bus: Bus, logger: Logger) => new StateStore(bus, logger),
          inject: [Bus, LOGGER],
        },
        SpecCatalog,
        MonitorService,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Read-only API: no request bodies to speak of.
    consumer.apply(json({ limit: '16kb' })).forRoutes('*path');
  }
}
