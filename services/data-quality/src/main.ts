import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { DataQualityModule } from './app.module';
import { DataQualityEnv } from './config';

void bootstrap({
  name: 'data-quality',
  config: () => loadConfig('data-quality', DataQualityEnv),
  module: (ctx) => DataQualityModule.forRoot(ctx),
});
