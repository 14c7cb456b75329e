import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cardRecord, cardSpec } from '@mlops/testing';
import { featuresetArtifact, fitFeatureset } from '@mlops/features';
import { run } from './cli';
import type { Deps, Input } from './context';
import { InputError } from './errors';
import { NetworkError, type HttpFn, type HttpRequest, type HttpResponse } from './http';

/**
 * Whole command lines through run(): argument checks, the requests the commands send to a fake
 * stack, what they print and their exit codes.
 */

type Route = (req: HttpRequest, body: unknown) => HttpResponse | Promise<HttpResponse>;
const NOW = Date.parse('2026-01-02T00:00:00Z');

const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});
const notFound = (message: string, code = 'not_found') => json(404, { error: { code, message } });

/** Routes "METHOD http://host:port/path" (query ignored); anything else is unreachable. */
function stack(routes: Record<string, Route>) {
  const requests: HttpRequest[] = [];
  const http: HttpFn = async (req) => {
    requests.push(req);
    const key = `${req.method} ${req.url.split('?')[0]}`;
    const route = routes[key];
    if (!route) {
      if (Object.keys(routes).some((k) => k.split(' ')[1].startsWith(new URL(req.url).origin)))
        return notFound(`no route ${key}`);
      throw new NetworkError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
    }
    return route(req, req.body ? (JSON.parse(req.body.split('\n')[0]) as unknown) : undefined);
  };
  return { http, requests };
}

