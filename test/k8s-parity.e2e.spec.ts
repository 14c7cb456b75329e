import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freshDatabase, testKafka, type TestKafka } from '@mlops/testing';
import { render, REPO_ROOT } from '../infra/k8s/manifests';
import {
  find,
  PLATFORM_SERVICES,
  portNumber,
  resolveEnv,
  TEST_SECRETS,
  type Container,
  type Deployment,
  type Probe,
  ADMIN_KEY,
} from '../infra/k8s/workloads';

/**
 * The manifests and the code agree where it matters at run time: each service is started the
 * way its pod starts it (the image's launcher, infra/docker/entrypoint.sh, with the container's
 * args) with exactly the environment its rendered Deployment gives it, and nothing of this
 * process's. Only what a cluster provides is mapped: Service host names to the local Kafka,
 * registry, Redis and PostgreSQL, the listening port to a free one, mounted volumes to a temp
 * directory, and the Secrets to test values. Then every probe of the Deployment must answer 200
 * on the port it names, within the time the probe allows. The production overlay is used: auth
 * on, the registry on PostgreSQL, the caches on Redis, the widest environment.
 */

const ENTRYPOINT = path.join(REPO_ROOT, 'infra', 'docker', 'entrypoint.sh');
/**
 * What the launcher runs: this checkout's dist/, or (MLOPS_APP_DIR) a tree laid out as the
 * image's /app — production node_modules, dist/libs, dist/services, package.json — to run the
 * parity check on exactly what the Dockerfile assembles.
 */
const APP_DIR = process.env.MLOPS_APP_DIR ?? REPO_ROOT;

interface Started {
  name: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function status(url: string, init?: RequestInit): Promise<number> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(5_000) }).then(
    async (r) => {
      await r.arrayBuffer();
      return r.status;
    },
    () => 0,
  );
}

/** Polls a probe as the kubelet does: every period, until 200 or the failure threshold. */
async function probe(s: Started, p: Probe, what: string): Promise<void> {
  const budgetMs = (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3) * 1000;
  const deadline = Date.now() + Math.min(budgetMs, 180_000);
  const url = `http://127.0.0.1:${s.port}${p.httpGet!.path}`;
  let exitCode: number | null | undefined;
  void s.exited.then((c) => (exitCode = c));
  for (;;) {
    const code = await status(url);
    if (code === 200) return;
    if (exitCode !== undefined)
      throw new Error(`${s.name} exited with ${exitCode} (${what}):\n${s.output().slice(-3000)}`);
    if (Date.now() > deadline)
      throw new Error(`${s.name}: ${what} ${url} answered ${code}:\n${s.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('k8s parity: every service starts with its rendered Deployment’s environment', () => {
  const objects = render('k8s/overlays/production');
  let t: TestKafka;
  let db: { url: string; drop: () => Promise<void> };
  let dir: string;
  const started: Started[] = [];

  beforeAll(async () => {
    t = await testKafka('k8s-parity');
    db = await freshDatabase('k8s_parity');
    dir = mkdtempSync(path.join(tmpdir(), 'k8s-parity-'));
  });
  afterAll(async () => {
    for (const s of started) s.child.kill('SIGTERM');
    await Promise.all(started.map((s) => s.exited));
    await t?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers every probe, on the port each Deployment names; auth is on for everything else', async () => {
    const ports = new Map<string, number>();
    for (const s of PLATFORM_SERVICES) ports.set(s.name, await freePort());
    const secrets = {
      ...TEST_SECRETS,
      'model-registry-db': { DATABASE_URL: db.url },
    };
    /** What a cluster's DNS and volumes provide, mapped to this machine. */
    const hosts: [RegExp, string][] = [
      [/mlops-kafka-bootstrap:9092/g, t.brokers],
      [/model-registry:3006/g, `127.0.0.1:${ports.get('model-registry')}`],
      [/redis:\/\/redis:6379/g, 'redis://127.0.0.1:6379'],
    ];

    const start = (name: string): Started => {
      const d = find<Deployment>(objects, 'Deployment', name)!;
      const c: Container = d.spec.template.spec.containers[0];
      const { env, problems } = resolveEnv(objects, c, secrets);
      expect(problems).toEqual([]);
      // The port the probes and the Service use is the one the service is told to listen on.
      expect(Number(env.PORT)).toBe(portNumber(c, c.readinessProbe!.httpGet!.port));
      const mapped: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) {
        let value = v;
        for (const [re, to] of hosts) value = value.replace(re, to);
        for (const m of c.volumeMounts ?? [])
          if (value.startsWith(m.mountPath)) value = path.join(dir, name, value);
        mapped[k] = value;
      }
      const port = ports.get(name)!;
      const child = spawn('sh', [ENTRYPOINT, ...(c.args ?? [])], {
        cwd: APP_DIR,
        env: {
          ...mapped,
          PORT: String(port),
          // Topics of this test only (a key every service's schema has).
          KAFKA_TOPIC_PREFIX: t.prefix,
          PATH: process.env.PATH,
          MLOPS_APP_DIR: APP_DIR,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const s = { name, port, child, output: () => output, exited };
      started.push(s);
      return s;
    };
    const probes = async (s: Started) => {
      const c = find<Deployment>(objects, 'Deployment', s.name)!.spec.template.spec.containers[0];
      await probe(s, c.startupProbe!, 'startupProbe');
      await probe(s, c.readinessProbe!, 'readinessProbe');
      await probe(s, c.livenessProbe!, 'livenessProbe');
    };

    // The registry first: five services read from it as they start.
    const registry = start('model-registry');
    await probes(registry);
    const rest = PLATFORM_SERVICES.filter((s) => s.name !== 'model-registry').map((s) =>
      start(s.name),
    );
    await Promise.all(rest.map(probes));

    // Every one listens where its Deployment says, and answers /metrics for its ServiceMonitor.
    for (const s of started) {
      expect(await status(`http://127.0.0.1:${s.port}/metrics`), s.name).toBe(200);
      expect(s.output(), s.name).not.toMatch(/invalid configuration/);
    }
    // Auth is really on (AUTH_MODE=api-key from the ConfigMap, keys from the Secret): a write
    // without a key is refused, with the admin key it goes through.
    const registryUrl = `http://127.0.0.1:${registry.port}/v1/models`;
    const body = JSON.stringify({ name: 'parity-model' });
    const json = { 'content-type': 'application/json' };
    expect(await status(registryUrl, { method: 'POST', headers: json, body })).toBe(401);
    expect(
      await status(registryUrl, {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${ADMIN_KEY}` },
        body,
      }),
    ).toBe(201);
    // The registry runs on the PostgreSQL the Secret names, not on a SQLite file.
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    try {
      const rows = await pgc.query('SELECT name FROM registered_models');
      expect(rows.rows.map((r: { name: string }) => r.name)).toEqual(['parity-model']);
    } finally {
      await pgc.end();
    }
  });
});
