import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { Authenticator, type AuthRequirement } from '@mlops/auth';
import { readBody } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import { INFERENCE_CONFIG, type InferenceConfig } from '../config';
import { ModelNotServedError, type Route } from '../models/served-models';
import { Predictor } from '../predictor';
import {
  errorBody,
  inferResponse,
  inferResponseBinary,
  OipError,
  type ParsedInferRequest,
} from '../protocol/oip';
import { RequestDecoder } from '../protocol/request-decoder';
import { httpFailure } from './errors';

/** Inference reads: a viewer may call it, and AUTH_OPEN_READS opens it like a GET. */
const INFER_REQUIREMENT: AuthRequirement = { role: 'viewer', readOnly: true };
const INFER_PATH = /^\/v2\/models\/([^/?]+)(?:\/versions\/([^/?]+))?\/infer\/?(?:\?.*)?$/;

export function versionParam(raw: string): number {
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
function routingEntityOf(params: unknown, req: IncomingMessage): string | undefined {
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

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * A response with binary outputs, as Triton sends one: the JSON header, then the tensors'
 * bytes; `Inference-Header-Content-Length` tells where the header ends. With no binary bytes
 * at all it is plain JSON (the header's zero-size outputs need no binary part).
 */
function sendBinary(
  res: ServerResponse,
  header: Buffer,
  binary: Buffer[],
  headers: Record<string, string>,
): void {
  const size = binary.reduce((n, b) => n + b.length, 0);
  if (size === 0) {
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': header.length,
    });
    res.end(header);
    return;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'application/octet-stream',
    'inference-header-content-length': header.length,
    'content-length': header.length + size,
  });
  res.end(Buffer.concat([header, ...binary], header.length + size));
}

/**
 * `POST /v2/models/{model}[/versions/{version}]/infer`, on Node's own request and response.
 * The service puts it in front of Express (see {@link InferHandler.tryHandle}): the hot path of
 * the server skips the router, middleware and guard chain, and does their work itself — the
 * auth decision (the same Authenticator as the guard), the body limit, the protocol's error
 * bodies — so a request costs parsing, scoring and one write.
 */
@Injectable()
export class InferHandler {
  constructor(
    @Inject(INFERENCE_CONFIG) private readonly config: InferenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly predictor: Predictor,
    private readonly authenticator: Authenticator,
    private readonly decoder: RequestDecoder,
  ) {}

  /** Handles the request when it is an infer call and says so; else leaves it alone. */
  tryHandle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST' || !req.url?.startsWith('/v2/models/')) return false;
    const m = INFER_PATH.exec(req.url);
    if (!m) return false;
    let model: string;
    try {
      model = decodeURIComponent(m[1]);
    } catch {
      return false;
    }
    const path = req.url.split('?', 1)[0];
    try {
      this.authenticator.authorize(
        { method: 'POST', path, headers: req.headers },
        INFER_REQUIREMENT,
      );
    } catch (err) {
      req.resume();
      this.fail(res, '', null, err);
      return true;
    }
    void this.infer(model, m[2] === undefined ? undefined : decodeURIComponent(m[2]), req, res);
    return true;
  }

  async infer(
    model: string,
    versionText: string | undefined,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    let route: Route | null = null;
    try {
      const version = versionText === undefined ? undefined : versionParam(versionText);
      const body = await readBody(req as Request, this.config.INFERENCE_MAX_BODY_BYTES);
      // Triton's binary tensor extension: a JSON header of the given length, then raw tensors.
      // Large bodies are decoded off the main thread.
      const decoded = await this.decoder.decode(
        body,
        req.headers['inference-header-content-length'],
      );
      let requestId: string;
      let entity: string | undefined;
      let routingKey: string;
      try {
        requestId = decoded.head.id || randomUUID();
        entity = routingEntityOf(decoded.head.parameters, req);
        routingKey = entity ?? requestId;
        route = this.predictor.route(model, version, routingKey);
      } catch (err) {
        decoded.drop();
        throw err;
      }
      const v = route.target;
      const parsed: ParsedInferRequest = await decoded.parse(v.signature, {
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
      const answered = String(result.version.version);
      const headers = {
        'x-model-version': answered,
        'x-model-alias': result.alias ?? '',
        'x-cache': result.cached ? 'hit' : 'miss',
      };
      if (parsed.binaryOutputs) {
        const r = inferResponseBinary(
          model,
          answered,
          parsed.id,
          result.outputs,
          order,
          parsed.binaryOutputs,
        );
        sendBinary(res, r.header, r.binary, headers);
      } else
        send(res, 200, inferResponse(model, answered, parsed.id, result.outputs, order), headers);
    } catch (err) {
      if (!req.complete) req.resume();
      this.fail(res, model, route, err);
    }
  }

  /** Answers with the protocol's error body; counts and logs what is the server's fault. */
  fail(res: ServerResponse, model: string, route: Route | null, err: unknown): void {
    const f = httpFailure(err);
    if (f.status >= 500 && !(err instanceof ModelNotServedError))
      this.logger[f.status === 500 ? 'error' : 'warn']({ err, model }, 'inference request failed');
    if (model) this.predictor.failed(model, route, 'online', String(f.status));
    if (res.headersSent) return;
    send(res, f.status, errorBody(f.message), f.headers);
  }
}
