import type { ArgumentsHost } from '@nestjs/common';
import {
  BadRequestException,
  HttpException,
  MethodNotAllowedException,
  NotFoundException,
} from '@nestjs/common';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AuthError } from '@mlops/auth';
import { ApiError } from '@mlops/nest-kit';
import { InferenceExceptionFilter } from './exception-filter';

/** What the filter did to the response: status, headers set and the JSON body. */
class ResponseRecorder {
  statusCode: number | undefined;
  body: unknown;
  readonly headers: Record<string, string> = {};
  headersSent = false;

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  json(body: unknown): this {
    this.body = body;
    this.headersSent = true;
    return this;
  }
}

/** Records the filter's error logs, so a test can tell a logged 500 from a quiet 4xx. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as { level: number; msg: string });
      },
    },
  );
  return { logger, lines };
}

function host(path: string, res: ResponseRecorder): ArgumentsHost {
  const http = { getRequest: () => ({ path }), getResponse: () => res, getNext: () => undefined };
  return { switchToHttp: () => http } as unknown as ArgumentsHost;
}

function filtered(exception: unknown, path: string) {
  const { logger, lines } = recordingLogger();
  const res = new ResponseRecorder();
  new InferenceExceptionFilter(logger).catch(exception, host(path, res));
  return { status: res.statusCode, body: res.body, headers: res.headers, logged: lines };
}

describe('InferenceExceptionFilter', () => {
  it('answers /v2 with the protocol’s {"error": string}', () => {
    expect(filtered(new NotFoundException('Cannot GET /v2/nope'), '/v2/nope')).toMatchObject({
      status: 404,
      body: { error: 'Cannot GET /v2/nope' },
    });
    expect(filtered(new MethodNotAllowedException(), '/v2/models/m/infer')).toMatchObject({
      status: 405,
      body: { error: 'Method Not Allowed' },
    });
    // Validation messages come as a list: joined into one sentence.
    expect(
      filtered(new BadRequestException(['model must be a string', 'x is empty']), '/v2/models'),
    ).toMatchObject({ status: 400, body: { error: 'model must be a string; x is empty' } });
    expect(filtered(new HttpException('plain text', 418), '/v2')).toMatchObject({
      status: 418,
      body: { error: 'plain text' },
    });
  });

  it('answers /v2 with the message of a platform error, and its headers', () => {
    const r = filtered(AuthError.unauthenticated('authentication required'), '/v2/models/m');
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'authentication required' });
    expect(r.headers).toEqual({ 'www-authenticate': 'Bearer' });
    const busy = filtered(
      new ApiError(429, 'too_many_requests', 'slow down', undefined, { 'Retry-After': '2' }),
      '/v2/models/m/ready',
    );
    expect(busy).toMatchObject({
      status: 429,
      body: { error: 'slow down' },
      headers: { 'retry-after': '2' },
    });
  });

  it('answers an unknown error under /v2 with a logged 500 that leaks nothing', () => {
    const r = filtered(new Error('connection string postgres://u:p@db'), '/v2/models/m');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: 'internal error' });
    expect(r.logged.map((l) => [l.level, l.msg])).toEqual([[50, 'unhandled error in request']]);
  });

  it('answers other paths with the platform’s {"error": {"code", "message"}}', () => {
    expect(filtered(new NotFoundException('Cannot GET /v1/nope'), '/v1/nope')).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: 'Cannot GET /v1/nope' } },
    });
    const auth = filtered(AuthError.unauthenticated('authentication required'), '/v1/predict/m');
    expect(auth).toMatchObject({
      status: 401,
      body: { error: { code: 'unauthenticated', message: 'authentication required' } },
      headers: { 'www-authenticate': 'Bearer' },
    });
    const unknown = filtered(new Error('secret detail'), '/metrics');
    expect(unknown.status).toBe(500);
    expect(unknown.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });

  it('leaves a response that has started alone', () => {
    const { logger } = recordingLogger();
    const res = new ResponseRecorder();
    res.headersSent = true;
    new InferenceExceptionFilter(logger).catch(new NotFoundException(), host('/v2/x', res));
    expect(res.statusCode).toBeUndefined();
    expect(res.body).toBeUndefined();
  });
});
