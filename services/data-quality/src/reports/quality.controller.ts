import { Controller, Get, Param } from '@nestjs/common';
import { ReadOnly } from '@mlops/auth';
import { DATASET_NAME } from '@mlops/contracts';
import { ApiError, SpecCatalog } from '@mlops/nest-kit';
import { QualityStage } from '../stage/quality.stage';
import { aggregate, type DatasetQuality } from './aggregate';
import { ReportsView } from './reports.view';

@Controller('v1/datasets/:dataset')
export class QualityController {
  constructor(
    private readonly view: ReportsView,
    private readonly stage: QualityStage,
    private readonly specs: SpecCatalog,
  ) {}

  /**
   * The dataset's data quality: counts and rates per rule since the start and in the current
   * windows, their trend over the closed windows, and robust statistics per numeric field.
   */
  @Get('quality')
  @ReadOnly()
  async get(@Param('dataset') dataset: string): Promise<DatasetQuality> {
    if (!DATASET_NAME.test(dataset))
      throw new ApiError(
        400,
        'invalid_dataset_name',
        'a dataset name is lower case letters, digits, _ or -',
      );
    await this.view.sync().catch(() => {});
    const result = aggregate(dataset, this.view.reports(dataset), this.stage.live());
    if (result) return result;
    if (await this.specs.resolve(dataset, 1_000)) {
      throw new ApiError(404, 'no_records', `dataset "${dataset}" has no records judged yet`);
    }
    throw new ApiError(404, 'unknown_dataset', `no dataset spec named "${dataset}"`);
  }
}
