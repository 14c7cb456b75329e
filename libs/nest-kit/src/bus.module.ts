import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Bus, type BusConfig, type ExtraTopic } from '@mlops/bus';
import type { TopicKey } from '@mlops/contracts';
import { HealthRegistry, LOGGER, METRICS_REGISTRY } from '@mlops/observability';

/**
 * Provides the service's {@link Bus}, connected before any provider that injects it starts,
 * its loop health in `/health/live`, and its shutdown after the HTTP server has stopped taking
 * requests: subscriptions finish and commit their batches, then the producer flushes.
 */
@Global()
@Module({})
export class BusModule implements OnApplicationShutdown {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  /**
   * @param topics the contract topics this service produces or consumes: created with their
   * settings when missing, before anything consumes or produces.
   */
  static forRoot(
    config: BusConfig,
    topics: {
      topics: readonly TopicKey[];
      dlqFor?: readonly TopicKey[];
      extra?: readonly ExtraTopic[];
    },
  ): DynamicModule {
    return {
      module: BusModule,
      providers: [
        {
          provide: Bus,
          inject: [LOGGER, METRICS_REGISTRY, HealthRegistry],
          useFactory: async (logger: Logger, registry: Registry, health: HealthRegistry) => {
            const bus = new Bus(config, logger, registry);
            await bus.connect();
            await bus.ensureTopics(topics.topics, topics);
            health.addLiveness('bus', () => {
              const h = bus.health();
              return {
                ok: h.subscriptions.every((s) => !s.stalled && (s.running || s.crashes === 0)),
                details: h.subscriptions,
              };
            });
            health.addReadiness('bus', () => {
              const h = bus.health();
              return { ok: h.ok, details: h.subscriptions };
            });
            return bus;
          },
        },
      ],
      exports: [Bus],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.shutdown();
  }
}
