import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { FeatureModule } from './app.module';
import { FeatureEnv } from './config';

void bootstrap({
  name: 'feature',
  config: () => loadConfig('feature', FeatureEnv),
  module: (ctx) => FeatureModule.forRoot(ctx),
});
