import { ModelNotServedError } from '../models/served-models';
import { OipError } from '../protocol/oip';
import { BatcherClosedError, QueueFullError, RequestTimeoutError } from '../runtime/batcher';
import {
  InvalidInputError,
  ModelNotLoadedError,
  PoolClosedError,
  WorkerExitedError,
} from '../runtime/errors';
import { ApiError } from '@mlops/nest-kit';

/** An error of the prediction path as HTTP: status, stable code, message, headers. */
export interface HttpFailure {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

/**
 * Maps what the prediction path throws to a status: the client's mistakes are 4xx with the
 * reason, overload is 429 with Retry-After, a request that waited past its deadline or hit a
 * version being replaced is 503 with Retry-After, and anything else is a 500 that says nothing
 * internal (the caller logs it).
 */
export function httpFailure(err: unknown): HttpFailure {
  const none: Record<string, string> = {};
  if (err instanceof OipError)
    return { status: err.status, code: codeOf(err.status), message: err.message, headers: none };
  if (err instanceof ApiError) {
    const body = err.getResponse() as { error: { code: string; message: string } };
    return {
      status: err.getStatus(),
      code: body.error.code,
      message: body.error.message,
      headers: err.headers,
    };
  }
  if (err instanceof ModelNotServedError)
    return { status: 404, code: 'model_not_served', message: err.message, headers: none };
  if (err instanceof QueueFullError)
    return {
      status: 429,
      code: 'queue_full',
      message: err.message,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) },
    };
  if (err instanceof RequestTimeoutError)
    return { status: 503, code: 'timeout', message: err.message, headers: { 'Retry-After': '1' } };
  if (err instanceof InvalidInputError)
    return { status: 400, code: err.code, message: err.message, headers: none };
  // The request itself was fine: a worker died under its batch, or the version was released
  // between routing and running. Retrying is safe.
  if (
    err instanceof WorkerExitedError ||
    err instanceof ModelNotLoadedError ||
    err instanceof PoolClosedError
  )
    return { status: 503, code: err.code, message: err.message, headers: { 'Retry-After': '1' } };
  if (err instanceof BatcherClosedError)
    return {
      status: 503,
      code: 'version_retired',
      message: err.message,
      headers: { 'Retry-After': '1' },
    };
  return { status: 500, code: 'internal', message: 'internal error', headers: none };
}

function codeOf(status: number): string {
  switch (status) {
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    default:
      return 'bad_request';
  }
}
