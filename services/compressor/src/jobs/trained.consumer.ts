import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, PermanentError, type BusEvent } from '@mlops/bus';
import { EVENTS, resolveCompressionSpec, type ModelTrainedEvent } from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { RegistryClient } from '@mlops/registry-client';
import { COMPRESSOR_CONFIG, type CompressorConfig } from '../config';
import { CompressionRunner, compressionJobId } from './compression-runner';

/**
 * Every trained model is compressed as its dataset spec asks: the event names the job, the
 * registry gives the version it became, and the handler waits for the job (heartbeating) so
 * that the offset is committed only after the variants are announced — at least once, with the
 * variants' ce_ids making a re-run harmless.
 */
@Injectable()
export class TrainedConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(COMPRESSOR_CONFIG) private readonly config: CompressorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly registry: RegistryClient,
    private readonly runner: CompressionRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus
      .subscribe({
        name: 'models-trained',
        groupId: 'compressor.trained',
        event: EVENTS.modelTrained,
        delivery: 'at-least-once',
        deadLetter: 'dlq',
        maxBatchSize: 1,
        handler: async (events, ctx) => {
          for (const e of events) await this.handle(e, () => ctx.heartbeat());
        },
      })
      .start();
  }

  private async handle(e: BusEvent<ModelTrainedEvent>, heartbeat: () => Promise<void>) {
    const trained = e.data;
    const spec = await this.specs.resolve(trained.dataset);
    if (!spec) throw new PermanentError('spec_missing', `no dataset spec for ${trained.dataset}`);
    let enabled: boolean;
    try {
      enabled = resolveCompressionSpec(spec).enabled;
    } catch (err) {
      throw new PermanentError('spec_invalid', (err as Error).message);
    }
    if (!enabled) {
      this.logger.info(
        { model: trained.model, job: trained.jobId },
        'compression disabled by the spec',
      );
      return;
    }
    const parent = await this.registry.versionOfJob(
      trained.model,
      trained.jobId,
      this.config.COMPRESSOR_PARENT_WAIT_SECONDS * 1000,
    );
    if (!parent)
      throw new PermanentError(
        'parent_not_registered',
        `the registry has no version of ${trained.model} from job ${trained.jobId}`,
      );
    const { done } = this.runner.submit(
      {
        jobId: compressionJobId(parent.model, parent.version),
        parent,
        spec,
        registry: { url: this.config.REGISTRY_URL, apiKey: this.config.REGISTRY_API_KEY },
      },
      'event',
    );
    const beat = setInterval(() => void heartbeat().catch(() => {}), 3_000);
    try {
      const job = await done;
      // Stopped by a shutdown: leave the offset uncommitted so the next process runs it.
      if (job.error?.code === 'shutdown') throw new Error('compression interrupted by shutdown');
    } finally {
      clearInterval(beat);
    }
  }
}
