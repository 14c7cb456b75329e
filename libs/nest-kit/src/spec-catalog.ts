import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, type CompactedTable } from '@mlops/bus';
import { EVENTS, type DatasetSpec } from '@mlops/contracts';
import { HealthRegistry, LOGGER } from '@mlops/observability';

/**
 * Every dataset spec, read whole from the compacted `pipeline.specs.v1` at start (the service
 * is not ready before) and followed afterwards.
 */
@Injectable()
export class SpecCatalog implements OnModuleInit {
  private table: CompactedTable<typeof EVENTS.datasetSpec> | undefined;
  private ready = false;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.addReadiness('specs', () => ({
      ok: this.ready,
      details: { datasets: this.table?.size ?? 0 },
    }));
    this.table = this.bus.table({
      name: 'specs',
      event: EVENTS.datasetSpec,
      onChange: (dataset, spec) =>
        this.logger.info(
          { dataset, version: spec?.version ?? null },
          spec ? 'dataset spec loaded' : 'dataset spec deleted',
        ),
    });
    await this.table.start(60_000);
    this.ready = true;
  }

  get(dataset: string): DatasetSpec | undefined {
    return this.table?.get(dataset);
  }

  /**
   * The spec, waiting (bounded) for the table to catch up when it is not there yet: a spec
   * registered a moment ago is found, a dataset that does not exist is not.
   */
  async resolve(dataset: string, timeoutMs = 5_000): Promise<DatasetSpec | undefined> {
    const spec = this.get(dataset);
    if (spec || !this.table) return spec;
    await this.table
      .sync(timeoutMs)
      .catch((err: unknown) => this.logger.warn({ err, dataset }, 'spec table sync timed out'));
    return this.get(dataset);
  }
}
