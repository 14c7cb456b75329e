import { randomUUID } from 'node:crypto';
import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { ReadOnly } from '@mlops/auth';
import {
  validateRecord,
  type DatasetSpec,
  type PredictResponse,
  type RecordPrediction,
} from '@mlops/contracts';
import { transform } from '@mlops/features';
import { ApiError, readBody, SpecCatalog } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { INFERENCE_CONFIG, type InferenceConfig } from '../config';
import { ServedModels } from '../models/served-models';
import { interpret, Predictor, rowValues } from '../predictor';
import type { TensorData } from '../runtime/tensor';
import { httpFailure } from './errors';

export type { PredictResponse, RecordPrediction };

/** The body's records: `{"records": [...]}`, a JSON array, or one record. */
function recordsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    const records = (body as { records?: unknown }).records;
    if (records !== undefined) {
      if (!Array.isArray(records))
        throw new ApiError(400, 'bad_request', '"records" must be an array');
      return records;
    }
    return [body];
  }
  throw new ApiError(
    400,
    'bad_request',
    'the body must be a record, an array of records or {"records": [...]}',
  );
}

/** A serving view of the spec: the label is what we predict, so it is neither required nor read. */
function servingSpec(spec: DatasetSpec): { spec: DatasetSpec; label: string | undefined } {
  const label = spec.fields.find((f) => f.type === 'label')?.name;
  return { spec: { ...spec, fields: spec.fields.filter((f) => f.type !== 'label') }, label };
}

/**
 * Predictions on raw business records: each is checked against the dataset spec, turned into
 * its feature vector by the featureset the version was trained with (the same library the
 * feature service streams with), and scored on the same path as /v2 infer.
 */
@ApiTags('predict')
@Controller('v1/predict')
export class PredictController {
  constructor(
    @Inject(INFERENCE_CONFIG) private readonly config: InferenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly specs: SpecCatalog,
    private readonly predictor: Predictor,
    private readonly served: ServedModels,
  ) {}

  @Post(':model')
  @HttpCode(200)
  @ReadOnly()
  @ApiOperation({
    summary: 'Score raw records with the version the aliases and canary split choose',
    description:
      'Body: one record, an array of records, or {"records": [...]}. The first record\'s entity id routes the request (canary split).',
  })
  @ApiResponse({ status: 404, description: 'The model is not served' })
  @ApiResponse({ status: 409, description: 'The version has no featureset: use /v2 infer' })
  @ApiResponse({
    status: 422,
    description: 'Records that do not pass the dataset spec, with reasons',
  })
  @ApiResponse({ status: 429, description: 'The queue is full; Retry-After says when to retry' })
  async predict(@Param('model') model: string, @Req() req: Request): Promise<PredictResponse> {
    try {
      return await this.run(model, req);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const f = httpFailure(err);
      if (f.status === 500) this.logger.error({ err, model }, 'prediction failed');
      this.predictor.failed(model, null, 'online', String(f.status));
      throw new ApiError(f.status, f.code, f.message, undefined, f.headers);
    }
  }

  private async run(model: string, req: Request): Promise<PredictResponse> {
    const body = await readBody(req, this.config.INFERENCE_MAX_BODY_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new ApiError(
        400,
        'bad_request',
        `the body is not valid JSON: ${(err as Error).message}`,
      );
    }
    const raw = recordsOf(json);
    if (raw.length === 0) throw new ApiError(400, 'empty_batch', 'the request holds no records');
    const requestId =
      typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID();
    // The first record's entity routes the request (canary split); the version then decides
    // the spec and featureset the records meet.
    const field = this.served.entityFieldOf(model);
    const first = raw[0];
    const value =
      field && first && typeof first === 'object'
        ? (first as Record<string, unknown>)[field]
        : undefined;
    const firstKey =
      typeof value === 'string' || typeof value === 'number' ? String(value) : requestId;
    const route = this.predictor.route(model, undefined, firstKey);
    const v = route.target;
    if (raw.length > v.serving.maxRowsPerRequest)
      throw new ApiError(
        400,
        'too_many_rows',
        `${raw.length} records exceed the limit of ${v.serving.maxRowsPerRequest}`,
      );
    const fs = v.featureset;
    const input = v.signature.inputs[0];
    if (!fs || !v.dataset || v.signature.inputs.length !== 1 || input.datatype !== 'FP32')
      throw new ApiError(
        409,
        'no_featureset',
        `${model} v${v.version} was not trained on a featureset of this platform; send tensors to /v2/models/${model}/infer`,
      );
    const spec = await this.specs.resolve(v.dataset);
    if (!spec)
      throw new ApiError(
        409,
        'no_spec',
        `the dataset spec "${v.dataset}" of ${model} is not known`,
      );
    const { spec: serving, label } = servingSpec(spec);
    const width = fs.names.length;
    const matrix = new Float32Array(raw.length * width);
    const entityIds: string[] = [];
    const problems: {
      index: number;
      reasons: { code: string; message: string; field?: string }[];
    }[] = [];
    raw.forEach((r, index) => {
      const copy = r && typeof r === 'object' && !Array.isArray(r) && label ? { ...r } : r;
      if (label && copy && typeof copy === 'object')
        delete (copy as Record<string, unknown>)[label];
      const checked = validateRecord(serving, copy);
      if (!checked.ok) {
        problems.push({ index, reasons: checked.problems });
        return;
      }
      const vector = transform(fs, checked.record);
      const bad = vector.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        problems.push({
          index,
          reasons: [
            { code: 'not_finite', message: `feature ${fs.names[bad]} is not a finite number` },
          ],
        });
        return;
      }
      matrix.set(vector, index * width);
      entityIds.push(checked.entityId);
    });
    if (problems.length > 0)
      throw new ApiError(
        422,
        'invalid_records',
        `${problems.length} of ${raw.length} records do not pass the ${v.dataset} spec`,
        { results: problems },
      );
    if (input.shape.length !== 2 || (input.shape[1] !== -1 && input.shape[1] !== width))
      throw new ApiError(
        409,
        'featureset_mismatch',
        `the featureset gives ${width} columns; ${model} v${v.version} takes [${input.shape.join(', ')}]`,
      );
    const features: TensorData = { datatype: 'FP32', shape: [raw.length, width], data: matrix };
    const result = await this.predictor.predict({
      model,
      route,
      inputs: { [input.name]: features },
      requestId,
      entityIds,
      mode: 'online',
      routingKey: firstKey,
    });
    const outputs = result.outputs;
    return {
      model,
      version: result.version.version,
      alias: result.alias,
      featuresetVersion: fs.version,
      cached: result.cached,
      predictions: entityIds.map((entityId, row) => ({
        entityId,
        ...interpret(result.version, outputs, row),
        outputs: Object.fromEntries(
          Object.entries(outputs).map(([name, t]) => [name, rowValues(t, row)]),
        ),
      })),
    };
  }
}
