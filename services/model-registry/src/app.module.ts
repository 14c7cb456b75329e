import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { json } from 'express';
import type { Logger } from 'pino';
import { AuthModule } from '@mlops/auth';
import { Bus, busConfigFromEnv } from '@mlops/bus';
import { BusModule, type ServiceContext } from '@mlops/nest-kit';
import {
  HealthRegistry,
  LOGGER,
  METRICS_REGISTRY,
  ObservabilityModule,
} from '@mlops/observability';
import type { Registry } from 'prom-client';
import { ArtifactsController } from './api/artifacts.controller';
import { AuditController } from './api/audit.controller';
import { RegistryExceptionFilter } from './api/errors';
import { ModelsController } from './api/models.controller';
import { SpecsController } from './api/specs.controller';
import { FileArtifactStore } from './artifacts/artifact-store';
import { ARTIFACT_STORE, REGISTRY_CONFIG, REGISTRY_STORE, type RegistryConfig } from './config';
import { RegistryService } from './domain/registry.service';
import { ModelEventsConsumer } from './events/model-events.consumer';
import { MlflowController } from './mlflow/mlflow.controller';
import { OutboxRelay, RELAYED_TOPICS } from './outbox/outbox-relay';
import { createStore } from './store';
import type { RegistryStore } from './store/registry-store';

@Module({})
export class RegistryModule
  implements NestModule, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
    @Inject(REGISTRY_STORE) private readonly store: RegistryStore,
    private readonly relay: OutboxRelay,
  ) {}

  static forRoot(ctx: ServiceContext<RegistryConfig>): DynamicModule {
    const { config } = ctx;
    return {
      module: RegistryModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(config),
        BusModule.forRoot(busConfigFromEnv(config, 'model-registry'), {
          topics: ['modelsTrained', 'modelsCompressed', 'modelsDecisions', ...RELAYED_TOPICS],
        }),
      ],
      controllers: [
        ModelsController,
        SpecsController,
        ArtifactsController,
        AuditController,
        MlflowController,
      ],
      providers: [
        { provide: REGISTRY_CONFIG, useValue: config },
        { provide: APP_FILTER, useValue: new RegistryExceptionFilter(ctx.logger) },
        {
          provide: REGISTRY_STORE,
          inject: [HealthRegistry],
          useFactory: async (health: HealthRegistry) => {
            const store = createStore(
              config.DATABASE_URL
                ? { databaseUrl: config.DATABASE_URL }
                : { sqlitePath: config.REGISTRY_SQLITE_PATH },
            );
            await store.migrate();
            health.addReadiness('database', async () => {
              await store.searchModels({ maxResults: 1 });
              return { ok: true, details: { dialect: store.dialect } };
            });
            return store;
          },
        },
        {
          provide: ARTIFACT_STORE,
          useFactory: async () => {
            const artifacts = new FileArtifactStore(config.ARTIFACT_DIR);
            await artifacts.init();
            return artifacts;
          },
        },
        {
          provide: OutboxRelay,
          inject: [REGISTRY_STORE, Bus, LOGGER, METRICS_REGISTRY, HealthRegistry],
          useFactory: (
            store: RegistryStore,
            bus: Bus,
            logger: Logger,
            registry: Registry,
            health: HealthRegistry,
          ) => {
            const relay = new OutboxRelay(store, bus, logger, registry, {
              pollMs: config.OUTBOX_POLL_MS,
              batchSize: 500,
            });
            if (config.OUTBOX_RELAY) health.addReadiness('outbox', () => relay.healthy);
            return relay;
          },
        },
        RegistryService,
        ModelEventsConsumer,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // JSON for every route but the artifact upload, which streams its body to the store.
    consumer
      .apply(
        json({
          limit: this.config.REGISTRY_MAX_JSON_BYTES,
          type: ['application/json', 'application/*+json'],
        }),
      )
      .exclude('v1/artifacts', 'v1/artifacts/*path')
      .forRoutes('*path');
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.OUTBOX_RELAY) await this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
