/**
 * Shapes of REST answers that more than one package reads: the service that serves them and
 * the `mlops` CLI (which must not import services). Kafka payloads live in events.ts.
 */

/** One scored record of `POST /v1/predict/:model` (inference). */
export interface RecordPrediction {
  entityId: string;
  /** P(class 1), the top probability, or the regression prediction. */
  score: number | null;
  label: string | number | null;
  /** Every model output for this record. */
  outputs: Record<string, (number | string | boolean)[]>;
}

/** `POST /v1/predict/:model` (inference). */
export interface PredictResponse {
  model: string;
  version: number;
  alias: string | null;
  featuresetVersion: string;
  cached: boolean;
  predictions: RecordPrediction[];
}

export type CompressionState = 'queued' | 'running' | 'succeeded' | 'failed';

/** A compression job, as `GET /v1/compressions` lists it (compressor). */
export interface CompressionJob {
  jobId: string;
  model: string;
  parentVersion: number;
  state: CompressionState;
  trigger: 'event' | 'rest';
  submittedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  parentMetric: { name: string; value: number } | null;
  variants: {
    variant: string;
    passed: boolean;
    recommended: boolean;
    reasons: string[];
    metrics: Record<string, number>;
  }[];
  errors: { variant: string; message: string }[];
}

/** A watched version's serving traffic in a drift report (drift-monitor). */
export interface TrafficSummary {
  predictions: number;
  errors: number;
  errorRate: number;
  p95LatencyMs: number | null;
  withFeatures: number;
}
