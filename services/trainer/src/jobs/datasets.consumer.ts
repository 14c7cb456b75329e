import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, PermanentError, type BusEvent } from '@mlops/bus';
import {
  EVENTS,
  MODEL_NAME,
  resolveTrainingSpec,
  TrainingSpecError,
  type DatasetSpec,
  type TrainingDatasetEvent,
} from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { JobQueue } from './job-queue';
import { jobIdFor } from './job-state';

/**
 * `training.datasets.v1` → a training job, once per request id: the job id is derived from it,
 * so a redelivered event (at-least-once) finds its job and makes no second one. A dataset
 * without a spec is dead-lettered (`spec_missing`); a spec whose model/training sections do not
 * resolve makes a job that is failed at once (`spec_invalid`), where its owner sees why.
 */
@Injectable()
export class DatasetsConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly queue: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sub = this.bus.subscribe({
      name: 'training-datasets',
      groupId: 'trainer.datasets',
      event: EVENTS.trainingDataset,
      delivery: 'at-least-once',
      deadLetter: 'dlq',
      maxBatchSize: 50,
      handler: async (events) => {
        for (const e of events) await this.handle(e);
      },
    });
    await sub.start();
  }

  async handle(e: BusEvent<TrainingDatasetEvent>): Promise<void> {
    const dataset = e.data;
    const jobId = jobIdFor(dataset.requestId);
    const known = this.queue.get(jobId);
    if (known) {
      this.logger.info(
        { jobId, requestId: dataset.requestId, state: known.state },
        'training dataset already has its job',
      );
      return;
    }
    const spec = await this.specs.resolve(dataset.dataset);
    if (!spec) {
      throw new PermanentError('spec_missing', `no dataset spec named "${dataset.dataset}"`);
    }
    let model: string;
    try {
      model = resolveTrainingSpec(spec).modelName;
    } catch (err) {
      if (!(err instanceof TrainingSpecError)) throw err;
      await this.queue.reject(jobId, dataset, declaredModelName(spec), {
        code: 'spec_invalid',
        message: err.message,
      });
      return;
    }
    await this.queue.enqueue(jobId, dataset, model);
  }
}

/** The model name a spec asks for when it is valid, else the dataset's name. */
function declaredModelName(spec: DatasetSpec): string {
  const name = (spec.model as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && MODEL_NAME.test(name) ? name : spec.name;
}
