import type { IngestEndpoint, IngestionClient, RowOutcome, RowReason } from './clients/ingestion';
import { ServiceError, UnreachableError } from './errors';
import type { ProgressState } from './progress';
import type { SourceRecord } from './records';

/**
 * The produce loop: records → NDJSON batches → ingestion, with the service's backpressure
 * honoured. No I/O of its own: the client, the clock and sleep are given, so tests drive it
 * with a fake HTTP function.
 *
 * - A batch closes at `batchSize` records or before it would pass `maxBatchBytes`.
 * - 429 and 503: wait `Retry-After` (else 1 s, 2 s, 4 s… up to 30 s) and resend the same
 *   batch, up to `maxRetries` times. Ingestion derives each record's id from its content, so
 *   a resent record is not a second event.
 * - No answer at all: resend up to `maxNetworkRetries` times with the same backoff.
 * - 404 `unknown_dataset` before anything went through: ingestion has not read the spec yet
 *   (it arrives over Kafka): wait 1 s and resend, up to `maxRetries` times.
 * - 413: the batch is split in two, each half sent on its own.
 * - 422 `no_valid_rows` (events): every record of the batch was rejected — counted with the
 *   reasons of `details.results`, and the run goes on.
 * - 400 `invalid_feedback` (feedback, all or nothing): the records named in
 *   `details.problems` are counted as rejected and the rest of the batch is resent.
 * - Anything else stops the run: {@link ProduceStopped}, with what was done so far.
 */
export interface ProduceOptions {
  endpoint: IngestEndpoint;
  dataset: string;
  batchSize: number;
  /** Default 4 MiB (ingestion's default limit is 5 MiB). */
  maxBatchBytes?: number;
  /** 429/503/404-before-start resends of one batch; default 30. */
  maxRetries?: number;
  /** Resends after no answer; default 3. */
  maxNetworkRetries?: number;
  /** Rejections kept with their lines and reasons; default 20. */
  keepRejections?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onProgress?: (p: ProgressState) => void;
  /** Aborted (Ctrl-C): stop before the next batch. */
  signal?: AbortSignal;
}

export interface Rejection {
  line: number;
  reasons: RowReason[];
}

export interface ProduceSummary {
  dataset: string;
  endpoint: IngestEndpoint;
  specVersion: number | null;
  /** Records the service answered for: accepted + rejected. */
  sent: number;
  accepted: number;
  rejected: number;
  /** Rejected records per reason code (a record with two codes counts under both). */
  reasons: Record<string, number>;
  /** The first rejected records, with their input line. */
  rejections: Rejection[];
  /** Requests that were answered 2xx (or 422 no_valid_rows). */
  batches: number;
  /** Resends after 429/503/no answer. */
  retries: number;
  durationMs: number;
  recordsPerSecond: number;
  interrupted: boolean;
}

/** A run that stopped on an error; `summary` is what had been done. */
export class ProduceStopped extends Error {
  constructor(
    readonly summary: ProduceSummary,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'ProduceStopped';
  }
}

interface Item {
  line: number;
  json: string;
}

const MAX_WAIT_MS = 60_000;

export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

