import type { ColumnDrift, FeatureDriftReport, PredictionDriftReport } from '@mlops/ml';
import type { TrafficSummary } from '@mlops/contracts';
import { ServiceClient, seg, type ClientOptions } from '../http';

export type { ColumnDrift, FeatureDriftReport, PredictionDriftReport };

export type ReportKind = 'window' | 'features' | 'performance';

export type { TrafficSummary };

export interface PerformanceSummary {
  metric: string;
  labelled: number;
  live: number | null;
  training: number | null;
  dropPct: number | null;
  maxDropPct: number;
  alert: boolean;
}

export interface Skipped {
  status: 'skipped';
  reason: string;
}

/** `GET /v1/drift/models/:model/versions/:version/report`. */
export interface DriftReport {
  id: string;
  model: string;
  version: number;
  alias: string | null;
  dataset: string | null;
  kind: ReportKind;
  window: { kind: 'count' | 'time'; index: number; events: number; from: string; to: string };
  traffic: TrafficSummary | null;
  features: FeatureDriftReport | Skipped | null;
  predictions: PredictionDriftReport | Skipped | null;
  performance: PerformanceSummary | null;
  alerts: string[];
  at: string;
}

/** `GET /v1/drift/models`. */
export interface DriftOverview {
  versions: {
    model: string;
    version: number;
    alias: string | null;
    predictions: number;
    errors: number;
    labelled: number;
    windowsClosed: number;
    openWindow: number;
    lastLive: { metric: string; value: number; at: number } | null;
  }[];
  models: Record<
    string,
    {
      aliases: Record<string, number>;
      previousProduction: number | null;
      canary: {
        production: number;
        canary: number;
        since: string;
        decided: boolean;
        verdict: { action: 'promote' | 'rollback' | 'wait'; reason: string } | null;
      } | null;
    }
  >;
  pending: { predictions: number; labels: number };
  counters: Record<string, number>;
}

/** The drift monitor (port 3008). */
export class DriftClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('drift-monitor', baseUrl, options);
  }

  overview(): Promise<DriftOverview> {
    return this.get('/v1/drift/models');
  }

  report(model: string, version: number, kind?: ReportKind): Promise<DriftReport> {
    return this.get(
      `/v1/drift/models/${seg(model)}/versions/${version}/report`,
      kind ? { kind } : undefined,
    );
  }
}
