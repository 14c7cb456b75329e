import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '@mlops/config';
import { bootstrap } from '@mlops/nest-kit';
import { CompressorModule } from './app.module';
import { CompressorEnv } from './config';

void bootstrap({
  name: 'compressor',
  config: () => loadConfig('compressor', CompressorEnv),
  module: (ctx) => CompressorModule.forRoot(ctx),
  configure: (app) => {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Compressor')
        .setDescription(
          'Compressed variants (INT8, INT4, pruned, distilled) of every trained version, gated on the accuracy budget and announced on models.compressed.v1.',
        )
        .setVersion('1')
        .addBearerAuth()
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
  },
});
