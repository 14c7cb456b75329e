import { describe, expect, it } from 'vitest';
import {
  CliError,
  EXIT,
  InputError,
  ServiceError,
  UnreachableError,
  UsageError,
  errorLine,
  exitCodeFor,
  exitCodeForStatus,
} from './errors';
import { NetworkError, ServiceClient, parseErrorBody, parseRetryAfter, type HttpFn } from './http';

describe('exit codes', () => {
  it('maps HTTP statuses: 404 → 3, 400 and 422 → 2, anything else → 1', () => {
    expect(exitCodeForStatus(404)).toBe(3);
    expect(exitCodeForStatus(400)).toBe(2);
    expect(exitCodeForStatus(422)).toBe(2);
    for (const s of [401, 403, 409, 413, 415, 429, 500, 503]) expect(exitCodeForStatus(s)).toBe(1);
  });

  it('maps errors', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new InputError('x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new ServiceError('registry', 404, 'not_found', 'x'))).toBe(EXIT.NOT_FOUND);
    expect(exitCodeFor(new ServiceError('ingestion', 422, 'no_valid_rows', 'x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new UnreachableError('registry', 'http://127.0.0.1:3006'))).toBe(
      EXIT.FAILURE,
    );
    expect(exitCodeFor(new CliError('no production alias', EXIT.NOT_FOUND))).toBe(3);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.FAILURE);
  });

  it('says which service could not be reached and how to start it', () => {
    const cause = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    expect(new UnreachableError('registry', 'http://127.0.0.1:3006', cause).message).toBe(
      'cannot reach the registry at http://127.0.0.1:3006 (ECONNREFUSED): is the stack running? (npm start)',
    );
    expect(errorLine(new ServiceError('drift-monitor', 404, 'no_report', 'no window yet'))).toBe(
      'error: the drift monitor answered 404 no_report: no window yet',
    );
  });
});

describe('parseErrorBody', () => {
  it('reads the /v1, OIP, MLflow and plain shapes', () => {
    expect(
      parseErrorBody(
        404,
        '{"error":{"code":"not_found","message":"Registered Model x not found"}}',
      ),
    ).toEqual({ code: 'not_found', message: 'Registered Model x not found' });
    expect(
      parseErrorBody(
        422,
        '{"error":{"code":"no_valid_rows","message":"m","details":{"results":[]}}}',
      ),
    ).toEqual({
      code: 'no_valid_rows',
      message: 'm',
      details: { results: [] },
    });
    expect(parseErrorBody(404, '{"error":"model \\"x\\" is not served"}')).toEqual({
      code: 'http_404',
      message: 'model "x" is not served',
    });
    expect(parseErrorBody(400, '{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}')).toEqual(
      {
        code: 'INVALID_PARAMETER_VALUE',
        message: 'bad',
      },
    );
    expect(parseErrorBody(502, '<html>bad gateway</html>')).toEqual({
      code: 'http_502',
      message: '<html>bad gateway</html>',
    });
    expect(parseErrorBody(401, '')).toEqual({
      code: 'http_401',
      message: 'unauthenticated: pass --api-key or set MLOPS_API_KEY',
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('ServiceClient', () => {
  it('sends the API key and JSON, and turns statuses into ServiceError', async () => {
    const seen: Parameters<HttpFn>[0][] = [];
    const http: HttpFn = async (req) => {
      seen.push(req);
      return {
        status: 429,
        headers: { 'retry-after': '3' },
        body: Buffer.from('{"error":{"code":"backpressure","message":"saturated"}}'),
      };
    };
    const client = new ServiceClient('ingestion', 'http://h:1/', { http, apiKey: 'k-123' });
    const err = await client.request('POST', '/v1/x', { json: { a: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({
      status: 429,
      code: 'backpressure',
      retryAfterMs: 3000,
      message: 'saturated',
    });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: 'http://h:1/v1/x',
      body: '{"a":1}',
      headers: { 'x-api-key': 'k-123', 'content-type': 'application/json' },
    });
  });

  it('turns a missing answer into UnreachableError', async () => {
    const http: HttpFn = () => Promise.reject(new NetworkError(new Error('ECONNREFUSED')));
    const client = new ServiceClient('registry', 'http://127.0.0.1:3006', { http });
    await expect(client.get('/v1/models')).rejects.toThrow(
      'cannot reach the registry at http://127.0.0.1:3006 (ECONNREFUSED): is the stack running? (npm start)',
    );
  });
});
