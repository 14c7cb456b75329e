import { KafkaJSError, KafkaJSProtocolError } from 'kafkajs';

/**
 * A failure that will not go away by retrying: bad data, a business rule. The record is
 * dead-lettered with `code` and the partition moves on.
 */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** A failure worth retrying (a dependency is down, a timeout). */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** Thrown to a producer's caller when its bounded buffer is full: try again later. */
export class BackpressureError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'BackpressureError';
  }
}

const PERMANENT_BROKER_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
]);

export type FailureClass = 'permanent' | 'transient';

/**
 * Only what is known to be transient is retried: our TransientError and Kafka errors the
 * client marks retriable. Everything else an unknown handler throws is also retried (bounded),
 * because an unexpected throw is more often a dependency than the data; data problems are
 * signalled with PermanentError.
 */
export function classify(err: unknown): FailureClass {
  if (err instanceof PermanentError) return 'permanent';
  if (err instanceof TransientError) return 'transient';
  // The broker refuses these records for what they are; sending them again cannot help.
  if (err instanceof KafkaJSProtocolError && PERMANENT_BROKER_ERRORS.has(err.type))
    return 'permanent';
  if (err instanceof KafkaJSError) return 'transient';
  return 'transient';
}

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, initialMs: 100, maxMs: 5_000 };

/** Exponential backoff with equal jitter: attempt n waits a random time in [cap/2, cap], cap = min(max, initial·2ⁿ). */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * 2 ** attempt);
  return Math.round(cap * (0.5 + random() / 2));
}

/**
 * Runs `fn` until it succeeds, a permanent failure occurs, or the retries are spent. `onRetry`
 * runs before each wait (the consumer heartbeats there so the group does not evict it).
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  onRetry: (err: unknown, attempt: number, waitMs: number) => Promise<void> | void = () => {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (classify(err) === 'permanent' || attempt >= policy.retries) throw err;
      const wait = backoffMs(policy, attempt);
      await onRetry(err, attempt + 1, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
