import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { OutputSchemaError, type BusProducer, type OutgoingEvent } from '@mlops/bus';
import { EVENTS, PredictionEvent } from '@mlops/contracts';

/** Where the log sends its batches: the service's BusProducer. */
export type PredictionSink = Pick<BusProducer, 'send'> & {
  /** The sink turns typed feature rows into arrays itself (the worker sink does). */
  readonly acceptsTypedFeatures?: boolean;
};

export interface PredictionLogOptions {
  /** A batch goes out at least this often while there is anything to send. */
  flushIntervalMs: number;
  /** Events per send; this many buffered also starts a flush before the interval ends. */
  batchSize: number;
  /** Events held at most, those being sent included; beyond, new events are dropped. */
  maxBuffered: number;
  /** How long `close` tries to send what is left. */
  closeTimeoutMs: number;
  /** The longest wait between retries of a failed batch. */
  maxRetryDelayMs: number;
}

export const DEFAULT_PREDICTION_LOG_OPTIONS: PredictionLogOptions = {
  flushIntervalMs: 200,
  batchSize: 500,
  maxBuffered: 50_000,
  closeTimeoutMs: 10_000,
  maxRetryDelayMs: 5_000,
};

/**
 * Whether a request's predictions are logged at `rate`: the first 32 bits of the SHA-256 of
 * its id (UTF-8), as a fraction of 2^32, below the rate. The same id always gets the same
 * answer, so every row of a request — and a retry of it — is logged or none is, and anyone can
 * recompute which requests were kept.
 */
export function sampled(requestId: string, rate: number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return createHash('sha256').update(requestId, 'utf8').digest().readUInt32BE(0) < rate * 2 ** 32;
}

export interface FeatureSummary {
  count: number;
  mean: number;
  min: number;
  max: number;
  /** Hex SHA-256 of the values as float64 little-endian bytes, in order. */
  sha256: string;
}

/**
 * What `predictionLog.features: summary` logs instead of the input vector. An empty vector has
 * mean, min and max 0 (the event schema wants numbers); a non-finite value makes the stats
 * non-finite, which the schema refuses just as it refuses the vector itself.
 */
