import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { TrainerModule } from './app.module';
import { TrainerEnv } from './config';

void bootstrap({
  name: 'trainer',
  config: () => loadConfig('trainer', TrainerEnv),
  module: (ctx) => TrainerModule.forRoot(ctx),
  configure: (app) => {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Trainer')
        .setDescription(
          'Training jobs: one per training.datasets.v1 event, run in worker threads; their states live on training.jobs.v1.',
        )
        .setVersion('1')
        .addBearerAuth()
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' })
        .build(),
    );
    // Swagger UI at /docs, the document at /docs-json.
    SwaggerModule.setup('docs', app, document);
  },
});