function harness(http: HttpFn, files: Record<string, string> = {}, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const deps: Deps = {
    io: {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      stderrIsTTY: tty,
      columns: () => 100,
      readText: async (path) => {
        if (!(path in files)) throw new InputError(`cannot read ${path}: no such file`);
        return files[path];
      },
      openInput: async (path): Promise<Input> => {
        if (!(path in files)) throw new InputError(`cannot read ${path}: no such file`);
        const text = files[path];
        // Chunks of 7 characters: records cross chunk boundaries.
        const chunks = Array.from({ length: Math.ceil(text.length / 7) }, (_, i) =>
          text.slice(i * 7, i * 7 + 7),
        );
        let read = 0;
        return {
          source: path,
          size: text.length,
          bytesRead: () => read,
          chunks: (async function* () {
            for (const c of chunks) {
              read += c.length;
              yield c;
            }
          })(),
        };
      },
    },
    env: {},
    http,
    now: () => NOW,
    sleep: async () => {},
  };
  return {
    run: (argv: string[]) => run(argv, deps),
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

const REG = 'http://127.0.0.1:3006';
const ING = 'http://127.0.0.1:3001';
const INF = 'http://127.0.0.1:3007';
const DRIFT = 'http://127.0.0.1:3008';
const specRecord = {
  name: 'cards',
  version: 3,
  createdAt: '2026-01-01T00:00:00Z',
  createdBy: 'alice',
  spec: cardSpec('cards', 3),
};

describe('usage errors', () => {
  it('an unknown command: exit 2, the message and usage on stderr, nothing on stdout', async () => {
    const h = harness(stack({}).http);
    expect(await h.run(['deploy', 'cards'])).toBe(2);
    expect(h.stdout()).toBe('');
    expect(h.stderr()).toBe(
      'error: unknown command "deploy"\n\nUsage: mlops <command> [arguments] [options]\nRun \'mlops --help\' for the commands.\n',
    );
  });

  it('produce without --dataset: exit 2 before any request', async () => {
    const s = stack({});
    const h = harness(s.http);
    expect(await h.run(['produce', 'cards.csv'])).toBe(2);
    expect(h.stderr()).toContain('error: missing --dataset NAME\n\nUsage: mlops produce');
    expect(s.requests).toHaveLength(0);
  });

  it('a bad value found by the command: exit 2 with the command’s usage', async () => {
    const h = harness(stack({}).http);
    expect(await h.run(['produce', 'x.csv', '--dataset', 'cards', '--batch', '0'])).toBe(2);
    expect(h.stderr()).toBe(
      'error: --batch must be a whole number from 1 to 10000, not "0"\n\nUsage: mlops produce <file.csv|file.jsonl|file.ndjson|file.json|-> --dataset NAME [options]\n',
    );
  });

  it('--help prints on stdout and exits 0', async () => {
    const h = harness(stack({}).http);
    expect(await h.run(['--help'])).toBe(0);
    expect(h.stdout()).toContain('  3    not found: a service answered 404');
  });
});

describe('service errors', () => {
  it('a stack that is not running: exit 1 and how to start it', async () => {
    const h = harness(stack({}).http);
    expect(await h.run(['models', 'list'])).toBe(1);
    expect(h.stderr()).toBe(
      'error: cannot reach the registry at http://127.0.0.1:3006 (ECONNREFUSED): is the stack running? (npm start)\n',
    );
  });

  it('404: exit 3 with the service’s message', async () => {
    const h = harness(
      stack({ [`GET ${REG}/v1/models/nope`]: () => notFound('Registered Model nope not found') })
        .http,
    );
    expect(await h.run(['models', 'show', 'nope'])).toBe(3);
    expect(h.stderr()).toBe(
      'error: the registry answered 404 not_found: Registered Model nope not found\n',
    );
  });

  it('400: exit 2; other 4xx: exit 1', async () => {
    const s = stack({
      [`POST ${REG}/v1/models/cards/decisions`]: (_req, body) =>
        (body as { version?: number }).version === 9
          ? json(400, {
              error: { code: 'invalid_argument', message: 'Model version cards/9 does not exist' },
            })
          : json(403, { error: { code: 'forbidden', message: 'needs the publisher role' } }),
    });
    const h = harness(s.http);
    expect(await h.run(['models', 'promote', 'cards', '--version', '9'])).toBe(2);
    expect(await h.run(['models', 'promote', 'cards'])).toBe(1);
    expect(h.stderr()).toBe(
      'error: the registry answered 400 invalid_argument: Model version cards/9 does not exist\n' +
        'error: the registry answered 403 forbidden: needs the publisher role\n',
    );
  });
});

describe('produce', () => {
  const csv =
    'card_id,amount,hour,merchant_category,country,memo,ts,is_fraud\r\n' +
    'c1,12.5,14,grocery,FR,,2026-01-01T10:00:00Z,0\r\n' +
    'c2,-3,9,travel,DE,"late, ""odd""",2026-01-01T11:00:00Z,1\r\n' +
    'c3,40,25,fuel,FR,,2026-01-01T12:00:00Z,false\r\n';

  const ingestion = (req: HttpRequest) => {
    const rows = (req.body ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, number>);
    const results = rows.map((r, index) => {
      const reasons = [
        ...(r.amount < 0
          ? [
              {
                code: 'out_of_range',
                field: 'amount',
                message: `amount=${r.amount} is outside [0, 1000000]`,
              },
            ]
          : []),
        ...(r.hour > 23
          ? [{ code: 'out_of_range', field: 'hour', message: `hour=${r.hour} is outside [0, 23]` }]
          : []),
      ];
      return reasons.length
        ? { index, id: `i${index}`, status: 'rejected', reasons }
        : { index, id: `i${index}`, status: 'accepted' };
    });
    const rejected = results.filter((r) => r.status === 'rejected').length;
    return json(202, {
      dataset: 'cards',
      specVersion: 3,
      accepted: rows.length - rejected,
      rejected,
      results,
    });
  };

  it('types the CSV by the spec, sends it as NDJSON, and exits 4 when some records were rejected', async () => {
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${ING}/v1/datasets/cards/events`]: ingestion,
    });
    const h = harness(s.http, { 'cards.csv': csv });
    expect(await h.run(['produce', 'cards.csv', '--dataset', 'cards', '--batch', '2'])).toBe(4);
    const posts = s.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0].body).toBe(
      '{"card_id":"c1","amount":12.5,"hour":14,"merchant_category":"grocery","country":"FR","ts":"2026-01-01T10:00:00Z","is_fraud":0}\n' +
        '{"card_id":"c2","amount":-3,"hour":9,"merchant_category":"travel","country":"DE","memo":"late, \\"odd\\"","ts":"2026-01-01T11:00:00Z","is_fraud":1}\n',
    );
    expect(h.stdout()).toContain('cards (spec v3): 3 records from cards.csv in 0 ms');
    expect(h.stdout()).toContain('  accepted  1\n  rejected  2\n');
    expect(h.stdout()).toContain('REASON        RECORDS\nout_of_range        2\n');
    expect(h.stdout()).toContain(
      '  line 3: out_of_range (amount): amount=-3 is outside [0, 1000000]\n',
    );
    expect(h.stdout()).toContain('  line 4: out_of_range (hour): hour=25 is outside [0, 23]\n');
    expect(h.stderr()).toBe('');
  });

  it('--json prints the summary as the only thing on stdout', async () => {
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${ING}/v1/datasets/cards/events`]: ingestion,
    });
    const h = harness(s.http, { 'cards.csv': csv }, true);
    expect(await h.run(['produce', 'cards.csv', '--dataset', 'cards', '--json'])).toBe(4);
    expect(JSON.parse(h.stdout())).toMatchObject({
      dataset: 'cards',
      endpoint: 'events',
      source: 'cards.csv',
      specVersion: 3,
      sent: 3,
      accepted: 1,
      rejected: 2,
      reasons: { out_of_range: 2 },
      batches: 1,
      interrupted: false,
    });
    // No progress bar with --json, even on a TTY.
    expect(h.stderr()).toBe('');
  });

  it('draws progress on a TTY stderr and clears it before the summary', async () => {
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${ING}/v1/datasets/cards/events`]: ingestion,
    });
    const h = harness(s.http, { 'cards.csv': csv }, true);
    await h.run(['produce', 'cards.csv', '--dataset', 'cards']);
    // One line redrawn in place (the fake clock stands still: no rate), then cleared.
    const erase = '\u001b[K';
    expect(h.stderr()).toBe(`\r[${'█'.repeat(24)}] 100%  3 sent  -  2 rejected${erase}\r${erase}`);
  });

  it('exits 0 when everything was accepted, 3 when the registry has no such dataset', async () => {
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`GET ${REG}/v1/specs/clicks`]: () => notFound('Dataset spec clicks not found'),
      [`POST ${ING}/v1/datasets/cards/events`]: ingestion,
    });
    const h = harness(s.http, {
      'ok.jsonl': '{"card_id":"c1","amount":1,"hour":1}\n{"card_id":"c2","amount":2,"hour":2}\n',
    });
    expect(await h.run(['produce', 'ok.jsonl', '--dataset', 'cards'])).toBe(0);
    expect(await h.run(['produce', 'ok.jsonl', '--dataset', 'clicks'])).toBe(3);
    expect(h.stderr()).toBe(
      'error: the registry answered 404 not_found: Dataset spec clicks not found\n',
    );
  });

  it('a malformed CSV line: exit 2 naming the line', async () => {
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${ING}/v1/datasets/cards/events`]: ingestion,
    });
    const h = harness(s.http, { 'bad.csv': 'card_id,amount\nc1,1\nc2,2,3\n' });
    expect(await h.run(['produce', 'bad.csv', '--dataset', 'cards'])).toBe(2);
    expect(h.stderr()).toContain('error: bad.csv line 3: 3 fields, but the header has 2');
  });

  it('a failure that stops the run: exit 1, with what was sent', async () => {
    let n = 0;
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${ING}/v1/datasets/cards/events`]: (req) =>
        ++n === 1
          ? ingestion(req)
          : json(500, { error: { code: 'internal', message: 'internal error' } }),
    });
    const h = harness(s.http, { 'cards.csv': csv });
    expect(await h.run(['produce', 'cards.csv', '--dataset', 'cards', '--batch', '1'])).toBe(1);
    expect(h.stderr()).toContain(
      'error: the ingestion service answered 500 internal: internal error\n',
    );
    expect(h.stderr()).toContain('the run stopped after 1 records\n');
  });

  it('feedback goes to /feedback with the label typed by the spec', async () => {
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${ING}/v1/datasets/cards/feedback`]: () =>
        json(202, {
          dataset: 'cards',
          specVersion: 3,
          accepted: 1,
          rejected: 0,
          results: [{ index: 0, id: 'cb-1', status: 'accepted' }],
        }),
    });
    const h = harness(s.http, {
      'labels.csv': 'entityId,label,requestId,eventTime,id\nc1,yes,req-42,,cb-1\n',
    });
    expect(await h.run(['feedback', 'labels.csv', '--dataset', 'cards'])).toBe(0);
    expect(s.requests[1].body).toBe(
      '{"entityId":"c1","label":1,"requestId":"req-42","id":"cb-1"}\n',
    );
    expect(h.stdout()).toContain('1 labels from labels.csv');
  });
});

