/**
 * A fixed set of worker threads, each holding an onnxruntime session of every loaded model, so
 * any thread can run any model. A caller leases a thread for one batch; leases are granted
 * FIFO. A thread that dies is replaced, and every loaded model is reloaded into the
 * replacement from the bytes the pool keeps.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  InferenceFailedError,
  ModelLoadError,
  ModelNotLoadedError,
  PoolClosedError,
  WorkerExitedError,
} from './errors';
import type { ModelSignature, TensorData } from './tensor';
import type { OrtWorkerData, WorkerReply, WorkerRequest } from './worker-messages';

export interface WorkerPoolOptions {
  /** Worker threads (each runs one batch at a time). */
  size: number;
  /** onnxruntime intra-op threads per session; default 1 (the pool's threads are the parallelism). */
  intraOpThreads?: number;
  /** The compiled worker entry; default `ort.worker.js` next to this file. */
  workerFile?: string;
  /** Told when a worker thread dies (it is being replaced): for logs and metrics. */
  onWorkerExit?: (event: { worker: number; error: Error }) => void;
}

export interface RunResult {
  outputs: Record<string, TensorData>;
  /** Time inside `session.run()` in the worker, ms. */
  computeMs: number;
}

export interface RunOptions {
  /**
   * The caller gives the feeds' buffers away: a typed array that spans its whole buffer is moved
   * to the worker (and detached here) instead of copied. Only for arrays nothing else reads,
   * such as a batch the batcher has just concatenated.
   */
  transferFeeds?: boolean;
}

/** One worker thread, held for one batch. */
export interface Lease {
  /** Runs one batch on the leased thread; once per lease. */
  run(
    key: string,
    feeds: Record<string, TensorData>,
    outputs?: string[],
    options?: RunOptions,
  ): Promise<RunResult>;
  /** Returns the thread to the pool (after the run, if one is in flight). Idempotent. */
  release(): void;
}

// A thread that keeps dying before it is ready (a reload failing, say) is restarted with a
// growing delay, so a persistent fault does not spin a core.
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 10_000;

