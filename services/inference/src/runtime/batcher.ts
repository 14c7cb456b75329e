/**
 * Dynamic batching of one model version's requests, with Triton's semantics: requests queue
 * FIFO; when a worker thread is free, the requests at the head of the queue are stacked along
 * dimension 0 into one batch (at most `maxBatchSize` rows), run once, and the results split
 * back by rows. Under concurrency one `session.run()` over N rows costs far less than N runs
 * of one row, which is where the throughput comes from.
 *
 * `maxQueueDelayMs` 0 is greedy: a batch is whatever is queued when a thread frees up. Above 0,
 * a held thread waits for the queue to reach the target size (the largest preferred size, else
 * `maxBatchSize`) until the oldest request has waited that long; a batch formed before the
 * delay runs out is cut to the largest preferred size it reaches, as Triton does.
 */
import {
  BatcherClosedError,
  InferenceFailedError,
  QueueFullError,
  RequestTimeoutError,
} from './errors';
import { concatRows, sameRowShape, splitRows } from './stack';
import type { ModelSignature, TensorData } from './tensor';
import { checkFeeds, checkOutputNames } from './validate';
import type { Lease, WorkerPool } from './worker-pool';

export { BatcherClosedError, QueueFullError, RequestTimeoutError } from './errors';

export interface DynamicBatcherOptions {
  /** false: every request runs as its own batch (still through the pool). */
  enabled: boolean;
  /** Most rows in one batch; a single larger request runs alone. */
  maxBatchSize: number;
  /** How long a batch may wait to fill up; 0 = dispatch whatever is queued (greedy). */
  maxQueueDelayMs: number;
  /** Batch sizes (rows) to aim for while waiting; empty = aim for `maxBatchSize`. */
  preferredBatchSizes: number[];
  /** Queued requests beyond which `submit` rejects with {@link QueueFullError}. */
  maxQueueRequests: number;
  /** A request not answered within this rejects with {@link RequestTimeoutError}; ≤ 0: never. */
  timeoutMs: number;
}

export interface BatchInfo {
  rows: number;
  requests: number;
  computeMs: number;
}

export interface DynamicBatcherHooks {
  /** Called after each batch that ran (for metrics: batch sizes, compute time); must not throw. */
  onBatch?(batch: BatchInfo): void;
}

export interface SubmitResult {
  /** The outputs the request named, or every output when it named none. */
  outputs: Record<string, TensorData>;
  /** From submit to the batch's dispatch, ms. */
  queueMs: number;
  /** The batch's time inside `session.run()`, ms (shared by every request of the batch). */
  computeMs: number;
  /** Rows of the batch the request ran in. */
  batchRows: number;
}

interface Entry {
  feeds: Record<string, TensorData>;
  /** undefined: every output. */
  outputs: string[] | undefined;
  rows: number;
  enqueuedAt: number;
  state: 'queued' | 'running' | 'settled';
  timer: NodeJS.Timeout | null;
  resolve: (r: SubmitResult) => void;
  reject: (e: Error) => void;
}

/** The batch the queue's head would form now. */
interface Plan {
  /** Requests from the head of the queue. */
  count: number;
  rows: number;
  /** The next request cannot join (too many rows, or other dimensions): waiting won't grow it. */
  blocked: boolean;
  /** Requests from the head that add up to the largest preferred size reached (0: none). */
  preferredCount: number;
}

export class DynamicBatcher {
  private readonly queue: Entry[] = [];
  private readonly batching: boolean;
  private readonly target: number;
  private readonly preferred: ReadonlySet<number>;
  /** An acquire is pending, or a lease is held while its batch forms. */
  private leasing = false;
  /** Requests in batches that are running. */
  private running = 0;
  private draining = false;
  private readonly drainWaiters: (() => void)[] = [];
  /** Ends the current wait for the batch to fill (a request came or left). */
  private wake: (() => void) | null = null;
  /** Smoothed wall time of a batch, for the queue-full retry hint. */
  private batchMs = 0;

