import type { CompressionJob, TrainingJobEvent } from '@mlops/contracts';
import { ServiceClient, type ClientOptions } from '../http';

export type TrainingJob = TrainingJobEvent;

export type { CompressionJob };

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
