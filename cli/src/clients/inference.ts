import type { PredictResponse, RecordPrediction } from '@mlops/contracts';
import { ServiceClient, seg, type ClientOptions } from '../http';

export type { PredictResponse, RecordPrediction };

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** `GET /v2/models/:model/versions/:v` (Open Inference Protocol). */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface InferOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

/** `POST /v2/models/:model/versions/:v/infer`. */
export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: InferOutput[];
}

/** The inference service (port 3007). */
export class InferenceClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('inference', baseUrl, options);
  }

  async predict(model: string, records: unknown[]): Promise<PredictResponse> {
    return (
      await this.request<PredictResponse>('POST', `/v1/predict/${seg(model)}`, {
        json: { records },
      })
    ).data;
  }

  metadata(model: string, version: number): Promise<ModelMetadata> {
    return this.get(`/v2/models/${seg(model)}/versions/${version}`);
  }

  async infer(
    model: string,
    version: number,
    body: {
      inputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
      parameters?: Record<string, unknown>;
    },
  ): Promise<{ response: InferResponse; alias: string | null }> {
    const res = await this.request<InferResponse>(
      'POST',
      `/v2/models/${seg(model)}/versions/${version}/infer`,
      { json: body },
    );
    return { response: res.data, alias: res.headers['x-model-alias'] || null };
  }
}