describe('specs apply', () => {
  it('registers a changed spec and says the version; an unchanged one is not registered again', async () => {
    const posted: unknown[] = [];
    const s = stack({
      [`GET ${REG}/v1/specs/cards`]: () => json(200, specRecord),
      [`POST ${REG}/v1/specs`]: (_req, body) => {
        posted.push(body);
        return json(201, { ...specRecord, version: 4, spec: { ...specRecord.spec, version: 4 } });
      },
    });
    const same = JSON.stringify({ ...cardSpec(), version: 1 });
    const yaml =
      'name: cards\nfields:\n  - name: card_id\n    type: entity_id\n  - name: amount\n    type: numeric\n';
    const h = harness(s.http, { 'same.json': same, 'new.yaml': yaml });
    expect(await h.run(['specs', 'apply', 'same.json'])).toBe(0);
    expect(h.stdout()).toBe('spec cards unchanged (version 3; --force registers it again)\n');
    expect(posted).toHaveLength(0);
    expect(await h.run(['specs', 'apply', 'new.yaml', '--json'])).toBe(0);
    expect(posted).toEqual([
      {
        name: 'cards',
        fields: [
          { name: 'card_id', type: 'entity_id' },
          { name: 'amount', type: 'numeric' },
        ],
      },
    ]);
    expect(JSON.parse(h.stdout().split('\n').slice(1).join('\n'))).toEqual({
      name: 'cards',
      version: 4,
      previousVersion: 3,
      unchanged: false,
      createdAt: '2026-01-01T00:00:00Z',
      createdBy: 'alice',
    });
  });

  it('refuses an invalid spec before calling the registry: exit 2', async () => {
    const s = stack({});
    const h = harness(s.http, {
      'bad.yaml': 'name: cards\nfields:\n  - name: amount\n    type: numeric\n',
    });
    expect(await h.run(['specs', 'apply', 'bad.yaml'])).toBe(2);
    expect(h.stderr()).toContain('bad.yaml is not a valid dataset spec:');
    expect(h.stderr()).toContain('exactly one field must be of type entity_id');
    expect(s.requests).toHaveLength(0);
  });
});

