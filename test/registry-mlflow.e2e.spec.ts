import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, testKafka, type RunningService, type TestKafka } from '@mlops/testing';

/**
 * The MLflow-compatible API, checked two ways: every response field by field against the
 * fields of MLflow's REST messages (test/fixtures/mlflow/schema.json, made from MLflow's proto
 * definitions by make_fixtures.py), and by MLflow's own Python client.
 */
interface FieldDef {
  type: 'string' | 'int64' | 'int32' | 'bool' | 'enum' | 'message' | 'double';
  repeated: boolean;
  message?: string;
  values?: string[];
}
type Schema = {
  mlflow_version: string;
  messages: Record<string, Record<string, FieldDef>>;
  responses: Record<string, Record<string, FieldDef>>;
};

const root = path.resolve(__dirname, '..');
const schema = JSON.parse(
  readFileSync(path.join(root, 'test/fixtures/mlflow/schema.json'), 'utf8'),
) as Schema;
const KEY = 'publisher-key-0123456789ab';

/** Asserts that `value` is a valid JSON rendering of message `fields`; returns the fields seen. */
function conforms(value: unknown, fields: Record<string, FieldDef>, where: string): void {
  expect(value, where).toBeTypeOf('object');
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const def = fields[key];
    expect(def, `${where}.${key} is not a field of MLflow's message`).toBeDefined();
    const items = def.repeated
      ? (expect(Array.isArray(v), `${where}.${key} must be a list`).toBe(true), v as unknown[])
      : [v];
    for (const item of items) {
      switch (def.type) {
        case 'string':
          expect(typeof item, `${where}.${key}`).toBe('string');
          break;
        case 'int64':
        case 'int32':
          // MLflow's JSON writes int64 timestamps as numbers.
          expect(Number.isInteger(item), `${where}.${key}`).toBe(true);
          break;
        case 'bool':
          expect(typeof item, `${where}.${key}`).toBe('boolean');
          break;
        case 'enum':
          expect(def.values, `${where}.${key}`).toContain(item);
          break;
        case 'message': {
          const nested = schema.messages[def.message!] ?? schema.responses[def.message!];
          expect(nested, `no fixture for message ${def.message}`).toBeDefined();
          conforms(item, nested, `${where}.${key}`);
          break;
        }
        case 'double':
          expect(typeof item, `${where}.${key}`).toBe('number');
      }
    }
  }
}

/** A Python with MLflow's client: MLFLOW_PYTHON, else a venv under .cache made on first use. */
function mlflowPython(): string {
  if (process.env.MLFLOW_PYTHON) return process.env.MLFLOW_PYTHON;
  const venv = path.join(root, '.cache', 'mlflow-venv');
  const python = path.join(venv, 'bin', 'python');
  const ready =
    existsSync(python) &&
    spawnSync(python, ['-c', 'import mlflow'], { stdio: 'ignore' }).status === 0;
  if (!ready) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(
      path.join(venv, 'bin', 'pip'),
      ['install', '-q', `mlflow-skinny==${schema.mlflow_version}`],
      { stdio: 'inherit', timeout: 600_000 },
    );
  }
  return python;
}

