import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';

/** The error body of the platform's `/v1` APIs: a stable code and a sentence for people. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An HTTP error with the `/v1` body shape; `headers` (Retry-After) are sent with it. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      {
        error: { code, message, ...(details !== undefined ? { details } : {}) },
      } satisfies ApiErrorBody,
      status,
    );
  }
}

/**
 * The sentence an HttpException carries: an ApiError's message, Nest's own (a validation
 * pipe's list joined), else the exception's.
 */
export function httpExceptionMessage(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'string') return body;
  const nested = (body as { error?: { message?: unknown } }).error?.message;
  const raw = nested ?? (body as { message?: unknown }).message;
  if (Array.isArray(raw)) return raw.map(String).join('; ');
  return typeof raw === 'string' ? raw : exception.message;
}

/**
 * Every error leaves as `{"error": {"code", "message"}}`: our ApiErrors as they are, Nest's
 * own (404 route, 405) mapped, anything unexpected as a 500 that is logged and says nothing
 * internal.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof ApiError) {
      for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      res
        .status(status)
        .json({ error: { code: codeFor(status), message: httpExceptionMessage(exception) } });
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error in request');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  }
}

function codeFor(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    default:
      return status >= 500 ? 'internal' : 'error';
  }
}