describe('models', () => {
  it('promote prints the alias change', async () => {
    const s = stack({
      [`POST ${REG}/v1/models/cards/decisions`]: () =>
        json(200, {
          model: 'cards',
          alias: 'production',
          from: 3,
          to: 4,
          aliases: { production: 4, canary: 4 },
        }),
    });
    const h = harness(s.http);
    expect(await h.run(['models', 'promote', 'cards'])).toBe(0);
    expect(JSON.parse(s.requests[0].body!)).toEqual({
      action: 'promote',
      alias: 'canary',
      reason: 'promoted with the mlops CLI',
    });
    expect(h.stdout()).toBe('cards: production 3 → 4\n  aliases now: production=4 canary=4\n');
  });

  it('rollback of the canary says it is removed; alias --delete and set send their decisions', async () => {
    const bodies: unknown[] = [];
    const s = stack({
      [`POST ${REG}/v1/models/cards/decisions`]: (_req, body) => {
        bodies.push(body);
        return json(200, {
          model: 'cards',
          alias: 'canary',
          from: 5,
          to: null,
          aliases: { production: 4 },
        });
      },
    });
    const h = harness(s.http);
    expect(
      await h.run(['models', 'rollback', 'cards', '--alias', 'canary', '--reason', 'too slow']),
    ).toBe(0);
    expect(h.stdout()).toBe(
      'cards: canary 5 → (removed)\n  the canary’s traffic returns to production\n  aliases now: production=4\n',
    );
    await h.run(['models', 'alias', 'cards', 'canary', '--delete']);
    await h.run(['models', 'alias', 'cards', 'shadow', '7']);
    expect(bodies).toEqual([
      { action: 'rollback', alias: 'canary', reason: 'too slow' },
      { action: 'delete_alias', alias: 'canary', reason: 'deleted with the mlops CLI' },
      { action: 'set_alias', alias: 'shadow', version: 7, reason: 'set with the mlops CLI' },
    ]);
    expect(await h.run(['models', 'alias', 'cards', 'Prod', '3'])).toBe(2);
  });

  it('list renders a table', async () => {
    const s = stack({
      [`GET ${REG}/v1/models`]: () =>
        json(200, {
          models: [
            {
              name: 'cards',
              latestVersion: 5,
              aliases: { canary: 5, production: 4 },
              updatedAt: '2026-01-01T23:48:00Z',
            },
            { name: 'churn', latestVersion: 1, aliases: {}, updatedAt: '2025-12-30T00:00:00Z' },
          ],
          nextPageToken: null,
        }),
    });
    const h = harness(s.http);
    expect(await h.run(['models', 'list'])).toBe(0);
    expect(h.stdout()).toBe(
      'NAME   LATEST  ALIASES                UPDATED\n' +
        'cards       5  production=4 canary=5  12m ago\n' +
        'churn       1  -                      3d ago\n',
    );
  });
});

