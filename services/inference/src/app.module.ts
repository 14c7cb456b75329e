import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AuthModule } from '@mlops/auth';
import { Bus, busConfigFromEnv } from '@mlops/bus';
import { BusModule, SpecCatalog, type ServiceContext } from '@mlops/nest-kit';
import { LOGGER, METRICS_REGISTRY, ObservabilityModule } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';
import { OipController } from './api/oip.controller';
import { InferenceExceptionFilter } from './api/exception-filter';
import { InferHandler } from './api/infer-handler';
import { PredictController } from './api/predict.controller';
import { PREDICTION_CACHE } from './cache/cache.tokens';
import {
  createPredictionCache,
  PredictionCacheMetrics,
  RedisCache,
  type PredictionCache,
} from './cache/prediction-cache';
import { INFERENCE_CONFIG, type InferenceConfig } from './config';
import { InferenceMetrics } from './metrics';
import { ServedModels } from './models/served-models';
import { PredictionLog } from './predictions/prediction-log';
import { WorkerPredictionSink } from './predictions/worker-sink';
import { Predictor } from './predictor';
import { RequestDecoder } from './protocol/request-decoder';
import { WorkerPool } from './runtime/worker-pool';
import { StreamScorer } from './stream/stream-scorer';

/**
 * Closes what the service owns in the right order on shutdown: the prediction log flushes
 * through its worker's producer, which then disconnects, and the cache disconnects.
 */
@Injectable()
class Lifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(PREDICTION_CACHE) private readonly cache: PredictionCache,
    private readonly log: PredictionLog,
    private readonly sink: WorkerPredictionSink,
    private readonly decoder: RequestDecoder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.cache instanceof RedisCache && !(await this.cache.ready(5_000)))
      this.logger.warn('Redis is not reachable yet: the cache misses until it is');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.log.close();
    await this.sink.close();
    await this.decoder.close();
    await this.cache.close();
  }
}

@Module({})
export class InferenceModule {
  static forRoot(ctx: ServiceContext<InferenceConfig>): DynamicModule {
    const c = ctx.config;
    return {
      module: InferenceModule,
      imports: [
        ObservabilityModule.forRoot(ctx),
        AuthModule.forRoot(c),
        BusModule.forRoot(busConfigFromEnv(c, 'inference'), {
          topics: ['modelsLifecycle', 'pipelineSpecs', 'features', 'predictions'],
          dlqFor: ['features'],
        }),
      ],
      controllers: [OipController, PredictController],
      providers: [
        { provide: INFERENCE_CONFIG, useValue: c },
        { provide: APP_FILTER, useValue: new InferenceExceptionFilter(ctx.logger) },
        {
          provide: RegistryClient,
          useValue: new RegistryClient({ url: c.REGISTRY_URL, apiKey: c.REGISTRY_API_KEY }),
        },
        {
          provide: RequestDecoder,
          useValue: new RequestDecoder(
            c.INFERENCE_DECODE_THREAD_BYTES === 0 ? Infinity : c.INFERENCE_DECODE_THREAD_BYTES,
            c.INFERENCE_HELPER_THREAD_NICE,
          ),
        },
        {
          provide: WorkerPool,
          useValue: new WorkerPool({
            size: c.INFERENCE_WORKERS,
            intraOpThreads: c.INFERENCE_INTRA_OP_THREADS,
          }),
        },
        {
          provide: PREDICTION_CACHE,
          inject: [METRICS_REGISTRY, LOGGER],
          useFactory: (registry: Registry, logger: Logger) =>
            createPredictionCache({
              redisUrl: c.REDIS_URL,
              maxEntries: c.INFERENCE_CACHE_MAX_ENTRIES,
              maxBytes: c.INFERENCE_CACHE_MAX_BYTES,
              metrics: new PredictionCacheMetrics(registry),
              logger,
            }),
        },
        {
          provide: WorkerPredictionSink,
          inject: [Bus, LOGGER],
          useFactory: (bus: Bus, logger: Logger) =>
            new WorkerPredictionSink(
              {
                bus: bus.config,
                source: bus.source,
                logLevel: c.LOG_LEVEL,
                nice: c.INFERENCE_HELPER_THREAD_NICE,
              },
              logger,
            ),
        },
        {
          provide: PredictionLog,
          inject: [WorkerPredictionSink, LOGGER, METRICS_REGISTRY],
          // Small batches: each crosses to the log's worker thread as one structured clone.
          useFactory: (sink: WorkerPredictionSink, logger: Logger, registry: Registry) =>
            new PredictionLog(sink, logger, registry, { batchSize: 100, flushIntervalMs: 100 }),
        },
        SpecCatalog,
        InferenceMetrics,
        ServedModels,
        Predictor,
        InferHandler,
        StreamScorer,
        Lifecycle,
      ],
    };
  }
}
