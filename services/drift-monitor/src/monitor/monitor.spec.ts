import { describe, expect, it } from 'vitest';
import { resolveDriftSpec, type DriftSection, type PredictionEvent } from '@mlops/contracts';
import { featureReference, predictionReference, Rng } from '@mlops/ml';
import {
  DriftMonitor,
  type MonitorAction,
  type MonitorSnapshot,
  type VersionProfile,
} from './monitor';

const COLUMNS = 4;
const NAMES = ['f0', 'f1', 'f2', 'f3'];
const T0 = Date.parse('2026-11-01T00:00:00Z');

function profile(version: number, accuracy: number): VersionProfile {
  const rng = new Rng(100 + version);
  const rows = 5000;
  const values = new Float64Array(rows * COLUMNS);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  const scores = Array.from({ length: 2000 }, () => rng.uniform());
  return {
    model: 'fraud',
    version,
    dataset: 'cards',
    task: 'binary',
    classes: ['0', '1'],
    classCount: 2,
    reference: {
      features: featureReference(values, rows, COLUMNS, NAMES, { seed: 1 }),
      predictions: predictionReference('binary', scores),
    },
    trainingMetrics: { accuracy },
    featuresetVersion: 'fs-0123456789abcdef',
    request: null,
    parentVersion: null,
  };
}

function policy(drift: Record<string, unknown> = {}): DriftSection {
  return resolveDriftSpec({ drift });
}

function monitor(
  profiles: VersionProfile[],
  drift: DriftSection,
  snapshot?: MonitorSnapshot,
): DriftMonitor {
  return new DriftMonitor(
    {
      policyOf: () => drift,
      profileOf: (model, version) =>
        profiles.find((p) => p.model === model && p.version === version),
      maxPending: 100_000,
    },
    snapshot,
  );
}

function prediction(o: Partial<PredictionEvent> & { i: number }): PredictionEvent {
  const { i, ...rest } = o;
  return {
    model: 'fraud',
    version: 1,
    alias: 'production',
    dataset: 'cards',
    featuresetVersion: 'fs-0123456789abcdef',
    mode: 'online',
    requestId: `r${i}`,
    row: 0,
    entityId: `e${i}`,
    outputs: {},
    score: 0.5,
    label: null,
    latencyMs: 2,
    cached: false,
    sourceEventId: null,
    at: new Date(T0 + i * 1000).toISOString(),
    ...rest,
  };
}

/** A stream of predictions whose features are N(shift, 1) in f0 and N(0, 1) elsewhere. */
function featureStream(seed: number, n: number, shift: number): PredictionEvent[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) =>
    prediction({
      i,
      features: NAMES.map((_, c) => rng.normal(c === 0 ? shift : 0)),
      score: rng.uniform(),
    }),
  );
}

const of = <K extends MonitorAction['kind']>(actions: MonitorAction[], kind: K) =>
  actions.filter((a): a is Extract<MonitorAction, { kind: K }> => a.kind === kind);

