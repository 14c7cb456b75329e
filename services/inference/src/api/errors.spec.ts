import { describe, expect, it } from 'vitest';
import { AuthError } from '@mlops/auth';
import { ApiError } from '@mlops/nest-kit';
import { ModelNotServedError } from '../models/served-models';
import { OipError } from '../protocol/oip';
import { BatcherClosedError, QueueFullError, RequestTimeoutError } from '../runtime/batcher';
import {
  InferenceFailedError,
  InvalidInputError,
  ModelNotLoadedError,
  PoolClosedError,
  WorkerExitedError,
} from '../runtime/errors';
import { httpFailure } from './errors';

describe('httpFailure', () => {
  it('keeps the status and message of an OipError', () => {
    expect(httpFailure(new OipError(400, "'inputs' is empty"))).toEqual({
      status: 400,
      code: 'bad_request',
      message: "'inputs' is empty",
      headers: {},
    });
    expect(httpFailure(new OipError(404, 'model "m" is not served here'))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(httpFailure(new OipError(413, 'too many elements'))).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    expect(httpFailure(new OipError(415, 'not JSON'))).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
    });
  });

  it('keeps the status, code, message and headers of an ApiError', () => {
    expect(
      httpFailure(new ApiError(413, 'payload_too_large', 'the body is 20 bytes; the limit is 10')),
    ).toEqual({
      status: 413,
      code: 'payload_too_large',
      message: 'the body is 20 bytes; the limit is 10',
      headers: {},
    });
    expect(
      httpFailure(new ApiError(429, 'slow_down', 'busy', undefined, { 'Retry-After': '7' })),
    ).toEqual({ status: 429, code: 'slow_down', message: 'busy', headers: { 'Retry-After': '7' } });
    // The guard's refusals are ApiErrors too.
    expect(httpFailure(AuthError.unauthenticated('authentication required'))).toEqual({
      status: 401,
      code: 'unauthenticated',
      message: 'authentication required',
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
    expect(httpFailure(AuthError.forbidden('requires the viewer role'))).toEqual({
      status: 403,
      code: 'forbidden',
      message: 'requires the viewer role',
      headers: {},
    });
  });

  it('answers a model that is not served with 404', () => {
    expect(httpFailure(new ModelNotServedError('model "m" is not served'))).toEqual({
      status: 404,
      code: 'model_not_served',
      message: 'model "m" is not served',
      headers: {},
    });
  });

  it('answers a full queue with 429 and a whole Retry-After of at least a second', () => {
    const full = (seconds: number) => httpFailure(new QueueFullError('m@1', seconds));
    expect(full(2.5)).toEqual({
      status: 429,
      code: 'queue_full',
      message: 'the queue of model m@1 is full; retry in 2.5 s',
      headers: { 'Retry-After': '3' },
    });
    expect(full(0.2).headers).toEqual({ 'Retry-After': '1' });
    expect(full(0).headers).toEqual({ 'Retry-After': '1' });
    expect(full(4).headers).toEqual({ 'Retry-After': '4' });
  });

  it('answers a timeout with 503 and Retry-After', () => {
    expect(httpFailure(new RequestTimeoutError('m@1', 5000, 'queued'))).toEqual({
      status: 503,
      code: 'timeout',
      message: 'request to model m@1 timed out after 5000 ms (queued)',
      headers: { 'Retry-After': '1' },
    });
  });

  it('answers tensors that do not fit the model with 400', () => {
    expect(httpFailure(new InvalidInputError('input "x" must be FP32'))).toEqual({
      status: 400,
      code: 'invalid_input',
      message: 'input "x" must be FP32',
      headers: {},
    });
  });

  it('answers a dead worker, an unloaded model or a closed pool with a retryable 503', () => {
    const cases: [Error, string][] = [
      [new WorkerExitedError('worker 2 exited with code 1'), 'worker_exited'],
      [new ModelNotLoadedError('m@1'), 'model_not_loaded'],
      [new PoolClosedError(), 'pool_closed'],
    ];
    for (const [err, code] of cases)
      expect(httpFailure(err)).toEqual({
        status: 503,
        code,
        message: err.message,
        headers: { 'Retry-After': '1' },
      });
  });

  it('answers a version retired under the request with a retryable 503', () => {
    expect(httpFailure(new BatcherClosedError('m@1'))).toEqual({
      status: 503,
      code: 'version_retired',
      message: 'model m@1 is not accepting requests (it is being unloaded)',
      headers: { 'Retry-After': '1' },
    });
  });

  it('answers anything else with a 500 that says nothing internal', () => {
    const internal = {
      status: 500,
      code: 'internal',
      message: 'internal error',
      headers: {},
    };
    expect(httpFailure(new Error('password=hunter2 at /srv/secret'))).toEqual(internal);
    expect(httpFailure(new InferenceFailedError('m@1', 'ORT segfault in op Gemm'))).toEqual(
      internal,
    );
    expect(httpFailure(new TypeError("cannot read 'x' of undefined"))).toEqual(internal);
    expect(httpFailure('a string')).toEqual(internal);
    expect(httpFailure(undefined)).toEqual(internal);
  });
});
