import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { cardsSpec, generateCards, QUALITY_WORKLOAD, type CardRecord } from '@mlops/datagen';

/**
 * `npm run demo`: the whole loop on the running stack (started here when it is not running),
 * printed as a timeline. Every stage is asserted; the run exits 1 when one did not happen.
 *
 * Round 1: spec → 50,000 events with defects → quality → featureset + training → compression
 * and the gate → production → traffic with feedback → drift injected → alert → retraining on
 * the drifted data → the retrained version as a (shadow) canary → promotion.
 * Round 2: the upstream labels break (flipped) while the data drifts again → the monitor
 * retrains on them → the new canary is worse on the true labels → rolled back.
 */

const URLS = {
  ingestion: process.env.MLOPS_INGESTION_URL ?? 'http://127.0.0.1:3001',
  quality: process.env.MLOPS_QUALITY_URL ?? 'http://127.0.0.1:3002',
  feature: process.env.MLOPS_FEATURE_URL ?? 'http://127.0.0.1:3003',
  trainer: process.env.MLOPS_TRAINER_URL ?? 'http://127.0.0.1:3004',
  compressor: process.env.MLOPS_COMPRESSOR_URL ?? 'http://127.0.0.1:3005',
  registry: process.env.MLOPS_REGISTRY_URL ?? 'http://127.0.0.1:3006',
  inference: process.env.MLOPS_INFERENCE_URL ?? 'http://127.0.0.1:3007',
  drift: process.env.MLOPS_DRIFT_URL ?? 'http://127.0.0.1:3008',
};
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PREFIX = process.env.KAFKA_TOPIC_PREFIX ?? '';
const N = Number(process.env.DEMO_EVENTS ?? 50_000);
const TRAFFIC = Number(process.env.DEMO_TRAFFIC ?? 1500);
const root = path.resolve(__dirname, '..', '..', '..');
const t0 = Date.now();
const since = (t = t0) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

// ------------------------------------------------------------------------------- printing

interface Stage {
  name: string;
  ok: boolean;
  seconds: number;
  detail: string;
}
const stages: Stage[] = [];
const color = process.stdout.isTTY;
const paint = (code: number, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
const clock = () => paint(90, `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s]`);

function say(line: string): void {
  process.stdout.write(`${clock()} ${line}\n`);
}

class StageFailed extends Error {}

async function stage<T>(name: string, fn: () => Promise<{ value: T; detail: string }>): Promise<T> {
  const started = Date.now();
  say(paint(1, `▶ ${name}`));
  try {
    const { value, detail } = await fn();
    const seconds = (Date.now() - started) / 1000;
    stages.push({ name, ok: true, seconds, detail });
    say(`${paint(32, '✓')} ${name} ${paint(90, `(${seconds.toFixed(1)} s)`)} — ${detail}`);
    return value;
  } catch (err) {
    const seconds = (Date.now() - started) / 1000;
    const detail = (err as Error).message;
    stages.push({ name, ok: false, seconds, detail });
    say(`${paint(31, '✗')} ${name} ${paint(90, `(${seconds.toFixed(1)} s)`)} — ${detail}`);
    throw new StageFailed(detail);
  }
}

// ------------------------------------------------------------------------------- HTTP

async function http<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined && typeof body !== 'string'
        ? { 'content-type': 'application/json' }
        : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}

async function ok<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  const r = await http<T>(method, url, body, headers);
  if (r.status >= 300)
    throw new Error(
      `${method} ${url} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`,
    );
  return r.body;
}

/** Polls `probe` until it returns a value, or throws after `timeoutMs`. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

// ------------------------------------------------------------------------------- the stack

async function stackUp(): Promise<boolean> {
  const all = await Promise.all(
    Object.values(URLS).map((u) =>
      fetch(`${u}/health/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    ),
  );
  return all.every(Boolean);
}

async function ensureStack(): Promise<ChildProcess | null> {
  if (await stackUp()) return null;
  const log = path.join(os.tmpdir(), `mlops-demo-stack-${process.pid}.log`);
  say(`the stack is not running: starting it (npm start; its log: ${log})…`);
  const out = fs.openSync(log, 'w');
  const child = spawn(process.execPath, [path.join(root, 'dist/infra/stack/main.js')], {
    cwd: root,
    stdio: ['ignore', out, out],
    env: process.env,
  });
  fs.closeSync(out);
  const tail = () => fs.readFileSync(log, 'utf8').split('\n').slice(-40).join('\n');
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`the stack exited (${code}) before it was ready:\n${tail()}`)),
    ),
  );
  // Once ready, the stack's exit (at the demo's end) is no failure.
  exited.catch(() => {});
  try {
    await Promise.race([until('every service ready', () => stackUp(), 180_000, 1000), exited]);
  } catch (err) {
    child.kill('SIGINT');
    throw new Error(`${(err as Error).message}\n${tail()}`);
  }
  return child;
}

// ------------------------------------------------------------------------------- Kafka watch

/** Collects the records of some topics from now on (the demo's own dataset and model). */
class Watch {
  private readonly consumer: Consumer;
  readonly seen: { topic: string; value: Record<string, unknown>; at: number }[] = [];

