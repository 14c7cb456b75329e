import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, PermanentError, type BusEvent } from '@mlops/bus';
import { LOGGER } from '@mlops/observability';
import {
  EVENTS,
  type ArtifactRef,
  type ModelCompressedEvent,
  type ModelTrainedEvent,
} from '@mlops/contracts';
import { sha256OfUri, type ArtifactStore } from '../artifacts/artifact-store';
import { ARTIFACT_STORE } from '../config';
import { RegistryService } from '../domain/registry.service';
import { InvalidError, NotFoundError, type NewVersion } from '../store/registry-store';

/**
 * Registers what the trainer and the compressor announce, and applies decisions. Each event's
 * `ce_id` is its idempotency key in the database, so a redelivered event (at-least-once) makes
 * one version, one alias move.
 */
@Injectable()
export class ModelEventsConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly registry: RegistryService,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const versions = async (events: BusEvent<ModelTrainedEvent | ModelCompressedEvent>[]) => {
      for (const e of events) await this.register(e);
    };
    await Promise.all([
      this.bus
        .subscribe({
          name: 'models-trained',
          groupId: 'model-registry.trained',
          event: EVENTS.modelTrained,
          delivery: 'at-least-once',
          deadLetter: 'dlq',
          handler: versions,
        })
        .start(),
      this.bus
        .subscribe({
          name: 'models-compressed',
          groupId: 'model-registry.compressed',
          event: EVENTS.modelCompressed,
          delivery: 'at-least-once',
          deadLetter: 'dlq',
          handler: versions,
        })
        .start(),
      this.bus
        .subscribe({
          name: 'models-decisions',
          groupId: 'model-registry.decisions',
          event: EVENTS.modelDecision,
          delivery: 'at-least-once',
          deadLetter: 'dlq',
          handler: async (events) => {
            for (const e of events) {
              try {
                await this.registry.decide(e.data, { subject: e.data.decidedBy }, e.attrs.id);
              } catch (err) {
                if (err instanceof InvalidError || err instanceof NotFoundError)
                  throw new PermanentError('decision_rejected', err.message);
                throw err;
              }
            }
          },
        })
        .start(),
    ]);
  }

  /** The artifact must be one the registry holds, with the size and hash the event claims. */
  private async checkArtifact(artifact: ArtifactRef): Promise<void> {
    const sha = sha256OfUri(artifact.uri);
    if (!sha)
      throw new PermanentError(
        'artifact_not_in_registry',
        `artifact ${artifact.uri} is not stored by the registry (upload it to /v1/artifacts first)`,
      );
    if (sha !== artifact.sha256)
      throw new PermanentError(
        'artifact_mismatch',
        `the uri names sha256 ${sha} but the event says ${artifact.sha256}`,
      );
    const blob = await this.artifacts.stat(sha);
    if (!blob) throw new PermanentError('artifact_missing', `no artifact with sha256 ${sha}`);
    if (blob.size !== artifact.size)
      throw new PermanentError(
        'artifact_mismatch',
        `artifact ${sha} has ${blob.size} bytes, the event says ${artifact.size}`,
      );
  }

  private async register(e: BusEvent<ModelTrainedEvent | ModelCompressedEvent>): Promise<void> {
    const d = e.data;
    // A variant the compressor's gate rejected is announced (with the measured reason) but is
    // not a version anyone could promote.
    if ('parentVersion' in d && !d.gate.passed) {
      this.logger.info(
        { model: d.model, parent: d.parentVersion, variant: d.variant, reasons: d.gate.reasons },
        'compressed variant rejected by its gate: not registered',
      );
      return;
    }
    await this.checkArtifact(d.artifact);
    const compressed = 'parentVersion' in d ? d : undefined;
    const trained = compressed ? undefined : (d as ModelTrainedEvent);
    if (trained?.report) await this.checkArtifact(trained.report);
    // The training report (metrics, curves, drift reference) travels as tags of the version,
    // where the drift monitor and the compressor look it up.
    const reportTags: Record<string, string> = {};
    if (trained?.report) {
      reportTags['mlops.report.uri'] = trained.report.uri;
      reportTags['mlops.report.sha256'] = trained.report.sha256;
      reportTags['mlops.report.size'] = String(trained.report.size);
    }
    if (trained?.task) reportTags['mlops.task'] = trained.task;
    const input: NewVersion = {
      model: d.model,
      description: d.description ?? '',
      status: 'READY',
      params: d.params,
      metrics: d.metrics,
      tags: compressed
        ? {
            ...d.tags,
            'mlops.gate': 'passed',
            ...(compressed.recommended ? { 'mlops.recommended': 'true' } : {}),
          }
        : { ...d.tags, ...reportTags },
      artifact: d.artifact,
      parentVersion: compressed?.parentVersion ?? null,
      variant: compressed?.variant ?? null,
      dataset: d.dataset,
      datasetSpecVersion: d.datasetSpecVersion,
      featuresetVersion: d.featuresetVersion,
      trainedOn: d.trainedOn,
      sourceJob: d.jobId,
      idempotencyKey: e.attrs.id,
      createModelIfMissing: true,
    };
    try {
      const { created } = await this.registry.store.createVersion(input, {
        subject: e.attrs.source,
      });
      if (created) this.registry.published();
    } catch (err) {
      if (err instanceof InvalidError || err instanceof NotFoundError)
        throw new PermanentError('version_rejected', err.message);
      throw err;
    }
  }
}