export function featureSummary(values: ArrayLike<number>): FeatureSummary {
  const count = values.length;
  const bytes = new DataView(new ArrayBuffer(count * 8));
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    bytes.setFloat64(i * 8, v, true);
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    count,
    mean: count === 0 ? 0 : sum / count,
    min: count === 0 ? 0 : min,
    max: count === 0 ? 0 : max,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/**
 * A prediction as the server holds it until it is written: the features may still be the
 * request's typed row (a copy costs a memcpy; a JSON-ready array of 512 numbers per row costs
 * the main thread milliseconds per max batch). They become an array in the log's worker.
 */
export type LoggedPrediction = Omit<PredictionEvent, 'features'> & {
  features?: number[] | Float32Array | Float64Array;
};

/** The predictions.v1 payload of a logged prediction. */
export function toWire(e: LoggedPrediction): PredictionEvent {
  return e.features === undefined || Array.isArray(e.features)
    ? (e as PredictionEvent)
    : { ...e, features: Array.from(e.features) };
}

/**
 * The event id of one logged prediction: the same prediction logged twice (a retried batch
 * whose first send did reach Kafka) has the same id, and the drift monitor counts it once.
 *
 * An error prediction (`error` set) is unique under the same key: within one request a
 * version either fails or answers (a request re-routed off a retired version logs nothing for
 * it), and the shadow has a mode of its own. It still gets an `:error` suffix, because the
 * request id may be the caller's (OIP `id`): a client that retries a 503 with the same id would
 * otherwise log a success with the failure's id, and deduplication would drop one of them.
 */
export function predictionId(e: LoggedPrediction): string {
  const id = `pred:${e.requestId}:${e.row}:${e.model}:${e.version}:${e.mode}`;
  return e.error ? `${id}:error` : id;
}

/**
 * The outgoing event of a prediction. Typed features are left as they are for the worker sink
 * (structured clone keeps them, the worker converts); any other sink gets the wire form.
 */
export function predictionOutgoing(
  e: LoggedPrediction,
  keepTyped = false,
): OutgoingEvent<typeof EVENTS.prediction> {
  return {
    event: EVENTS.prediction,
    key: e.model,
    data: keepTyped ? (e as PredictionEvent) : toWire(e),
    attrs: { id: predictionId(e), subject: e.model, time: e.at },
  };
}

/**
 * Logs predictions to predictions.v1 off the response path. `log` only appends to a bounded
 * buffer, and drops (and counts) what does not fit rather than slow a request down or grow
 * without end while Kafka is away. A timer, or a full batch, starts a flush; one flush runs at
 * a time and a batch that fails goes back to the head of the buffer and is retried with
 * backoff, so events leave in the order they were logged. Close it before the bus.
 */
export class PredictionLog {
  private readonly options: PredictionLogOptions;
  private buffer: LoggedPrediction[] = [];
  /** Events of the batch being sent; they count against `maxBuffered` until acknowledged. */
  private inFlight = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kicked = false;
  private failures = 0;
  private closed = false;
  private readonly logged: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly flushFailures: Counter;

  constructor(
    private readonly sink: PredictionSink,
    private readonly logger: Logger,
    registry: Registry,
    options: Partial<PredictionLogOptions> = {},
  ) {
    this.options = { ...DEFAULT_PREDICTION_LOG_OPTIONS, ...options };
    for (const name of ['flushIntervalMs', 'batchSize', 'maxBuffered'] as const) {
      const v = this.options[name];
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    const registers = [registry];
    this.logged = new Counter({
      name: 'inference_predictions_logged_total',
      help: 'Predictions written to predictions.v1 (acknowledged by Kafka).',
      registers,
    });
    this.dropped = new Counter({
      name: 'inference_predictions_dropped_total',
      help: 'Predictions not logged: buffer full, refused by the event schema, or logged after close.',
      labelNames: ['reason'],
      registers,
    });
    this.flushFailures = new Counter({
      name: 'inference_prediction_log_flush_failures_total',
      help: 'Batches of predictions that failed to send and were kept for a retry.',
      registers,
    });
    const buffered = () => this.buffered;
    new Gauge({
      name: 'inference_predictions_buffered',
      help: 'Predictions waiting to be written to predictions.v1, those being sent included.',
      registers,
      collect() {
        this.set(buffered());
      },
    });
    this.arm(this.options.flushIntervalMs);
  }

  /** Events held: buffered and being sent. */
  get buffered(): number {
    return this.buffer.length + this.inFlight;
  }

  /**
   * Takes one request's predictions (sampling is the caller's: see {@link sampled}). They are
   * kept all or none: when they do not all fit, all are dropped and counted. Never blocks,
   * never throws; the events belong to the log from here on.
   */
  log(events: readonly LoggedPrediction[]): void {
    if (events.length === 0) return;
    if (this.closed) {
      this.dropped.inc({ reason: 'closed' }, events.length);
      return;
    }
    if (this.buffered + events.length > this.options.maxBuffered) {
      this.dropped.inc({ reason: 'buffer_full' }, events.length);
      return;
    }
    for (const e of events) this.buffer.push(e);
    if (this.buffer.length >= this.options.batchSize && this.failures === 0 && !this.kicked) {
      // Not now: encoding and validating a batch is work the response must not wait for.
      this.kicked = true;
      setImmediate(() => {
        this.kicked = false;
        void this.flush();
      });
    }
  }

  /** Sends everything buffered, in batches; stops at the first failure. One at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (!this.closed)
        this.arm(this.failures > 0 ? this.retryDelay() : this.options.flushIntervalMs);
    });
    return this.flushing;
  }

  /** Stops the timer, sends what is left (retrying until `timeoutMs`) and counts what is not. */
  async close(timeoutMs = this.options.closeTimeoutMs): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.buffered > 0 && Date.now() < deadline) {
      await this.before(deadline, this.flush());
      if (this.buffer.length > 0 && this.failures > 0)
        await this.before(deadline, new Promise((r) => setTimeout(r, this.retryDelay())));
    }
    if (this.buffered > 0) {
      this.logger.error(
        { unsent: this.buffered, timeoutMs },
        'prediction log closed with predictions unsent',
      );
    }
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      this.inFlight = batch.length;
      try {
        const typed = this.sink.acceptsTypedFeatures === true;
        await this.sink.send(batch.map((e) => predictionOutgoing(e, typed)));
        this.logged.inc(batch.length);
        this.failures = 0;
      } catch (err) {
        const kept = err instanceof OutputSchemaError ? this.withoutInvalid(batch) : batch;
        this.buffer = kept.concat(this.buffer);
        if (kept.length < batch.length) continue;
        this.failures++;
        this.flushFailures.inc();
        this.logger.warn(
          { err, events: batch.length, buffered: this.buffered, failures: this.failures },
          'prediction log flush failed; retrying',
        );
        return;
      } finally {
        this.inFlight = 0;
      }
    }
  }

  /** A batch the schema refused: drop (and report) the events at fault, keep the others. */
  private withoutInvalid(batch: LoggedPrediction[]): LoggedPrediction[] {
    const valid: LoggedPrediction[] = [];
    for (const e of batch) {
      const result = PredictionEvent.safeParse(toWire(e));
      if (result.success) {
        valid.push(e);
        continue;
      }
      this.dropped.inc({ reason: 'invalid' });
      this.logger.error(
        {
          eventId: predictionId(e),
          issues: result.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`),
        },
        'prediction refused by the predictions.v1 schema; dropped',
      );
    }
    return valid;
  }

  private retryDelay(): number {
    const exp = this.options.flushIntervalMs * 2 ** Math.min(this.failures, 16);
    return Math.min(exp, this.options.maxRetryDelayMs);
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delayMs);
    // Buffered predictions are not a reason to keep a process alive; close() sends them.
    this.timer.unref();
  }

  private async before(deadline: number, work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>(
      (r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))),
    );
    await Promise.race([work, timeout]);
    clearTimeout(timer);
  }
}
