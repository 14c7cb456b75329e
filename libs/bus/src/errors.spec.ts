import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
} from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BackpressureError,
  DEFAULT_RETRY,
  PermanentError,
  TransientError,
  backoffMs,
  classify,
  withRetry,
  type RetryPolicy,
} from './errors';

/** A broker error as kafkajs builds it from a protocol error code. */
function protocolError(type: string, code: number, retriable: boolean): KafkaJSProtocolError {
  return new KafkaJSProtocolError({
    type,
    code,
    retriable,
    message: `broker said ${type}`,
  } as unknown as Error);
}

describe('classify', () => {
  it('PermanentError is permanent, TransientError transient', () => {
    expect(classify(new PermanentError('bad_record', 'no'))).toBe('permanent');
    expect(classify(new TransientError('later'))).toBe('transient');
  });

  it.each([
    ['MESSAGE_TOO_LARGE', 10],
    ['RECORD_LIST_TOO_LARGE', 18],
    ['INVALID_RECORD', 87],
    ['CORRUPT_MESSAGE', 2],
  ])('a broker %s is permanent', (type, code) => {
    const err = protocolError(type, code, false);
    expect(err.type).toBe(type);
    expect(classify(err)).toBe('permanent');
  });

  it('other KafkaJS errors are transient, retriable or not', () => {
    expect(classify(protocolError('NOT_LEADER_FOR_PARTITION', 6, true))).toBe('transient');
    expect(classify(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, true))).toBe('transient');
    expect(classify(new KafkaJSConnectionError('connection refused'))).toBe('transient');
    expect(classify(new KafkaJSNonRetriableError('nope'))).toBe('transient');
    expect(classify(new KafkaJSError('generic'))).toBe('transient');
  });

  it('plain errors and non-errors are transient', () => {
    expect(classify(new Error('boom'))).toBe('transient');
    expect(classify(new TypeError('x is undefined'))).toBe('transient');
    expect(classify('a string')).toBe('transient');
    expect(classify(undefined)).toBe('transient');
  });
});

describe('error classes', () => {
  it('carry their fields and names', () => {
    const p = new PermanentError('out_of_range', 'amount too big', 'amount');
    expect([p.name, p.code, p.message, p.field, p instanceof Error]).toEqual([
      'PermanentError',
      'out_of_range',
      'amount too big',
      'amount',
      true,
    ]);
    const cause = new Error('socket');
    const t = new TransientError('db down', { cause });
    expect([t.name, t.message, t.cause]).toEqual(['TransientError', 'db down', cause]);
    const b = new BackpressureError('full', 250);
    expect([b.name, b.message, b.retryAfterMs]).toEqual(['BackpressureError', 'full', 250]);
  });
});

describe('backoffMs', () => {
  const policy: RetryPolicy = { retries: 10, initialMs: 100, maxMs: 1_000 };

  it('waits between half and all of min(max, initial·2^attempt)', () => {
    expect(backoffMs(policy, 0, () => 0)).toBe(50);
    expect(backoffMs(policy, 0, () => 0.999999)).toBe(100);
    expect(backoffMs(policy, 0, () => 0.5)).toBe(75);
    expect(backoffMs(policy, 1, () => 0)).toBe(100);
    expect(backoffMs(policy, 1, () => 1)).toBe(200);
    expect(backoffMs(policy, 3, () => 1)).toBe(800);
  });

  it('is capped at maxMs for late attempts', () => {
    expect(backoffMs(policy, 4, () => 1)).toBe(1_000);
    expect(backoffMs(policy, 4, () => 0)).toBe(500);
    expect(backoffMs(policy, 50, () => 0.5)).toBe(750);
    expect(backoffMs(policy, 5_000, () => 1)).toBe(1_000);
  });

  it('stays within its bounds for any random value', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(policy.maxMs, policy.initialMs * 2 ** attempt);
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]) {
        const wait = backoffMs(policy, attempt, () => r);
        expect(wait).toBeGreaterThanOrEqual(cap / 2);
        expect(wait).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('uses Math.random by default', () => {
    const spy = vi.spyOn(Math, 'random').mockReturnValue(0);
    try {
      expect(backoffMs(DEFAULT_RETRY, 2)).toBe(200);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('withRetry', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const fast: RetryPolicy = { retries: 3, initialMs: 1, maxMs: 4 };

  function failing(failures: Error[], result = 'done') {
    let calls = 0;
    const fn = vi.fn(async () => {
      const err = failures[calls++];
      if (err !== undefined) throw err;
      return result;
    });
    return fn;
  }

  it('returns at once when the first call succeeds', async () => {
    const onRetry = vi.fn();
    const fn = failing([]);
    await expect(withRetry(fn, fast, onRetry)).resolves.toBe('done');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('succeeds after n transient failures, calling onRetry with attempts 1..n', async () => {
    const errors = [
      new TransientError('a'),
      new Error('b'),
      protocolError('REQUEST_TIMED_OUT', 7, true),
    ];
    const fn = failing(errors, 'ok');
    const onRetry = vi.fn();
    await expect(withRetry(fn, fast, onRetry)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(4);
    expect(onRetry.mock.calls.map(([err, attempt]) => [err, attempt])).toEqual([
      [errors[0], 1],
      [errors[1], 2],
      [errors[2], 3],
    ]);
    for (const [, attempt, wait] of onRetry.mock.calls as [unknown, number, number][]) {
      const cap = Math.min(fast.maxMs, fast.initialMs * 2 ** (attempt - 1));
      expect(wait).toBeGreaterThanOrEqual(cap / 2);
      expect(wait).toBeLessThanOrEqual(cap);
    }
  });

  it('stops at once on a permanent failure', async () => {
    const permanent = new PermanentError('bad', 'bad data');
    const fn = failing([permanent]);
    const onRetry = vi.fn();
    await expect(withRetry(fn, fast, onRetry)).rejects.toBe(permanent);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('stops on a permanent failure after transient ones', async () => {
    const tooLarge = protocolError('MESSAGE_TOO_LARGE', 10, false);
    const fn = failing([new TransientError('a'), tooLarge]);
    const onRetry = vi.fn();
    await expect(withRetry(fn, fast, onRetry)).rejects.toBe(tooLarge);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(onRetry).toHaveBeenCalledTimes(1);
  });

  it('gives up after `retries` retries with the last error', async () => {
    const errors = [1, 2, 3, 4, 5].map((i) => new TransientError(`failure ${i}`));
    const fn = failing(errors);
    const onRetry = vi.fn();
    await expect(withRetry(fn, fast, onRetry)).rejects.toBe(errors[3]);
    expect(fn).toHaveBeenCalledTimes(4);
    expect(onRetry.mock.calls.map(([, attempt]) => attempt)).toEqual([1, 2, 3]);
  });

  it('with retries 0 calls once', async () => {
    const err = new TransientError('x');
    const fn = failing([err]);
    await expect(withRetry(fn, { ...fast, retries: 0 })).rejects.toBe(err);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waits the backoff between attempts, after onRetry has finished', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const policy: RetryPolicy = { retries: 2, initialMs: 1_000, maxMs: 60_000 };
    const order: string[] = [];
    const fn = failing([new TransientError('a'), new TransientError('b')]);
    const promise = withRetry(fn, policy, async (_err, attempt, wait) => {
      order.push(`retry ${attempt} after ${wait}`);
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    await expect(promise).resolves.toBe('done');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(order).toEqual(['retry 1 after 500', 'retry 2 after 1000']);
  });
});
