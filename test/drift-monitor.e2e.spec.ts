import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  EVENTS,
  type DriftAlertEvent,
  type ModelDecisionEvent,
  type ModelTrainedEvent,
  type PredictionEvent,
  type TrainingRequestEvent,
} from '@mlops/contracts';
import { featureReference, predictionReference, Rng } from '@mlops/ml';
import { RegistryClient } from '@mlops/registry-client';
import {
  cardSpec,
  cloudEventMessage,
  consumeUntil,
  readAll,
  startService,
  testKafka,
  type Collected,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';

/**
 * The drift monitor on the real broker with the real registry: versions registered with a
 * training report (the drift reference), aliases moved through the registry's REST API,
 * predictions and late labels produced to predictions.v1 and feedback.v1 as inference and any
 * Kafka client would. The canary judge's decisions go to models.decisions.v1 and the registry
 * applies them; a production drop alerts and asks for retraining on exact offsets; the state of
 * an open window survives a crash of the monitor.
 */

const NAMES = ['f0', 'f1', 'f2', 'f3'];
const SPEC = DatasetSpec.parse({
  ...cardSpec('cards'),
  drift: {
    window: { size: 200 },
    performance: { metric: 'accuracy', minLabelled: 100 },
    canary: { minSamples: 100 },
    retrain: { cooldownSeconds: 3600, lookbackSeconds: 3600 },
  },
});

const parse = <T>(r: Collected) => JSON.parse(r.value!) as T;

describe('drift monitor: canary judge, performance, retraining and restarts', () => {
  let t: TestKafka;
  let dir: string;
  let registry: RunningService;
  let monitor: RunningService;
  let client: RegistryClient;
  const env = () => ({ KAFKA_BROKERS: t.brokers, KAFKA_TOPIC_PREFIX: t.prefix });
  const startMonitor = (extra: Record<string, string> = {}) =>
    startService('drift-monitor', {
      ...env(),
      REGISTRY_URL: registry.url,
      DRIFT_SNAPSHOT_INTERVAL_MS: '300',
      ...extra,
    });

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  };

  /** Registers `model` v1 and v2 from trained events whose report holds the drift reference. */
  async function register(
    model: string,
    accuracy: number[],
    o: { first?: number; tags?: Record<string, string> } = {},
  ): Promise<void> {
    const rng = new Rng(7);
    const rows = 3000;
    const values = new Float64Array(rows * NAMES.length);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal();
    const report = {
      format: 1,
      task: 'binary',
      classes: ['0', '1'],
      featureNames: NAMES,
      reference: {
        features: featureReference(values, rows, NAMES.length, NAMES, { seed: 1 }),
        predictions: predictionReference(
          'binary',
          Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? 0.2 : 0.8)),
        ),
      },
    };
    const reportRef = await client.upload(Buffer.from(JSON.stringify(report)), 'json');
    const artifact = await client.upload(Buffer.from(`onnx bytes of ${model}`), 'onnx');
    const messages = accuracy.map((acc, i) => {
      const trained: ModelTrainedEvent = {
        model,
        jobId: `${model}-job-${(o.first ?? 1) + i}`,
        dataset: 'cards',
        datasetSpecVersion: 1,
        featuresetVersion: 'fs-0123456789abcdef',
        artifact,
        params: {},
        metrics: { test_accuracy: acc },
        trainedOn: [],
        tags: o.tags ?? {},
        task: 'binary',
        report: reportRef,
      };
      return cloudEventMessage(
        EVENTS.modelTrained.type,
        model,
        trained,
        `trained:${model}:${(o.first ?? 1) + i}`,
      );
    });
    // One at a time, so that the versions are numbered in this order.
    for (const [i, m] of messages.entries()) {
      await t.producer.send({ topic: t.topic('modelsTrained'), acks: -1, messages: [m] });
      for (let k = 0; k < 200; k++) {
        const r = await call(
          'GET',
          `${registry.url}/v1/models/${model}/versions/${(o.first ?? 1) + i}`,
        );
        if (r.status === 200) break;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  }

  const setAlias = async (model: string, alias: string, version: number) => {
    const r = await call('PUT', `${registry.url}/v1/models/${model}/aliases/${alias}`, {
      version,
      reason: 'test',
    });
    expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  };

  /** Waits until the monitor sees the aliases (the lifecycle table has caught up). */
  async function monitorSees(model: string, aliases: Record<string, number>): Promise<void> {
    for (let k = 0; k < 300; k++) {
      const r = await call('GET', `${monitor.url}/v1/drift/models`);
      const seen = (r.body?.models as Record<string, { aliases: Record<string, number> }>)?.[model]
        ?.aliases;
      const same = (a: Record<string, number>, b: Record<string, number>) =>
        Object.keys(a).length === Object.keys(b).length &&
        Object.entries(a).every(([k, v]) => b[k] === v);
      if (seen && same(seen, aliases)) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`the monitor never saw ${model} at ${JSON.stringify(aliases)}`);
  }

  /**
   * `n` predictions of `model` v`version`, right on `correct` of them spread evenly, each with
   * its label on feedback.v1 (a plain Kafka record, joined by request id).
   */
  async function traffic(
    model: string,
    version: number,
    alias: string,
    n: number,
    correct: number,
    o: { start?: number; shift?: number; seed?: number } = {},
  ): Promise<void> {
    const rng = new Rng(o.seed ?? version);
    const predictions = [];
    const labels = [];
    const base = Date.now();
    for (let k = 0; k < n; k++) {
      const i = (o.start ?? 0) + k;
      // Labels in blocks of ten, so the wrong predictions fall on both classes alike and the
      // predicted positive rate stays at the reference's one half (no prediction drift).
      const y = Math.floor(k / 10) % 2;
      const right = Math.floor(((k + 1) * correct) / n) > Math.floor((k * correct) / n);
      const score = right ? (y === 1 ? 0.8 : 0.2) : y === 1 ? 0.2 : 0.8;
      const requestId = `${model}-${version}-${i}`;
      const p: PredictionEvent = {
        model,
        version,
        alias,
        dataset: 'cards',
        featuresetVersion: 'fs-0123456789abcdef',
        mode: 'online',
        requestId,
        row: 0,
        entityId: `card-${i}`,
        features: NAMES.map((_, c) => rng.normal(c === 0 ? (o.shift ?? 0) : 0)),
        outputs: { probability: [score] },
        score,
        label: score >= 0.5 ? '1' : '0',
        latencyMs: 2 + rng.uniform(),
        cached: false,
        sourceEventId: null,
        at: new Date(base + k).toISOString(),
      };
      predictions.push(
        cloudEventMessage(
          EVENTS.prediction.type,
          model,
          p,
          `pred:${requestId}:0:${model}:${version}:online`,
        ),
      );
      labels.push({
        key: `cards:card-${i}`,
        value: JSON.stringify({
          dataset: 'cards',
          entityId: `card-${i}`,
          requestId,
          label: y,
          eventTime: null,
        }),
      });
    }
    await t.producer.send({ topic: t.topic('predictions'), acks: -1, messages: predictions });
    await t.producer.send({ topic: t.topic('feedback'), acks: -1, messages: labels });
  }

  const decisionsOf = async (model: string) =>
    (await readAll(t.kafka, t.admin, t.topic('modelsDecisions')))
      .map((r) => parse<ModelDecisionEvent>(r))
      .filter((d) => d.model === model);

  beforeAll(async () => {
    t = await testKafka('drift');
    dir = mkdtempSync(path.join(tmpdir(), 'drift-e2e-'));
    await t.createTopics(['modelsTrained', 'predictions', 'feedback', 'eventsClean', 'features']);
    registry = await startService('model-registry', {
      ...env(),
      ARTIFACT_DIR: path.join(dir, 'artifacts'),
      REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
    });
    client = new RegistryClient({ url: registry.url });
    const res = await call('POST', `${registry.url}/v1/specs`, SPEC);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    await Promise.all([
      register('fraud-worse', [0.9, 0.9]),
      register('fraud-equal', [0.9, 0.9]),
      register('fraud-prod', [0.9, 0.9]),
    ]);
    monitor = await startMonitor();
  }, 180_000);

  afterAll(async () => {
    await monitor?.stop();
    await registry?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rolls back a canary 5 points worse and promotes an equal one: one decision each, applied by the registry', async () => {
    for (const model of ['fraud-worse', 'fraud-equal']) {
      await setAlias(model, 'production', 1);
      await setAlias(model, 'canary', 2);
      await monitorSees(model, { production: 1, canary: 2 });
    }
    await Promise.all([
      traffic('fraud-worse', 1, 'production', 200, 180),
      traffic('fraud-worse', 2, 'canary', 200, 170),
      traffic('fraud-equal', 1, 'production', 200, 180),
      traffic('fraud-equal', 2, 'canary', 200, 180),
    ]);
    // The rollback; the promotion and the clearing of the promoted canary alias.
    const decisions = await consumeUntil(t.kafka, t.topic('modelsDecisions'), (r) => r.length >= 3);
    const byModel = Object.fromEntries(
      decisions
        .map((r) => parse<ModelDecisionEvent>(r))
        .filter((d) => d.action !== 'delete_alias')
        .map((d) => [d.model, d]),
    );
    expect(byModel['fraud-worse']).toMatchObject({
      action: 'rollback',
      alias: 'canary',
      decidedBy: 'drift-monitor',
    });
    expect(byModel['fraud-worse'].reason).toMatch(/canary v2 is \d+\.\d+ % worse/);
    expect(byModel['fraud-equal']).toMatchObject({
      action: 'promote',
      alias: 'canary',
      version: 2,
    });

    // The registry applies them: the worse canary is gone, the equal one serves production.
    let worse: Record<string, number> = {};
    let equal: Record<string, number> = {};
    for (let k = 0; k < 100; k++) {
      worse = (await call('GET', `${registry.url}/v1/models/fraud-worse/aliases`)).body!.aliases;
      equal = (await call('GET', `${registry.url}/v1/models/fraud-equal/aliases`)).body!.aliases;
      if (!('canary' in worse) && equal.production === 2 && !('canary' in equal)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(worse).toEqual({ production: 1 });
    expect(equal).toEqual({ production: 2 });

    // More traffic after the verdict decides nothing more.
    await traffic('fraud-worse', 2, 'canary', 100, 85, { start: 1000 });
    await consumeUntil(t.kafka, t.topic('driftAlerts'), (r) =>
      r.some((x) => parse<DriftAlertEvent>(x).kind === 'canary'),
    );
    const canaryAlerts = (await readAll(t.kafka, t.admin, t.topic('driftAlerts')))
      .map((r) => parse<DriftAlertEvent>(r))
      .filter((a) => a.kind === 'canary');
    expect(canaryAlerts.map((a) => [a.model, a.severity]).sort()).toEqual([
      ['fraud-equal', 'info'],
      ['fraud-worse', 'warning'],
    ]);
    expect(await decisionsOf('fraud-worse')).toHaveLength(1);
    expect((await decisionsOf('fraud-equal')).map((d) => [d.action, d.alias])).toEqual([
      ['promote', 'canary'],
      ['delete_alias', 'canary'],
    ]);
  });

  it('alerts on a production drop, asks for retraining on exact offsets once, and serves the report', async () => {
    // Clean records to learn from: 5 on the clean stream.
    await t.producer.send({
      topic: t.topic('eventsClean'),
      acks: -1,
      messages: Array.from({ length: 5 }, (_, i) => ({ key: `cards:c${i}`, value: '{}' })),
    });
    await setAlias('fraud-prod', 'production', 1);
    await monitorSees('fraud-prod', { production: 1 });
    // 0.80 accuracy against 0.90 in training (an 11.1 % drop); f0 shifted by 1σ.
    await traffic('fraud-prod', 1, 'production', 200, 160, { shift: 1 });
    const requests = await consumeUntil(
      t.kafka,
      t.topic('trainingRequests'),
      (r) => r.length >= 1,
    ).catch(async (err: unknown) => {
      const alerts = (await readAll(t.kafka, t.admin, t.topic('driftAlerts')))
        .map((r) => r.value)
        .join('\n');
      throw new Error(`${String(err)}\n${alerts.slice(0, 8000)}\n${monitor.output().slice(-3000)}`);
    });
    const request = parse<TrainingRequestEvent>(requests[0]);
    expect(request).toMatchObject({ dataset: 'cards', requestedBy: 'drift-monitor' });
    expect(request.range).toEqual({
      kind: 'offsets',
      partitions: expect.arrayContaining([]) as unknown,
    });
    const partitions = (request.range as { partitions: { from: string; to: string }[] }).partitions;
    expect(partitions.reduce((s, p) => s + Number(p.to) - Number(p.from), 0)).toBe(5);

    const alerts = (await readAll(t.kafka, t.admin, t.topic('driftAlerts')))
      .map((r) => parse<DriftAlertEvent>(r))
      .filter((a) => a.model === 'fraud-prod');
    const performance = alerts.filter((a) => a.kind === 'performance');
    expect(performance.length).toBeGreaterThanOrEqual(1);
    // The first 100 labels to arrive: about 80 % right, which ones depends on arrival order.
    const evidence = performance[0].evidence as { live: number; training: number; dropPct: number };
    expect(evidence).toMatchObject({ metric: 'accuracy', training: 0.9, labelled: 100 });
    expect(evidence.live).toBeGreaterThanOrEqual(0.7);
    expect(evidence.live).toBeLessThanOrEqual(0.87);
    expect(evidence.dropPct).toBeCloseTo((100 * (0.9 - evidence.live)) / 0.9, 9);
    expect(alerts.find((a) => a.kind === 'feature')?.drifted[0]).toBe('f0');

    // The report of the window, plot-ready, by version and by the id an alert carries.
    const latest = await call(
      'GET',
      `${monitor.url}/v1/drift/models/fraud-prod/versions/1/report?kind=window`,
    );
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({
      model: 'fraud-prod',
      version: 1,
      window: { events: 200 },
      features: { drifted: expect.arrayContaining(['f0']) as unknown },
    });
    const column = (
      latest.body!.features.columns as {
        name: string;
        histogram: { edges: number[]; reference: number[]; current: number[] };
      }[]
    )[0];
    expect(column.name).toBe('f0');
    expect(column.histogram.current.reduce((s, c) => s + c, 0)).toBe(200);
    expect(
      (
        await call(
          'GET',
          `${monitor.url}/v1/drift/reports/${encodeURIComponent(performance[0].reportId)}`,
        )
      ).status,
    ).toBe(200);
    expect(
      (await call('GET', `${monitor.url}/v1/drift/models/fraud-prod/versions/9/report`)).status,
    ).toBe(404);
    expect(
      (await call('GET', `${monitor.url}/v1/drift/models/fraud-prod/versions/x/report`)).status,
    ).toBe(400);

    // One drift, one request: the cooldown holds the next drifted windows back.
    await traffic('fraud-prod', 1, 'production', 200, 160, { start: 1000, shift: 1 });
    await consumeUntil(
      t.kafka,
      t.topic('driftAlerts'),
      (r) =>
        r.filter(
          (x) =>
            parse<DriftAlertEvent>(x).model === 'fraud-prod' &&
            parse<DriftAlertEvent>(x).kind === 'performance',
        ).length >= 3,
    );
    expect(await readAll(t.kafka, t.admin, t.topic('trainingRequests'))).toHaveLength(1);

    // The trainer answers the request with v3 (tagged with the request, as it does): the
    // monitor makes it the canary, and the registry serves it so.
    await register('fraud-prod', [0.9], { first: 3, tags: { 'mlops.request': request.requestId } });
    let aliases: Record<string, number> = {};
    for (let k = 0; k < 100 && aliases.canary !== 3; k++) {
      aliases = (await call('GET', `${registry.url}/v1/models/fraud-prod/aliases`)).body!.aliases;
      if (aliases.canary !== 3) await new Promise((res) => setTimeout(res, 100));
    }
    expect(aliases).toEqual({ production: 1, canary: 3 });
    const auto = (await decisionsOf('fraud-prod')).filter((d) => d.action === 'set_alias');
    expect(auto).toEqual([
      expect.objectContaining({ alias: 'canary', version: 3, decidedBy: 'drift-monitor' }),
    ]);
  });

  it('keeps an open window across a crash: the window closes on the events before and after it', async () => {
    const before = async () =>
      (await call('GET', `${monitor.url}/v1/drift/models`)).body!.versions as {
        model: string;
        version: number;
        predictions: number;
        openWindow: number;
      }[];
    const open = (vs: Awaited<ReturnType<typeof before>>) =>
      vs.find((v) => v.model === 'fraud-equal' && v.version === 1);
    const closedBefore = (
      await call('GET', `${monitor.url}/v1/drift/models/fraud-equal/versions/1/reports?kind=window`)
    ).body!.reports.length as number;
    await traffic('fraud-equal', 1, 'production', 120, 108, { start: 5000, seed: 99 });
    for (let k = 0; k < 200 && open(await before())?.openWindow !== 120; k++)
      await new Promise((res) => setTimeout(res, 100));
    expect(open(await before())?.openWindow).toBe(120);
    // Let a snapshot happen, then crash with no goodbye.
    await new Promise((res) => setTimeout(res, 1000));
    await monitor.kill();
    // Back with feature drift read from features.v1 (the next test): the open window is kept.
    monitor = await startMonitor({ DRIFT_CONSUME_FEATURES: 'true' });
    expect(open(await before())?.openWindow).toBe(120);
    await traffic('fraud-equal', 1, 'production', 80, 72, { start: 6000, seed: 98 });
    let reports: { window: { events: number; index: number } }[] = [];
    for (let k = 0; k < 200; k++) {
      reports = (
        await call(
          'GET',
          `${monitor.url}/v1/drift/models/fraud-equal/versions/1/reports?kind=window`,
        )
      ).body!.reports;
      if (reports.length > 0 && reports[reports.length - 1].window.index > closedBefore) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(reports[reports.length - 1].window).toMatchObject({
      events: 200,
      index: closedBefore + 1,
    });
  });

  it('with DRIFT_CONSUME_FEATURES, judges feature drift on features.v1 vectors of the dataset', async () => {
    const rng = new Rng(31);
    const vectors = Array.from({ length: 200 }, (_, i) =>
      cloudEventMessage(EVENTS.featureVector.type, `cards:v${i}`, {
        dataset: 'cards',
        entityId: `v${i}`,
        featuresetVersion: 'fs-0123456789abcdef',
        vector: NAMES.map((_, c) => rng.normal(c === 3 ? 1 : 0)),
        label: null,
        eventTime: null,
      }),
    );
    await t.producer.send({ topic: t.topic('features'), acks: -1, messages: vectors });
    let report: Record<string, any> | null = null;
    for (let k = 0; k < 200 && !report; k++) {
      const r = await call(
        'GET',
        `${monitor.url}/v1/drift/models/fraud-prod/versions/1/report?kind=features`,
      );
      if (r.status === 200) report = r.body;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(report).toMatchObject({
      id: 'fraud-prod:1:f1',
      kind: 'features',
      window: { events: 200 },
    });
    // f3 moved by 1σ: the strongest drift of the window (others may cross α by chance at 200 rows).
    const features = report!.features as {
      drifted: string[];
      columns: { name: string; pvalue: number }[];
    };
    expect(features.drifted[0]).toBe('f3');
    expect(features.columns.find((c) => c.name === 'f3')!.pvalue).toBeLessThan(1e-10);
  });
});
