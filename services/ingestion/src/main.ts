import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { IngestionModule } from './app.module';
import { IngestionEnv } from './config';

void bootstrap({
  name: 'ingestion',
  config: () => loadConfig('ingestion', IngestionEnv),
  module: (ctx) => IngestionModule.forRoot(ctx),
});
