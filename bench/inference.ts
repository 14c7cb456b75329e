// `npm run bench -- inference`: the inference service under HTTP load from this process (the
// server is its own process, dist/services/inference, as deployed), on two models registered in
// a real registry:
//   big    512-1024-1024-16 MLP (softmax), where compute matters;
//   small  16-8-1 MLP (sigmoid), where HTTP and JSON dominate.
// The baseline is onnxruntime-node in this process on the same model bytes (one intra-op
// thread, as each server worker runs): latency of one run() at batch 1 and 32. The server runs
// with dynamic batching off and on (INFERENCE_BATCHING), the cache off (every request computes),
// the prediction log on (as deployed), at concurrency 1, 16 and 64, one row per request.
// Event-loop lag is read from the server's own Prometheus histogram (prom-client's
// monitorEventLoopDelay, reset at every scrape) over the big model's c = 64 runs with batching
// on, where batches are largest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportDenseNetwork, Rng, type DenseLayer, type NetworkLayer } from '@mlops/ml';
import { RegistryClient } from '@mlops/registry-client';
import { Agent } from 'node:http';
import { runLoad, send, type LoadResult } from './lib/http-load';
import { withKafka } from './lib/kafka';
import { intEnv } from './lib/measure';
import { Recorder, type BenchResult } from './lib/report';
import { startService, type BenchService } from './lib/service';

const RUNS = intEnv('BENCH_RUNS', 3);
/** Requests per measured run, by concurrency. */
const REQUESTS: Record<number, number> = {
  1: intEnv('BENCH_INFERENCE_REQUESTS_C1', 1_500),
  16: intEnv('BENCH_INFERENCE_REQUESTS_C16', 4_000),
  64: intEnv('BENCH_INFERENCE_REQUESTS_C64', 6_000),
};
const CONCURRENCY = [1, 16, 64];
const RAW_RUNS = intEnv('BENCH_INFERENCE_RAW_RUNS', 2_000);
/** Distinct request bodies cycled through (the cache is off anyway). */
const BODIES = 256;
/** Requests per second of 64 rows each in the max-batch event-loop run. */
const MAX_BATCH_RATE = intEnv('BENCH_INFERENCE_MAX_BATCH_RATE', 40);
/** onnxruntime worker threads of the server (default: one per core, as deployed). */
const WORKERS = process.env.BENCH_INFERENCE_WORKERS;
/** Which parts run (all by default): raw, big, small, off, on. */
const ONLY = new Set((process.env.BENCH_INFERENCE_ONLY ?? 'raw,big,small,off,on,cache').split(','));

interface BenchModel {
  name: 'big' | 'small';
  layers: NetworkLayer[];
  task: 'multiclass' | 'binary';
  features: number;
  bytes: Uint8Array;
}

const say = (line: string) => process.stdout.write(`[inference] ${line}\n`);

function mlp(widths: number[], last: DenseLayer['activation'], seed: number): NetworkLayer[] {
  const rng = new Rng(seed);
  const layers: NetworkLayer[] = [];
  for (let i = 1; i < widths.length; i++) {
    const [n, m] = [widths[i - 1], widths[i]];
    const scale = Math.sqrt(2 / n);
    layers.push({
      kind: 'dense',
      weights: Float32Array.from({ length: n * m }, () => rng.normal(0, scale)),
      bias: Float32Array.from({ length: m }, () => rng.normal(0, 0.01)),
      activation: i === widths.length - 1 ? last : 'relu',
    });
  }
  return layers;
}

function models(): BenchModel[] {
  const big = mlp([512, 1024, 1024, 16], 'softmax', 1);
  const small = mlp([16, 8, 1], 'sigmoid', 2);
  return [
    {
      name: 'big',
      layers: big,
      task: 'multiclass',
      features: 512,
      bytes: exportDenseNetwork(big, { task: 'multiclass' }),
    },
    {
      name: 'small',
      layers: small,
      task: 'binary',
      features: 16,
      bytes: exportDenseNetwork(small, { task: 'binary' }),
    },
  ];
}