  constructor(
    readonly key: string,
    readonly signature: ModelSignature,
    private readonly pool: WorkerPool,
    private readonly options: DynamicBatcherOptions,
    private readonly hooks: DynamicBatcherHooks = {},
  ) {
    const { maxBatchSize, maxQueueDelayMs, maxQueueRequests, preferredBatchSizes } = options;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError(`maxBatchSize must be a whole number ≥ 1, got ${maxBatchSize}`);
    }
    if (!Number.isInteger(maxQueueRequests) || maxQueueRequests < 1) {
      throw new RangeError(`maxQueueRequests must be a whole number ≥ 1, got ${maxQueueRequests}`);
    }
    if (!(maxQueueDelayMs >= 0)) {
      throw new RangeError(`maxQueueDelayMs must be ≥ 0, got ${maxQueueDelayMs}`);
    }
    for (const size of preferredBatchSizes) {
      if (!Number.isInteger(size) || size < 1 || size > maxBatchSize) {
        throw new RangeError(`preferred batch size ${size} is not within 1..${maxBatchSize}`);
      }
    }
    this.batching = options.enabled && signature.batchable;
    this.preferred = new Set(preferredBatchSizes);
    this.target = preferredBatchSizes.length > 0 ? Math.max(...preferredBatchSizes) : maxBatchSize;
  }

  /** Requests waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** Requests in batches that are running. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Queues a request (its first dimension is its row count) and resolves with its outputs.
   * Rejects at once when the request does not fit the signature, the queue is full or the
   * batcher is draining.
   */
  async submit(feeds: Record<string, TensorData>, outputs?: string[]): Promise<SubmitResult> {
    if (this.draining) throw new BatcherClosedError(this.key);
    if (this.queue.length >= this.options.maxQueueRequests) {
      throw new QueueFullError(this.key, this.retryAfterSeconds());
    }
    const rows = checkFeeds(this.signature, feeds);
    checkOutputNames(this.signature, outputs);
    return new Promise<SubmitResult>((resolve, reject) => {
      const entry: Entry = {
        feeds,
        outputs: outputs !== undefined && outputs.length > 0 ? [...new Set(outputs)] : undefined,
        rows,
        enqueuedAt: performance.now(),
        state: 'queued',
        timer: null,
        resolve,
        reject,
      };
      const { timeoutMs } = this.options;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(() => this.expire(entry), timeoutMs);
      }
      this.queue.push(entry);
      this.wake?.();
      this.pump();
    });
  }

  /**
   * Stops accepting requests (submit rejects with {@link BatcherClosedError}) and resolves when
   * every request already queued or running has been answered.
   */
  drain(): Promise<void> {
    this.draining = true;
    // A batch waiting to fill up goes now: nothing more will join it.
    this.wake?.();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.checkDrained();
    });
  }

  private pump(): void {
    if (this.leasing || this.queue.length === 0) return;
    this.leasing = true;
    this.pool.acquire().then(
      (lease) => this.dispatch(lease),
      (err: Error) => {
        // The pool is closed: nothing queued can run any more.
        this.leasing = false;
        for (const e of this.queue.splice(0)) this.fail(e, err);
        this.checkDrained();
      },
    );
  }

  private async dispatch(lease: Lease): Promise<void> {
    let batch: Entry[] = [];
    try {
      await this.fill();
      batch = this.take();
    } finally {
      this.leasing = false;
    }
    if (batch.length === 0) {
      // Every request left the queue (timed out) while the thread was on its way.
      lease.release();
      this.checkDrained();
      return;
    }
    // Another thread for what is left: one model can keep every thread of the pool busy.
    this.pump();
    await this.execute(lease, batch);
  }

  /** With a queue delay, waits until the batch reaches its target or the head's delay is up. */
  private async fill(): Promise<void> {
    const delay = this.options.maxQueueDelayMs;
    if (!this.batching || delay <= 0) return;
    while (this.queue.length > 0 && !this.draining) {
      const plan = this.plan();
      if (plan.rows >= this.target || plan.blocked) return;
      const left = this.queue[0].enqueuedAt + delay - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
        const timer = setTimeout(done, left);
        this.wake = done;
      });
    }
  }

  private plan(): Plan {
    const head = this.queue[0];
    if (!this.batching) return { count: 1, rows: head.rows, blocked: true, preferredCount: 0 };
    let count = 1;
    let rows = head.rows;
    let preferredCount = this.preferred.has(rows) ? 1 : 0;
    let blocked = false;
    for (let i = 1; i < this.queue.length; i += 1) {
      const next = this.queue[i];
      // Strict FIFO, as Triton: the batch ends at the first request that cannot join it.
      if (rows + next.rows > this.options.maxBatchSize || !this.stacksWith(head, next)) {
        blocked = true;
        break;
      }
      count += 1;
      rows += next.rows;
      if (this.preferred.has(rows)) preferredCount = count;
    }
    if (rows >= this.options.maxBatchSize) blocked = true;
    return { count, rows, blocked, preferredCount };
  }

  /** Removes the next batch from the queue. */
  private take(): Entry[] {
    if (this.queue.length === 0) return [];
    const plan = this.plan();
    const expired = performance.now() - this.queue[0].enqueuedAt >= this.options.maxQueueDelayMs;
    const count =
      this.options.maxQueueDelayMs > 0 && !expired && !this.draining && plan.preferredCount > 0
        ? plan.preferredCount
        : plan.count;
    return this.queue.splice(0, count);
  }

  private stacksWith(a: Entry, b: Entry): boolean {
    return this.signature.inputs.every((s) => sameRowShape(a.feeds[s.name], b.feeds[s.name]));
  }

  private async execute(lease: Lease, batch: Entry[]): Promise<void> {
    const dispatchedAt = performance.now();
    for (const e of batch) e.state = 'running';
    this.running += batch.length;
    const rows = batch.reduce((n, e) => n + e.rows, 0);
    try {
      const single = batch.length === 1;
      const feeds = single ? batch[0].feeds : this.stack(batch);
      const wanted = this.union(batch);
      const result = await lease.run(this.key, feeds, wanted, { transferFeeds: !single });
      const wall = performance.now() - dispatchedAt;
      this.batchMs = this.batchMs === 0 ? wall : 0.8 * this.batchMs + 0.2 * wall;
      const parts = single ? [result.outputs] : this.split(result.outputs, batch);
      batch.forEach((e, i) => {
        const outputs: Record<string, TensorData> = {};
        for (const name of e.outputs ?? Object.keys(parts[i])) outputs[name] = parts[i][name];
        this.succeed(e, {
          outputs,
          queueMs: dispatchedAt - e.enqueuedAt,
          computeMs: result.computeMs,
          batchRows: rows,
        });
      });
      // After the answers: a hook that throws lands in the catch below, where it can no longer
      // fail requests that are already settled.
      this.hooks.onBatch?.({ rows, requests: batch.length, computeMs: result.computeMs });
    } catch (err) {
      for (const e of batch) this.fail(e, err as Error);
    } finally {
      lease.release();
      this.running -= batch.length;
      this.checkDrained();
    }
  }

  private stack(batch: Entry[]): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    for (const { name } of this.signature.inputs) {
      feeds[name] = concatRows(batch.map((e) => e.feeds[name]));
    }
    return feeds;
  }

  /** Every output some request of the batch wants; undefined (all) if one wants all. */
  private union(batch: Entry[]): string[] | undefined {
    if (batch.some((e) => e.outputs === undefined)) return undefined;
    const wanted = new Set(batch.flatMap((e) => e.outputs ?? []));
    return this.signature.outputs.map((s) => s.name).filter((n) => wanted.has(n));
  }

  private split(outputs: Record<string, TensorData>, batch: Entry[]): Record<string, TensorData>[] {
    const parts: Record<string, TensorData>[] = batch.map(() => ({}));
    const rows = batch.map((e) => e.rows);
    const total = rows.reduce((n, r) => n + r, 0);
    for (const [name, t] of Object.entries(outputs)) {
      if (t.shape[0] !== total) {
        throw new InferenceFailedError(
          this.key,
          `output "${name}" has shape [${t.shape.join(', ')}] for a batch of ${total} rows; ` +
            'a model served with dynamic batching must keep rows apart',
        );
      }
      splitRows(t, rows).forEach((part, i) => (parts[i][name] = part));
    }
    return parts;
  }

  private expire(entry: Entry): void {
    entry.timer = null;
    if (entry.state === 'queued') {
      this.queue.splice(this.queue.indexOf(entry), 1);
      this.wake?.();
      this.fail(entry, new RequestTimeoutError(this.key, this.options.timeoutMs, 'queued'));
      this.checkDrained();
    } else if (entry.state === 'running') {
      // The batch runs on for its other requests; this caller stops waiting now.
      this.fail(entry, new RequestTimeoutError(this.key, this.options.timeoutMs, 'running'));
    }
  }

  private succeed(entry: Entry, result: SubmitResult): void {
    if (this.settle(entry)) entry.resolve(result);
  }

  private fail(entry: Entry, error: Error): void {
    if (this.settle(entry)) entry.reject(error);
  }

  /** Marks the request answered; false if it was already (timed out, say). */
  private settle(entry: Entry): boolean {
    if (entry.state === 'settled') return false;
    entry.state = 'settled';
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    return true;
  }

  private checkDrained(): void {
    if (!this.draining || this.queue.length > 0 || this.running > 0) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** About how long the queue takes to empty: its batches, spread over the pool's threads. */
  private retryAfterSeconds(): number {
    const rows = this.queue.reduce((n, e) => n + e.rows, 0);
    const batches = this.batching ? Math.ceil(rows / this.options.maxBatchSize) : this.queue.length;
    return Math.max(1, Math.ceil((batches * this.batchMs) / this.pool.size / 1000));
  }
}
