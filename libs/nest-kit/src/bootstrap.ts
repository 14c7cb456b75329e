import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError } from '@mlops/config';
import { createLogger, createRegistry, HealthRegistry, PinoNestLogger } from '@mlops/observability';

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  registry: Registry;
  health: HealthRegistry;
}

export interface ServiceDefinition<C extends { PORT: number; HOST: string; LOG_LEVEL: string }> {
  name: string;
  /** Validates the environment; throws ConfigError naming the bad variables. */
  config: () => C;
  /** The root module, built from the validated config. */
  module: (ctx: ServiceContext<C>) => unknown;
  /** Last touches before listening (OpenAPI documents, say). */
  configure?: (app: NestExpressApplication, ctx: ServiceContext<C>) => void | Promise<void>;
}

/**
 * Starts one service: config validated before Nest is created (a bad variable is one clear
 * line and exit code 78), JSON logs, shutdown hooks for SIGTERM/SIGINT, and the body parser
 * left to the routes that need their own limits.
 */
export async function bootstrap<C extends { PORT: number; HOST: string; LOG_LEVEL: string }>(
  def: ServiceDefinition<C>,
): Promise<NestExpressApplication> {
  let config: C;
  try {
    config = def.config();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger(def.name, config.LOG_LEVEL);
  const registry = createRegistry(def.name);
  const health = new HealthRegistry();
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  const ctx: ServiceContext<C> = { config, logger, registry, health };
  const app = await NestFactory.create<NestExpressApplication>(def.module(ctx) as never, {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  // Our own signal handling rather than enableShutdownHooks: Nest re-raises the signal after
  // closing, so a clean stop would look like a kill (no exit code). A stop that hangs is cut
  // short, and says so.
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info(
      { signal },
      'shutting down: stop consuming, finish and commit batches, close clients',
    );
    const force = setTimeout(() => {
      logger.error('shutdown did not finish within 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    app
      .close()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await def.configure?.(app, ctx);
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address() as { port: number } | null;
  logger.info({ port: address?.port, host: config.HOST }, `${def.name} listening`);
  return app;
}
