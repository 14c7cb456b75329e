import { ServiceError, UnreachableError, type ServiceName } from './errors';

/**
 * The one I/O seam of the CLI: every service client sends its requests through an
 * {@link HttpFn}. The real one is fetch; tests inject a function.
 */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends one request; throws {@link NetworkError} when no response came back. */
export type HttpFn = (req: HttpRequest) => Promise<HttpResponse>;

/** No HTTP response: connection refused, DNS failure, reset, timeout. */
export class NetworkError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'NetworkError';
  }
}

export const fetchHttp: HttpFn = async (req) => {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    throw new NetworkError(err);
  }
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  let body: Buffer;
  try {
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new NetworkError(err);
  }
  return { status: res.status, headers, body };
};

/** `Retry-After` (seconds or an HTTP date) in milliseconds from `now`; undefined when absent. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * A service's error body as `{code, message, details}`: `{"error": {"code", "message"}}` (/v1),
 * `{"error": "..."}` (Open Inference Protocol), `{"error_code", "message"}` (MLflow), Nest's
 * `{"statusCode", "message"}`, or plain text.
 */
export function parseErrorBody(
  status: number,
  text: string,
): { code: string; message: string; details?: unknown } {
  const fallback = {
    code: `http_${status}`,
    message: text.trim().slice(0, 500) || statusText(status),
  };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fallback;
  }
  if (!body || typeof body !== 'object') return fallback;
  const b = body as Record<string, unknown>;
  if (b.error && typeof b.error === 'object') {
    const e = b.error as Record<string, unknown>;
    return {
      code: typeof e.code === 'string' ? e.code : fallback.code,
      message: typeof e.message === 'string' ? e.message : fallback.message,
      ...(e.details !== undefined ? { details: e.details } : {}),
    };
  }
  if (typeof b.error === 'string') return { code: fallback.code, message: b.error };
  if (typeof b.error_code === 'string' && typeof b.message === 'string')
    return { code: b.error_code, message: b.message };
  if (typeof b.message === 'string') return { code: fallback.code, message: b.message };
  if (Array.isArray(b.message)) return { code: fallback.code, message: b.message.join('; ') };
  return fallback;
}

function statusText(status: number): string {
  const known: Record<number, string> = {
    400: 'bad request',
    401: 'unauthenticated: pass --api-key or set MLOPS_API_KEY',
    403: 'forbidden: the API key lacks the role',
    404: 'not found',
    409: 'conflict',
    413: 'payload too large',
    415: 'unsupported media type',
    422: 'unprocessable',
    429: 'too many requests',
    500: 'internal error',
    502: 'bad gateway',
    503: 'unavailable',
  };
  return known[status] ?? `HTTP ${status}`;
}

export interface ClientOptions {
  http: HttpFn;
  apiKey?: string;
  timeoutMs?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** Sent as application/json. */
  json?: unknown;
  /** A raw body with its content type. */
  body?: { text: string; contentType: string };
  timeoutMs?: number;
}

export interface ServiceResponse<T> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

/**
 * The base of every service client: one base URL, the API key, JSON in and out, and errors
 * turned into {@link ServiceError} (an answer) or {@link UnreachableError} (no answer).
 */
export class ServiceClient {
  readonly baseUrl: string;

  constructor(
    readonly service: ServiceName,
    baseUrl: string,
    protected readonly options: ClientOptions,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** The raw exchange; error statuses are returned, not thrown. */
  async send(
    method: HttpRequest['method'],
    path: string,
    opts: RequestOptions = {},
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body) {
      headers['content-type'] = opts.body.contentType;
      body = opts.body.text;
    }
    try {
      return await this.options.http({
        method,
        url: this.url(path, opts.query),
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: opts.timeoutMs ?? this.options.timeoutMs ?? 30_000,
      });
    } catch (err) {
      if (err instanceof NetworkError)
        throw new UnreachableError(this.service, this.baseUrl, err.cause);
      throw err;
    }
  }

  /** JSON of a 2xx answer; any other status throws {@link ServiceError}. */
  async request<T>(
    method: HttpRequest['method'],
    path: string,
    opts: RequestOptions = {},
  ): Promise<ServiceResponse<T>> {
    const res = await this.send(method, path, opts);
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status >= 300) throw this.errorOf(res.status, text, res.headers);
    let data: unknown = null;
    if (text.trim() !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        throw new ServiceError(
          this.service,
          res.status,
          'bad_response',
          `${method} ${path} answered ${res.status} with a body that is not JSON`,
        );
      }
    }
    return { status: res.status, headers: res.headers, data: data as T };
  }

  async get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>('GET', path, query ? { query } : {})).data;
  }

  errorOf(status: number, text: string, headers: Record<string, string>): ServiceError {
    const { code, message, details } = parseErrorBody(status, text);
    return new ServiceError(
      this.service,
      status,
      code,
      message,
      details,
      parseRetryAfter(headers['retry-after']),
    );
  }
}

/** `encodeURIComponent` for a path segment. */
export const seg = (s: string | number): string => encodeURIComponent(String(s));
