import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { PredictionEvent, ServingSection } from '@mlops/contracts';
import type { LoggedPrediction } from './predictions/prediction-log';
import { LOGGER } from '@mlops/observability';
import { PREDICTION_CACHE } from './cache/cache.tokens';
import type { PredictionCache } from './cache/prediction-cache';
import { httpFailure } from './api/errors';
import { InferenceMetrics } from './metrics';
import {
  ModelNotServedError,
  ServedModels,
  type LoadedVersion,
  type Route,
} from './models/served-models';
import { featureSummary, PredictionLog, sampled } from './predictions/prediction-log';
import { canonicalInputKey } from './protocol/oip';
import { BatcherClosedError } from './runtime/batcher';
import type { TensorData } from './runtime/tensor';

export type PredictMode = 'online' | 'stream';

export interface PredictRequest {
  model: string;
  /** The routed version, from {@link Predictor.route}. */
  route: Route;
  inputs: Record<string, TensorData>;
  /** Output names asked for; all when absent. */
  outputs?: string[];
  requestId: string;
  /** Entity id of each row, when known (logged with the predictions). */
  entityIds?: readonly (string | null)[];
  mode: PredictMode;
  /** Stream scoring: the features.v1 event id. */
  sourceEventId?: string;
  /** Pinned by version in the request: a replaced version is an error, not a re-route. */
  pinned?: boolean;
  routingKey?: string;
}

export interface PredictResult {
  version: LoadedVersion;
  alias: string | null;
  outputs: Record<string, TensorData>;
  cached: boolean;
  queueMs: number;
  computeMs: number;
  totalMs: number;
}

/**
 * The path every prediction takes, whatever the protocol: the cache (per version and canonical
 * input), the version's batcher, the shadow scored beside it, the metrics, and the prediction
 * log — which is handed the events and returns at once (it writes in the background).
 */