describe('DriftMonitor: feature and prediction drift', () => {
  it('finds a 0.5σ mean shift of one feature in the first window of 1,000 events', () => {
    const m = monitor([profile(1, 0.9)], policy());
    const actions = featureStream(7, 1000, 0.5).flatMap((e, i) => m.prediction(`p${i}`, e));
    const reports = of(actions, 'report');
    expect(reports).toHaveLength(1);
    const r = reports[0].report;
    expect(r).toMatchObject({
      id: 'fraud:1:w1',
      kind: 'window',
      window: { events: 1000, index: 1 },
    });
    expect(r.traffic).toMatchObject({ predictions: 1000, errors: 0, withFeatures: 1000 });
    const features = r.features as {
      drifted: string[];
      datasetDrift: boolean;
      columns: { name: string; histogram: unknown }[];
    };
    expect(features.drifted).toEqual(['f0']);
    // One of four features: not dataset drift, so no retraining.
    expect(features.datasetDrift).toBe(false);
    expect(features.columns[0].histogram).toBeDefined();
    const alerts = of(actions, 'alert');
    expect(alerts.map((a) => [a.id, a.alert.kind, a.alert.severity, a.alert.drifted])).toEqual([
      ['drift-monitor:fraud:1:w1:feature', 'feature', 'info', ['f0']],
    ]);
    expect(alerts[0].alert.reportId).toBe(r.id);
    expect(of(actions, 'retrain')).toHaveLength(0);
  });

  it('flags at most 5 % of 100 stationary windows', () => {
    const m = monitor([profile(1, 0.9)], policy({ window: { size: 200 } }));
    const actions = featureStream(11, 100 * 200, 0).flatMap((e, i) => m.prediction(`p${i}`, e));
    expect(of(actions, 'report')).toHaveLength(100);
    expect(
      of(actions, 'alert').filter((a) => a.alert.kind === 'feature').length,
    ).toBeLessThanOrEqual(5);
  });

  it('asks for retraining on dataset drift of the production version, once per cooldown', () => {
    const m = monitor(
      [profile(1, 0.9)],
      policy({ window: { size: 300 }, retrain: { cooldownSeconds: 3600 } }),
    );
    m.lifecycle(
      'fraud',
      { production: 1 },
      { kind: 'alias_set', alias: 'production', from: null, to: 1 },
      T0,
    );
    const rng = new Rng(3);
    const events = Array.from({ length: 900 }, (_, i) =>
      prediction({ i, features: NAMES.map(() => rng.normal(1)), score: rng.uniform() }),
    );
    const actions = events.flatMap((e, i) => m.prediction(`p${i}`, e));
    const retrain = of(actions, 'retrain');
    // Three windows drift (300 s of event time each); the cooldown lets only the first ask.
    expect(of(actions, 'alert').filter((a) => a.alert.severity === 'critical')).toHaveLength(3);
    expect(retrain).toHaveLength(1);
    expect(retrain[0]).toMatchObject({
      requestId: 'drift:fraud:1:w1',
      dataset: 'cards',
      model: 'fraud',
      version: 1,
      from: T0 + 299_000 - 7 * 24 * 3600_000,
    });
  });

  it('skips feature drift, saying why, when predictions carry no features', () => {
    const m = monitor([profile(1, 0.9)], policy({ window: { size: 10 } }));
    const actions = Array.from({ length: 10 }, (_, i) =>
      m.prediction(`p${i}`, prediction({ i })),
    ).flat();
    const r = of(actions, 'report')[0].report;
    expect(r.features).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/predictionLog/),
    });
    expect(r.predictions).toMatchObject({ status: 'tested', task: 'binary' });
  });

  it('counts a redelivered prediction once and a version without profile not at all', () => {
    const m = monitor([profile(1, 0.9)], policy());
    m.prediction('same', prediction({ i: 1 }));
    m.prediction('same', prediction({ i: 1 }));
    m.prediction('other', prediction({ i: 2, version: 9 }));
    expect(m.counters).toMatchObject({ predictions: 2, duplicates: 1, unknownVersion: 1 });
  });
});

/**
 * `n` labelled predictions of `version`, right on `correct` of them, spread evenly (score 0.8 / 0.2 on the
 * label's side when right, the other side when wrong); labels arrive as feedback by entity.
 */
function labelled(
  m: DriftMonitor,
  version: number,
  n: number,
  correct: number,
  start: number,
  alias = 'production',
) {
  const actions: MonitorAction[] = [];
  for (let k = 0; k < n; k++) {
    const i = start + k;
    const y = k % 2;
    // Right ones spread evenly: the first L predictions hold floor(L · correct / n) of them.
    const right = Math.floor(((k + 1) * correct) / n) > Math.floor((k * correct) / n);
    const score = right ? (y === 1 ? 0.8 : 0.2) : y === 1 ? 0.2 : 0.8;
    actions.push(
      ...m.prediction(
        `v${version}-${i}`,
        prediction({
          i,
          version,
          alias,
          requestId: `v${version}-${i}`,
          entityId: `v${version}-e${i}`,
          score,
        }),
      ),
    );
    actions.push(
      ...m.feedback(
        {
          dataset: 'cards',
          entityId: `v${version}-e${i}`,
          requestId: null,
          label: y,
          eventTime: null,
        },
        T0 + i * 1000 + 500,
      ),
    );
  }
  return actions;
}

