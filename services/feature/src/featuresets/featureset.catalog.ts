import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, type CompactedTable } from '@mlops/bus';
import { EVENTS, type FeaturesetEvent } from '@mlops/contracts';
import { parseFeaturesetArtifact, type Featureset } from '@mlops/features';
import { HealthRegistry, LOGGER } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';

/**
 * The current featureset of every dataset: featuresets.v1 (compacted) read whole at start and
 * followed, each announced version downloaded from the registry, its sha256 checked and its
 * version recomputed from the content before it is used.
 */
@Injectable()
export class FeaturesetCatalog implements OnModuleInit {
  private table: CompactedTable<typeof EVENTS.featureset> | undefined;
  private readonly loaded = new Map<string, Featureset>();
  private readonly pending = new Map<string, Promise<Featureset | undefined>>();
  private ready = false;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly registry: RegistryClient,
    private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.addReadiness('featuresets', () => ({
      ok: this.ready,
      details: Object.fromEntries([...this.loaded].map(([d, f]) => [d, f.version])),
    }));
    this.table = this.bus.table({ name: 'featuresets', event: EVENTS.featureset });
    await this.table.start(60_000);
    this.ready = true;
  }

  /** The announcement of the dataset's current featureset, if any. */
  announced(dataset: string): FeaturesetEvent | undefined {
    return this.table?.get(dataset);
  }

  /**
   * The dataset's current featureset, loaded (once per version) from the registry; undefined
   * when none was fitted yet. Throws when the artifact cannot be fetched or does not match.
   */
  async current(dataset: string): Promise<Featureset | undefined> {
    const event = this.announced(dataset);
    if (!event) return undefined;
    const have = this.loaded.get(dataset);
    if (have?.version === event.version) return have;
    return this.load(event);
  }

  /** Makes a featureset this process just fitted current without a download. */
  remember(fs: Featureset): void {
    this.loaded.set(fs.dataset, fs);
  }

  private load(event: FeaturesetEvent): Promise<Featureset | undefined> {
    const key = `${event.dataset}@${event.version}`;
    let p = this.pending.get(key);
    if (!p) {
      p = (async () => {
        const bytes = await this.registry.download(event.artifact);
        const fs = parseFeaturesetArtifact(bytes);
        if (fs.version !== event.version) {
          throw new Error(
            `featureset artifact of ${event.dataset} is ${fs.version}, announced as ${event.version}`,
          );
        }
        this.loaded.set(event.dataset, fs);
        this.logger.info({ dataset: event.dataset, version: fs.version }, 'featureset loaded');
        return fs;
      })().finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }
}
