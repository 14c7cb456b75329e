/**
 * Exit codes and the errors that carry them. Every command ends through {@link exitCodeFor}:
 * one table, documented in `mlops --help` and cli/README.md.
 */

export const EXIT = {
  /** Done; for produce/feedback: every record was accepted. */
  OK: 0,
  /** A failure: a service unreachable, a 5xx, a 401/403/409/429…, a run that stopped. */
  FAILURE: 1,
  /** Bad arguments or input (usage on stderr), or a service answered 400/422. */
  USAGE: 2,
  /** A service answered 404: no such model, version, dataset, report… */
  NOT_FOUND: 3,
  /** produce/feedback completed, but some records were rejected. */
  REJECTED: 4,
  /** Interrupted (Ctrl-C); produce prints what it had sent. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a service's error status: 404 → 3, 400/422 → 2, anything else → 1. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 400 || status === 422) return EXIT.USAGE;
  return EXIT.FAILURE;
}

export type ServiceName =
  | 'ingestion'
  | 'data-quality'
  | 'feature'
  | 'trainer'
  | 'compressor'
  | 'registry'
  | 'inference'
  | 'drift-monitor';

/** How a sentence names a service: "the registry", "the drift monitor". */
export function serviceLabel(service: ServiceName): string {
  switch (service) {
    case 'registry':
      return 'the registry';
    case 'drift-monitor':
      return 'the drift monitor';
    case 'data-quality':
      return 'the data-quality service';
    case 'ingestion':
    case 'feature':
    case 'trainer':
    case 'compressor':
    case 'inference':
      return `the ${service} service`;
  }
}

/** Bad arguments: the message, then the command's usage, on stderr; exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The usage text of the command concerned, printed after the message. */
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An input file that cannot be read as records (bad CSV, bad JSON line); exit 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A service answered with an error status. */
export class ServiceError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly status: number,
    /** The service's error code (`not_found`, `no_valid_rows`…), or `http_<status>`. */
    readonly code: string,
    message: string,
    /** `error.details` of the body, when there is one. */
    readonly details?: unknown,
    /** From `Retry-After`, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** A service that does not answer at all (connection refused, DNS, timeout). */
export class UnreachableError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly baseUrl: string,
    override readonly cause?: unknown,
  ) {
    const why = cause instanceof Error ? describeCause(cause) : '';
    super(
      `cannot reach ${serviceLabel(service)} at ${baseUrl}${why ? ` (${why})` : ''}: is the stack running? (npm start)`,
    );
    this.name = 'UnreachableError';
  }
}

/** Any other failure with a chosen exit code (e.g. "cards has no production alias" → 3). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

function describeCause(err: Error): string {
  const code = (err as { code?: unknown }).code;
  const inner = (err as { cause?: unknown }).cause;
  const innerCode = inner && typeof inner === 'object' ? (inner as { code?: unknown }).code : '';
  if (typeof innerCode === 'string' && innerCode) return innerCode;
  if (typeof code === 'string' && code) return code;
  if (err.name === 'TimeoutError') return 'timed out';
  return err.message;
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError || err instanceof InputError) return EXIT.USAGE;
  if (err instanceof ServiceError) return exitCodeForStatus(err.status);
  if (err instanceof CliError) return err.exitCode;
  return EXIT.FAILURE;
}

/** The one line printed on stderr for an error (usage follows separately). */
export function errorLine(err: unknown): string {
  if (err instanceof ServiceError) {
    return `error: ${serviceLabel(err.service)} answered ${err.status}${err.code && !err.code.startsWith('http_') ? ` ${err.code}` : ''}: ${err.message}`;
  }
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}