describe('DriftMonitor: the canary judge', () => {
  const setUp = () => {
    const m = monitor(
      [profile(1, 0.9), profile(2, 0.9)],
      policy({ performance: { metric: 'accuracy' }, canary: { minSamples: 100 } }),
    );
    m.lifecycle(
      'fraud',
      { production: 1 },
      { kind: 'alias_set', alias: 'production', from: null, to: 1 },
      T0,
    );
    m.lifecycle(
      'fraud',
      { production: 1, canary: 2 },
      { kind: 'alias_set', alias: 'canary', from: null, to: 2 },
      T0,
    );
    return m;
  };

  it('a canary 5 points worse in accuracy → one rollback decision', () => {
    const m = setUp();
    const actions = [
      ...labelled(m, 1, 200, 180, 0),
      ...labelled(m, 2, 200, 170, 1000, 'canary'),
      // More traffic after the decision changes nothing.
      ...labelled(m, 2, 200, 170, 2000, 'canary'),
    ];
    const decisions = of(actions, 'decision');
    expect(decisions).toHaveLength(1);
    expect(decisions[0].decision).toMatchObject({
      model: 'fraud',
      action: 'rollback',
      alias: 'canary',
      decidedBy: 'drift-monitor',
    });
    expect(decisions[0].id).toBe('drift-monitor:canary:fraud:2:1:rollback');
    const alert = of(actions, 'alert').find((a) => a.alert.kind === 'canary')!;
    expect(alert.alert.severity).toBe('warning');
    const verdict = (
      alert.alert.evidence as {
        verdict: { canary: { metric: number; labelled: number }; production: { metric: number } };
      }
    ).verdict;
    expect(verdict.production.metric).toBeCloseTo(0.9, 12);
    // Judged every 10 events once 100 canary predictions are labelled.
    const n = verdict.canary.labelled;
    expect(n).toBeGreaterThanOrEqual(100);
    expect(n).toBeLessThan(110);
    expect(verdict.canary.metric).toBeCloseTo(Math.floor((n * 170) / 200) / n, 12);
  });

  it('an equal canary → one promote decision naming its version', () => {
    const m = setUp();
    const actions = [...labelled(m, 1, 200, 180, 0), ...labelled(m, 2, 300, 270, 1000, 'canary')];
    const decisions = of(actions, 'decision');
    expect(decisions.map((d) => d.decision)).toEqual([
      expect.objectContaining({ action: 'promote', alias: 'canary', version: 2 }),
      // Then the alias goes: production serves v2 alone.
      expect.objectContaining({ action: 'delete_alias', alias: 'canary' }),
    ]);
  });
});

