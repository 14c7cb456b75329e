import { performance } from 'node:perf_hooks';

export interface Throughput {
  /** Records counted when the target was reached. */
  count: number;
  /** From the first record handed to the pipeline's code to the target-th acknowledged output. */
  seconds: number;
  /** count ÷ seconds. */
  perSecond: number;
  /** From `start()` to the first record (connect, group join, first fetch): not in `seconds`. */
  startupMs: number;
  /**
   * CPU time of this Node process (all its threads) per counted record over the same span: the
   * client-side cost, which other load on a shared machine disturbs less than wall time.
   */
  cpuMicrosPerRecord: number;
}

/**
 * The clock of one pipeline run. The pipeline calls `first()` when its code first sees a record
 * and `done(n)` each time n outputs are acknowledged by Kafka; `wait()` resolves once `target`
 * outputs are, with no polling and no sleeps.
 */
export class RunClock {
  private count = 0;
  private startedAt = 0;
  private firstAt: number | undefined;
  private endAt: number | undefined;
  private countAtEnd = 0;
  private cpuAtFirst: NodeJS.CpuUsage | undefined;
  private cpuSpent: NodeJS.CpuUsage | undefined;
  private resolve!: () => void;
  private readonly reached = new Promise<void>((r) => (this.resolve = r));

  constructor(readonly target: number) {}

  /** Marks the moment the pipeline is told to start (group join and first fetch follow). */
  start(): void {
    this.startedAt = performance.now();
  }

  first(): void {
    if (this.firstAt === undefined) {
      this.firstAt = performance.now();
      this.cpuAtFirst = process.cpuUsage();
    }
  }

  done(n: number): void {
    this.count += n;
    if (this.endAt === undefined && this.count >= this.target) {
      this.endAt = performance.now();
      this.countAtEnd = this.count;
      this.cpuSpent = process.cpuUsage(this.cpuAtFirst);
      this.resolve();
    }
  }

  get acknowledged(): number {
    return this.count;
  }

  async wait(timeoutMs: number, label: string): Promise<Throughput> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${label}: ${this.count} of ${this.target} outputs acknowledged after ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.reached, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const first = this.firstAt ?? this.startedAt;
    const seconds = (this.endAt! - first) / 1000;
    // The count at the moment the target was reached (batches may overshoot a subset target).
    const count = this.countAtEnd;
    const cpu = this.cpuSpent!.user + this.cpuSpent!.system;
    return {
      count,
      seconds,
      perSecond: count / seconds,
      startupMs: first - this.startedAt,
      cpuMicrosPerRecord: cpu / count,
    };
  }
}

/** A positive integer setting from the environment (BENCH_RUNS, …), or the fallback. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
