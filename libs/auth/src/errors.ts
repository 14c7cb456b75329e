import type { Response } from 'express';
import { ApiError, type ApiErrorBody } from '@mlops/nest-kit';

// HttpException keeps its `status` field private, and a subclass may not make it public. Seen
// through this constructor type (public members only) AuthError may declare it; at run time
// the base class is ApiError itself, so `instanceof ApiError` and the `/v1` filter still hold.
const ApiErrorBase = ApiError as unknown as new (
  ...args: ConstructorParameters<typeof ApiError>
) => Omit<ApiError, never> & Error;

/**
 * What the guard throws: 401 (no or bad credential, with `WWW-Authenticate`) or 403 (a valid
 * caller without the role), carrying `status`, `code`, `message` and `headers`. It is an
 * ApiError, so the `/v1` ApiExceptionFilter already renders it as `{"error":{"code","message"}}`
 * with its headers; other APIs' filters render it with the helpers below — and must test for
 * AuthError before any generic HttpException branch.
 */
export class AuthError extends ApiErrorBase {
  /** 401 or 403: HttpException's own field, made public here. */
  declare readonly status: 401 | 403;

  constructor(status: 401 | 403, message: string, headers: Record<string, string> = {}) {
    super(status, status === 401 ? 'unauthenticated' : 'forbidden', message, undefined, headers);
    // HttpException would otherwise derive the message from the class name ("Auth Error").
    this.message = message;
  }

  /** MLflow's `error_code` for this failure. */
  get mlflowErrorCode(): 'UNAUTHENTICATED' | 'PERMISSION_DENIED' {
    return this.status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED';
  }

  /** No credential, or one that does not verify. */
  static unauthenticated(message: string, invalidToken = false): AuthError {
    // RFC 6750 §3: no error attribute when the request carried no credential at all.
    return new AuthError(401, message, {
      'WWW-Authenticate': invalidToken ? 'Bearer error="invalid_token"' : 'Bearer',
    });
  }

  static forbidden(message: string): AuthError {
    return new AuthError(403, message);
  }
}

/** The `/v1` body: `{"error":{"code":"unauthenticated"|"forbidden","message"}}`. */
export function v1AuthErrorBody(err: AuthError): ApiErrorBody {
  return { error: { code: err.code, message: err.message } };
}

/** MLflow's error body: `{"error_code":"UNAUTHENTICATED"|"PERMISSION_DENIED","message"}`. */
export function mlflowAuthErrorBody(err: AuthError): { error_code: string; message: string } {
  return { error_code: err.mlflowErrorCode, message: err.message };
}

/** Sends an AuthError in the given API's shape, with its headers (for exception filters). */
export function sendAuthError(res: Response, err: AuthError, shape: 'v1' | 'mlflow'): void {
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.status(err.status).json(shape === 'v1' ? v1AuthErrorBody(err) : mlflowAuthErrorBody(err));
}
