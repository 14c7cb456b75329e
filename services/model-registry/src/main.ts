import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { RegistryModule } from './app.module';
import { RegistryEnv } from './config';

void bootstrap({
  name: 'model-registry',
  config: () => loadConfig('model-registry', RegistryEnv),
  module: (ctx) => RegistryModule.forRoot(ctx),
  configure: (app) => {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Model registry')
        .setDescription(
          'Models, versions, aliases with history, lineage to Kafka offsets, artifacts and dataset specs. The MLflow-compatible API lives under /api/2.0/mlflow.',
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
