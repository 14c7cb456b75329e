import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { Principal, ReadOnly, Roles, type AuthPrincipal } from '@mlops/auth';
import { Bus } from '@mlops/bus';
import {
  DATASET_NAME,
  EVENTS,
  TrainingRequestEvent,
  topicName,
  type FeaturesetEvent,
} from '@mlops/contracts';
import { ApiError, SpecCatalog } from '@mlops/nest-kit';
import { FeaturesetCatalog } from '../featuresets/featureset.catalog';
import { ONLINE_STORE } from '../online/online.tokens';
import type { OnlineFeatures, OnlineStore } from '../online/online-store';

@Controller('v1/datasets/:dataset')
export class FeaturesController {
  constructor(
    @Inject(ONLINE_STORE) private readonly online: OnlineStore,
    private readonly featuresets: FeaturesetCatalog,
    @Inject(Bus) private readonly bus: Bus,
    private readonly specs: SpecCatalog,
  ) {}

  /**
   * Asks for a fit: puts a request on training.requests.v1 (what any Kafka client may do) and
   * answers 202 with it. Without a range: everything events.clean.v1 holds now.
   */
  @Post('training-requests')
  @HttpCode(202)
  @Roles('publisher')
  async requestTraining(
    @Param('dataset') dataset: string,
    @Body() body: unknown,
    @Principal() caller: AuthPrincipal,
  ): Promise<TrainingRequestEvent> {
    checkDataset(dataset);
    if (!(await this.specs.resolve(dataset))) {
      throw new ApiError(404, 'unknown_dataset', `no dataset spec named "${dataset}"`);
    }
    const given = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    let range = given.range;
    if (range === undefined) {
      const offsets = await this.bus.admin.fetchTopicOffsets(
        topicName('eventsClean', this.bus.prefix),
      );
      range = {
        kind: 'offsets',
        partitions: offsets.map((o) => ({ partition: o.partition, from: o.low, to: o.high })),
      };
    }
    const parsed = TrainingRequestEvent.safeParse({
      requestId: given.requestId ?? randomUUID(),
      dataset,
      range,
      reason: given.reason ?? 'requested over REST',
      requestedBy: caller.subject,
    });
    if (!parsed.success) {
      throw new ApiError(
        400,
        'invalid_request',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    await this.bus.producer.send([
      {
        event: EVENTS.trainingRequest,
        key: dataset,
        data: parsed.data,
        attrs: { id: `req:${parsed.data.requestId}`, subject: dataset },
      },
    ]);
    return parsed.data;
  }

  /** The entity's latest vector (online store), with its column names when known. */
  @Get('entities/:id/features')
  @ReadOnly()
  async entity(
    @Param('dataset') dataset: string,
    @Param('id') id: string,
  ): Promise<OnlineFeatures & { dataset: string; entityId: string; names: string[] | null }> {
    checkDataset(dataset);
    const row = await this.online.get(dataset, id);
    if (!row) {
      throw new ApiError(404, 'unknown_entity', `no features for entity "${id}" of "${dataset}"`);
    }
    const current = this.featuresets.announced(dataset);
    const names = current?.version === row.featuresetVersion ? current.names : null;
    return { dataset, entityId: id, names, ...row };
  }

  /** The dataset's current featureset (version, artifact, columns, what it was fitted on). */
  @Get('featureset')
  @ReadOnly()
  featureset(@Param('dataset') dataset: string): FeaturesetEvent {
    checkDataset(dataset);
    const current = this.featuresets.announced(dataset);
    if (!current) {
      throw new ApiError(404, 'no_featureset', `no featureset was fitted for "${dataset}" yet`);
    }
    return current;
  }
}

function checkDataset(dataset: string): void {
  if (!DATASET_NAME.test(dataset)) {
    throw new ApiError(
      400,
      'invalid_dataset_name',
      'a dataset name is lower case letters, digits, _ or -',
    );
  }
}
