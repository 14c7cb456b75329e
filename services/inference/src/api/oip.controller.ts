import { randomUUID } from 'node:crypto';
import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { Public, ReadOnly } from '@mlops/auth';
import { readBody } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { INFERENCE_CONFIG, type InferenceConfig } from '../config';
import { ModelNotServedError, ServedModels, type Route } from '../models/served-models';
import { Predictor } from '../predictor';
import {
  errorBody,
  inferResponse,
  modelMetadata,
  modelReady,
  OipError,
  parseInferRequest,
  serverLive,
  serverMetadata,
  serverReady,
} from '../protocol/oip';
import { httpFailure } from './errors';

export const SERVER_NAME = 'mlops-inference';
export const SERVER_VERSION = '1.0.0';
const PLATFORM = 'onnxruntime_onnx';

function versionParam(raw: string): number {
  if (!/^[1-9]\d{0,9}$/.test(raw))
    throw new OipError(400, `model version "${raw}" is not a positive integer`);
  return Number(raw);
}

/** Per-row entity ids, from `parameters.entity_ids` or one `entity_id` for every row. */
function entityIdsOf(
  parameters: Record<string, unknown>,
  routingEntity: string | undefined,
  rows: number,
): (string | null)[] | undefined {
  const ids = parameters.entity_ids;
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length !== rows || ids.some((x) => typeof x !== 'string'))
      throw new OipError(400, `parameters.entity_ids must be ${rows} strings, one per row`);
    return ids as string[];
  }
  return routingEntity === undefined ? undefined : (Array(rows).fill(routingEntity) as string[]);
}

/** A request's routing entity: `parameters.entity_id`, else `entity_ids[0]`, else X-Entity-Id. */
function routingEntityOf(json: unknown, req: Request): string | undefined {
  const params =
    json && typeof json === 'object' ? (json as { parameters?: unknown }).parameters : undefined;
  if (params && typeof params === 'object') {
    const { entity_id: one, entity_ids: many } = params as {
      entity_id?: unknown;
      entity_ids?: unknown;
    };
    if (one !== undefined && typeof one !== 'string')
      throw new OipError(400, 'parameters.entity_id must be a string');
    if (typeof one === 'string') return one;
    if (Array.isArray(many) && typeof many[0] === 'string') return many[0];
  }
  const header = req.headers['x-entity-id'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * The Open Inference Protocol v2 over REST (KServe v2, Triton's HTTP API): health, server and
 * model metadata, readiness, and inference with named, typed tensors. Errors are the
 * protocol's `{"error": "..."}`.
 */
@ApiTags('open inference protocol v2')
@Controller('v2')
export class OipController {
  constructor(
    @Inject(INFERENCE_CONFIG) private readonly config: InferenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly served: ServedModels,
    private readonly predictor: Predictor,
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
    res.json(serverMetadata(SERVER_NAME, SERVER_VERSION, []));
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
    return this.infer_(model, undefined, req, res);
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
    let v: number;
    try {
      v = versionParam(version);
    } catch (err) {
      this.fail(res, model, null, err);
      req.resume();
      return Promise.resolve();
    }
    return this.infer_(model, v, req, res);
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

  private async infer_(
    model: string,
    version: number | undefined,
    req: Request,
    res: Response,
  ): Promise<void> {
    let route: Route | null = null;
    try {
      const body = await readBody(req, this.config.INFERENCE_MAX_BODY_BYTES);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new OipError(400, `the body is not valid JSON: ${(err as Error).message}`);
      }
      const requestedId =
        json && typeof json === 'object' && typeof (json as { id?: unknown }).id === 'string'
          ? (json as { id: string }).id
          : undefined;
      const requestId = requestedId || randomUUID();
      const entity = routingEntityOf(json, req);
      const routingKey = entity ?? requestId;
      route = this.predictor.route(model, version, routingKey);
      const v = route.target;
      const parsed = parseInferRequest(json, v.signature, {
        maxRows: v.serving.maxRowsPerRequest,
        maxElements: this.config.INFERENCE_MAX_ELEMENTS,
      });
      const entityIds = entityIdsOf(parsed.parameters, entity, parsed.rows);
      const result = await this.predictor.predict({
        model,
        route,
        inputs: parsed.inputs,
        outputs: parsed.outputs,
        requestId,
        entityIds,
        mode: 'online',
        pinned: version !== undefined,
        routingKey,
      });
      const order = parsed.outputs ?? result.version.signature.outputs.map((o) => o.name);
      res
        .status(200)
        .setHeader('x-model-version', String(result.version.version))
        .setHeader('x-model-alias', result.alias ?? '')
        .setHeader('x-cache', result.cached ? 'hit' : 'miss')
        .json(
          inferResponse(model, String(result.version.version), parsed.id, result.outputs, order),
        );
    } catch (err) {
      this.fail(res, model, route, err);
    }
  }

  private handle(res: Response, fn: () => unknown): void {
    try {
      res.status(200).json(fn());
    } catch (err) {
      this.fail(res, '', null, err);
    }
  }

  private fail(res: Response, model: string, route: Route | null, err: unknown): void {
    const f = httpFailure(err);
    if (f.status >= 500 && !(err instanceof ModelNotServedError))
      this.logger[f.status === 500 ? 'error' : 'warn']({ err, model }, 'inference request failed');
    if (model) this.predictor.failed(model, route, 'online', String(f.status));
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(f.headers)) res.setHeader(name, value);
    res.status(f.status).json(errorBody(f.message));
  }
}
