import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One HTTP request of a load run. */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** A JSON body, serialised once by the caller (sent with content-type application/json). */
  body?: Buffer;
  /**
   * Set: the body is a JSON header of this many bytes followed by binary tensors (the Open
   * Inference Protocol's binary extension), sent as application/octet-stream.
   */
  headerLength?: number;
}

export interface LoadResponse {
  /** 0 when the request failed below HTTP (reset, refused). */
  status: number;
  body: Buffer;
  ms: number;
  error?: Error;
}

export interface LoadResult {
  requests: number;
  /** 2xx responses. */
  ok: number;
  failed: number;
  /** From the first request sent to the last response received. */
  seconds: number;
  /** 2xx responses ÷ seconds. */
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of this (the load-generating) process per request, µs. */
  clientCpuMicrosPerRequest: number;
  /** Up to five failures, for the error message. */
  failures: string[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Sends one request on `agent` and reads the whole response. */
export function send(
  agent: Agent,
  host: string,
  port: number,
  req: LoadRequest,
): Promise<LoadResponse> {
  return new Promise((resolve) => {
    const started = performance.now();
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (req.body) {
      headers['content-type'] =
        req.headerLength === undefined ? 'application/json' : 'application/octet-stream';
      headers['content-length'] = req.body.length;
      if (req.headerLength !== undefined)
        headers['inference-header-content-length'] = req.headerLength;
    }
    const fail = (error: Error) =>
      resolve({ status: 0, body: Buffer.alloc(0), ms: performance.now() - started, error });
    const r = request({ agent, host, port, method: req.method, path: req.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', fail);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      );
    });
    r.once('error', fail);
    r.end(req.body);
  });
}

/**
 * A closed-loop load: `concurrency` workers on one keep-alive agent (one socket each) send
 * `total` requests back to back, request i made by `make(i)`. A fresh agent per run, so every
 * run starts from the same state and no socket idles into the server's keep-alive timeout.
 * `onResponse` sees every response (for checks; keep it cheap).
 */
export async function runLoad(options: {
  host: string;
  port: number;
  concurrency: number;
  total: number;
  make: (i: number) => LoadRequest;
  onResponse?: (i: number, res: LoadResponse) => void;
}): Promise<LoadResult> {
  const { host, port, concurrency, total, make, onResponse } = options;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: concurrency,
    maxFreeSockets: concurrency,
  });
  const latencies = new Float64Array(total);
  const failures: string[] = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const res = await send(agent, host, port, make(i));
      latencies[i] = res.ms;
      if (res.status >= 200 && res.status < 300) ok++;
      else {
        failed++;
        if (failures.length < 5)
          failures.push(
            res.error
              ? `#${i}: ${res.error.message}`
              : `#${i}: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`,
          );
      }
      onResponse?.(i, res);
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const spent = process.cpuUsage(cpu);
  latencies.sort();
  return {
    requests: total,
    ok,
    failed,
    seconds,
    perSecond: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies[total - 1],
    clientCpuMicrosPerRequest: (spent.user + spent.system) / total,
    failures,
  };
}