/** One worker thread and the calls awaiting its replies. */
class Thread {
  readonly worker: Worker;
  state: 'starting' | 'idle' | 'leased' = 'starting';
  /** Why the thread is gone; set once, when it dies or is terminated. */
  dead: Error | null = null;
  /** Resolves on the worker's `ready` message; rejects if it dies first. */
  readonly started: Promise<void>;
  private readonly calls = new Map<
    number,
    { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private onStarted!: { resolve: () => void; reject: (e: Error) => void };

  constructor(
    readonly index: number,
    file: string,
    data: OrtWorkerData,
    private readonly onDeath: (thread: Thread, error: Error) => void,
  ) {
    this.started = new Promise((resolve, reject) => (this.onStarted = { resolve, reject }));
    // Handled through `dead` by whoever awaits it; never an unhandled rejection.
    this.started.catch(() => {});
    this.worker = new Worker(file, { workerData: data });
    this.worker.on('message', (m: WorkerReply) => this.onMessage(m));
    this.worker.on('error', (err) =>
      this.die(new WorkerExitedError(`inference worker ${index} failed: ${err.message}`)),
    );
    this.worker.on('messageerror', (err) =>
      this.die(
        new WorkerExitedError(
          `inference worker ${index} sent an unreadable message: ${err.message}`,
        ),
      ),
    );
    this.worker.on('exit', (code) =>
      this.die(new WorkerExitedError(`inference worker ${index} exited with code ${code}`)),
    );
  }

  /** Sends a request and resolves with its reply; rejects if the thread dies first. */
  call(
    request: DistributiveOmit<WorkerRequest, 'id'>,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Stops the thread; its pending calls reject with `reason`. */
  terminate(reason: Error): Promise<number> {
    this.die(reason, false);
    return this.worker.terminate();
  }

  private onMessage(m: WorkerReply): void {
    if (m.type === 'ready') {
      this.onStarted.resolve();
      return;
    }
    const call = this.calls.get(m.id);
    this.calls.delete(m.id);
    call?.resolve(m);
  }

  private die(error: Error, notify = true): void {
    if (this.dead) return;
    this.dead = error;
    this.onStarted.reject(error);
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
    // An 'error' event is followed by 'exit'; make sure a thread that is merely broken stops.
    void this.worker.terminate();
    if (notify) this.onDeath(this, error);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Model {
  bytes: Uint8Array;
  /** Null while the model is being loaded. */
  signature: ModelSignature | null;
}

export class WorkerPool {
  readonly size: number;
  private readonly intraOpThreads: number;
  private readonly workerFile: string;
  private readonly onWorkerExit: WorkerPoolOptions['onWorkerExit'];
  private readonly threads: Thread[] = [];
  /** Threads ready for a lease; the most recently used last (its caches are warm). */
  private readonly idleThreads: Thread[] = [];
  private readonly waiters: { resolve: (l: Lease) => void; reject: (e: Error) => void }[] = [];
  private readonly models = new Map<string, Model>();
  /** Consecutive deaths of each slot's thread before it became ready. */
  private readonly failures: number[] = [];
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(
        `a worker pool needs a whole number of threads ≥ 1, got ${options.size}`,
      );
    }
    this.size = options.size;
    this.intraOpThreads = options.intraOpThreads ?? 1;
    this.workerFile = options.workerFile ?? path.join(__dirname, 'ort.worker.js');
    this.onWorkerExit = options.onWorkerExit;
  }

  /** Starts every thread; resolves when all have loaded onnxruntime. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`the worker pool is ${this.state}`);
    this.state = 'starting';
    for (let i = 0; i < this.size; i += 1) {
      this.failures[i] = 0;
      this.spawn(i);
    }
    try {
      await Promise.all(this.threads.map((t) => t.started));
    } catch (err) {
      await this.close();
      throw new PoolClosedError(
        `the inference workers did not start (${this.workerFile}): ${(err as Error).message}`,
      );
    }
    this.state = 'started';
    for (const t of [...this.threads]) {
      // A thread that died between its `ready` and now was not replaced while starting.
      if (t.dead) this.spawn(t.index);
      else this.offer(t);
    }
  }

  /** Stops every thread. Runs in flight reject; later calls reject with {@link PoolClosedError}. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const closed = new PoolClosedError();
    for (const w of this.waiters.splice(0)) w.reject(closed);
    this.idleThreads.length = 0;
    await Promise.all(this.threads.map((t) => t.terminate(closed)));
  }

  /**
   * Loads a model into every thread and returns its signature. The pool keeps the bytes, to
   * reload them into a thread that replaces a dead one.
   */
  async load(key: string, model: Uint8Array): Promise<ModelSignature> {
    if (this.state !== 'started') throw new PoolClosedError(`the worker pool is ${this.state}`);
    if (this.models.has(key)) throw new Error(`model ${key} is already loaded; unload it first`);
    // A view into a larger buffer would be cloned whole into every thread; keep just the model.
    const bytes = model.byteLength === model.buffer.byteLength ? model : model.slice();
    const entry: Model = { bytes, signature: null };
    // In the map before the messages go out: a thread spawned from now on loads it at birth.
    this.models.set(key, entry);
    const replies = await Promise.allSettled(
      this.live().map((t) => t.call({ type: 'load', key, model: bytes })),
    );
    let signature: ModelSignature | null = null;
    let failure: string | null = null;
    for (const r of replies) {
      // A thread that died meanwhile is replaced, and its replacement loads the model itself.
      if (r.status === 'rejected') continue;
      if (r.value.type === 'loaded') signature ??= r.value.signature;
      else if (r.value.type === 'error') failure ??= r.value.message;
    }
    if (this.models.get(key) !== entry) throw new ModelLoadError(key, 'it was unloaded meanwhile');
    if (failure !== null || signature === null) {
      await this.unload(key);
      throw new ModelLoadError(key, failure ?? 'every worker exited while loading it');
    }
    entry.signature = signature;
    return signature;
  }

  /** Releases the model's sessions in every thread. Runs already sent finish first. */
  async unload(key: string): Promise<void> {
    if (!this.models.delete(key)) return;
    await Promise.allSettled(this.live().map((t) => t.call({ type: 'unload', key })));
  }

  /** Whether the model is loaded (and its load has finished). */
  has(key: string): boolean {
    return (this.models.get(key)?.signature ?? null) !== null;
  }

  /** The signature of a loaded model. */
  signature(key: string): ModelSignature | undefined {
    return this.models.get(key)?.signature ?? undefined;
  }

  /** Waits for a free thread (first come, first served) and leases it for one batch. */
  acquire(): Promise<Lease> {
    if (this.state !== 'started') {
      return Promise.reject(new PoolClosedError(`the worker pool is ${this.state}`));
    }
    const thread = this.idleThreads.pop();
    if (thread) return Promise.resolve(this.lease(thread));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Acquires a thread, runs one batch on it and releases it. */
  async run(
    key: string,
    feeds: Record<string, TensorData>,
    outputs?: string[],
    options?: RunOptions,
  ): Promise<RunResult> {
    const lease = await this.acquire();
    try {
      return await lease.run(key, feeds, outputs, options);
    } finally {
      lease.release();
    }
  }

  /** Threads free for a lease now. */
  idle(): number {
    return this.idleThreads.length;
  }

  /** Callers waiting in {@link acquire}. */
  waiting(): number {
    return this.waiters.length;
  }

  private live(): Thread[] {
    return this.threads.filter((t) => !t.dead);
  }

  private lease(thread: Thread): Lease {
    thread.state = 'leased';
    let used = false;
    let released = false;
    let running: Promise<unknown> | null = null;
    return {
      run: (key, feeds, outputs, options) => {
        if (released) return Promise.reject(new Error('this lease was released'));
        if (used) return Promise.reject(new Error('a lease runs one batch'));
        used = true;
        const result = this.runOn(thread, key, feeds, outputs, options);
        running = result.catch(() => {});
        return result;
      },
      release: () => {
        if (released) return;
        released = true;
        // The thread is not handed on under a running batch: one batch per thread at a time.
        if (running) void running.then(() => this.offer(thread));
        else this.offer(thread);
      },
    };
  }

  private async runOn(
    thread: Thread,
    key: string,
    feeds: Record<string, TensorData>,
    outputs: string[] | undefined,
    options: RunOptions | undefined,
  ): Promise<RunResult> {
    if (thread.dead) throw thread.dead;
    if (!this.has(key)) throw new ModelNotLoadedError(key);
    const { message, transfer } = shippable(feeds, options?.transferFeeds ?? false);
    const fetch = outputs !== undefined && outputs.length > 0 ? outputs : undefined;
    const reply = await thread.call(
      { type: 'run', key, feeds: message, ...(fetch ? { outputs: fetch } : {}) },
      transfer,
    );
    switch (reply.type) {
      case 'result':
        return { outputs: reply.outputs, computeMs: reply.computeMs };
      case 'error':
        throw reply.code === 'not_loaded'
          ? new ModelNotLoadedError(key)
          : new InferenceFailedError(key, reply.message);
      case 'ready':
      case 'loaded':
      case 'unloaded':
        throw new Error(`inference worker ${thread.index} answered a run with ${reply.type}`);
    }
  }

  /** Hands a free thread to the first waiter, or parks it. */
  private offer(thread: Thread): void {
    if (thread.dead || this.state !== 'started' || this.threads[thread.index] !== thread) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(this.lease(thread));
    else {
      thread.state = 'idle';
      this.idleThreads.push(thread);
    }
  }

  private spawn(index: number): void {
    const thread = new Thread(
      index,
      this.workerFile,
      { intraOpThreads: this.intraOpThreads },
      (t, e) => this.onDeath(t, e),
    );
    this.threads[index] = thread;
    // Sent now, before any await: a later unload is then queued behind these loads.
    const loads = [...this.models].map(([key, m]) =>
      thread.call({ type: 'load', key, model: m.bytes }).then((r) => {
        if (r.type === 'error') throw new ModelLoadError(key, r.message);
      }),
    );
    // While the pool starts, no model is loaded yet, and start() hands the threads out.
    if (this.state === 'starting') return;
    void Promise.all([thread.started, ...loads]).then(
      () => {
        this.failures[index] = 0;
        this.offer(thread);
      },
      (err: Error) => {
        // Dead already (its replacement is on the way), or a reload failed: stop it, which
        // starts a replacement after a delay.
        if (!thread.dead)
          thread.terminate(err).then(
            () => this.onDeath(thread, err),
            () => {},
          );
      },
    );
  }

  private onDeath(thread: Thread, error: Error): void {
    const at = this.idleThreads.indexOf(thread);
    if (at >= 0) this.idleThreads.splice(at, 1);
    if (this.state !== 'started' || this.threads[thread.index] !== thread) return;
    this.onWorkerExit?.({ worker: thread.index, error });
    const wasReady = thread.state !== 'starting';
    const failures = wasReady ? 0 : (this.failures[thread.index] += 1);
    const delay =
      failures === 0 ? 0 : Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (failures - 1));
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.state === 'started') this.spawn(thread.index);
    }, delay);
    this.restartTimers.add(timer);
  }
}

/**
 * The feeds as they go to the worker, with the buffers to transfer. Structured clone copies a
 * typed array's whole buffer even for a small view, so a view is copied to an exact-size array
 * first and that copy is moved; an array given away (`give`) that spans its buffer is moved as is.
 */
function shippable(
  feeds: Record<string, TensorData>,
  give: boolean,
): { message: Record<string, TensorData>; transfer: ArrayBuffer[] } {
  const message: Record<string, TensorData> = {};
  // A Set: the same array fed to two inputs must be listed once, or postMessage throws.
  const transfer = new Set<ArrayBuffer>();
  for (const [name, t] of Object.entries(feeds)) {
    if (Array.isArray(t.data)) {
      message[name] = t;
      continue;
    }
    const { buffer, byteOffset, byteLength } = t.data;
    if (
      give &&
      buffer instanceof ArrayBuffer &&
      byteOffset === 0 &&
      byteLength === buffer.byteLength
    ) {
      message[name] = t;
      transfer.add(buffer);
    } else {
      const copy = t.data.slice();
      message[name] = { ...t, data: copy };
      transfer.add(copy.buffer);
    }
  }
  return { message, transfer: [...transfer] };
}
