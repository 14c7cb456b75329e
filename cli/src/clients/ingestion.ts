import { ServiceClient, seg, type ClientOptions } from '../http';

export interface RowReason {
  code: string;
  field?: string;
  message: string;
}

export interface RowOutcome {
  index: number;
  id: string;
  status: 'accepted' | 'rejected';
  reasons?: RowReason[];
}

/** The 202 of `POST /v1/datasets/:dataset/events` and `/feedback`. */
export interface IngestResponse {
  dataset: string;
  specVersion: number;
  accepted: number;
  rejected: number;
  results: RowOutcome[];
}

export type IngestEndpoint = 'events' | 'feedback';

/** The ingestion service (port 3001): records and late labels, as NDJSON batches. */
export class IngestionClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('ingestion', baseUrl, options);
  }

  /** One NDJSON batch; error statuses throw ServiceError (429 with retryAfterMs). */
  async post(endpoint: IngestEndpoint, dataset: string, ndjson: string): Promise<IngestResponse> {
    return (
      await this.request<IngestResponse>('POST', `/v1/datasets/${seg(dataset)}/${endpoint}`, {
        body: { text: ndjson, contentType: 'application/x-ndjson' },
        timeoutMs: 120_000,
      })
    ).data;
  }
}