export async function produce(
  records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>,
  client: Pick<IngestionClient, 'post'>,
  opts: ProduceOptions,
): Promise<ProduceSummary> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxBytes = opts.maxBatchBytes ?? 4 * 1024 * 1024;
  const maxRetries = opts.maxRetries ?? 30;
  const maxNetworkRetries = opts.maxNetworkRetries ?? 3;
  const keep = opts.keepRejections ?? 20;
  const started = now();
  const summary: ProduceSummary = {
    dataset: opts.dataset,
    endpoint: opts.endpoint,
    specVersion: null,
    sent: 0,
    accepted: 0,
    rejected: 0,
    reasons: {},
    rejections: [],
    batches: 0,
    retries: 0,
    durationMs: 0,
    recordsPerSecond: 0,
    interrupted: false,
  };
  const finish = () => {
    summary.durationMs = now() - started;
    summary.recordsPerSecond =
      summary.durationMs > 0 ? Math.round((summary.sent * 1000) / summary.durationMs) : 0;
    return summary;
  };
  const progress = (waitingMs?: number) =>
    opts.onProgress?.({
      sent: summary.sent,
      rejected: summary.rejected,
      elapsedMs: now() - started,
      ...(waitingMs !== undefined ? { waitingMs } : {}),
    });

  const reject = (item: Item, reasons: RowReason[]) => {
    summary.sent++;
    summary.rejected++;
    for (const code of new Set(reasons.map((r) => r.code)))
      summary.reasons[code] = (summary.reasons[code] ?? 0) + 1;
    if (summary.rejections.length < keep) summary.rejections.push({ line: item.line, reasons });
  };

  const tally = (items: Item[], results: RowOutcome[] | undefined, accepted: number) => {
    if (!Array.isArray(results) || results.length !== items.length) {
      // Counts only: every record accepted as far as we can tell.
      summary.sent += items.length;
      summary.accepted += accepted;
      summary.rejected += items.length - accepted;
      return;
    }
    for (const r of results) {
      const item = items[r.index] ?? items[0];
      if (r.status === 'accepted') {
        summary.sent++;
        summary.accepted++;
      } else reject(item, r.reasons ?? [{ code: 'rejected', message: 'rejected' }]);
    }
  };

  const wait = async (ms: number) => {
    summary.retries++;
    progress(ms);
    await sleep(ms);
  };

  async function send(batch: Item[]): Promise<void> {
    let items = batch;
    let attempts = 0;
    let networkAttempts = 0;
    while (items.length > 0) {
      try {
        const body = items.map((i) => i.json).join('\n') + '\n';
        const res = await client.post(opts.endpoint, opts.dataset, body);
        summary.specVersion = res.specVersion;
        summary.batches++;
        tally(items, res.results, res.accepted);
        return;
      } catch (err) {
        if (err instanceof ServiceError) {
          if (err.status === 429 || err.status === 503) {
            if (++attempts > maxRetries) throw err;
            await wait(Math.min(MAX_WAIT_MS, err.retryAfterMs ?? backoffMs(attempts)));
            continue;
          }
          if (err.status === 404 && err.code === 'unknown_dataset' && summary.sent === 0) {
            if (++attempts > maxRetries) throw err;
            await wait(1000);
            continue;
          }
          if (err.status === 413 && items.length > 1) {
            const mid = Math.ceil(items.length / 2);
            await send(items.slice(0, mid));
            await send(items.slice(mid));
            return;
          }
          if (opts.endpoint === 'events' && err.status === 422 && err.code === 'no_valid_rows') {
            summary.batches++;
            const results = (err.details as { results?: RowOutcome[] } | undefined)?.results;
            if (Array.isArray(results) && results.length === items.length) tally(items, results, 0);
            else
              for (const item of items)
                reject(item, [{ code: 'no_valid_rows', message: err.message }]);
            return;
          }
          if (
            opts.endpoint === 'feedback' &&
            err.status === 400 &&
            err.code === 'invalid_feedback'
          ) {
            const bad = feedbackProblems(err.details, items.length);
            if (bad.size === 0) throw err;
            for (const [index, reasons] of bad) reject(items[index], reasons);
            items = items.filter((_, i) => !bad.has(i));
            continue;
          }
        }
        if (err instanceof UnreachableError) {
          if (++networkAttempts > maxNetworkRetries) throw err;
          await wait(backoffMs(networkAttempts));
          continue;
        }
        throw err;
      }
    }
  }

  let batch: Item[] = [];
  let bytes = 0;
  try {
    for await (const r of records) {
      if (opts.signal?.aborted) break;
      const json = JSON.stringify(r.record);
      const size = Buffer.byteLength(json) + 1;
      if (batch.length > 0 && (batch.length >= opts.batchSize || bytes + size > maxBytes)) {
        await send(batch);
        progress();
        batch = [];
        bytes = 0;
        if (opts.signal?.aborted) break;
      }
      batch.push({ line: r.line, json });
      bytes += size;
    }
    if (opts.signal?.aborted) summary.interrupted = true;
    else if (batch.length > 0) {
      await send(batch);
      progress();
    }
  } catch (err) {
    throw new ProduceStopped(finish(), err);
  }
  return finish();
}

/** `details.problems` of a 400 invalid_feedback, grouped by record index. */
export function feedbackProblems(details: unknown, count: number): Map<number, RowReason[]> {
  const out = new Map<number, RowReason[]>();
  const problems = (details as { problems?: unknown } | undefined)?.problems;
  if (!Array.isArray(problems)) return out;
  for (const p of problems as {
    index?: unknown;
    code?: unknown;
    field?: unknown;
    message?: unknown;
  }[]) {
    if (typeof p.index !== 'number' || p.index < 0 || p.index >= count) continue;
    const reason: RowReason = {
      code: typeof p.code === 'string' ? p.code : 'invalid_feedback',
      message: typeof p.message === 'string' ? p.message : 'invalid',
      ...(typeof p.field === 'string' ? { field: p.field } : {}),
    };
    out.set(p.index, [...(out.get(p.index) ?? []), reason]);
  }
  return out;
}
