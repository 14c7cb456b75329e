import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { DriftMonitorModule } from './app.module';
import { DriftMonitorEnv } from './config';

void bootstrap({
  name: 'drift-monitor',
  config: () => loadConfig('drift-monitor', DriftMonitorEnv),
  module: (ctx) => DriftMonitorModule.forRoot(ctx),
  configure: (app) => {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Drift monitor')
        .setDescription(
          'Feature, prediction and performance drift of every served model version against its training reference; the canary judge; retraining and rollback, as events.',
        )
        .setVersion('1')
        .addBearerAuth()
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
  },
});
