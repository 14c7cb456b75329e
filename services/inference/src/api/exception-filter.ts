import { type ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, ApiExceptionFilter, httpExceptionMessage } from '@mlops/nest-kit';
import { errorBody } from '../protocol/oip';

/**
 * Errors under /v2 leave in the Open Inference Protocol's shape, `{"error": "..."}` (an unknown
 * route, a method not allowed, an auth refusal); every other path keeps the platform's
 * `{"error": {"code", "message"}}`.
 */
@Catch()
export class InferenceExceptionFilter implements ExceptionFilter {
  private readonly api: ApiExceptionFilter;

  constructor(private readonly logger: Logger) {
    this.api = new ApiExceptionFilter(logger);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    if (!req.path.startsWith('/v2')) return this.api.catch(exception, host);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof HttpException) {
      const message = httpExceptionMessage(exception);
      // An auth refusal's WWW-Authenticate (a 401 must carry one), or a Retry-After.
      if (exception instanceof ApiError)
        for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
      res.status(exception.getStatus()).json(errorBody(message));
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error in request');
    res.status(500).json(errorBody('internal error'));
  }
}