describe('DriftMonitor: performance, production rollback and restarts', () => {
  it('a production drop alerts, rolls back to the better previous version, and asks to retrain once', () => {
    const m = monitor(
      [profile(1, 0.9), profile(2, 0.92)],
      policy({ performance: { metric: 'accuracy', minLabelled: 100 } }),
    );
    m.lifecycle(
      'fraud',
      { production: 1 },
      { kind: 'alias_set', alias: 'production', from: null, to: 1 },
      T0,
    );
    m.lifecycle(
      'fraud',
      { production: 2 },
      { kind: 'alias_set', alias: 'production', from: 1, to: 2 },
      T0,
    );
    // v2 serves at 0.80 accuracy: 13.04 % below its 0.92 in training.
    const actions = labelled(m, 2, 200, 160, 0);
    const reports = of(actions, 'report').filter((r) => r.report.kind === 'performance');
    expect(reports.map((r) => r.report.id)).toEqual(['fraud:2:p1', 'fraud:2:p2']);
    expect(reports[0].report.performance).toMatchObject({
      metric: 'accuracy',
      labelled: 100,
      live: 0.8,
      training: 0.92,
    });
    expect(reports[0].report.performance!.dropPct).toBeCloseTo((100 * 0.12) / 0.92, 9);
    const perf = of(actions, 'alert').filter((a) => a.alert.kind === 'performance');
    expect(perf.map((a) => a.alert.severity)).toEqual(['critical', 'critical', 'critical']);
    const decisions = of(actions, 'decision');
    expect(decisions).toHaveLength(1);
    expect(decisions[0].decision).toMatchObject({
      action: 'rollback',
      alias: 'production',
      version: 1,
    });
    expect(of(actions, 'retrain').map((r) => r.requestId)).toEqual(['drift:fraud:2:p1']);
  });

  it('does not roll back to a previous version that was no better', () => {
    const m = monitor(
      [profile(1, 0.7), profile(2, 0.92)],
      policy({ performance: { metric: 'accuracy', minLabelled: 100 } }),
    );
    m.lifecycle(
      'fraud',
      { production: 2 },
      { kind: 'alias_set', alias: 'production', from: 1, to: 2 },
      T0,
    );
    const actions = labelled(m, 2, 100, 80, 0);
    expect(of(actions, 'alert').map((a) => a.alert.kind)).toEqual(['performance']);
    expect(of(actions, 'decision')).toHaveLength(0);
  });

  it('restored from a snapshot mid-stream, takes the same actions as without the restart', () => {
    const drift = policy({
      window: { size: 250, slide: 100 },
      performance: { metric: 'accuracy', minLabelled: 50 },
      canary: { minSamples: 50 },
    });
    const profiles = [profile(1, 0.9), profile(2, 0.9)];
    const run = (m: DriftMonitor, from: number, to: number) => {
      const rng = new Rng(5);
      const out: MonitorAction[] = [];
      for (let i = 0; i < to; i++) {
        const version = i % 3 === 0 ? 2 : 1;
        const features = NAMES.map((_, c) => rng.normal(c === 1 && i > 400 ? 0.8 : 0));
        const y = rng.bernoulli(0.5) ? 1 : 0;
        const score = rng.bernoulli(version === 2 ? 0.7 : 0.9) ? (y ? 0.9 : 0.1) : y ? 0.1 : 0.9;
        if (i < from) continue;
        out.push(
          ...m.prediction(
            `p${i}`,
            prediction({
              i,
              version,
              alias: version === 2 ? 'canary' : 'production',
              features,
              score,
            }),
          ),
        );
        if (i % 4 !== 3)
          out.push(
            ...m.feedback(
              {
                dataset: 'cards',
                entityId: `e${i}`,
                requestId: `r${i}`,
                label: y,
                eventTime: null,
              },
              T0 + i * 1000 + 10,
            ),
          );
      }
      return out;
    };
    const start = (m: DriftMonitor) => {
      m.lifecycle(
        'fraud',
        { production: 1, canary: 2 },
        { kind: 'alias_set', alias: 'canary', from: null, to: 2 },
        T0,
      );
      return m;
    };
    const whole = run(start(monitor(profiles, drift)), 0, 1200);
    const first = start(monitor(profiles, drift));
    const before = run(first, 0, 600);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as MonitorSnapshot;
    const after = run(monitor(profiles, drift, snapshot), 600, 1200);
    expect(whole.length).toBeGreaterThan(20);
    expect(of(whole, 'decision')).toHaveLength(1);
    expect(JSON.parse(JSON.stringify([...before, ...after]))).toEqual(
      JSON.parse(JSON.stringify(whole)),
    );
  });
});

describe('DriftMonitor: feature drift on features.v1', () => {
  it('windows the vectors of the dataset for its production versions of the same featureset', () => {
    const drift = policy({ window: { size: 500 } });
    const m = new DriftMonitor({
      policyOf: () => drift,
      profileOf: (model, version) => (version === 1 ? { ...profile(1, 0.9), model } : undefined),
      maxPending: 1000,
      featuresFromStream: true,
    });
    m.lifecycle(
      'fraud',
      { production: 1 },
      { kind: 'alias_set', alias: 'production', from: null, to: 1 },
      T0,
    );
    m.lifecycle(
      'other',
      { production: 1 },
      { kind: 'alias_set', alias: 'production', from: null, to: 1 },
      T0,
    );
    const rng = new Rng(17);
    const actions: MonitorAction[] = [];
    for (let i = 0; i < 500; i++) {
      const vector = NAMES.map((_, c) => rng.normal(c === 2 ? 0.6 : 0));
      actions.push(
        ...m.featureVector(
          { dataset: 'cards', featuresetVersion: 'fs-0123456789abcdef', vector },
          T0 + i,
        ),
      );
      // Another featureset's vectors are not these versions' inputs; another dataset's neither.
      actions.push(
        ...m.featureVector(
          { dataset: 'cards', featuresetVersion: 'fs-ffffffffffffffff', vector: [9, 9, 9, 9] },
          T0 + i,
        ),
      );
      actions.push(
        ...m.featureVector(
          { dataset: 'loans', featuresetVersion: 'fs-0123456789abcdef', vector: [9, 9, 9, 9] },
          T0 + i,
        ),
      );
    }
    const reports = of(actions, 'report').map((r) => r.report);
    expect(reports.map((r) => [r.id, r.kind, r.window.events])).toEqual([
      ['fraud:1:f1', 'features', 500],
      ['other:1:f1', 'features', 500],
    ]);
    expect((reports[0].features as { drifted: string[] }).drifted).toEqual(['f2']);
    expect(of(actions, 'alert').map((a) => a.id)).toEqual([
      'drift-monitor:fraud:1:f1:feature',
      'drift-monitor:other:1:f1:feature',
    ]);
    // The predictions' own windows leave features to the stream.
    const own = Array.from({ length: 500 }, (_, i) =>
      m.prediction(`p${i}`, prediction({ i, features: [0, 0, 0, 0] })),
    ).flat();
    expect(of(own, 'report')[0].report.features).toMatchObject({ status: 'skipped' });
  });
});

