import { describe, expect, it } from 'vitest';
import { IngestionClient, type RowOutcome } from './clients/ingestion';
import { UnreachableError } from './errors';
import { NetworkError, type HttpFn, type HttpRequest, type HttpResponse } from './http';
import { produce, ProduceStopped, type ProduceOptions } from './produce';
import type { SourceRecord } from './records';

const records = (n: number, from = 1): SourceRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    record: { card_id: `c${from + i}`, amount: i },
    line: from + i + 1,
  }));

const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse => ({
  status,
  headers,
  body: Buffer.from(JSON.stringify(body)),
});

const accepted = (
  lines: string[],
  rejectIf: (r: Record<string, unknown>) => RowOutcome['reasons'] = () => undefined,
) => {
  const results: RowOutcome[] = lines.map((l, index) => {
    const reasons = rejectIf(JSON.parse(l) as Record<string, unknown>);
    return reasons
      ? { index, id: `id${index}`, status: 'rejected', reasons }
      : { index, id: `id${index}`, status: 'accepted' };
  });
  const rejected = results.filter((r) => r.status === 'rejected').length;
  return {
    dataset: 'cards',
    specVersion: 3,
    accepted: results.length - rejected,
    rejected,
    results,
  };
};

/** A fake ingestion: answers each request with `answer(lines, n)`; records what it was sent. */
function fake(answer: (lines: string[], n: number, req: HttpRequest) => HttpResponse) {
  const requests: HttpRequest[] = [];
  const http: HttpFn = async (req) => {
    requests.push(req);
    const lines = (req.body ?? '').split('\n').filter((l) => l !== '');
    return answer(lines, requests.length, req);
  };
  const client = new IngestionClient('http://ingestion:3001', { http });
  const sent = () => requests.map((r) => (r.body ?? '').split('\n').filter((l) => l !== '').length);
  return { client, requests, sent };
}

function options(over: Partial<ProduceOptions> = {}) {
  const sleeps: number[] = [];
  let clock = 0;
  const opts: ProduceOptions = {
    endpoint: 'events',
    dataset: 'cards',
    batchSize: 4,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => (clock += 10),
    ...over,
  };
  return { opts, sleeps };
}

