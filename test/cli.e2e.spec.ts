import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DatasetSpec } from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import { featuresetArtifact, fitFeatureset, transform, type Featureset } from '@mlops/features';
import { forwardDense, type NetworkLayer } from '@mlops/ml';
import { RegistryClient } from '@mlops/registry-client';
import {
  readAll,
  startService,
  testKafka,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';
import { binaryLayers, binaryModel } from '../services/inference/src/runtime/test-models';

/**
 * The `mlops` CLI, run as users run it (the built binary, as a process), against the real
 * registry, ingestion and inference on the real broker: a spec applied from YAML, a CSV produced
 * with its rejected rows counted, models listed, aliases moved and promoted, records scored —
 * each result checked against the services' own state and an independent computation.
 */

const MODEL = 'cards-cli';
const DATASET = 'cards';
const root = path.resolve(__dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('mlops CLI against the stack', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  let ingestion: RunningService;
  let inference: RunningService;
  let fs: Featureset;
  const layers: NetworkLayer[][] = [];
  const env = () => ({ KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix });

  /** Runs the built CLI with the services' URLs in its environment. */
  const mlops = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(root, 'dist/cli/src/main.js'), ...args], {
        cwd: root,
        env: {
          ...process.env,
          MLOPS_REGISTRY_URL: registry.url,
          MLOPS_INGESTION_URL: ingestion.url,
          MLOPS_INFERENCE_URL: inference.url,
          // Nothing listens there: the services this test does not start.
          MLOPS_QUALITY_URL: 'http://127.0.0.1:1',
          MLOPS_FEATURE_URL: 'http://127.0.0.1:1',
          MLOPS_TRAINER_URL: 'http://127.0.0.1:1',
          MLOPS_COMPRESSOR_URL: 'http://127.0.0.1:1',
          MLOPS_DRIFT_URL: 'http://127.0.0.1:1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  const json = <T>(r: Run): T => {
    expect(r.stderr, r.stdout).not.toMatch(/TypeError|ReferenceError/);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    t = await testKafka('cli');
    dir = mkdtempSync(path.join(tmpdir(), 'cli-e2e-'));
    registry = await startService('model-registry', {
      ...env(),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
    });
    [ingestion, inference] = await Promise.all([
      startService('ingestion', env()),
      startService('inference', { ...env(), REGISTRY_URL: registry.url }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await inference?.stop();
    await ingestion?.stop();
    await registry?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a YAML spec once, then finds it unchanged', async () => {
    const spec = DatasetSpec.parse({ ...cardsSpec(DATASET), model: { name: MODEL } });
    const file = path.join(dir, 'cards.yaml');
    writeFileSync(file, stringify(spec));
    const first = await mlops('specs', 'apply', file, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(json<{ version: number }>(first).version).toBe(1);
    const again = await mlops('specs', 'apply', file, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(json<{ unchanged: boolean; version: number }>(again)).toMatchObject({
      unchanged: true,
      version: 1,
    });
    const registered = (await (await fetch(`${registry.url}/v1/specs/${DATASET}`)).json()) as {
      version: number;
    };
    expect(registered.version).toBe(1);
  });

  it('produces a CSV: every valid row accepted, the invalid ones counted, exit 4', async () => {
    const records = generateCards({ n: 300, seed: 3 }).records;
    const header = [
      'card_id',
      'amount',
      'hour',
      'merchant_category',
      'country',
      'device',
      'memo',
      'ts',
      'is_fraud',
    ];
    const cell = (v: string | number | null | undefined) => {
      if (v === null || v === undefined) return '';
      const s = String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const rows = records.map((r) =>
      header
        .map((h) => cell((r as unknown as Record<string, string | number | null>)[h]))
        .join(','),
    );
    // Three rows no spec accepts: an hour of 99, a category outside the enum, no card.
    rows.push('card-x1,10.5,99,grocery,FR,web,,2026-01-01T00:00:00Z,0');
    rows.push('card-x2,10.5,3,casino,FR,web,,2026-01-01T00:00:00Z,0');
    rows.push(',10.5,3,grocery,FR,web,,2026-01-01T00:00:00Z,0');
    const file = path.join(dir, 'cards.csv');
    writeFileSync(file, `${header.join(',')}\r\n${rows.join('\r\n')}\r\n`);

    const r = await mlops('produce', file, '--dataset', DATASET, '--batch', '100', '--json');
    expect(r.code, r.stderr).toBe(4);
    const summary = json<{ sent: number; accepted: number; rejected: number }>(r);
    expect(summary).toMatchObject({ sent: 303, accepted: 300, rejected: 3 });
    // What reached the bus: exactly the accepted records, by card.
    const validated = await readAll(t.kafka, t.admin, t.topic('eventsValidated'));
    expect(validated).toHaveLength(300);
    expect(new Set(validated.map((m) => m.key))).toEqual(
      new Set(records.map((x) => `${DATASET}:${x.card_id}`)),
    );
  });

  it('lists models, moves aliases, promotes, and scores records as the model computes them', async () => {
    // Two versions registered as the trainer registers them (ONNX, featureset, report).
    const client = new RegistryClient({ url: registry.url });
    const records = generateCards({ n: 2000, seed: 5 }).records as unknown as Record<
      string,
      unknown
    >[];
    const spec = DatasetSpec.parse({ ...cardsSpec(DATASET), model: { name: MODEL } });
    fs = fitFeatureset(spec, records);
    const width = fs.names.length;
    const fsRef = await client.upload(featuresetArtifact(fs), 'json');
    await fetch(`${registry.url}/v1/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: MODEL }),
    });
    for (const seed of [1, 2]) {
      const l = binaryLayers(width, 8, seed);
      layers.push(l);
      const artifact = await client.upload(Buffer.from(binaryModel(l)), 'onnx');
      const report = await client.upload(
        Buffer.from(
          JSON.stringify({
            format: 1,
            task: 'binary',
            classes: fs.classes,
            artifacts: { model: artifact, featureset: fsRef },
          }),
        ),
        'json',
      );
      const res = await fetch(`${registry.url}/v1/models/${MODEL}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          artifact,
          dataset: DATASET,
          datasetSpecVersion: 1,
          featuresetVersion: fs.version,
          metrics: { test_pr_auc: 0.5 + seed / 10 },
          tags: {
            'mlops.report.uri': report.uri,
            'mlops.report.sha256': report.sha256,
            'mlops.report.size': String(report.size),
            'mlops.task': 'binary',
          },
        }),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }

    const list = await mlops('models', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const models = json<{ models: { name: string; latestVersion: number }[] }>(list).models;
    expect(models.find((m) => m.name === MODEL)?.latestVersion).toBe(2);

    expect((await mlops('models', 'alias', MODEL, 'production', '1')).code).toBe(0);
    expect((await mlops('models', 'alias', MODEL, 'canary', '2')).code).toBe(0);
    const promote = await mlops('models', 'promote', MODEL, '--reason', 'cli e2e');
    expect(promote.code, promote.stderr).toBe(0);
    expect(promote.stdout).toMatch(/production 1 → 2/);
    const aliases = (await (await fetch(`${registry.url}/v1/models/${MODEL}/aliases`)).json()) as {
      aliases: Record<string, number>;
    };
    expect(aliases.aliases.production).toBe(2);

    // Inference serves v2 (production) and the canary alias, still v2.
    for (let k = 0; k < 150; k++) {
      const meta = await fetch(`${inference.url}/v2/models/${MODEL}`);
      if (meta.ok && ((await meta.json()) as { versions: string[] }).versions.join() === '2') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const record = { ...records[7] };
    delete record.is_fraud;
    const predict = await mlops('predict', MODEL, '--record', JSON.stringify(record), '--json');
    expect(predict.code, predict.stderr).toBe(0);
    const out = json<{ predictions: { entityId: string; score: number; version: number }[] }>(
      predict,
    );
    const expected = forwardDense(layers[1], transform(fs, record))[0];
    expect(out.predictions).toHaveLength(1);
    expect(out.predictions[0]).toMatchObject({ entityId: record.card_id, version: 2 });
    expect(Math.abs(out.predictions[0].score - expected)).toBeLessThan(1e-5);
  });

  it('says what is down, and exits with codes that mean something', async () => {
    const status = await mlops('status', '--json');
    expect(status.code).toBe(1);
    const services = json<{ services: { service: string; state: string }[] }>(status).services;
    expect(
      services
        .filter((s) => s.state === 'ready')
        .map((s) => s.service)
        .sort(),
    ).toEqual(['inference', 'ingestion', 'registry']);
    expect(services).toHaveLength(8);
    const missing = await mlops('models', 'show', 'no-such-model');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no-such-model/);
    const usage = await mlops('produce', 'x.csv');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--dataset/);
    const unknown = await mlops('modles', 'list');
    expect(unknown.code).toBe(2);
  });
});