describe('DriftMonitor: a retrained version becomes the canary', () => {
  const set = (m: DriftMonitor, aliases: Record<string, number>) =>
    m.lifecycle(
      'fraud',
      aliases,
      { kind: 'alias_set', alias: 'production', from: null, to: 1 },
      T0,
    );

  it('sets the canary to a version trained on the monitor’s own request, once production serves', () => {
    const profiles = [
      profile(1, 0.9),
      { ...profile(2, 0.9), request: 'drift:fraud:1:w3' },
      { ...profile(3, 0.9), request: 'drift:fraud:1:w9', parentVersion: 2 },
      { ...profile(4, 0.9), request: 'manual-1' },
    ];
    const m = monitor(profiles, policy());
    expect(m.versionCreated('fraud', 2)).toEqual([]); // no production yet
    set(m, { production: 1 });
    const actions = m.versionCreated('fraud', 2);
    expect(actions).toEqual([
      {
        kind: 'decision',
        id: 'drift-monitor:auto-canary:fraud:2',
        decision: expect.objectContaining({
          action: 'set_alias',
          alias: 'canary',
          version: 2,
        }) as unknown,
      },
    ]);
    // A compressed variant, a manual training, a version while a canary is set: no.
    expect(m.versionCreated('fraud', 3)).toEqual([]);
    expect(m.versionCreated('fraud', 4)).toEqual([]);
    set(m, { production: 1, canary: 2 });
    expect(m.versionCreated('fraud', 2)).toEqual([]);
    // A canary that is production (promoted, not cleared yet) is no canary under judgement.
    set(m, { production: 2, canary: 2 });
    expect(m.versionCreated('fraud', 5)).toEqual([]); // unknown profile
  });

  it('asks for no retraining while a canary is being judged', () => {
    const m = monitor(
      [profile(1, 0.9)],
      policy({ window: { size: 300 }, retrain: { cooldownSeconds: 0 } }),
    );
    set(m, { production: 1, canary: 2 });
    const rng = new Rng(3);
    const actions = Array.from({ length: 600 }, (_, i) =>
      m.prediction(
        `p${i}`,
        prediction({ i, features: NAMES.map(() => rng.normal(1)), score: rng.uniform() }),
      ),
    ).flat();
    expect(of(actions, 'alert').filter((a) => a.alert.kind === 'feature')).toHaveLength(2);
    expect(of(actions, 'retrain')).toHaveLength(0);
  });

  it('with auto "all" takes any trained version, with "off" none', () => {
    const profiles = [profile(1, 0.9), { ...profile(2, 0.9), request: 'manual-1' }];
    const all = monitor(profiles, policy({ canary: { auto: 'all' } }));
    set(all, { production: 1 });
    expect(all.versionCreated('fraud', 2)).toHaveLength(1);
    const off = monitor(
      [profile(1, 0.9), { ...profile(2, 0.9), request: 'drift:x' }],
      policy({ canary: { auto: 'off' } }),
    );
    set(off, { production: 1 });
    expect(off.versionCreated('fraud', 2)).toEqual([]);
  });
});