  constructor(kafka: Kafka) {
    this.consumer = kafka.consumer({ groupId: `demo-${Date.now()}`, maxWaitTimeInMs: 100 });
  }

  async start(topics: string[]): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: topics.map((t) => `${PREFIX}${t}`),
      fromBeginning: false,
    });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (!message.value) return;
        try {
          this.seen.push({
            topic: topic.slice(PREFIX.length),
            value: JSON.parse(message.value.toString('utf8')) as Record<string, unknown>,
            at: Date.now(),
          });
        } catch {
          // not JSON: not ours
        }
      },
    });
    // Joined and assigned before anything it should see is produced.
    await new Promise((r) => setTimeout(r, 3000));
  }

  find(topic: string, pred: (v: Record<string, unknown>) => boolean, after = 0) {
    return this.seen.find((s) => s.topic === topic && s.at >= after && pred(s.value));
  }

  count(topic: string, pred: (v: Record<string, unknown>) => boolean) {
    return this.seen.filter((s) => s.topic === topic && pred(s.value)).length;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
  }
}

// ------------------------------------------------------------------------------- the loop

const dataset = `demo-${Date.now().toString(36)}`;
const model = dataset;

/** Records as the spec takes them (datagen's own fields, label included). */
function ndjson(records: CardRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n');
}

async function ingest(records: CardRecord[]): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0;
  let rejected = 0;
  const batch = 2000;
  for (let i = 0; i < records.length; i += batch) {
    // Plain records: ingestion derives each id from the content, so a resent batch is deduplicated.
    const body = ndjson(records.slice(i, i + batch));
    for (;;) {
      const r = await http<{ accepted: number; rejected: number }>(
        'POST',
        `${URLS.ingestion}/v1/datasets/${dataset}/events`,
        body,
        { 'content-type': 'application/x-ndjson' },
      );
      if (r.status === 429) {
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      if (r.status >= 300)
        throw new Error(`ingestion answered ${r.status}: ${JSON.stringify(r.body)}`);
      accepted += r.body.accepted;
      rejected += r.body.rejected;
      break;
    }
  }
  return { accepted, rejected };
}

interface Scored {
  id: string;
  record: CardRecord;
  version: number;
  alias: string;
}

/**
 * Scores each record through inference (one request each, its id as X-Request-Id), then posts
 * the true labels as feedback — what a business does when chargebacks arrive.
 */
async function traffic(records: CardRecord[], tag: string): Promise<Scored[]> {
  const scored: Scored[] = [];
  const items = records.map((record, i) => ({ record, id: `${tag}-${i}` }));
  await pool(items, 16, async ({ record, id }) => {
    const { is_fraud: _label, ...features } = record;
    const r = await ok<{ version: number; alias: string }>(
      'POST',
      `${URLS.inference}/v1/predict/${model}`,
      features,
      { 'x-request-id': id },
    );
    scored.push({ id, record, version: r.version, alias: r.alias });
  });
  const labels = items
    .filter(({ record }) => record.is_fraud === 0 || record.is_fraud === 1)
    .map(({ record, id }) => ({
      id: `label-${id}`,
      entityId: record.card_id,
      requestId: id,
      label: record.is_fraud,
    }));
  for (let i = 0; i < labels.length; i += 2000)
    await ok(
      'POST',
      `${URLS.ingestion}/v1/datasets/${dataset}/feedback`,
      labels.slice(i, i + 2000),
    );
  return scored;
}

async function versions(): Promise<
  {
    version: number;
    parentVersion: number | null;
    variant: string | null;
    tags: Record<string, string>;
    metrics: Record<string, number>;
  }[]
> {
  const r = await ok<{
    versions: {
      version: number;
      parentVersion: number | null;
      variant: string | null;
      tags: Record<string, string>;
      metrics: Record<string, number>;
    }[];
  }>('GET', `${URLS.registry}/v1/models/${model}/versions?limit=100`);
  return r.versions;
}

async function aliases(): Promise<Record<string, number>> {
  return (
    await ok<{ aliases: Record<string, number> }>(
      'GET',
      `${URLS.registry}/v1/models/${model}/aliases`,
    )
  ).aliases;
}

