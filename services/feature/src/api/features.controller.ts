import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ReadOnly } from '@mlops/auth';
import { DATASET_NAME, type FeaturesetEvent } from '@mlops/contracts';
import { ApiError } from '@mlops/nest-kit';
import { FeaturesetCatalog } from '../featuresets/featureset.catalog';
import { ONLINE_STORE } from '../online/online.tokens';
import type { OnlineFeatures, OnlineStore } from '../online/online-store';

@Controller('v1/datasets/:dataset')
export class FeaturesController {
  constructor(
    @Inject(ONLINE_STORE) private readonly online: OnlineStore,
    private readonly featuresets: FeaturesetCatalog,
  ) {}

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
