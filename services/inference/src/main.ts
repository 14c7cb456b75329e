import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { InferenceModule } from './app.module';
import { InferenceEnv } from './config';

void bootstrap({
  name: 'inference',
  config: () => loadConfig('inference', InferenceEnv),
  module: (ctx) => InferenceModule.forRoot(ctx),
  configure: (app) => {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Inference')
        .setDescription(
          'Open Inference Protocol v2 (KServe v2 / Triton REST) and predictions on raw records, with dynamic batching in onnxruntime worker threads, canary routing, a response cache and the prediction log on predictions.v1.',
        )
        .setVersion('1')
        .addBearerAuth()
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
  },
});