function bodies(m: BenchModel): Buffer[] {
  const rng = new Rng(7);
  return Array.from({ length: BODIES }, () =>
    Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'features',
            shape: [1, m.features],
            datatype: 'FP32',
            data: Array.from({ length: m.features }, () => Math.fround(rng.normal())),
          },
        ],
      }),
    ),
  );
}

/** Latency of one run() in this process, per batch size: the median over RAW_RUNS calls. */
async function rawLatency(m: BenchModel, batch: number): Promise<number> {
  const session = await ort.InferenceSession.create(m.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const rng = new Rng(3);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: batch * m.features }, () => rng.normal()),
      [batch, m.features],
    );
    const runs = batch === 1 ? RAW_RUNS : Math.max(200, RAW_RUNS / 8);
    for (let i = 0; i < 50; i++) await session.run({ features: x });
    const times = new Float64Array(runs);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await session.run({ features: x });
      times[i] = performance.now() - t0;
    }
    times.sort();
    return times[runs >> 1];
  } finally {
    await session.release();
  }
}

async function registerModels(registry: BenchService, list: BenchModel[]): Promise<void> {
  const client = new RegistryClient({ url: registry.url });
  const call = async (method: string, url: string, body: unknown) => {
    const res = await fetch(`${registry.url}${url}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  };
  for (const m of list) {
    const artifact = await client.upload(Buffer.from(m.bytes), 'onnx');
    const name = `bench-${m.name}`;
    await call('POST', '/v1/models', { name });
    await call('POST', `/v1/models/${name}/versions`, {
      artifact,
      tags: { 'mlops.task': m.task },
    });
    await call('PUT', `/v1/models/${name}/aliases/production`, { version: 1, reason: 'bench' });
  }
}

async function waitServed(svc: BenchService, list: BenchModel[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const m of list) {
    for (;;) {
      const res = await fetch(`${svc.url}/v2/models/bench-${m.name}/ready`);
      if (res.status === 200) break;
      if (Date.now() > deadline) throw new Error(`bench-${m.name} was not served within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * How late the server's main thread ran its timers since the last scrape (the scrape resets
 * the histogram): the service's own inference_event_loop_lag_seconds, 2 ms resolution, the
 * interval itself subtracted.
 */
async function eventLoopLag(svc: BenchService): Promise<{ p99Ms: number; maxMs: number }> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const read = (quantile: string) => {
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('inference_event_loop_lag_seconds{') && l.includes(`quantile="${quantile}"`),
      );
    return line ? Number(line.split(' ').at(-1)) * 1000 : Number.NaN;
  };
  return { p99Ms: read('0.99'), maxMs: read('1') };
}

/** Rows and batches the server has run for a model so far (its batch-size histogram). */
async function batchStats(
  svc: BenchService,
  m: BenchModel,
): Promise<{ rows: number; batches: number }> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes(`model="bench-${m.name}"`))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  return { rows: sum('inference_batch_size_sum'), batches: sum('inference_batch_size_count') };
}

/**
 * Waits until the server's prediction log has written what the last run logged: its worker
 * thread and the broker would otherwise still be busy with it during the next run, which may
 * be another server's.
 */
async function quiesce(svc: BenchService): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('inference_predictions_buffered'));
    if (!line || Number(line.split(' ').at(-1)) === 0) return;
    if (Date.now() > deadline) throw new Error('the prediction log did not drain within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function load(svc: BenchService, m: BenchModel, body: Buffer[], c: number, total: number) {
  const url = new URL(svc.url);
  return runLoad({
    host: url.hostname,
    port: Number(url.port),
    concurrency: c,
    total,
    make: (i) => ({
      method: 'POST',
      path: `/v2/models/bench-${m.name}/infer`,
      body: body[i % body.length],
    }),
  });
}

/**
 * Open-loop load: `rate` requests a second for `seconds`, whatever the answers' latency (a
 * closed loop at saturation would measure queueing in the event loop, not blocking). Returns
 * the server's event-loop delay over the run and the requests that failed.
 */
