// `npm run bench -- registry`: the model registry's REST API under HTTP load, on SQLite and on
// PostgreSQL. The registry runs as its own process (dist/services/model-registry, as deployed),
// with a Kafka broker for its bus and outbox; this process generates the load over loopback:
// a fixed number of requests per run from a fixed number of keep-alive connections.
//
// Per backend, after a warm-up, runs of
//   create     POST /v1/models/:name/versions, round-robin over a few models (so writers of one
//              model queue behind each other and writers of different models need not);
//   get_alias  GET /v1/models/:name/aliases/production, over the same models;
//   health     GET /health/live of the same process: the cost of HTTP + Nest, the baseline;
// and at the end a correctness check: every model's versions are exactly 1..N, and N sums to
// the successful creates.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { runLoad, type LoadRequest, type LoadResponse, type LoadResult } from './lib/http-load';
// The file itself, not the @mlops/testing index, which imports vitest.
import { freshDatabase, POSTGRES_TEST_URL, redactUrl } from '../libs/testing/src/postgres';
import { withKafka } from './lib/kafka';
import { intEnv } from './lib/measure';
import { Recorder, round, type BenchResult } from './lib/report';
import { startService, type BenchService } from './lib/service';

/**
 * Measured runs per operation and backend, after one warm-up run each. Five, not three: the
 * machines are shared, and the load generator, the service and PostgreSQL share two cores.
 */
const RUNS = intEnv('BENCH_RUNS', 5);
/** Requests in flight at once (one keep-alive socket each). */
const CONCURRENCY = intEnv('BENCH_REGISTRY_CONCURRENCY', 16);
/** Models the version creations and alias reads go to, round-robin. */
const MODELS = intEnv('BENCH_REGISTRY_MODELS', 4);
/** Requests per measured run. */
const CREATES = intEnv('BENCH_REGISTRY_CREATES', 1_200);
const GETS = intEnv('BENCH_REGISTRY_GETS', 3_000);
const HEALTHS = intEnv('BENCH_REGISTRY_HEALTH', 4_000);
/** Requests per warm-up run. */
const WARMUP = { create: Math.min(CREATES, 400), get_alias: Math.min(GETS, 1_000), health: 1_000 };
/** Failed requests tolerated in a run, as a fraction (the rest of the figures would mislead). */
const MAX_FAILED = 0.001;

type Backend = 'sqlite' | 'postgres';
type Op = 'create' | 'get_alias' | 'health';
const OPS: Op[] = ['create', 'get_alias', 'health'];
const ALL_BACKENDS: Backend[] = ['sqlite', 'postgres'];
const RUN_SIZE: Record<Op, number> = { create: CREATES, get_alias: GETS, health: HEALTHS };

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const say = (line: string) => process.stdout.write(`[registry] ${line}\n`);

function selectedBackends(): Backend[] {
  const raw = process.env.BENCH_REGISTRY_BACKENDS;
  if (!raw) return ALL_BACKENDS;
  const names = raw.split(',').map((s) => s.trim()) as Backend[];
  const bad = names.filter((n) => !ALL_BACKENDS.includes(n));
  if (bad.length > 0)
    throw new Error(
      `BENCH_REGISTRY_BACKENDS: unknown ${bad.join(', ')} (use ${ALL_BACKENDS.join(', ')})`,
    );
  return names;
}

/** A version as a trainer registers one: params, metrics, tags, lineage to Kafka offsets. */
function versionBody(model: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      description: `bench version of ${model}`,
      params: { learningRate: 0.01, epochs: 5, hidden: [64, 32], optimizer: 'adam' },
      metrics: { auc: 0.9312, precision: 0.81, recall: 0.77, loss: 0.2143 },
      tags: { team: 'risk', framework: 'tfjs' },
      dataset: 'cards',
      datasetSpecVersion: 3,
      featuresetVersion: 'fs-2024-01',
      trainedOn: [0, 1, 2].map((partition) => ({
        topic: 'features.v1',
        partition,
        from: String(partition * 1000),
        to: String(partition * 1000 + 50_000),
      })),
      sourceJob: 'bench-trainer-job',
    }),
  );
}

