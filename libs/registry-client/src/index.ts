import { createHash } from 'node:crypto';
import type { ArtifactRef } from '@mlops/contracts';

export interface RegistryClientOptions {
  /** The registry's base URL, e.g. http://127.0.0.1:3006. */
  url: string;
  /** Sent as `X-Api-Key` when the registry runs with AUTH_MODE=api-key. */
  apiKey?: string;
  /** Per request; artifacts can be large. */
  timeoutMs?: number;
}

/** A model version, as `GET /v1/models/:name/versions/:version` returns it. */
export interface RegisteredVersion {
  model: string;
  version: number;
  status: string;
  description: string;
  aliases: string[];
  artifact: ArtifactRef;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  parentVersion: number | null;
  variant: string | null;
  lineage: {
    dataset: string | null;
    datasetSpecVersion: number | null;
    featuresetVersion: string | null;
    trainedOn: unknown[];
    sourceJob: string | null;
  };
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/**
 * The model registry's artifact store as the pipeline services use it: upload bytes (the hash
 * is declared, and the registry checks it while writing) and download them again, checking the
 * sha256 before anyone uses them. Content-addressed, so an upload repeated after a crash is
 * harmless.
 */
export class RegistryClient {
  private readonly base: string;

  constructor(private readonly options: RegistryClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  async upload(bytes: Buffer, format: ArtifactRef['format']): Promise<ArtifactRef> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const res = await this.request('/v1/artifacts', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-artifact-sha256': sha256 },
      body: bytes,
    });
    const body = (await res.json()) as { uri: string; sha256: string; size: number };
    if (body.sha256 !== sha256 || body.size !== bytes.length) {
      throw new RegistryError(
        `the registry stored ${body.sha256}/${body.size}, not ${sha256}`,
        res.status,
      );
    }
    return { uri: body.uri, sha256, size: bytes.length, format };
  }

  /** The artifact's bytes, after checking their size and sha256 against the reference. */
  async download(ref: Pick<ArtifactRef, 'uri' | 'sha256' | 'size'>): Promise<Buffer> {
    const res = await this.request(
      ref.uri.startsWith('/') ? ref.uri : `/v1/artifacts/${ref.sha256}`,
      {
        method: 'GET',
      },
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== ref.size || sha256 !== ref.sha256) {
      throw new RegistryError(
        `artifact ${ref.uri}: got ${bytes.length} bytes with sha256 ${sha256}, expected ${ref.size} / ${ref.sha256}`,
        null,
      );
    }
    return bytes;
  }

  /** One model version as the registry presents it. */
  async getVersion(model: string, version: number): Promise<RegisteredVersion> {
    const res = await this.request(`/v1/models/${encodeURIComponent(model)}/versions/${version}`, {
      method: 'GET',
    });
    return (await res.json()) as RegisteredVersion;
  }

  /**
   * The version a job registered (its `lineage.sourceJob`), waiting up to `timeoutMs` for the
   * registry to consume the job's event; null when it does not appear.
   */
  async versionOfJob(
    model: string,
    jobId: string,
    timeoutMs = 30_000,
  ): Promise<RegisteredVersion | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await this.request(
          `/v1/models/${encodeURIComponent(model)}/versions?maxResults=100`,
          { method: 'GET' },
        );
        const page = (await res.json()) as { versions: RegisteredVersion[] };
        const found = page.versions.find((v) => v.lineage.sourceJob === jobId);
        if (found) return found;
      } catch (err) {
        // The model itself appears with its first version.
        if (!(err instanceof RegistryError && err.status === 404)) throw err;
      }
      if (Date.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.options.apiKey) headers.set('x-api-key', this.options.apiKey);
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        ...init,
        headers,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (err) {
      throw new RegistryError(
        `registry unreachable at ${this.base}: ${(err as Error).message}`,
        null,
      );
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new RegistryError(
        `${init.method} ${path}: ${res.status} ${text.slice(0, 500)}`,
        res.status,
      );
    }
    return res;
  }
}