async function servedVersions(): Promise<number[]> {
  const r = await http<{ versions?: string[] }>('GET', `${URLS.inference}/v2/models/${model}`);
  return r.status === 200 ? (r.body.versions ?? []).map(Number) : [];
}

function demoSpec() {
  return {
    ...cardsSpec(dataset),
    model: { name: model, type: 'mlp', hidden: [32, 16] },
    training: { epochs: 12, batchSize: 256, seed: 7, earlyStopping: { patience: 3 } },
    compression: { methods: ['int8_dynamic'], latencyRuns: 5 },
    serving: {
      // The canary scores every request beside production (shadow): canary and production
      // are judged on the same requests, and users only ever get production's answer.
      canary: { share: 1, shadow: true },
      predictionLog: { sampleRate: 1, features: 'full' },
    },
    drift: {
      window: { kind: 'count', size: 500 },
      // Dataset drift at the default share, 50 % of the source fields: round 1 moves 4 of the 6
      // (amount, hour, merchant_category, device), round 2 moves 3.
      // Windows of 500 labels: a 10 % drop is past the noise of a 0.74 ROC-AUC on 50 frauds.
      performance: { metric: 'roc_auc', minLabelled: 500, maxDropPct: 10 },
      retrain: { cooldownSeconds: 20, lookbackSeconds: 60 },
      canary: { minSamples: 300, promoteMarginPct: 2, rollbackDropPct: 5 },
      // Round 2 shows the canary rollback; production rollback stays out of its way here.
      rollback: { enabled: false },
    },
  };
}