@Injectable()
export class Predictor {
  constructor(
    private readonly served: ServedModels,
    private readonly metrics: InferenceMetrics,
    private readonly log: PredictionLog,
    @Inject(PREDICTION_CACHE) private readonly cache: PredictionCache,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Where a request goes: a pinned version, or the model's aliases and canary split. */
  route(model: string, version: number | undefined, routingKey: string): Route {
    if (version !== undefined) {
      const target = this.served.version(model, version);
      return { target, alias: null, shadow: null };
    }
    return this.served.route(model, routingKey);
  }

  async predict(req: PredictRequest): Promise<PredictResult> {
    const started = performance.now();
    let route = req.route;
    let result: Omit<PredictResult, 'totalMs'> | undefined;
    // A version replaced between routing and queueing has closed its batcher: route again (its
    // successor is loaded already), unless the caller pinned that version.
    for (let attempt = 0; ; attempt++) {
      try {
        result = await this.score(route, req);
        break;
      } catch (err) {
        if (!(err instanceof BatcherClosedError) || req.pinned || attempt >= 3) {
          // Charged to the version that failed last (a re-routed attempt is not logged).
          if (req.mode === 'online')
            this.logFailure(route.target, route.alias, 'online', req, started, err);
          throw err;
        }
        // A model no longer served at all throws ModelNotServedError here: a 404, not logged.
        route = this.route(req.model, undefined, req.routingKey ?? req.requestId);
      }
    }
    const totalMs = performance.now() - started;
    const v = route.target;
    const labels = { model: v.model, version: String(v.version) };
    this.metrics.requestSeconds.observe({ ...labels, alias: route.alias ?? '' }, totalMs / 1000);
    if (!result.cached) this.metrics.queueSeconds.observe(labels, result.queueMs / 1000);
    this.metrics.requests.inc({
      ...labels,
      alias: route.alias ?? '',
      mode: req.mode,
      status: 'ok',
    });
    this.metrics.rows.inc({ ...labels, mode: req.mode }, rowsOf(req.inputs));
    if (route.shadow) this.shadow(route.shadow, req);
    // Stream-scored predictions are published by the stream scorer, in its transaction.
    if (
      req.mode === 'online' &&
      sampled(req.requestId, this.served.servingOf(v).predictionLog.sampleRate)
    )
      this.log.log(
        predictionEvents(
          v,
          route.alias,
          'online',
          req,
          result.outputs,
          totalMs,
          result.cached,
          this.served.servingOf(v).predictionLog.features,
        ),
      );
    return { ...result, totalMs };
  }

  /** Counts a failed request (the caller maps the error to its protocol). */
  failed(model: string, route: Route | null, mode: PredictMode, status: string): void {
    this.metrics.requests.inc({
      model,
      version: route ? String(route.target.version) : '',
      alias: route?.alias ?? '',
      mode,
      status,
    });
  }

  /**
   * Logs a request that `v` failed to score as error predictions (one per row, sampled like
   * successes), for the drift monitor's error rate of the version. Only the server's failures
   * count: what {@link httpFailure} answers with a 5xx — the ONNX run failed
   * (InferenceFailedError, 500), the worker died (WorkerExitedError), a timeout, the version was
   * released (ModelNotLoadedError, PoolClosedError) or retired and re-routing gave up
   * (BatcherClosedError), anything unexpected (500). A 4xx is not the version's fault: the
   * client's input did not fit the signature (InvalidInputError, OipError: 400), the model is
   * not served (404), or the queue shed load before the model saw the request (QueueFullError:
   * 429, counted in inference_requests_total by status). A cache failure never gets here: the
   * cache answers a miss instead of throwing, and its writes are not awaited.
   */
  private logFailure(
    v: LoadedVersion,
    alias: string | null,
    mode: 'online' | 'shadow',
    req: PredictRequest,
    started: number,
    err: unknown,
  ): void {
    if (httpFailure(err).status < 500) return;
    const log = this.served.servingOf(v).predictionLog;
    if (!sampled(req.requestId, log.sampleRate)) return;
    this.log.log(
      errorPredictionEvents(
        v,
        alias,
        mode,
        req,
        performance.now() - started,
        predictionError(err),
        log.features,
      ),
    );
  }

  private async score(route: Route, req: PredictRequest): Promise<Omit<PredictResult, 'totalMs'>> {
    const v = route.target;
    const serving = this.served.servingOf(v);
    const useCache = serving.cache.enabled && req.mode === 'online';
    const key = useCache ? `${v.key}:${canonicalInputKey(req.inputs, req.outputs)}` : '';
    if (useCache) {
      const hit = await this.cache.get(key);
      if (hit)
        return {
          version: v,
          alias: route.alias,
          outputs: hit,
          cached: true,
          queueMs: 0,
          computeMs: 0,
        };
    }
    const r = await v.batcher.submit(req.inputs, req.outputs);
    if (useCache)
      void this.cache
        .set(key, r.outputs, serving.cache.ttlSeconds * 1000)
        .catch((err: unknown) => this.logger.debug({ err }, 'cache write failed'));
    return {
      version: v,
      alias: route.alias,
      outputs: r.outputs,
      cached: false,
      queueMs: r.queueMs,
      computeMs: r.computeMs,
    };
  }

  /** Scores the canary beside production; its outputs only reach predictions.v1. */
  private shadow(v: LoadedVersion, req: PredictRequest): void {
    const started = performance.now();
    v.batcher.submit(req.inputs, req.outputs).then(
      (r) => {
        const ms = performance.now() - started;
        const labels = { model: v.model, version: String(v.version) };
        this.metrics.requests.inc({ ...labels, alias: 'canary', mode: 'shadow', status: 'ok' });
        this.metrics.rows.inc({ ...labels, mode: 'shadow' }, rowsOf(req.inputs));
        if (sampled(req.requestId, this.served.servingOf(v).predictionLog.sampleRate))
          this.log.log(
            predictionEvents(
              v,
              'canary',
              'shadow',
              req,
              r.outputs,
              ms,
              false,
              this.served.servingOf(v).predictionLog.features,
            ),
          );
      },
      (err: unknown) => {
        this.logFailure(v, 'canary', 'shadow', req, started, err);
        this.metrics.requests.inc({
          model: v.model,
          version: String(v.version),
          alias: 'canary',
          mode: 'shadow',
          status: 'error',
        });
        this.logger.debug({ err, model: v.model, version: v.version }, 'shadow scoring failed');
      },
    );
  }
}

export function rowsOf(inputs: Record<string, TensorData>): number {
  const first = Object.values(inputs)[0];
  return first && first.shape.length > 0 ? first.shape[0] : 1;
}

/** The model's feature matrix: its one numeric 2-D input, if it has exactly one. */
function featureInput(inputs: Record<string, TensorData>): TensorData | undefined {
  const numeric = Object.values(inputs).filter(
    (t) => (t.datatype === 'FP32' || t.datatype === 'FP64') && t.shape.length === 2,
  );
  return numeric.length === 1 ? numeric[0] : undefined;
}

/** One row of a tensor as JSON values (BOOL as booleans, INT64 as numbers). */
export function rowValues(t: TensorData, row: number): (number | string | boolean)[] {
  const width = t.shape.length === 0 ? 1 : t.shape.slice(1).reduce((n, d) => n * d, 1);
  const rows = t.shape.length === 0 ? 1 : t.shape[0];
  if (row >= rows) return [];
  const from = t.shape.length === 0 ? 0 : row * width;
  const out: (number | string | boolean)[] = [];
  for (let i = from; i < from + width; i++) {
    const x = t.data[i];
    out.push(t.datatype === 'BOOL' ? x === 1 : typeof x === 'bigint' ? Number(x) : x);
  }
  return out;
}

/** Score and label of one row, from the outputs the platform's models have. */
export function interpret(
  v: Pick<LoadedVersion, 'classes'>,
  outputs: Record<string, TensorData>,
  row: number,
): { score: number | null; label: string | number | null } {
  const name = (i: number) => v.classes?.[i] ?? i;
  const p = outputs.probability;
  if (p) {
    const score = Number(rowValues(p, row)[0]);
    return { score, label: name(score >= 0.5 ? 1 : 0) };
  }
  const probs = outputs.probabilities;
  if (probs) {
    const values = rowValues(probs, row).map(Number);
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return { score: values.length === 2 ? values[1] : values[best], label: name(best) };
  }
  const prediction = outputs.prediction;
  if (prediction) return { score: Number(rowValues(prediction, row)[0]), label: null };
  return { score: null, label: null };
}

export function predictionEvents(
  v: LoadedVersion,
  alias: string | null,
  mode: PredictionEvent['mode'],
  req: Pick<PredictRequest, 'inputs' | 'requestId' | 'entityIds' | 'sourceEventId'>,
  outputs: Record<string, TensorData>,
  latencyMs: number,
  cached: boolean,
  /** How the features are kept: the spec's current `predictionLog.features`. */
  keep: ServingSection['predictionLog']['features'] = v.serving.predictionLog.features,
): LoggedPrediction[] {
  // A model without a batch dimension answers one prediction per request.
  const rows = v.signature.batchable ? rowsOf(req.inputs) : 1;
  const features = v.signature.batchable ? featureInput(req.inputs) : undefined;
  const at = new Date().toISOString();
  const events: LoggedPrediction[] = [];
  const width = features ? features.shape[1] : 0;
  for (let row = 0; row < rows; row++) {
    // The row's typed copy: the log's worker thread makes the JSON array.
    const values = features
      ? (features.data as Float32Array | Float64Array).slice(row * width, (row + 1) * width)
      : undefined;
    events.push({
      model: v.model,
      version: v.version,
      alias,
      dataset: v.dataset,
      featuresetVersion: v.featuresetVersion,
      mode,
      requestId: req.requestId,
      row,
      entityId: req.entityIds?.[row] ?? null,
      ...(values && keep === 'full' ? { features: values } : {}),
      ...(values && keep === 'summary' ? { featureSummary: featureSummary(values) } : {}),
      outputs: Object.fromEntries(
        Object.entries(outputs).map(([name, t]) => [name, rowValues(t, row)]),
      ),
      ...interpret(v, outputs, row),
      latencyMs,
      cached,
      sourceEventId: req.sourceEventId ?? null,
      at,
    });
  }
  return events;
}

/** The `error` of a failed prediction: the runtime's stable code (else `internal`) and message. */
export function predictionError(err: unknown): NonNullable<PredictionEvent['error']> {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: typeof code === 'string' && code !== '' ? code.slice(0, 128) : 'internal',
    message: message.slice(0, 2000),
  };
}

/**
 * The predictions of a request `v` failed to score: one per row like {@link predictionEvents},
 * with no outputs, null score and label, not cached, the time until the failure as latency, and
 * the error. Their event id differs from a success's (see `predictionId`).
 */
export function errorPredictionEvents(
  v: LoadedVersion,
  alias: string | null,
  mode: PredictionEvent['mode'],
  req: Pick<PredictRequest, 'inputs' | 'requestId' | 'entityIds' | 'sourceEventId'>,
  latencyMs: number,
  error: NonNullable<PredictionEvent['error']>,
  keep: ServingSection['predictionLog']['features'] = v.serving.predictionLog.features,
): LoggedPrediction[] {
  return predictionEvents(v, alias, mode, req, {}, latencyMs, false, keep).map((e) => ({
    ...e,
    error,
  }));
}

export { ModelNotServedError };