async function json(
  svc: BenchService,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${svc.url}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function expectStatus(
  svc: BenchService,
  method: string,
  url: string,
  status: number,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await json(svc, method, url, body);
  if (res.status !== status)
    throw new Error(
      `${method} ${url}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)} (expected ${status})`,
    );
  return res.body;
}

/** Every version number of a model, through the paginated list. */
async function listVersions(svc: BenchService, model: string): Promise<number[]> {
  const versions: number[] = [];
  let token: string | null = null;
  do {
    const query: string = `maxResults=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
    const page = (await expectStatus(svc, 'GET', `/v1/models/${model}/versions?${query}`, 200)) as {
      versions: { version: number }[];
      nextPageToken: string | null;
    };
    for (const v of page.versions) versions.push(v.version);
    token = page.nextPageToken ?? null;
  } while (token);
  return versions;
}

/** `values` holds exactly 1..n, each once. */
function describeGaps(values: readonly number[], n: number): string | undefined {
  const seen = new Uint8Array(n + 1);
  const duplicates: number[] = [];
  const outside: number[] = [];
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1 || v > n) outside.push(v);
    else if (seen[v]++) duplicates.push(v);
  }
  const missing: number[] = [];
  for (let v = 1; v <= n; v++) if (!seen[v]) missing.push(v);
  if (duplicates.length + outside.length + missing.length === 0) return undefined;
  const few = (xs: number[]) =>
    `${xs.length}${xs.length ? ` (${xs.slice(0, 5).join(', ')}…)` : ''}`;
  return `missing ${few(missing)}, duplicates ${few(duplicates)}, outside 1..${n} ${few(outside)}`;
}

async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'bench-registry-cleanup',
    brokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

async function measureBackend(
  backend: Backend,
  brokers: string[],
  cleanTopics: boolean,
  recorder: Recorder,
): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const prefix = `bench-registry-${id}-${backend}.`;
  const dir = mkdtempSync(path.join(tmpdir(), `mlops-bench-registry-${backend}-`));
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let svc: BenchService | undefined;
  try {
    if (backend === 'postgres') {
      db = await freshDatabase('bench_registry');
      say(`${backend}: fresh database ${redactUrl(db.url)}`);
    }
    const started = Date.now();
    svc = await startService(
      'model-registry',
      {
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TOPIC_PREFIX: prefix,
        ARTIFACT_DIR: path.join(dir, 'artifacts'),
        AUTH_MODE: 'none',
        LOG_LEVEL: 'warn',
        ...(db
          ? { DATABASE_URL: db.url }
          : { REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite') }),
      },
      // An inherited DATABASE_URL would turn the SQLite run into a PostgreSQL one.
      { unset: backend === 'sqlite' ? ['DATABASE_URL'] : [] },
    );
    const service = svc;
    say(
      `${backend}: model-registry (pid ${service.pid}) ready on ${service.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    const models = Array.from({ length: MODELS }, (_, i) => `bench-model-${i}`);
    for (const name of models)
      await expectStatus(service, 'POST', '/v1/models', 201, { name, description: 'bench' });
    const bodies = models.map(versionBody);
    /** Per model: successful creates, and the version numbers their responses carried. */
    const createdOk = models.map(() => 0);
    const returned: number[][] = models.map(() => []);
    let failedCreates = 0;

    const requestOf: Record<Op, (i: number) => LoadRequest> = {
      create: (i) => ({
        method: 'POST',
        path: `/v1/models/${models[i % MODELS]}/versions`,
        body: bodies[i % MODELS],
      }),
      get_alias: (i) => ({
        method: 'GET',
        path: `/v1/models/${models[i % MODELS]}/aliases/production`,
      }),
      health: () => ({ method: 'GET', path: '/health/live' }),
    };
    const onCreate = (i: number, res: LoadResponse) => {
      if (res.status === 201) {
        createdOk[i % MODELS]++;
        returned[i % MODELS].push(
          (JSON.parse(res.body.toString('utf8')) as { version: number }).version,
        );
      } else failedCreates++;
    };
    /** Warm-up reads are checked in full; measured ones by status only (cheap client). */
    let aliasMismatch: string | undefined;
    const onWarmGet = (i: number, res: LoadResponse) => {
      if (res.status !== 200) return;
      const v = JSON.parse(res.body.toString('utf8')) as {
        model: string;
        version: number;
        aliases: string[];
      };
      if (v.model !== models[i % MODELS] || v.version !== 1 || !v.aliases.includes('production'))
        aliasMismatch ??= JSON.stringify(v).slice(0, 300);
    };

    const once = async (op: Op, label: string, warm: boolean): Promise<LoadResult> => {
      const total = warm ? WARMUP[op] : RUN_SIZE[op];
      const cpuBefore = service.cpuSeconds();
      const result = await runLoad({
        host: service.host,
        port: service.port,
        concurrency: CONCURRENCY,
        total,
        make: requestOf[op],
        ...(op === 'create'
          ? { onResponse: onCreate }
          : warm && op === 'get_alias'
            ? { onResponse: onWarmGet }
            : {}),
      });
      const serverCpuMicros = ((service.cpuSeconds() - cpuBefore) * 1e6) / total;
      say(
        `${backend.padEnd(8)} ${label.padEnd(9)} ${op.padEnd(9)} ${fmt(total).padStart(6)} req in ${result.seconds.toFixed(2).padStart(5)} s = ${fmt(result.perSecond).padStart(6)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, max ${result.maxMs.toFixed(1)} ms; server ${Number.isFinite(serverCpuMicros) ? fmt(serverCpuMicros) : '?'} µs CPU/req, client ${fmt(result.clientCpuMicrosPerRequest)} µs${result.failed ? `; ${result.failed} FAILED: ${result.failures.join(' | ')}` : ''}`,
      );
      if (result.failed > total * MAX_FAILED)
        throw new Error(
          `${backend} ${op}: ${result.failed} of ${total} requests failed: ${result.failures.join(' | ')}\n${service.output().slice(-3000)}`,
        );
      if (!warm) {
        recorder.add(`${op}_rps_${backend}`, result.perSecond);
        recorder.add(`${op}_p50_ms_${backend}`, result.p50Ms);
        recorder.add(`${op}_p99_ms_${backend}`, result.p99Ms);
        if (Number.isFinite(serverCpuMicros))
          recorder.add(`${op}_server_cpu_us_per_req_${backend}`, serverCpuMicros);
      }
      return result;
    };

    // Warm-up: every route once under load; then `production` → version 1 of every model.
    await once('health', 'warm-up', true);
    await once('create', 'warm-up', true);
    for (const name of models)
      await expectStatus(service, 'PUT', `/v1/models/${name}/aliases/production`, 200, {
        version: 1,
        reason: 'bench',
      });
    await once('get_alias', 'warm-up', true);
    if (aliasMismatch) throw new Error(`${backend}: get-by-alias answered ${aliasMismatch}`);

    for (let round = 1; round <= RUNS; round++) {
      // Rotate the order so that no operation always follows the same neighbour.
      for (let k = 0; k < OPS.length; k++)
        await once(OPS[(k + round - 1) % OPS.length], `run ${round}/${RUNS}`, false);
    }

    // Correctness: versions 1..N per model, N = the successful creates, as the client saw them.
    const problems: string[] = [];
    let totalVersions = 0;
    for (let m = 0; m < MODELS; m++) {
      const name = models[m];
      const model = (await expectStatus(service, 'GET', `/v1/models/${name}`, 200)) as {
        latestVersion: number;
        aliases: Record<string, number>;
      };
      const n = model.latestVersion;
      totalVersions += n;
      const listed = await listVersions(service, name);
      if (n !== createdOk[m])
        problems.push(`${name}: latestVersion ${n} but ${createdOk[m]} successful creates`);
      if (listed.length !== n)
        problems.push(`${name}: ${listed.length} versions listed, latestVersion ${n}`);
      const stored = describeGaps(listed, n);
      if (stored) problems.push(`${name} stored versions: ${stored}`);
      const answered = describeGaps(returned[m], createdOk[m]);
      if (answered) problems.push(`${name} versions in the 201 responses: ${answered}`);
      if (model.aliases.production !== 1)
        problems.push(`${name}: production → ${model.aliases.production}, expected 1`);
    }
    const creates = createdOk.reduce((a, b) => a + b, 0);
    const verdict = problems.length === 0 ? 'OK' : 'FAILED';
    const check = `${backend} check ${verdict}: ${fmt(creates)} successful creates (${failedCreates} failed) over ${MODELS} models → ${fmt(totalVersions)} versions stored, each model exactly 1..N (${createdOk.map(fmt).join(' + ')}), no gap, no duplicate; production alias intact`;
    say(problems.length === 0 ? check : `${check}\n  ${problems.join('\n  ')}`);
    if (problems.length > 0)
      throw new Error(`${backend}: correctness check failed: ${problems.join('; ')}`);
    recorder.note(check);
  } finally {
    if (svc) {
      const code = await svc.stop();
      if (code !== 0)
        say(`${backend}: model-registry exited with ${code}:\n${svc.output().slice(-2000)}`);
    }
    if (db)
      await db
        .drop()
        .catch((err: Error) => say(`${backend}: dropping the database: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
    if (cleanTopics)
      await deleteTopics(brokers, prefix).catch((err: Error) =>
        say(`deleting ${prefix}* topics: ${err.message}`),
      );
  }
}

export async function run(): Promise<BenchResult> {
  const backends = selectedBackends();
  const recorder = new Recorder('registry');
  for (const b of backends)
    recorder.declare(
      ...OPS.flatMap((op) => [`${op}_rps_${b}`, `${op}_p50_ms_${b}`, `${op}_p99_ms_${b}`]),
      ...OPS.map((op) => `${op}_server_cpu_us_per_req_${b}`),
    );
  for (const b of backends) {
    recorder.ratio(`create_vs_health_${b}`, `create_rps_${b}`, `health_rps_${b}`);
    recorder.ratio(`get_alias_vs_health_${b}`, `get_alias_rps_${b}`, `health_rps_${b}`);
  }
  recorder.ratio('create_postgres_vs_sqlite', 'create_rps_postgres', 'create_rps_sqlite');
  recorder.ratio('get_alias_postgres_vs_sqlite', 'get_alias_rps_postgres', 'get_alias_rps_sqlite');
  recorder.note(
    `model-registry as its own process (dist/, AUTH_MODE=none, LOG_LEVEL=warn, Kafka for its outbox), load from the benchmark process over loopback: node:http keep-alive agent, ${CONCURRENCY} requests in flight, closed loop`,
  );
  recorder.note(
    `per run: ${fmt(CREATES)} version creates (POST /v1/models/:name/versions, ~${versionBody('bench-model-0').length} B JSON with params, metrics, tags, offset lineage) round-robin over ${MODELS} models; ${fmt(GETS)} GET /v1/models/:name/aliases/production; ${fmt(HEALTHS)} GET /health/live (the baseline: HTTP + Nest, no store). One warm-up run each, then ${RUNS} rounds, order rotated`,
  );
  recorder.note(
    'a version create is one write transaction: the version row, its tags, an audit entry and a models.lifecycle.v1 outbox record, which the service then relays to Kafka (part of the measured work)',
  );
  recorder.note(
    'rps = 2xx responses ÷ wall time of the run; p50/p99 = latency per request as the client sees it; server_cpu = user+system CPU of the registry process per request (PostgreSQL’s and Kafka’s own CPU not included); load generator, service, PostgreSQL and Kafka share the machine’s cores',
  );
  recorder.note(
    `PostgreSQL: the local server (${redactUrl(POSTGRES_TEST_URL)}), a fresh database per benchmark, the service's default pool; SQLite: WAL file in a temp directory`,
  );
  const benchStarted = Date.now();
  await withKafka(async ({ brokers, source }) => {
    for (const backend of backends)
      await measureBackend(backend, brokers, source === 'env', recorder);
  });
  say(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  const result = recorder.result();
  // BENCH.md's ratios for this benchmark are the create throughputs themselves (informational).
  const createRps: Record<string, number> = {};
  for (const b of backends) {
    const f = result.figures[`create_rps_${b}`];
    if (f) createRps[`create_rps_${b}`] = round(f.median);
  }
  return { ...result, ratios: { ...createRps, ...result.ratios } };
}