async function main(): Promise<void> {
  say(`demo dataset and model: ${paint(1, dataset)}`);
  const stack = await ensureStack();
  const kafka = new Kafka({ clientId: 'demo', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const watch = new Watch(kafka);
  await watch.start(['drift.alerts.v1', 'training.requests.v1', 'models.decisions.v1']);
  const mine = (v: Record<string, unknown>) => v.model === model || v.dataset === dataset;
  try {
    await stage('register the dataset spec', async () => {
      const r = await ok<{ version: number }>('POST', `${URLS.registry}/v1/specs`, demoSpec());
      return { value: null, detail: `${dataset} v${r.version} on pipeline.specs.v1` };
    });

    const base = generateCards({
      ...QUALITY_WORKLOAD,
      n: N,
      seed: 11,
      fraudRate: 0.1,
      start: Date.now(),
    });
    await stage(`stream ${N.toLocaleString('en')} events with defects`, async () => {
      const started = Date.now();
      const r = await ingest(base.records);
      const rate = Math.round(N / ((Date.now() - started) / 1000));
      if (r.accepted === 0) throw new Error('nothing accepted');
      return {
        value: null,
        detail: `${r.accepted} accepted, ${r.rejected} rejected at ingestion, ${rate}/s`,
      };
    });

    await stage('data-quality report', async () => {
      const q = await until(
        'the quality report to count the stream',
        async () => {
          const r = await http<{
            total: {
              counts: { records: number; verdicts: Record<string, number> };
              rates: Record<string, number>;
            };
          }>('GET', `${URLS.quality}/v1/datasets/${dataset}/quality`);
          return r.status === 200 && r.body.total.counts.records >= N * 0.9 ? r.body.total : null;
        },
        180_000,
        1000,
      );
      const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
      return {
        value: q,
        detail: `${q.counts.records} judged: ${q.counts.verdicts.pass} passed, ${q.counts.verdicts.drop} dropped, ${q.counts.verdicts.reject} rejected; duplicates ${pct(q.rates.duplicate)}, near duplicates ${pct(q.rates.nearDuplicate)}, imputed ${pct(q.rates.imputed)}, outliers ${pct(q.rates.outlier)}`,
      };
    });

    const v1 = await stage('featureset fit and training', async () => {
      await ok('POST', `${URLS.feature}/v1/datasets/${dataset}/training-requests`, {
        reason: 'demo: first model',
      });
      const v = await until(
        'a trained version',
        async () => (await versions()).find((x) => x.parentVersion === null),
        300_000,
        1000,
      );
      const auc = v.metrics.test_roc_auc ?? v.metrics.val_roc_auc;
      return {
        value: v.version,
        detail: `v${v.version} registered, test ROC-AUC ${auc?.toFixed(3)}, PR-AUC ${(v.metrics.test_pr_auc ?? 0).toFixed(3)}`,
      };
    });

    await stage('compression variants and the gate', async () => {
      type Job = {
        model: string;
        parentVersion: number;
        state: string;
        error: { message: string } | null;
        variants: { variant: string; passed: boolean; reasons: string[] }[];
      };
      const job = await until(
        'the compressor to finish',
        async () => {
          const jobs = await ok<{ jobs: Job[] }>(
            'GET',
            `${URLS.compressor}/v1/compressions?model=${model}`,
          );
          const j = jobs.jobs.find((x) => x.model === model && x.parentVersion === v1);
          return j && ['succeeded', 'failed'].includes(j.state) ? j : null;
        },
        300_000,
        1000,
      );
      if (job.state === 'failed') throw new Error(`compression failed: ${job.error?.message}`);
      const registered = (await versions()).filter((x) => x.parentVersion === v1);
      const detail = job.variants
        .map((x) => {
          const v = registered.find((r) => r.variant === x.variant);
          return x.passed
            ? `${x.variant} passed the gate → v${v?.version ?? '?'}`
            : `${x.variant} rejected by the gate (${x.reasons.join('; ')})`;
        })
        .join(', ');
      return { value: registered, detail };
    });

    await stage('production alias', async () => {
      await ok('PUT', `${URLS.registry}/v1/models/${model}/aliases/production`, {
        version: v1,
        reason: 'demo: first model',
      });
      await until(
        'inference to serve it',
        async () => (await servedVersions()).includes(v1),
        60_000,
      );
      return { value: null, detail: `production → v${v1}, served by inference` };
    });

    const steady = generateCards({
      n: TRAFFIC,
      seed: 12,
      fraudRate: 0.1,
      idPrefix: 'steady',
      start: Date.now(),
    });
    await stage('traffic with feedback', async () => {
      await ingest(steady.records);
      const scored = await traffic(steady.records, `${dataset}-steady`);
      const perf = await until(
        'a performance report',
        async () => {
          const r = await http<{ performance?: { live: number; training: number } }>(
            'GET',
            `${URLS.drift}/v1/drift/models/${model}/versions/${v1}/report?kind=performance`,
          );
          return r.status === 200 ? r.body.performance : null;
        },
        60_000,
      );
      return {
        value: scored,
        detail: `${scored.length} scored, labels joined; live ROC-AUC ${perf?.live?.toFixed(3)} vs ${perf?.training?.toFixed(3)} in training`,
      };
    });

    // ---- Round 1: the data drifts; the loop retrains, tries and promotes by itself.
    const driftAt = Date.now();
    const drifted = generateCards({
      n: 4000,
      seed: 13,
      fraudRate: 0.1,
      idPrefix: 'drift1',
      start: Date.now(),
      drift: {
        from: 0,
        shifts: {
          amount: { meanShiftSd: 1.5 },
          hour: { shiftHours: 8 },
          merchant_category: { weights: { online: 5, travel: 3, grocery: 1, fuel: 1, dining: 1 } },
          device: { weights: { mobile: 6, web: 3, pos: 1 } },
        },
      },
    });
    const first = drifted.records.slice(0, 1500);
    await stage('drift injected → alert', async () => {
      await ingest(first);
      await traffic(first, `${dataset}-d1a`);
      const alert = await until(
        'a drift alert',
        async () => watch.find('drift.alerts.v1', (v) => mine(v) && v.kind !== 'canary'),
        90_000,
      );
      return {
        value: alert,
        detail: `${String(alert.value.kind)} (${String(alert.value.severity)}): ${String(alert.value.summary).slice(0, 120)}`,
      };
    });

    const request = await stage('retraining requested', async () => {
      const r = await until(
        'a training request from the monitor',
        async () =>
          watch.find(
            'training.requests.v1',
            (v) => v.dataset === dataset && v.requestedBy === 'drift-monitor',
          ),
        60_000,
      );
      return {
        value: r.value,
        detail: `${String(r.value.requestId)}: ${String(r.value.reason).slice(0, 100)}`,
      };
    });

    const v2 = await stage('retrained version → canary', async () => {
      const v = await until(
        'the retrained version',
        async () => (await versions()).find((x) => x.tags['mlops.request'] === request.requestId),
        240_000,
        1000,
      );
      await until('the canary alias', async () => (await aliases()).canary === v.version, 60_000);
      await until(
        'inference to serve the canary',
        async () => (await servedVersions()).includes(v.version),
        60_000,
      );
      return {
        value: v.version,
        detail: `v${v.version} is the canary ${since(driftAt)} after the drift began`,
      };
    });
    const driftToCanary = (Date.now() - driftAt) / 1000;

    await stage('canary judged → promoted', async () => {
      const rest = drifted.records.slice(1500);
      await ingest(rest);
      await traffic(rest, `${dataset}-d1b`);
      const decision = await until(
        'a canary decision',
        async () =>
          watch.find(
            'models.decisions.v1',
            (v) => v.model === model && v.alias === 'canary' && v.action !== 'set_alias',
          ),
        90_000,
      );
      if (decision.value.action !== 'promote')
        throw new Error(
          `expected a promotion, got ${String(decision.value.action)}: ${String(decision.value.reason)}`,
        );
      await until('production to move', async () => (await aliases()).production === v2, 30_000);
      return { value: null, detail: String(decision.value.reason).slice(0, 160) };
    });

    // ---- Round 2: labels upstream break (flipped) while the data drifts again.
    await new Promise((r) => setTimeout(r, 21_000)); // past the retrain cooldown
    const drifted2 = generateCards({
      n: 4000,
      seed: 14,
      fraudRate: 0.1,
      idPrefix: 'drift2',
      start: Date.now(),
      drift: {
        from: 0,
        shifts: {
          amount: { meanShiftSd: -1 },
          hour: { shiftHours: -6 },
          device: { weights: { mobile: 1, web: 1, pos: 6 } },
        },
      },
    });
    const broken = drifted2.records.map((r) => ({
      ...r,
      is_fraud: r.is_fraud === 1 ? 0 : r.is_fraud === 0 ? 1 : r.is_fraud,
    })) as CardRecord[];
    const round2 = Date.now();
    const request2 = await stage('round 2: drift with broken labels → retraining', async () => {
      await ingest(broken.slice(0, 2000));
      await traffic(drifted2.records.slice(0, 1500), `${dataset}-d2a`);
      const r = await until(
        'a second training request',
        async () =>
          watch.find(
            'training.requests.v1',
            (v) =>
              v.dataset === dataset &&
              v.requestedBy === 'drift-monitor' &&
              v.requestId !== request.requestId,
            round2,
          ),
        120_000,
      );
      return { value: r.value, detail: `${String(r.value.requestId)}` };
    });

    const v3 = await stage('round 2: retrained version → canary', async () => {
      const v = await until(
        'the second retrained version',
        async () => (await versions()).find((x) => x.tags['mlops.request'] === request2.requestId),
        240_000,
        1000,
      );
      await until('the canary alias', async () => (await aliases()).canary === v.version, 60_000);
      return {
        value: v.version,
        detail: `v${v.version} (trained on flipped labels) is the canary`,
      };
    });

    await stage('round 2: canary judged worse → rolled back', async () => {
      await until(
        'inference to serve the canary',
        async () => (await servedVersions()).includes(v3),
        60_000,
      );
      await ingest(broken.slice(2000));
      await traffic(drifted2.records.slice(1500), `${dataset}-d2b`);
      const decision = await until(
        'a canary decision',
        async () =>
          watch.find(
            'models.decisions.v1',
            (v) =>
              v.model === model &&
              v.alias === 'canary' &&
              v.action !== 'set_alias' &&
              JSON.stringify(v).includes(`v${v3}`),
          ),
        90_000,
      );
      if (decision.value.action !== 'rollback')
        throw new Error(
          `expected a rollback, got ${String(decision.value.action)}: ${String(decision.value.reason)}`,
        );
      await until(
        'the canary alias to go',
        async () => (await aliases()).canary === undefined,
        30_000,
      );
      const a = await aliases();
      return {
        value: null,
        detail: `${String(decision.value.reason).slice(0, 140)}; production stays v${a.production}`,
      };
    });

    summary(driftToCanary);
  } catch (err) {
    if (!(err instanceof StageFailed))
      say(paint(31, `demo failed: ${(err as Error).stack ?? String(err)}`));
    summary(null);
    process.exitCode = 1;
  } finally {
    await watch.stop();
    if (stack) {
      stack.kill('SIGINT');
      await new Promise((r) => stack.once('exit', r));
    }
  }
}

function summary(driftToCanary: number | null): void {
  const rows = [
    ['stage', 'result', 'seconds'],
    ...stages.map((s) => [s.name, s.ok ? 'ok' : 'FAILED', s.seconds.toFixed(1)]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  process.stdout.write(
    `\n${rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n')}\n\n`,
  );
  if (driftToCanary !== null)
    process.stdout.write(
      `drift injection → canary serving: ${driftToCanary.toFixed(1)} s (goal ≤ 60 s)\ntotal: ${since()}\n`,
    );
}

main().catch((err: unknown) => {
  say(paint(31, `demo failed: ${err instanceof Error ? err.message : String(err)}`));
  process.exitCode = 1;
});
