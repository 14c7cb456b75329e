import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Bus, BusEnv, busConfigFromEnv } from '@mlops/bus';
import { ConfigError, loadConfig, logLevel } from '@mlops/config';
import { DatasetSpec, EVENTS, TrainingDatasetEvent, type TrainingJobEvent } from '@mlops/contracts';
import { createLogger, createRegistry } from '@mlops/observability';
import { trainedEventId } from './jobs/job-state';
import { TrainJobError } from './jobs/job.types';
import { runTrainingJob } from './jobs/run-job';

/**
 * One training trial as a process, for a Kubernetes Job (one pod per trial of a search, on GPU
 * nodes when the image has tfjs-node-gpu): trains on one training.datasets.v1 event with the
 * spec version it was built for (read from the registry) and optional overrides of the spec's
 * `model` and `training` sections, then announces the model on models.trained.v1 and the
 * trial's end on training.jobs.v1 — exactly as the service's jobs do, so the registry and the
 * compressor take it the same way. Only the end is published: a trial is not in the service's
 * queue, and its pod's restart policy (the Job's backoffLimit) is its retry.
 *
 * Exit codes: 0 trained, 1 failed (the reason on stderr and on training.jobs.v1), 78 bad
 * configuration.
 */

export const TrialEnv = BusEnv.and(
  z.object({
    LOG_LEVEL: logLevel,
    REGISTRY_URL: z.string().url().default('http://127.0.0.1:3006'),
    REGISTRY_API_KEY: z.string().min(1).optional(),
    /** The training.datasets.v1 payload (JSON), or TRIAL_DATASET_FILE: a file holding it. */
    TRIAL_DATASET: z.string().min(2).optional(),
    TRIAL_DATASET_FILE: z.string().min(1).optional(),
    /** `{"model": {…}, "training": {…}}`: merged over the spec's sections (top-level keys). */
    TRIAL_OVERRIDES: z.string().default('{}'),
    /** Names the trial (the job id is derived from it); default: the input and overrides. */
    TRIAL_ID: z.string().min(1).max(200).optional(),
    TRAINER_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).optional(),
  }),
);

const Overrides = z.strictObject({
  model: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
});

/** The spec a trial trains with: the stored spec with the overrides' keys replacing its own. */
export function withOverrides(
  spec: DatasetSpec,
  overrides: z.infer<typeof Overrides>,
): DatasetSpec {
  return {
    ...spec,
    model: { ...(spec.model ?? {}), ...(overrides.model ?? {}) },
    training: { ...(spec.training ?? {}), ...(overrides.training ?? {}) },
  };
}

/** `trial-` + 16 hex of the trial's name, or of its input and overrides. */
export function trialJobId(name: string | undefined, requestId: string, overrides: string): string {
  const basis = name ?? `${requestId}\n${overrides}`;
  return `trial-${createHash('sha256').update(basis, 'utf8').digest('hex').slice(0, 16)}`;
}

async function main(): Promise<number> {
  let config: z.output<typeof TrialEnv>;
  try {
    config = loadConfig('trainer-trial', TrialEnv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const logger = createLogger('trainer-trial', config.LOG_LEVEL);
  const raw =
    config.TRIAL_DATASET ??
    (config.TRIAL_DATASET_FILE ? readFileSync(config.TRIAL_DATASET_FILE, 'utf8') : undefined);
  if (!raw) {
    process.stderr.write('trainer-trial: set TRIAL_DATASET or TRIAL_DATASET_FILE\n');
    return 78;
  }
  const input = TrainingDatasetEvent.safeParse(JSON.parse(raw));
  const overrides = Overrides.safeParse(JSON.parse(config.TRIAL_OVERRIDES));
  if (!input.success || !overrides.success) {
    process.stderr.write(
      `trainer-trial: ${!input.success ? `TRIAL_DATASET: ${input.error.message}` : ''}${!overrides.success ? `TRIAL_OVERRIDES: ${overrides.error.message}` : ''}\n`,
    );
    return 78;
  }
  const dataset = input.data;
  const jobId = trialJobId(config.TRIAL_ID, dataset.requestId, config.TRIAL_OVERRIDES);
  const registry = { url: config.REGISTRY_URL, apiKey: config.REGISTRY_API_KEY };

  const bus = new Bus(
    busConfigFromEnv(config, 'trainer-trial'),
    logger,
    createRegistry('trainer-trial'),
  );
  await bus.connect();
  await bus.ensureTopics(['modelsTrained', 'trainingJobs']);
  const started = new Date().toISOString();
  const end = async (state: TrainingJobEvent) =>
    bus.producer.send([{ event: EVENTS.trainingJob, key: jobId, data: state }]);
  const base = {
    jobId,
    input: dataset,
    attempt: 1,
    queuedAt: started,
    startedAt: started,
    progress: null,
    updatedBy: 'trainer-trial',
  };
  try {
    const spec = withOverrides(
      await fetchSpec(registry, dataset.dataset, dataset.specVersion),
      overrides.data,
    );
    const result = await runTrainingJob(
      { jobId, dataset, spec, registry, backend: config.TRAINER_BACKEND },
      {
        progress: (p) => logger.info(p, 'epoch'),
        log: (level, msg, fields) => logger[level](fields ?? {}, msg),
      },
    );
    const trained = {
      ...result.trained,
      tags: { ...result.trained.tags, 'mlops.trial': config.TRIAL_ID ?? jobId },
    };
    await bus.producer.send([
      {
        event: EVENTS.modelTrained,
        key: trained.model,
        data: trained,
        attrs: { id: trainedEventId(jobId), subject: trained.model },
      },
    ]);
    await end({
      ...base,
      model: trained.model,
      state: 'succeeded',
      finishedAt: new Date().toISOString(),
      error: null,
      result: {
        artifact: trained.artifact,
        report: trained.report!,
        metrics: trained.metrics,
        backend: result.backend,
        durationMs: result.durationMs,
      },
    });
    logger.info({ jobId, model: trained.model, metrics: trained.metrics }, 'trial trained');
    return 0;
  } catch (err) {
    const code = err instanceof TrainJobError ? err.code : 'internal';
    const message = (err as Error).message;
    process.stderr.write(`${JSON.stringify({ jobId, code, message })}\n`);
    await end({
      ...base,
      model: dataset.dataset,
      state: 'failed',
      finishedAt: new Date().toISOString(),
      error: { code, message },
      result: null,
    }).catch((e: unknown) => logger.error({ err: e }, 'the failure could not be published'));
    return 1;
  } finally {
    await bus.shutdown();
  }
}

async function fetchSpec(
  registry: { url: string; apiKey?: string },
  dataset: string,
  version: number,
): Promise<DatasetSpec> {
  const res = await fetch(
    `${registry.url.replace(/\/+$/, '')}/v1/specs/${dataset}/versions/${version}`,
    {
      headers: registry.apiKey ? { 'x-api-key': registry.apiKey } : {},
    },
  );
  if (res.status === 404)
    throw new TrainJobError('spec_missing', `the registry has no spec ${dataset} v${version}`);
  if (!res.ok)
    throw new TrainJobError(
      'registry_unavailable',
      `GET spec ${dataset} v${version}: ${res.status}`,
    );
  const body = (await res.json()) as { spec: unknown };
  return DatasetSpec.parse(body.spec);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`trainer-trial: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
