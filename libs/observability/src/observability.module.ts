import {
  Controller,
  Get,
  Global,
  Inject,
  Module,
  Res,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Histogram, Registry } from 'prom-client';
import { HealthRegistry } from './health';
import { httpDurationHistogram } from './metrics';

export const LOGGER = Symbol('LOGGER');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
const HTTP_HISTOGRAM = Symbol('HTTP_HISTOGRAM');

@Controller()
class ObservabilityController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly health: HealthRegistry,
  ) {}

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }

  @Get('health/live')
  async live(@Res() res: Response): Promise<void> {
    const result = await this.health.live();
    res.status(result.ok ? 200 : 503).json({ status: result.ok ? 'ok' : 'failing', ...result });
  }

  @Get('health/ready')
  async ready(@Res() res: Response): Promise<void> {
    const result = await this.health.ready();
    res.status(result.ok ? 200 : 503).json({ status: result.ok ? 'ok' : 'not_ready', ...result });
  }
}

class HttpMetricsMiddleware implements NestMiddleware {
  constructor(
    @Inject(HTTP_HISTOGRAM) private readonly histogram: Histogram<'method' | 'route' | 'status'>,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const end = this.histogram.startTimer();
    res.on('finish', () => {
      // The route pattern, not the URL: /v1/datasets/:dataset/events is one series.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
    });
    next();
  }
}

/**
 * `/metrics`, `/health/live`, `/health/ready`, HTTP latency histograms, and the service's
 * logger and registry as injectables.
 */
@Global()
@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(options: {
    logger: Logger;
    registry: Registry;
    health?: HealthRegistry;
  }): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: METRICS_REGISTRY, useValue: options.registry },
        { provide: HealthRegistry, useValue: options.health ?? new HealthRegistry() },
        { provide: HTTP_HISTOGRAM, useValue: httpDurationHistogram(options.registry) },
        HttpMetricsMiddleware,
      ],
      exports: [LOGGER, METRICS_REGISTRY, HealthRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
