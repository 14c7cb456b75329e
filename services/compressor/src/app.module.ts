import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { json } from 'express';
import { AuthModule } from '@mlops/auth';
import { busConfigFromEnv } from '@mlops/bus';
import { ApiExceptionFilter, BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';
import { CompressionsController } from './api/compressions.controller';
import { COMPRESSOR_CONFIG, type CompressorConfig } from './config';
import { CompressionRunner } from './jobs/compression-runner';
import { TrainedConsumer } from './jobs/trained.consumer';

@Module({})
export class CompressorModule implements NestModule {
  static forRoot(ctx: ServiceContext<CompressorConfig>): DynamicModule {
    const c = ctx.config;
    return {
      module: CompressorModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(c),
        BusModule.forRoot(busConfigFromEnv(c, 'compressor'), {
          topics: ['modelsTrained', 'modelsCompressed', 'pipelineSpecs'],
          dlqFor: ['modelsTrained'],
        }),
      ],
      controllers: [CompressionsController],
      providers: [
        { provide: COMPRESSOR_CONFIG, useValue: c },
        { provide: APP_FILTER, useValue: new ApiExceptionFilter(ctx.logger) },
        {
          provide: RegistryClient,
          useValue: new RegistryClient({ url: c.REGISTRY_URL, apiKey: c.REGISTRY_API_KEY }),
        },
        SpecCatalog,
        CompressionRunner,
        TrainedConsumer,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Small JSON bodies only (compression triggers).
    consumer.apply(json({ limit: '16kb' })).forRoutes('*path');
  }
}
