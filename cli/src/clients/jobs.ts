import type { TrainingJobEvent } from '@mlops/contracts';
import { ServiceClient, type ClientOptions } from '../http';

export type TrainingJob = TrainingJobEvent;

/** `GET /v1/compressions` item (services/compressor/src/jobs/compression-runner.ts). */
export interface CompressionJob {
  jobId: string;
  model: string;
  parentVersion: number;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
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

/** The trainer (port 3004). */
export class TrainerClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('trainer', baseUrl, options);
  }

  async jobs(query: { limit?: number; dataset?: string; state?: string }): Promise<TrainingJob[]> {
    return (await this.get<{ jobs: TrainingJob[] }>('/v1/jobs', query)).jobs;
  }
}

/** The compressor (port 3005). */
export class CompressorClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('compressor', baseUrl, options);
  }

  async jobs(query: { limit?: number; model?: string }): Promise<CompressionJob[]> {
    return (await this.get<{ jobs: CompressionJob[] }>('/v1/compressions', query)).jobs;
  }
}