describe('status', () => {
  const ready = () => json(200, { status: 'ok', ok: true, checks: {} });
  it('exits 1 and says which service is down or not ready', async () => {
    const routes: Record<string, Route> = {};
    for (const port of [3001, 3002, 3003, 3004, 3005, 3006, 3007])
      routes[`GET http://127.0.0.1:${port}/health/ready`] = ready;
    routes[`GET http://127.0.0.1:3007/health/ready`] = () =>
      json(503, {
        status: 'not_ready',
        ok: false,
        checks: { models: { ok: false, details: 'cards v4: artifact missing' } },
      });
    routes[`GET ${REG}/v1/models`] = () =>
      json(200, {
        models: [
          {
            name: 'cards',
            latestVersion: 4,
            aliases: { production: 3 },
            updatedAt: '2026-01-01T00:00:00Z',
          },
        ],
      });
    const h = harness(stack(routes).http);
    expect(await h.run(['status'])).toBe(1);
    const out = h.stdout();
    expect(out).toMatch(/^SERVICE\s+URL\s+STATUS\s+LATENCY\s+DETAIL\n/);
    expect(out).toMatch(
      /inference\s+http:\/\/127\.0\.0\.1:3007\s+NOT READY\s+0 ms\s+models: cards v4: artifact missing\n/,
    );
    expect(out).toMatch(
      /drift-monitor\s+http:\/\/127\.0\.0\.1:3008\s+DOWN\s+-\s+connection refused\n/,
    );
    expect(out).toContain('6 of 8 services ready');
    expect(out).toMatch(/cards\s+4\s+production=3\s+24h ago/);
  });

  it('exits 0 when all are ready; --json is one document', async () => {
    const routes: Record<string, Route> = {
      [`GET ${REG}/v1/models`]: () => json(200, { models: [] }),
    };
    for (let port = 3001; port <= 3008; port++)
      routes[`GET http://127.0.0.1:${port}/health/ready`] = ready;
    const h = harness(stack(routes).http);
    expect(await h.run(['status', '--json'])).toBe(0);
    const doc = JSON.parse(h.stdout()) as { ready: boolean; services: { state: string }[] };
    expect(doc.ready).toBe(true);
    expect(doc.services.map((x) => x.state)).toEqual(Array(8).fill('ready'));
  });
});

