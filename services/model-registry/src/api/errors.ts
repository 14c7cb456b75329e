import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { AuthError } from '@mlops/auth';
import { ApiError } from '@mlops/nest-kit';
import { ArtifactTooLargeError, DigestMismatchError } from '../artifacts/artifact-store';
import { AlreadyExistsError, InvalidError, NotFoundError } from '../store/registry-store';

interface Problem {
  status: number;
  /** Our `/v1` code. */
  code: string;
  /** MLflow's error_code. */
  mlflow: string;
  message: string;
  headers?: Record<string, string>;
}

/** Any failure → status, our code, MLflow's code and a message meant for the caller. */
export function toProblem(err: unknown): Problem | undefined {
  if (err instanceof NotFoundError)
    return {
      status: 404,
      code: 'not_found',
      mlflow: 'RESOURCE_DOES_NOT_EXIST',
      message: err.message,
    };
  // MLflow answers 400 for an existing name; /v1 says 409 Conflict.
  if (err instanceof AlreadyExistsError)
    return {
      status: 409,
      code: 'already_exists',
      mlflow: 'RESOURCE_ALREADY_EXISTS',
      message: err.message,
    };
  if (err instanceof InvalidError)
    return {
      status: 400,
      code: 'invalid_argument',
      mlflow: 'INVALID_PARAMETER_VALUE',
      message: err.message,
    };
  if (err instanceof ZodError) {
    const message = err.issues
      .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
      .join('; ');
    return { status: 400, code: 'invalid_argument', mlflow: 'INVALID_PARAMETER_VALUE', message };
  }
  if (err instanceof DigestMismatchError)
    return {
      status: 400,
      code: 'digest_mismatch',
      mlflow: 'INVALID_PARAMETER_VALUE',
      message: err.message,
    };
  if (err instanceof ArtifactTooLargeError)
    return {
      status: 413,
      code: 'payload_too_large',
      mlflow: 'INVALID_PARAMETER_VALUE',
      message: err.message,
    };
  if (err instanceof AuthError) {
    return {
      status: err.status,
      code: err.code,
      mlflow: err.mlflowErrorCode,
      message: err.message,
      headers: err.headers,
    };
  }
  if (err instanceof ApiError) {
    const body = err.getResponse() as { error: { code: string; message: string } };
    return {
      status: err.getStatus(),
      code: body.error.code,
      mlflow: err.getStatus() === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE',
      message: body.error.message,
      headers: err.headers,
    };
  }
  // body-parser's errors carry a status and a type.
  const bp = err as { type?: string; status?: number; message?: string };
  if (bp.type === 'entity.parse.failed')
    return {
      status: 400,
      code: 'malformed_json',
      mlflow: 'MALFORMED_REQUEST',
      message: `the body is not valid JSON: ${bp.message ?? ''}`,
    };
  if (bp.type === 'entity.too.large')
    return {
      status: 413,
      code: 'payload_too_large',
      mlflow: 'INVALID_PARAMETER_VALUE',
      message: 'the body exceeds the size limit',
    };
  if (bp.type === 'encoding.unsupported' || bp.type === 'charset.unsupported')
    return {
      status: 415,
      code: 'unsupported_media_type',
      mlflow: 'INVALID_PARAMETER_VALUE',
      message: bp.message ?? 'unsupported encoding',
    };
  if (err instanceof HttpException) {
    const status = err.getStatus();
    return {
      status,
      code: status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : 'bad_request',
      mlflow: status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST',
      message: err.message,
    };
  }
  return undefined;
}

export const MLFLOW_PREFIX = '/api/2.0/mlflow';

/**
 * One filter, two error shapes: MLflow's `{"error_code", "message"}` under `/api/2.0/mlflow`
 * (so MLflow's client raises the right exception), `{"error": {"code", "message"}}` elsewhere.
 */
@Catch()
export class RegistryExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const problem = toProblem(exception) ?? {
      status: 500,
      code: 'internal',
      mlflow: 'INTERNAL_ERROR',
      message: 'internal error',
    };
    if (problem.status >= 500)
      this.logger.error({ err: exception, path: req.path }, 'request failed');
    for (const [name, value] of Object.entries(problem.headers ?? {})) res.setHeader(name, value);
    const mlflow = req.path.startsWith(MLFLOW_PREFIX);
    // MLflow answers an existing name with 400, not 409.
    const status = mlflow && problem.mlflow === 'RESOURCE_ALREADY_EXISTS' ? 400 : problem.status;
    res
      .status(status)
      .json(
        mlflow
          ? { error_code: problem.mlflow, message: problem.message }
          : { error: { code: problem.code, message: problem.message } },
      );
  }
}
