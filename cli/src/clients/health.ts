import type { ServiceName } from '../errors';
import { NetworkError, type HttpFn } from '../http';

export interface Readiness {
  service: ServiceName;
  url: string;
  state: 'ready' | 'not_ready' | 'down';
  status: number | null;
  latencyMs: number | null;
  /** Failing checks (not ready), or why it is down. */
  detail: string;
}

/**
 * `GET /health/ready` of one service: ready (200), not ready (503, with the failing checks) or
 * down (no answer within the timeout). Never throws.
 */
export async function readiness(
  service: ServiceName,
  baseUrl: string,
  http: HttpFn,
  now: () => number,
  timeoutMs = 3000,
): Promise<Readiness> {
  const url = `${baseUrl.replace(/\/+$/, '')}/health/ready`;
  const started = now();
  try {
    const res = await http({
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      timeoutMs,
    });
    const latencyMs = now() - started;
    const state = res.status === 200 ? 'ready' : 'not_ready';
    return {
      service,
      url: baseUrl,
      state,
      status: res.status,
      latencyMs,
      detail: state === 'ready' ? '' : failingChecks(res.status, res.body.toString('utf8')),
    };
  } catch (err) {
    const cause = err instanceof NetworkError ? err.cause : err;
    return {
      service,
      url: baseUrl,
      state: 'down',
      status: null,
      latencyMs: null,
      detail: describe(cause),
    };
  }
}

/** "kafka: broker down; outbox" from `{checks: {name: {ok, details}}}`. */
export function failingChecks(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as {
      checks?: Record<string, { ok: boolean; details?: unknown }>;
    };
    const failing = Object.entries(body.checks ?? {})
      .filter(([, c]) => !c.ok)
      .map(([name, c]) =>
        typeof c.details === 'string' && c.details ? `${name}: ${c.details}` : name,
      );
    if (failing.length > 0) return failing.join('; ');
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${status}`;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = (err as { cause?: unknown }).cause;
  const code =
    (inner && typeof inner === 'object' ? (inner as { code?: unknown }).code : undefined) ??
    (err as { code?: unknown }).code;
  if (typeof code === 'string') return code === 'ECONNREFUSED' ? 'connection refused' : code;
  if (err.name === 'TimeoutError') return 'timed out';
  return err.message;
}