describe('MLflow-compatible registry API', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${registry.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    t = await testKafka('mlflow');
    dir = mkdtempSync(path.join(tmpdir(), 'registry-mlflow-'));
    registry = await startService('model-registry', {
      KAFKA_BROKERS: t.brokers,
      KAFKA_TOPIC_PREFIX: t.prefix,
      REGISTRY_SQLITE_PATH: path.join(dir, 'r.sqlite'),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: `${KEY}:publisher:ci`,
    });
    await api('POST', '/v1/models', {
      name: 'churn',
      description: 'who leaves',
      tags: { team: 'growth' },
    });
    await api('POST', '/v1/models/churn/versions', {
      description: 'baseline',
      tags: { algo: 'logreg' },
    });
    await api('POST', '/v1/models/churn/versions', { description: 'mlp' });
    await api('PUT', '/v1/models/churn/aliases/production', {
      version: 2,
      reason: 'better PR-AUC',
    });
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it("answers every endpoint with exactly the fields of MLflow's messages", async () => {
    const calls: [string, string, string, unknown?][] = [
      ['GetRegisteredModel', 'GET', '/api/2.0/mlflow/registered-models/get?name=churn'],
      [
        'SearchRegisteredModels',
        'GET',
        '/api/2.0/mlflow/registered-models/search?filter=name%20LIKE%20%27ch%25%27&max_results=10',
      ],
      [
        'GetLatestVersions',
        'POST',
        '/api/2.0/mlflow/registered-models/get-latest-versions',
        { name: 'churn' },
      ],
      ['GetModelVersion', 'GET', '/api/2.0/mlflow/model-versions/get?name=churn&version=1'],
      ['SearchModelVersions', 'GET', "/api/2.0/mlflow/model-versions/search?filter=name%3D'churn'"],
      [
        'GetModelVersionByAlias',
        'GET',
        '/api/2.0/mlflow/registered-models/alias?name=churn&alias=production',
      ],
      [
        'GetModelVersionDownloadUri',
        'GET',
        '/api/2.0/mlflow/model-versions/get-download-uri?name=churn&version=1',
      ],
      [
        'CreateRegisteredModel',
        'POST',
        '/api/2.0/mlflow/registered-models/create',
        { name: 'fresh', tags: [{ key: 'k', value: 'v' }] },
      ],
      [
        'CreateModelVersion',
        'POST',
        '/api/2.0/mlflow/model-versions/create',
        { name: 'fresh', source: 's3://b/m', run_id: 'r1' },
      ],
      [
        'UpdateModelVersion',
        'PATCH',
        '/api/2.0/mlflow/model-versions/update',
        { name: 'fresh', version: '1', description: 'd' },
      ],
      [
        'UpdateRegisteredModel',
        'PATCH',
        '/api/2.0/mlflow/registered-models/update',
        { name: 'fresh', description: 'd' },
      ],
      [
        'RenameRegisteredModel',
        'POST',
        '/api/2.0/mlflow/registered-models/rename',
        { name: 'fresh', new_name: 'fresher' },
      ],
    ];
    for (const [message, method, url, body] of calls) {
      const res = await api(method, url, body);
      expect(res.status, `${message}: ${JSON.stringify(res.body)}`).toBe(200);
      conforms(res.body, schema.responses[message], message);
    }
    const model = (await api('GET', '/api/2.0/mlflow/registered-models/get?name=churn')).body
      .registered_model as Record<string, unknown>;
    expect(model).toMatchObject({
      name: 'churn',
      description: 'who leaves',
      tags: [{ key: 'team', value: 'growth' }],
      aliases: [{ alias: 'production', version: '2' }],
    });
    expect((model.latest_versions as Record<string, unknown>[])[0]).toMatchObject({
      name: 'churn',
      version: '2',
      current_stage: 'None',
      status: 'READY',
      aliases: ['production'],
    });
    const versions = (
      await api(
        'GET',
        "/api/2.0/mlflow/model-versions/search?filter=name%3D'churn'&order_by=version_number%20ASC",
      )
    ).body.model_versions as Record<string, unknown>[];
    expect(versions.map((v) => v.version)).toEqual(['1', '2']);
    expect(versions[0].tags).toEqual([{ key: 'algo', value: 'logreg' }]);
  });

  it("uses MLflow's error shape and codes", async () => {
    const missing = await api('GET', '/api/2.0/mlflow/registered-models/get?name=nope');
    expect(missing).toEqual({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.stringContaining('nope') },
    });
    const dup = await api('POST', '/api/2.0/mlflow/registered-models/create', { name: 'churn' });
    expect(dup.status).toBe(400);
    expect(dup.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    const bad = await api('GET', '/api/2.0/mlflow/model-versions/get?name=churn&version=x');
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const filter = await api(
      'GET',
      '/api/2.0/mlflow/registered-models/search?filter=name%20~%20%27x%27',
    );
    expect(filter.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it("lets MLflow's own Python client list and read models, versions and aliases", () => {
    const python = mlflowPython();
    const r = spawnSync(
      python,
      [path.join(root, 'test/fixtures/mlflow/client_check.py'), 'churn'],
      {
        env: { ...process.env, MLFLOW_TRACKING_URI: registry.url, MLFLOW_TRACKING_TOKEN: KEY },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
    expect(out.created).toEqual({
      name: 'churn-py',
      tags: { owner: 'python' },
      description: 'made by mlflow',
    });
    expect(out.created_version).toEqual({
      version: '1',
      source: 's3://bucket/model.onnx',
      run_id: 'run-123',
      status: 'READY',
    });
    expect(out.model).toMatchObject({
      name: 'churn',
      description: 'who leaves',
      tags: { team: 'growth' },
      aliases: { production: '2' },
      latest_versions: ['2'],
    });
    expect(out.versions.map((v: { version: string }) => v.version)).toEqual(['1', '2']);
    expect(out.versions[1].aliases).toEqual(['production']);
    expect(out.by_alias).toEqual({ version: '2', aliases: ['production'] });
    expect(out.search_models).toEqual(['churn', 'churn-py']);
    expect(out.py_version).toEqual({
      aliases: ['champion'],
      tags: { validated: 'yes' },
      run_id: 'run-123',
    });
    expect(out.missing).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(out.duplicate).toBe('RESOURCE_ALREADY_EXISTS');
  });
});
