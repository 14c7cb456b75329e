import {
  Global,
  Inject,
  Injectable,
  Logger as NestLogger,
  Module,
  Optional,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { LOGGER } from '@mlops/observability';
import { Authenticator, type AuthRequirement } from './authenticator';
import { authConfigFromEnv, type AuthEnv } from './config';
import { attachPrincipal, AUTH_REQUIREMENT } from './decorators';

/**
 * Checks every HTTP request against its handler's requirement and attaches the principal.
 * Other contexts (Kafka) pass: the broker's ACLs decide who may produce.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(
      AUTH_REQUIREMENT,
      [context.getHandler(), context.getClass()],
    );
    attachPrincipal(req, this.authenticator.authorize(req, requirement));
    return true;
  }
}

export interface AuthModuleOptions {
  /**
   * GET/HEAD paths open without a decorator, for controllers of libraries that do not know
   * about auth. Default: ObservabilityModule's `/metrics`, `/health/live`, `/health/ready`.
   */
  publicPaths?: string[];
}

export const DEFAULT_PUBLIC_PATHS = ['/metrics', '/health/live', '/health/ready'];

/** Installs AuthGuard for every route of the application. */
@Global()
@Module({})
export class AuthModule implements OnModuleInit {
  constructor(
    private readonly authenticator: Authenticator,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
  ) {}

  /** `env` is the service's validated config, whose schema includes `.and(AuthEnv)`. */
  static forRoot(env: AuthEnv, options: AuthModuleOptions = {}): DynamicModule {
    const authenticator = new Authenticator(
      authConfigFromEnv(env),
      options.publicPaths ?? DEFAULT_PUBLIC_PATHS,
    );
    return {
      module: AuthModule,
      providers: [
        { provide: Authenticator, useValue: authenticator },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [Authenticator],
    };
  }

  onModuleInit(): void {
    const settings = this.authenticator.describe();
    if (this.authenticator.config.mode === 'none') {
      const message =
        'auth is off (AUTH_MODE=none): every caller is an anonymous admin; set AUTH_MODE in production';
      if (this.logger) this.logger.warn(settings, message);
      else new NestLogger('AuthModule').warn(message);
    } else if (this.logger) {
      this.logger.info(settings, 'auth enabled');
    } else {
      new NestLogger('AuthModule').log(`auth enabled: ${JSON.stringify(settings)}`);
    }
  }
}
