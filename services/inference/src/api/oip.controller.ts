import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public, ReadOnly } from '@mlops/auth';
import { ServedModels } from '../models/served-models';
import {
  errorBody,
  modelMetadata,
  modelReady,
  serverLive,
  serverMetadata,
  serverReady,
} from '../protocol/oip';
import { InferHandler, versionParam } from './infer-handler';

export const SERVER_NAME = 'mlops-inference';
export const SERVER_VERSION = '1.0.0';
const PLATFORM = 'onnxruntime_onnx';

/**
 * The Open Inference Protocol v2 over REST (KServe v2, Triton's HTTP API): health, server and
 * model metadata, readiness, and inference with named, typed tensors. Errors are the
 * protocol's `{"error": "..."}`. The infer routes are served by {@link InferHandler} in front of
 * Express; they are declared here too for the OpenAPI document and for a server started
 * without that fast path.
 */
@ApiTags('open inference protocol v2')
@Controller('v2')
export class OipController {
  constructor(
    private readonly served: ServedModels,
    private readonly inferHandler: InferHandler,
  ) {}

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Server liveness' })
  live(@Res() res: Response): void {
    res.status(200).json(serverLive(true));
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: 'Server readiness: every aliased version loaded' })
  ready(@Res() res: Response): void {
    const ready = this.served.isReady;
    res.status(ready ? 200 : 503).json(serverReady(ready));
  }

  @Get()
  @ApiOperation({ summary: 'Server metadata' })
  metadata(@Res() res: Response): void {
    res.json(serverMetadata(SERVER_NAME, SERVER_VERSION, ['binary_tensor_data']));
  }

  @Get('models/:model')
  @ApiOperation({ summary: 'Model metadata (the version production routes to)' })
  model(@Param('model') model: string, @Res() res: Response): void {
    this.handle(res, () => {
      const route = this.served.route(model, '');
      return this.modelMetadata(model, route.target.version);
    });
  }

  @Get('models/:model/versions/:version')
  @ApiOperation({ summary: 'Model version metadata' })
  modelVersion(
    @Param('model') model: string,
    @Param('version') version: string,
    @Res() res: Response,
  ): void {
    this.handle(res, () => this.modelMetadata(model, versionParam(version)));
  }

  @Get('models/:model/ready')
  @ApiOperation({ summary: 'Model readiness' })
  modelReady(@Param('model') model: string, @Res() res: Response): void {
    const ready = this.served.versions(model).length > 0;
    if (ready) res.status(200).json(modelReady(model, true));
    else res.status(404).json(errorBody(`model "${model}" is not served`));
  }

  @Get('models/:model/versions/:version/ready')
  @ApiOperation({ summary: 'Model version readiness' })
  modelVersionReady(
    @Param('model') model: string,
    @Param('version') version: string,
    @Res() res: Response,
  ): void {
    this.handle(res, () => {
      this.served.version(model, versionParam(version));
      return modelReady(model, true);
    });
  }

  @Post('models/:model/infer')
  @ReadOnly()
  @ApiOperation({ summary: 'Inference on the version the aliases and canary split choose' })
  infer(@Param('model') model: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.inferHandler.infer(model, undefined, req, res);
  }

  @Post('models/:model/versions/:version/infer')
  @ReadOnly()
  @ApiOperation({ summary: 'Inference on one version' })
  inferVersion(
    @Param('model') model: string,
    @Param('version') version: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return this.inferHandler.infer(model, version, req, res);
  }

  private modelMetadata(model: string, version: number) {
    const v = this.served.version(model, version);
    return modelMetadata(
      model,
      this.served.versions(model).map((x) => String(x.version)),
      PLATFORM,
      v.signature,
    );
  }

  private handle(res: Response, fn: () => unknown): void {
    try {
      res.status(200).json(fn());
    } catch (err) {
      this.inferHandler.fail(res, '', null, err);
    }
  }
}