describe('produce: batching', () => {
  it('sends NDJSON batches of at most batchSize records to /events', async () => {
    const f = fake((lines) => json(202, accepted(lines)));
    const { opts } = options();
    const s = await produce(records(10), f.client, opts);
    expect(f.sent()).toEqual([4, 4, 2]);
    expect(f.requests[0]).toMatchObject({
      method: 'POST',
      url: 'http://ingestion:3001/v1/datasets/cards/events',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(f.requests[0].body).toBe(
      '{"card_id":"c1","amount":0}\n{"card_id":"c2","amount":1}\n{"card_id":"c3","amount":2}\n{"card_id":"c4","amount":3}\n',
    );
    expect(s).toMatchObject({
      sent: 10,
      accepted: 10,
      rejected: 0,
      batches: 3,
      retries: 0,
      specVersion: 3,
    });
  });

  it('closes a batch before it would pass maxBatchBytes', async () => {
    const f = fake((lines) => json(202, accepted(lines)));
    // Each line is 28 bytes + newline: two fit in 60 bytes, three do not.
    const { opts } = options({ batchSize: 100, maxBatchBytes: 60 });
    await produce(records(5), f.client, opts);
    expect(f.sent()).toEqual([2, 2, 1]);
  });

  it('counts rejections by reason code, keeping the input lines', async () => {
    const f = fake((lines) =>
      json(
        202,
        accepted(lines, (r) =>
          (r.amount as number) % 3 === 1
            ? [
                { code: 'out_of_range', field: 'amount', message: 'amount out of range' },
                { code: 'missing_required', field: 'hour', message: 'hour is required' },
              ]
            : undefined,
        ),
      ),
    );
    const { opts } = options();
    const s = await produce(records(8), f.client, opts);
    // amounts 1, 4, 7 are rejected: lines 3, 6, 9.
    expect(s).toMatchObject({ sent: 8, accepted: 5, rejected: 3 });
    expect(s.reasons).toEqual({ out_of_range: 3, missing_required: 3 });
    expect(s.rejections.map((r) => r.line)).toEqual([3, 6, 9]);
  });

  it('counts a 422 no_valid_rows batch as rejected and goes on', async () => {
    const f = fake((lines, n) =>
      n === 1
        ? json(422, {
            error: {
              code: 'no_valid_rows',
              message: 'none of the 4 rows passes the cards spec',
              details: {
                results: lines.map((_, index) => ({
                  index,
                  id: `x${index}`,
                  status: 'rejected',
                  reasons: [{ code: 'not_in_enum', field: 'merchant_category', message: 'no' }],
                })),
              },
            },
          })
        : json(202, accepted(lines)),
    );
    const { opts } = options();
    const s = await produce(records(6), f.client, opts);
    expect(s).toMatchObject({ sent: 6, accepted: 2, rejected: 4, batches: 2 });
    expect(s.reasons).toEqual({ not_in_enum: 4 });
    expect(s.rejections.map((r) => r.line)).toEqual([2, 3, 4, 5]);
  });
});

describe('produce: retries', () => {
  it('waits out a 429 for its Retry-After and resends the same batch', async () => {
    const f = fake((lines, n) =>
      n === 2 || n === 3
        ? json(
            429,
            { error: { code: 'backpressure', message: 'saturated' } },
            { 'retry-after': String(n - 1) },
          )
        : json(202, accepted(lines)),
    );
    const { opts, sleeps } = options();
    const progress: (number | undefined)[] = [];
    const s = await produce(records(8), f.client, {
      ...opts,
      onProgress: (p) => progress.push(p.waitingMs),
    });
    expect(f.sent()).toEqual([4, 4, 4, 4]);
    expect(f.requests[1].body).toBe(f.requests[2].body);
    expect(f.requests[2].body).toBe(f.requests[3].body);
    expect(sleeps).toEqual([1000, 2000]);
    expect(s).toMatchObject({ sent: 8, accepted: 8, retries: 2, batches: 2 });
    expect(progress).toEqual([undefined, 1000, 2000, undefined]);
  });

  it('backs off 1 s, 2 s, 4 s on a 503 without Retry-After, and stops after maxRetries', async () => {
    const f = fake(() =>
      json(503, { error: { code: 'bus_unavailable', message: 'kafka is down' } }),
    );
    const { opts, sleeps } = options({ maxRetries: 3 });
    const err = (await produce(records(2), f.client, opts).catch(
      (e: unknown) => e,
    )) as ProduceStopped;
    expect(err).toBeInstanceOf(ProduceStopped);
    expect(err.message).toBe('kafka is down');
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(f.requests).toHaveLength(4);
    expect(err.summary).toMatchObject({ sent: 0, retries: 3 });
  });

  it('resends after no answer, then gives up with what was done', async () => {
    const http: HttpFn = (() => {
      let n = 0;
      return async (req) => {
        n++;
        if (n >= 2) throw new NetworkError(new Error('ECONNRESET'));
        return json(202, accepted((req.body ?? '').split('\n').filter(Boolean)));
      };
    })();
    const client = new IngestionClient('http://ingestion:3001', { http });
    const { opts, sleeps } = options({ maxNetworkRetries: 2 });
    const err = (await produce(records(6), client, opts).catch(
      (e: unknown) => e,
    )) as ProduceStopped;
    expect(err.cause).toBeInstanceOf(UnreachableError);
    expect(err.summary).toMatchObject({ sent: 4, accepted: 4, batches: 1, retries: 2 });
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('splits a batch in two on 413', async () => {
    const f = fake((lines) =>
      lines.length > 2
        ? json(413, { error: { code: 'payload_too_large', message: 'too big' } })
        : json(202, accepted(lines)),
    );
    const { opts } = options({ batchSize: 5 });
    const s = await produce(records(5), f.client, opts);
    expect(f.sent()).toEqual([5, 3, 2, 1, 2]);
    expect(s).toMatchObject({ sent: 5, accepted: 5 });
  });

  it('waits for ingestion to learn a new spec (404 unknown_dataset before anything went through)', async () => {
    const f = fake((lines, n) =>
      n <= 2
        ? json(404, {
            error: { code: 'unknown_dataset', message: 'no dataset spec named "cards"' },
          })
        : json(202, accepted(lines)),
    );
    const { opts, sleeps } = options();
    const s = await produce(records(3), f.client, opts);
    expect(sleeps).toEqual([1000, 1000]);
    expect(s).toMatchObject({ sent: 3, accepted: 3 });
  });

  it('stops on any other error, keeping the counts so far', async () => {
    const f = fake((lines, n) =>
      n === 2
        ? json(401, { error: { code: 'unauthenticated', message: 'an API key is needed' } })
        : json(202, accepted(lines)),
    );
    const { opts } = options();
    const err = (await produce(records(10), f.client, opts).catch(
      (e: unknown) => e,
    )) as ProduceStopped;
    expect(err).toBeInstanceOf(ProduceStopped);
    expect(err.summary).toMatchObject({ sent: 4, accepted: 4 });
    expect(f.requests).toHaveLength(2);
  });

  it('stops before the next batch when interrupted', async () => {
    const controller = new AbortController();
    const f = fake((lines, n) => {
      if (n === 2) controller.abort();
      return json(202, accepted(lines));
    });
    const { opts } = options({ signal: controller.signal });
    const s = await produce(records(20), f.client, opts);
    expect(f.requests).toHaveLength(2);
    expect(s).toMatchObject({ sent: 8, interrupted: true });
  });
});

describe('produce: feedback', () => {
  it('counts the records a 400 invalid_feedback names as rejected and resends the rest', async () => {
    const f = fake((lines, n) => {
      const url = f.requests[n - 1].url;
      expect(url).toBe('http://ingestion:3001/v1/datasets/cards/feedback');
      const bad = lines
        .map((l, index) => ({ index, r: JSON.parse(l) as Record<string, unknown> }))
        .filter((x) => x.r.label === undefined);
      if (bad.length > 0)
        return json(400, {
          error: {
            code: 'invalid_feedback',
            message: 'record 1, field label: label is required; nothing was accepted',
            details: {
              problems: bad.map((x) => ({
                index: x.index,
                code: 'missing_required',
                field: 'label',
                message: 'label is required',
              })),
            },
          },
        });
      return json(202, { ...accepted(lines), rejected: 0 });
    });
    const labels: SourceRecord[] = [
      { record: { entityId: 'c1', label: 1 }, line: 2 },
      { record: { entityId: 'c2' }, line: 3 },
      { record: { entityId: 'c3', label: 0 }, line: 4 },
      { record: { entityId: 'c4' }, line: 5 },
      { record: { entityId: 'c5', label: 1 }, line: 6 },
    ];
    const { opts } = options({ endpoint: 'feedback', batchSize: 10 });
    const s = await produce(labels, f.client, opts);
    expect(f.sent()).toEqual([5, 3]);
    expect(f.requests[1].body).toBe(
      '{"entityId":"c1","label":1}\n{"entityId":"c3","label":0}\n{"entityId":"c5","label":1}\n',
    );
    expect(s).toMatchObject({
      sent: 5,
      accepted: 3,
      rejected: 2,
      reasons: { missing_required: 2 },
    });
    expect(s.rejections.map((r) => r.line)).toEqual([3, 5]);
  });
});