describe('drift', () => {
  const report = {
    id: 'r-1',
    model: 'cards',
    version: 4,
    alias: 'production',
    dataset: 'cards',
    kind: 'window',
    window: {
      kind: 'count',
      index: 12,
      events: 1000,
      from: '2026-01-01T10:00:00.000Z',
      to: '2026-01-01T11:00:00.000Z',
    },
    traffic: {
      predictions: 1000,
      errors: 2,
      errorRate: 0.002,
      p95LatencyMs: 12.3,
      withFeatures: 1000,
    },
    features: {
      rows: 1000,
      sizes: { referenceSample: 1000, window: 1000, decidedOn: 1000 },
      test: 'ks',
      kind: 'pvalue',
      threshold: 0.05,
      correction: 'bh',
      columns: [
        {
          name: 'amount',
          status: 'tested',
          type: 'numeric',
          test: 'ks',
          kind: 'pvalue',
          statistic: 0.2134,
          pvalue: 3.21e-12,
          adjustedPvalue: 6.42e-12,
          score: 6.42e-12,
          threshold: 0.05,
          drift: true,
          psi: 0.4123,
        },
        {
          name: 'hour',
          status: 'tested',
          type: 'numeric',
          test: 'ks',
          kind: 'pvalue',
          statistic: 0.031,
          pvalue: 0.2511,
          adjustedPvalue: 0.2511,
          score: 0.2511,
          threshold: 0.05,
          drift: false,
          psi: 0.0121,
        },
        {
          name: 'memo_len',
          status: 'skipped',
          reason: 'window-empty',
          drift: false,
          window: { count: 0, missing: 1000, mean: null, std: null },
        },
      ],
      tested: 2,
      driftedCount: 1,
      fields: { tested: 2, drifted: ['amount'] },
      driftShare: 0.5,
      datasetShare: 0.5,
      datasetDrift: true,
      drifted: ['amount'],
    },
    predictions: null,
    performance: {
      metric: 'pr_auc',
      labelled: 450,
      live: 0.812,
      training: 0.901,
      dropPct: 9.88,
      maxDropPct: 3,
      alert: true,
    },
    alerts: ['feature', 'performance'],
    at: '2026-01-01T11:00:01.000Z',
  };

  it('report: the version behind production by default, a per-feature table', async () => {
    const s = stack({
      [`GET ${REG}/v1/models/cards/aliases`]: () =>
        json(200, { model: 'cards', aliases: { production: 4 } }),
      [`GET ${DRIFT}/v1/drift/models/cards/versions/4/report`]: () => json(200, report),
    });
    const h = harness(s.http);
    expect(await h.run(['drift', 'report', 'cards', '--kind', 'window'])).toBe(0);
    expect(s.requests[1].url).toBe(`${DRIFT}/v1/drift/models/cards/versions/4/report?kind=window`);
    const out = h.stdout();
    expect(out).toContain(
      'window:   count #12: 1,000 events, 2026-01-01T10:00:00Z → 2026-01-01T11:00:00Z\n',
    );
    expect(out).toContain(
      'features: 1 of 2 fields drifted (50.0%; dataset drift at 50.0%: YES); 1 of 2 columns',
    );
    expect(out).toContain(
      'FEATURE   TYPE     TEST  STATISTIC  P-VALUE  ADJUSTED     PSI  DRIFT\n' +
        'amount    numeric  ks       0.2134  3.2e-12   6.4e-12  0.4123  ✓\n' +
        'hour      numeric  ks       0.0310   0.2511    0.2511  0.0121\n' +
        'memo_len  -        -             -        -         -       -  skipped: window-empty\n',
    );
    expect(out).toContain(
      'performance: pr_auc live 0.8120 vs training 0.9010, drop 9.9% (alert at 3%) on 450 labels — ALERT\n',
    );
  });

  it('report without a production alias: exit 3 asking for --version', async () => {
    const h = harness(
      stack({
        [`GET ${REG}/v1/models/cards/aliases`]: () => json(200, { model: 'cards', aliases: {} }),
      }).http,
    );
    expect(await h.run(['drift', 'report', 'cards'])).toBe(3);
    expect(h.stderr()).toBe('error: cards has no production alias: pass --version N\n');
  });
});

