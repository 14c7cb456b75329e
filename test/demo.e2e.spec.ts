import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, testKafka, type TestKafka } from '@mlops/testing';

/**
 * `npm run demo` as a user runs it on a machine where the stack is not running: the demo starts
 * the stack (all eight services, on the real broker), runs both rounds of the loop, asserts
 * every stage and stops the stack. The test checks its exit code, that every stage printed ok,
 * and the time from the drift injection to a canary serving (the goal: ≤ 60 s).
 */

const NAMES = [
  'ingestion',
  'data-quality',
  'feature',
  'trainer',
  'compressor',
  'model-registry',
  'inference',
  'drift-monitor',
] as const;
const URL_ENV: Record<(typeof NAMES)[number], string> = {
  ingestion: 'MLOPS_INGESTION_URL',
  'data-quality': 'MLOPS_QUALITY_URL',
  feature: 'MLOPS_FEATURE_URL',
  trainer: 'MLOPS_TRAINER_URL',
  compressor: 'MLOPS_COMPRESSOR_URL',
  'model-registry': 'MLOPS_REGISTRY_URL',
  inference: 'MLOPS_INFERENCE_URL',
  'drift-monitor': 'MLOPS_DRIFT_URL',
};
const root = path.resolve(__dirname, '..');

describe('npm run demo', () => {
  let t: TestKafka;
  let dir: string;

  beforeAll(async () => {
    t = await testKafka('demo');
    dir = mkdtempSync(path.join(tmpdir(), 'demo-e2e-'));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the stack and closes the loop twice: a promotion, then a rollback', async () => {
    // Ports of their own, so that a stack a developer runs on the defaults is not the one used.
    const env: Record<string, string> = {
      KAFKA_BROKERS: t.brokers,
      KAFKA_TOPIC_PREFIX: t.prefix,
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      LOG_LEVEL: 'warn',
    };
    for (const name of NAMES) {
      const port = await freePort();
      env[`${name.toUpperCase().replace(/-/g, '_')}_PORT`] = String(port);
      env[URL_ENV[name]] = `http://127.0.0.1:${port}`;
    }
    const demo = spawn(process.execPath, [path.join(root, 'dist/infra/demo/main.js')], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
    expect(code, out.slice(-6000)).toBe(0);

    const stages = [...out.matchAll(/^(.+?)\s{2,}(ok|FAILED)\s+[\d.]+\s*$/gm)].map((m) => [
      m[1].trim(),
      m[2],
    ]);
    expect(stages.map(([name]) => name)).toEqual([
      'register the dataset spec',
      'stream 50,000 events with defects',
      'data-quality report',
      'featureset fit and training',
      'compression variants and the gate',
      'production alias',
      'traffic with feedback',
      'drift injected → alert',
      'retraining requested',
      'retrained version → canary',
      'canary judged → promoted',
      'round 2: drift with broken labels → retraining',
      'round 2: retrained version → canary',
      'round 2: canary judged worse → rolled back',
    ]);
    expect(stages.every(([, result]) => result === 'ok')).toBe(true);
    const seconds = Number(/drift injection → canary serving: ([\d.]+) s/.exec(out)?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
  }, 600_000);
});
