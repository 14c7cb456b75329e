import type { IncomingMessage, ServerResponse } from 'node:http';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { InferHandler } from './api/infer-handler';
import { InferenceModule } from './app.module';
import { InferenceEnv } from './config';

void bootstrap({
  name: 'inference',
  config: () => loadConfig('inference', InferenceEnv),
  module: (ctx) => InferenceModule.forRoot(ctx),
  configure: (app) => {
    // The infer hot path goes straight to its handler; everything else through Express.
    const infer = app.get(InferHandler);
    const server = app.getHttpServer();
    const express = server.listeners('request') as ((...args: unknown[]) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!infer.tryHandle(req, res)) for (const l of express) l.call(server, req, res);
    });
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
