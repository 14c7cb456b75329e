import type { TrainingRequestEvent } from '@mlops/contracts';
import { ServiceClient, seg, type ClientOptions } from '../http';

export interface TrainingRequestBody {
  requestId?: string;
  reason?: string;
  range?: { kind: 'time'; from: string; to: string };
}

/** The feature service (port 3003). */
export class FeatureClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('feature', baseUrl, options);
  }

  async requestTraining(dataset: string, body: TrainingRequestBody): Promise<TrainingRequestEvent> {
    return (
      await this.request<TrainingRequestEvent>(
        'POST',
        `/v1/datasets/${seg(dataset)}/training-requests`,
        { json: body },
      )
    ).data;
  }
}
