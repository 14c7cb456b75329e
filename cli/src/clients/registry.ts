import { createHash } from 'node:crypto';
import type { DatasetSpec } from '@mlops/contracts';
import { ServiceError } from '../errors';
import { ServiceClient, seg, type ClientOptions } from '../http';

/** `GET /v1/models` item. */
export interface ModelInfo {
  name: string;
  description: string;
  tags: Record<string, string>;
  latestVersion: number;
  aliases: Record<string, number>;
  createdAt: string;
  updatedAt: string;
}

export interface ArtifactInfo {
  uri: string;
  sha256: string;
  size: number;
  format?: string;
}

/** `GET /v1/models/:name/versions/:v`. */
export interface VersionInfo {
  model: string;
  version: number;
  status: string;
  description: string;
  aliases: string[];
  artifact: ArtifactInfo | null;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  parentVersion: number | null;
  variant: string | null;
  lineage: {
    dataset: string | null;
    datasetSpecVersion: number | null;
    featuresetVersion: string | null;
    trainedOn: { topic?: string; partition: number; from: string; to: string }[];
    sourceJob: string | null;
  };
  creator?: string;
  createdAt: string;
  updatedAt: string;
}

/** What a decision or an alias change answers. */
export interface AliasChange {
  model: string;
  alias: string;
  from: number | null;
  to: number | null;
  aliases: Record<string, number>;
}

export interface Decision {
  action: 'promote' | 'rollback' | 'set_alias' | 'delete_alias';
  alias?: string;
  version?: number;
  reason: string;
}

/** `GET /v1/specs/:name`. */
export interface SpecRecord {
  name: string;
  version: number;
  createdAt: string;
  createdBy: string;
  spec: DatasetSpec;
}

/** The model registry (port 3006): models, versions, aliases, decisions, specs, artifacts. */
export class RegistryClient extends ServiceClient {
  constructor(baseUrl: string, options: ClientOptions) {
    super('registry', baseUrl, options);
  }

  /** Every model, following the pages. */
  async listModels(): Promise<ModelInfo[]> {
    const all: ModelInfo[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await this.get<{ models: ModelInfo[]; nextPageToken: string | null }>(
        '/v1/models',
        { maxResults: 1000, pageToken },
      );
      all.push(...res.models);
      if (!res.nextPageToken) break;
      pageToken = res.nextPageToken;
    }
    return all;
  }

  getModel(name: string): Promise<ModelInfo> {
    return this.get(`/v1/models/${seg(name)}`);
  }

  async listVersions(name: string, maxResults = 100): Promise<VersionInfo[]> {
    return (
      await this.get<{ versions: VersionInfo[] }>(`/v1/models/${seg(name)}/versions`, {
        maxResults,
      })
    ).versions;
  }

  getVersion(name: string, version: number): Promise<VersionInfo> {
    return this.get(`/v1/models/${seg(name)}/versions/${version}`);
  }

  async getAliases(name: string): Promise<Record<string, number>> {
    return (await this.get<{ aliases: Record<string, number> }>(`/v1/models/${seg(name)}/aliases`))
      .aliases;
  }

  async decide(name: string, decision: Decision): Promise<AliasChange> {
    return (
      await this.request<AliasChange>('POST', `/v1/models/${seg(name)}/decisions`, {
        json: decision,
      })
    ).data;
  }

  getSpec(name: string, version?: number): Promise<SpecRecord> {
    return this.get(
      version === undefined
        ? `/v1/specs/${seg(name)}`
        : `/v1/specs/${seg(name)}/versions/${version}`,
    );
  }

  /** The latest spec, or null when the registry has none by that name. */
  async findSpec(name: string): Promise<SpecRecord | null> {
    try {
      return await this.getSpec(name);
    } catch (err) {
      if (err instanceof ServiceError && err.status === 404) return null;
      throw err;
    }
  }

  async listSpecs(): Promise<SpecRecord[]> {
    return (await this.get<{ specs: SpecRecord[] }>('/v1/specs')).specs;
  }

  async createSpec(spec: Record<string, unknown>): Promise<SpecRecord> {
    return (await this.request<SpecRecord>('POST', '/v1/specs', { json: spec })).data;
  }

  /** An artifact's bytes, checked against the reference's size and sha256. */
  async download(ref: Pick<ArtifactInfo, 'uri' | 'sha256' | 'size'>): Promise<Buffer> {
    const path = ref.uri.startsWith('/') ? ref.uri : `/v1/artifacts/${ref.sha256}`;
    const res = await this.send('GET', path, { timeoutMs: 120_000 });
    if (res.status !== 200) throw this.errorOf(res.status, res.body.toString('utf8'), res.headers);
    const sha256 = createHash('sha256').update(res.body).digest('hex');
    if (res.body.length !== ref.size || sha256 !== ref.sha256)
      throw new ServiceError(
        'registry',
        res.status,
        'digest_mismatch',
        `artifact ${ref.uri}: got ${res.body.length} bytes with sha256 ${sha256}, expected ${ref.size} / ${ref.sha256}`,
      );
    return res.body;
  }
}