async function pacedLag(
  svc: BenchService,
  m: BenchModel,
  body: Buffer,
  rate: number,
  seconds: number,
  /** Binary tensor extension: the JSON header's length. */
  headerLength?: number,
): Promise<{ p99Ms: number; maxMs: number; failed: number; sent: number }> {
  const url = new URL(svc.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  await eventLoopLag(svc);
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      send(agent, url.hostname, Number(url.port), {
        method: 'POST',
        path: `/v2/models/bench-${m.name}/infer`,
        body,
        ...(headerLength !== undefined ? { headerLength } : {}),
      }).then((res) => {
        if (res.status !== 200) failed++;
      }),
    );
  }
  await Promise.all(inFlight);
  const lag = await eventLoopLag(svc);
  agent.destroy();
  return { ...lag, failed, sent: total };
}

function check(result: LoadResult, what: string): void {
  if (result.failed > 0)
    throw new Error(`${what}: ${result.failed} failed requests: ${result.failures.join(' | ')}`);
}

export async function run(): Promise<BenchResult> {
  const recorder = new Recorder('inference');
  const list = models().filter((m) => ONLY.has(m.name));
  for (const m of ONLY.has('raw') ? list : []) {
    const [b1, b32] = [await rawLatency(m, 1), await rawLatency(m, 32)];
    say(
      `raw ort ${m.name}: p50 ${b1.toFixed(3)} ms at batch 1 (${Math.round(1000 / b1)} rows/s), ${b32.toFixed(3)} ms at batch 32 (${Math.round((32 * 1000) / b32)} rows/s)`,
    );
    for (let r = 0; r < RUNS; r++) {
      const [x1, x32] = r === 0 ? [b1, b32] : [await rawLatency(m, 1), await rawLatency(m, 32)];
      recorder.add(`raw_${m.name}_b1_p50_ms`, x1);
      recorder.add(`raw_${m.name}_b32_p50_ms`, x32);
      recorder.add(`raw_${m.name}_b32_rows_per_s`, (32 * 1000) / x32);
    }
  }

  await withKafka(async ({ brokers }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-bench-inference-'));
    const prefix = `bench-inference-${Date.now()}.`;
    const base = {
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    };
    let registry: BenchService | undefined;
    try {
      registry = await startService(
        'model-registry',
        {
          ...base,
          ARTIFACT_DIR: path.join(dir, 'artifacts'),
          REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
          AUTH_MODE: 'none',
        },
        { unset: ['DATABASE_URL'] },
      );
      await registerModels(registry, list);
      // off / on: batching off and on, cache off. cache: batching on and the in-process cache
      // on, the same 256 bodies cycled, so after the warm-up every request is a hit. The
      // servers run side by side and every run measures the modes back to back, so that the
      // shared host's noise falls on all of them alike.
      const modes = (['off', 'on', 'cache'] as const).filter((x) => ONLY.has(x));
      const servers = new Map<(typeof modes)[number], BenchService>();
      try {
        for (const mode of modes) {
          const svc = await startService('inference', {
            ...base,
            REGISTRY_URL: registry.url,
            AUTH_MODE: 'none',
            INFERENCE_BATCHING: mode === 'off' ? 'off' : 'on',
            INFERENCE_CACHE: mode === 'cache' ? 'true' : 'false',
            INFERENCE_STREAM_SCORING: 'false',
            ...(process.env.BENCH_INFERENCE_LOG_SAMPLE_RATE
              ? {
                  INFERENCE_PREDICTION_LOG_SAMPLE_RATE: process.env.BENCH_INFERENCE_LOG_SAMPLE_RATE,
                }
              : {}),
            ...(WORKERS ? { INFERENCE_WORKERS: WORKERS } : {}),
          });
          servers.set(mode, svc);
          await waitServed(svc, list);
        }
        const cases = list.flatMap((m) =>
          CONCURRENCY.flatMap((c) =>
            modes.filter((mode) => mode !== 'cache' || c === 64).map((mode) => ({ m, c, mode })),
          ),
        );
        const bodiesOf = new Map(list.map((m) => [m.name, bodies(m)]));
        for (const { m, c, mode } of cases)
          check(
            await load(
              servers.get(mode)!,
              m,
              bodiesOf.get(m.name)!,
              c,
              Math.min(REQUESTS[c], 1_000),
            ),
            `warm-up ${m.name} ${mode} c=${c}`,
          );
        for (let r = 0; r < RUNS; r++) {
          for (const { m, c, mode } of cases) {
            const svc = servers.get(mode)!;
            const total = REQUESTS[c];
            const lagBefore = mode === 'on' && m.name === 'big' && c === 64;
            if (lagBefore) await eventLoopLag(svc);
            const batchesBefore = await batchStats(svc, m);
            const result = await load(svc, m, bodiesOf.get(m.name)!, c, total);
            // Read first: every scrape of /metrics resets the event-loop histogram.
            const lag = lagBefore ? await eventLoopLag(svc) : undefined;
            const batchesAfter = await batchStats(svc, m);
            await quiesce(svc);
            const meanRows =
              (batchesAfter.rows - batchesBefore.rows) /
              Math.max(1, batchesAfter.batches - batchesBefore.batches);
            check(result, `${m.name} batching ${mode} c=${c}`);
            const key = `${m.name}_batching_${mode}_c${c}`;
            recorder.add(`${key}_rps`, result.perSecond);
            recorder.add(`${key}_p50_ms`, result.p50Ms);
            recorder.add(`${key}_p95_ms`, result.p95Ms);
            recorder.add(`${key}_mean_batch_rows`, meanRows);
            let lagText = '';
            if (lag) {
              recorder.add('c64_event_loop_lag_p99_ms', lag.p99Ms);
              recorder.add('c64_event_loop_lag_max_ms', lag.maxMs);
              lagText = `; event-loop lag p99 ${lag.p99Ms.toFixed(2)} ms, max ${lag.maxMs.toFixed(2)} ms`;
            }
            say(
              `run ${r + 1} ${m.name.padEnd(5)} ${mode.padEnd(5)} c=${String(c).padEnd(2)} ${Math.round(result.perSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p95 ${result.p95Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${meanRows.toFixed(1)} rows/batch, client ${Math.round(result.clientCpuMicrosPerRequest)} µs CPU/req${lagText}`,
            );
          }
        }
        // Max batches: requests of a whole batch each (64 rows, the default maxBatchSize), so
        // every run() is the largest the server makes, at a steady rate well below capacity.
        const big = list.find((m) => m.name === 'big');
        const svc = servers.get('on');
        if (svc && big) {
          const rows = 64;
          const rng = new Rng(11);
          const body = Buffer.from(
            JSON.stringify({
              inputs: [
                {
                  name: 'features',
                  shape: [rows, big.features],
                  datatype: 'FP32',
                  data: Array.from({ length: rows * big.features }, () =>
                    Math.fround(rng.normal()),
                  ),
                },
              ],
            }),
          );
          // The same tensors as Triton's binary extension (tritonclient's default): no JSON
          // numbers to parse on the main thread.
          const data = Float32Array.from(
            (JSON.parse(body.toString('utf8')) as { inputs: { data: number[] }[] }).inputs[0].data,
          );
          const header = Buffer.from(
            JSON.stringify({
              inputs: [
                {
                  name: 'features',
                  shape: [rows, big.features],
                  datatype: 'FP32',
                  parameters: { binary_data_size: data.byteLength },
                },
              ],
            }),
          );
          const binaryBody = Buffer.concat([header, Buffer.from(data.buffer)]);
          for (let r = 0; r < RUNS; r++) {
            const binaryLag = await pacedLag(
              svc,
              big,
              binaryBody,
              MAX_BATCH_RATE,
              5,
              header.length,
            );
            await quiesce(svc);
            if (binaryLag.failed > 0)
              throw new Error(
                `max batches (binary): ${binaryLag.failed} of ${binaryLag.sent} failed`,
              );
            recorder.add('max_batch_binary_event_loop_lag_p99_ms', binaryLag.p99Ms);
            recorder.add('max_batch_binary_event_loop_lag_max_ms', binaryLag.maxMs);
            say(
              `big   max batches, binary tensors (${rows} rows × ${MAX_BATCH_RATE} req/s, open loop): event-loop lag p99 ${binaryLag.p99Ms.toFixed(2)} ms, max ${binaryLag.maxMs.toFixed(2)} ms`,
            );
            const lag = await pacedLag(svc, big, body, MAX_BATCH_RATE, 5);
            await quiesce(svc);
            if (lag.failed > 0) throw new Error(`max batches: ${lag.failed} of ${lag.sent} failed`);
            recorder.add('max_batch_event_loop_lag_p99_ms', lag.p99Ms);
            recorder.add('max_batch_event_loop_lag_max_ms', lag.maxMs);
            say(
              `big   max batches (${rows} rows × ${MAX_BATCH_RATE} req/s, open loop): event-loop lag p99 ${lag.p99Ms.toFixed(2)} ms, max ${lag.maxMs.toFixed(2)} ms`,
            );
          }
        }
      } finally {
        for (const svc of servers.values()) await svc.stop();
      }
    } finally {
      await registry?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A partial run (BENCH_INFERENCE_ONLY) reports its figures only.
  if (!['raw', 'big', 'small', 'off', 'on', 'cache'].every((x) => ONLY.has(x)))
    return recorder.result();
  recorder.ratio('batching_speedup_c64', 'big_batching_on_c64_rps', 'big_batching_off_c64_rps', {
    min: 4,
  });
  recorder.ratio('p95_ratio_c64', 'big_batching_on_c64_p95_ms', 'big_batching_off_c64_p95_ms', {
    max: 1,
  });
  recorder.derive(
    'overhead_p50_ms_c1',
    (m) => m('big_batching_on_c1_p50_ms') - m('raw_big_b1_p50_ms'),
    { max: 1 },
  );
  recorder.derive('event_loop_lag_ms', (m) => m('max_batch_event_loop_lag_p99_ms'), { max: 5 });
  recorder.derive('event_loop_lag_ms_binary', (m) => m('max_batch_binary_event_loop_lag_p99_ms'));
  recorder.derive('event_loop_lag_ms_c64_saturated', (m) => m('c64_event_loop_lag_p99_ms'));
  recorder.ratio('cache_hit_speedup_c64', 'big_batching_cache_c64_rps', 'big_batching_on_c64_rps');
  recorder.ratio(
    'cache_hit_speedup_c64_small',
    'small_batching_cache_c64_rps',
    'small_batching_on_c64_rps',
  );
  recorder.ratio('batching_speedup_c16', 'big_batching_on_c16_rps', 'big_batching_off_c16_rps');
  recorder.ratio(
    'batching_speedup_c64_small',
    'small_batching_on_c64_rps',
    'small_batching_off_c64_rps',
  );
  recorder.ratio(
    'p95_ratio_c64_small',
    'small_batching_on_c64_p95_ms',
    'small_batching_off_c64_p95_ms',
  );
  recorder.derive(
    'overhead_p50_ms_c1_small',
    (m) => m('small_batching_on_c1_p50_ms') - m('raw_small_b1_p50_ms'),
  );
  recorder.derive(
    'raw_b32_vs_b1_rows_big',
    (m) => (32 * m('raw_big_b1_p50_ms')) / m('raw_big_b32_p50_ms'),
  );
  recorder.note(
    'One row per request, JSON over keep-alive HTTP/1.1 from the benchmark process; server: dist/services/inference with 2 onnxruntime worker threads (one intra-op thread each), cache off, prediction log on.',
  );
  recorder.note(
    'cache_hit_speedup_c64: the same server with the in-process cache on and every request a hit, over cache off (batching on), c = 64.',
  );
  recorder.note(
    'overhead_p50_ms_c1: server p50 at concurrency 1 (batching on) minus raw in-process run() p50 at batch 1, same model.',
  );
  recorder.note(
    `event_loop_lag_ms: p99 of how late the server main thread ran a 2 ms timer (inference_event_loop_lag_seconds: monitorEventLoopDelay minus its interval) while it runs max batches: requests of 64 rows (= maxBatchSize) of the big model at ${MAX_BATCH_RATE} req/s, open loop. event_loop_lag_ms_c64_saturated: the same during the closed-loop c = 64 runs, where the main thread is saturated and the figure measures queueing behind 64 requests at a time on 2 shared cores, not blocking.`,
  );
  recorder.note(
    'raw_b32_vs_b1_rows_big: rows per second of one run() at batch 32 over batch 1 in-process — the most batching can gain on this CPU for this model.',
  );
  return recorder.result();
}
