import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, type BusEvent, type Outgoing, type Rejection } from '@mlops/bus';
import {
  EVENTS,
  resolveServingSpec,
  resolveTrainingSpec,
  type FeatureVectorEvent,
} from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { INFERENCE_CONFIG, type InferenceConfig } from '../config';
import { InferenceMetrics } from '../metrics';
import { ServedModels, type LoadedVersion } from '../models/served-models';
import { predictionEvents } from '../predictor';
import { predictionId, toWire } from '../predictions/prediction-log';

/** The stream-scoring consumer group: replicas share the partitions of features.v1. */
export const STREAM_GROUP = 'inference.stream';

/**
 * Kafka in, Kafka out: every features.v1 record of a dataset whose spec turns
 * `serving.streamScoring` on is scored by the model's production version (and by its canary,
 * when there is one, so the two can be compared on the same traffic) through the same batchers
 * as online requests, and the predictions are written to predictions.v1 in the same Kafka
 * transaction as the input offsets: exactly once.
 *
 * A vector computed with another featureset than the version was trained on cannot be scored
 * by it; it is skipped and counted (`inference_stream_skipped_total{reason}`), as are records
 * of datasets without a served model. A vector of the wrong width or with a non-finite value is
 * dead-lettered with the reason.
 */
@Injectable()
export class StreamScorer implements OnApplicationBootstrap {
  private readonly warned = new Set<string>();

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(INFERENCE_CONFIG) private readonly config: InferenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly served: ServedModels,
    private readonly metrics: InferenceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.INFERENCE_STREAM_SCORING) return;
    await this.bus
      .subscribe({
        name: 'stream-scoring',
        groupId: STREAM_GROUP,
        event: EVENTS.featureVector,
        delivery: 'exactly-once',
        deadLetter: 'dlq',
        maxBatchSize: 256,
        handler: async (events) => this.handle(events),
      })
      .start();
  }

  private skip(dataset: string, reason: string, detail: Record<string, unknown>, n = 1): void {
    this.metrics.streamSkipped.inc({ dataset, reason }, n);
    const key = `${dataset}:${reason}:${JSON.stringify(detail)}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn({ dataset, reason, ...detail }, 'features.v1 records not stream-scored');
  }

  private async handle(
    events: BusEvent<FeatureVectorEvent>[],
  ): Promise<{ outputs: Outgoing[]; rejects: Rejection[] }> {
    const outputs: Outgoing[] = [];
    const rejects: Rejection[] = [];
    const byDataset = new Map<string, BusEvent<FeatureVectorEvent>[]>();
    for (const e of events) {
      const list = byDataset.get(e.data.dataset) ?? [];
      list.push(e);
      byDataset.set(e.data.dataset, list);
    }
    for (const [dataset, list] of byDataset) {
      const spec = await this.specs.resolve(dataset);
      if (!spec) continue; // the feature service dead-letters unknown datasets upstream
      let model: string;
      try {
        if (!resolveServingSpec(spec).streamScoring.enabled) continue;
        model = resolveTrainingSpec(spec).modelName;
      } catch (err) {
        this.skip(dataset, 'spec_invalid', { message: (err as Error).message }, list.length);
        continue;
      }
      const { production, canary } = this.served.production(model);
      if (!production) {
        this.skip(dataset, 'no_production_version', { model }, list.length);
        continue;
      }
      const valid: BusEvent<FeatureVectorEvent>[] = [];
      for (const e of list) {
        const problem = this.check(production, e.data);
        if (problem) rejects.push({ event: e, reasons: [problem] });
        else valid.push(e);
      }
      for (const [v, alias] of [
        [production, 'production'],
        [canary, 'canary'],
      ] as const) {
        if (!v) continue;
        const same = valid.filter((e) => e.data.featuresetVersion === v.featuresetVersion);
        if (same.length < valid.length)
          this.skip(
            dataset,
            'featureset_mismatch',
            { model, version: v.version, expects: v.featuresetVersion },
            valid.length - same.length,
          );
        outputs.push(...(await this.score(v, alias, same)));
      }
    }
    return { outputs, rejects };
  }

  private check(
    v: LoadedVersion,
    data: FeatureVectorEvent,
  ): { code: string; message: string } | undefined {
    const input = v.signature.inputs[0];
    const width = input?.shape[1];
    if (v.signature.inputs.length !== 1 || input.datatype !== 'FP32' || input.shape.length !== 2)
      return {
        code: 'handler_rejected',
        message: `${v.model} v${v.version} does not take one [N, F] float input`,
      };
    if (width !== -1 && data.vector.length !== width)
      return {
        code: 'handler_rejected',
        message: `the vector has ${data.vector.length} values; ${v.model} v${v.version} takes ${width}`,
      };
    if (data.vector.some((x) => !Number.isFinite(x)))
      return { code: 'handler_rejected', message: 'the vector holds a non-finite value' };
    return undefined;
  }

  /** Scores the events in chunks of the batcher's size, concurrently with online traffic. */
  private async score(
    v: LoadedVersion,
    alias: string,
    events: BusEvent<FeatureVectorEvent>[],
  ): Promise<Outgoing[]> {
    if (events.length === 0) return [];
    const width = events[0].data.vector.length;
    const input = v.signature.inputs[0].name;
    const chunk = v.serving.batching.maxBatchSize;
    const keep = this.served.servingOf(v).predictionLog.features;
    const parts: BusEvent<FeatureVectorEvent>[][] = [];
    for (let i = 0; i < events.length; i += chunk) parts.push(events.slice(i, i + chunk));
    const scored = await Promise.all(
      parts.map(async (part) => {
        const started = performance.now();
        const data = new Float32Array(part.length * width);
        part.forEach((e, i) => data.set(e.data.vector, i * width));
        const inputs = {
          [input]: { datatype: 'FP32' as const, shape: [part.length, width], data },
        };
        const r = await v.batcher.submit(inputs);
        const ms = performance.now() - started;
        const labels = { model: v.model, version: String(v.version) };
        this.metrics.rows.inc({ ...labels, mode: 'stream' }, part.length);
        // One event per record: the chunk's rows, each under its own source event.
        const predictions = predictionEvents(
          v,
          alias,
          'stream',
          { inputs, requestId: '', entityIds: part.map((e) => e.data.entityId) },
          r.outputs,
          ms,
          false,
          keep,
        );
        return predictions.map((prediction, i) => {
          const id = part[i].attrs.id;
          const wire = toWire({ ...prediction, requestId: id, sourceEventId: id, row: 0 });
          return {
            event: EVENTS.prediction,
            key: v.model,
            data: wire,
            attrs: { id: predictionId(wire), traceparent: part[i].attrs.traceparent },
          } satisfies Outgoing;
        });
      }),
    );
    return scored.flat();
  }
}