describe('train and jobs', () => {
  it('train --since sends a time range and prints the request id', async () => {
    const s = stack({
      [`POST http://127.0.0.1:3003/v1/datasets/cards/training-requests`]: (_req, body) =>
        json(202, {
          requestId: 'req-9',
          dataset: 'cards',
          requestedBy: 'anonymous',
          ...(body as object),
        }),
    });
    const h = harness(s.http);
    expect(await h.run(['train', '--dataset', 'cards', '--since', '24h'])).toBe(0);
    expect(JSON.parse(s.requests[0].body!)).toEqual({
      reason: 'requested with the mlops CLI',
      range: { kind: 'time', from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
    });
    expect(h.stdout()).toBe(
      'training request req-9 for cards: records ingested 2026-01-01T00:00:00Z → 2026-01-02T00:00:00Z\nfollow it with: mlops jobs --trainer\n',
    );
  });

  it('jobs shows both services; one down is exit 1 with the other still listed', async () => {
    const s = stack({
      [`GET http://127.0.0.1:3005/v1/compressions`]: () =>
        json(200, {
          jobs: [
            {
              jobId: 'compress-1',
              model: 'cards',
              parentVersion: 3,
              state: 'succeeded',
              trigger: 'event',
              submittedAt: '2026-01-01T23:00:00Z',
              startedAt: '2026-01-01T23:00:00Z',
              finishedAt: '2026-01-01T23:02:30Z',
              error: null,
              parentMetric: null,
              errors: [],
              variants: [
                { variant: 'int8', passed: true, recommended: true, reasons: [], metrics: {} },
                {
                  variant: 'int4',
                  passed: false,
                  recommended: false,
                  reasons: ['drop'],
                  metrics: {},
                },
              ],
            },
          ],
        }),
    });
    const h = harness(s.http);
    expect(await h.run(['jobs'])).toBe(1);
    expect(h.stdout()).toContain(
      'training jobs (trainer):\ncannot reach the trainer service at http://127.0.0.1:3004 (ECONNREFUSED): is the stack running? (npm start)\n',
    );
    expect(h.stdout()).toMatch(
      /compress-1\s+cards\s+3\s+succeeded\s+1\/2 passed\s+int8\s+60m ago\s+2m 30s/,
    );
  });
});

describe('predict', () => {
  const record = {
    card_id: 'c1',
    amount: 912.5,
    hour: 3,
    merchant_category: 'online',
    country: 'FR',
    ts: '2026-01-01T03:00:00Z',
  };

  it('posts the records to /v1/predict and prints entity, score, label, version, alias', async () => {
    const s = stack({
      [`POST ${INF}/v1/predict/cards`]: () =>
        json(200, {
          model: 'cards',
          version: 4,
          alias: 'canary',
          featuresetVersion: 'fs-1',
          cached: false,
          predictions: [{ entityId: 'c1', score: 0.91234, label: 1, outputs: {} }],
        }),
    });
    const h = harness(s.http);
    expect(await h.run(['predict', 'cards', '--record', JSON.stringify(record)])).toBe(0);
    expect(JSON.parse(s.requests[0].body!)).toEqual({ records: [record] });
    expect(h.stdout()).toBe(
      'ENTITY   SCORE  LABEL  VERSION  ALIAS\nc1      0.9123  1            4  canary\n',
    );
  });

  it('a record the spec refuses: exit 2 naming its line', async () => {
    const s = stack({
      [`POST ${INF}/v1/predict/cards`]: () =>
        json(422, {
          error: {
            code: 'invalid_records',
            message: '1 of 2 records do not pass the cards spec',
            details: {
              results: [
                {
                  index: 1,
                  reasons: [
                    { code: 'missing_required', field: 'hour', message: 'hour is required' },
                  ],
                },
              ],
            },
          },
        }),
    });
    const h = harness(s.http, {
      'r.jsonl': `${JSON.stringify(record)}\n\n${JSON.stringify({ card_id: 'c2' })}\n`,
    });
    expect(await h.run(['predict', 'cards', '--file', 'r.jsonl'])).toBe(2);
    expect(h.stderr()).toBe(
      'error: the inference service answered 422 invalid_records: 1 of 2 records do not pass the cards spec\n  line 3: missing_required: hour is required\n',
    );
  });

  it('--version N applies the version’s featureset and scores it through /v2 infer', async () => {
    const spec = cardSpec('cards', 3);
    const fs = fitFeatureset(
      spec,
      Array.from({ length: 200 }, (_, i) => cardRecord(i)),
    );
    const fsBytes = featuresetArtifact(fs);
    const reportBytes = Buffer.from(
      JSON.stringify({
        task: 'binary',
        classes: ['legit', 'fraud'],
        artifacts: {
          featureset: {
            uri: '/v1/artifacts/fs',
            sha256: sha(fsBytes),
            size: fsBytes.length,
            format: 'json',
          },
        },
      }),
    );
    let infer:
      | { inputs: { name: string; shape: number[]; data: number[] }[]; parameters: unknown }
      | undefined;
    const s = stack({
      [`GET ${REG}/v1/models/cards/versions/4`]: () =>
        json(200, {
          model: 'cards',
          version: 4,
          aliases: ['canary'],
          metrics: {},
          params: {},
          tags: {
            'mlops.report.uri': '/v1/artifacts/report',
            'mlops.report.sha256': sha(reportBytes),
            'mlops.report.size': String(reportBytes.length),
          },
          lineage: {
            dataset: 'cards',
            datasetSpecVersion: 3,
            featuresetVersion: fs.version,
            trainedOn: [],
            sourceJob: null,
          },
        }),
      [`GET ${REG}/v1/artifacts/report`]: () => ({ status: 200, headers: {}, body: reportBytes }),
      [`GET ${REG}/v1/artifacts/fs`]: () => ({ status: 200, headers: {}, body: fsBytes }),
      [`GET ${REG}/v1/specs/cards`]: () => json(200, { ...specRecord, spec }),
      [`GET ${INF}/v2/models/cards/versions/4`]: () =>
        json(200, {
          name: 'cards',
          versions: ['3', '4'],
          platform: 'onnxruntime_onnx',
          inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, fs.names.length] }],
          outputs: [],
        }),
      [`POST ${INF}/v2/models/cards/versions/4/infer`]: (req) => {
        infer = JSON.parse(req.body!) as typeof infer;
        return json(
          200,
          {
            model_name: 'cards',
            outputs: [{ name: 'probability', datatype: 'FP32', shape: [2, 1], data: [0.25, 0.75] }],
          },
          { 'x-model-alias': 'canary' },
        );
      },
    });
    const h = harness(s.http);
    const records = [
      { ...record, is_fraud: 1 },
      { ...record, card_id: 'c2', amount: 3 },
    ];
    expect(
      await h.run(['predict', 'cards', '--version', '4', '--record', JSON.stringify(records)]),
    ).toBe(0);
    expect(infer!.inputs[0].name).toBe('features');
    expect(infer!.inputs[0].shape).toEqual([2, fs.names.length]);
    expect(infer!.parameters).toEqual({ entity_ids: ['c1', 'c2'] });
    expect(h.stdout()).toBe(
      'ENTITY   SCORE  LABEL  VERSION  ALIAS\nc1      0.2500  legit        4  canary\nc2      0.7500  fraud        4  canary\n',
    );
  });

  it('--record and --file together: exit 2', async () => {
    const h = harness(stack({}).http);
    expect(await h.run(['predict', 'cards', '--record', '{}', '--file', 'x.jsonl'])).toBe(2);
    expect(h.stderr()).toContain('error: give the records with one of --record or --file');
  });
});

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
