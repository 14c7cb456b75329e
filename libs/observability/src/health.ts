export interface CheckResult {
  ok: boolean;
  details?: unknown;
}

export type Check = () => CheckResult | Promise<CheckResult>;

/**
 * Named checks that providers register at init. Liveness asks: is this process still doing its
 * work (a stalled consumer loop fails it, so the orchestrator restarts the pod)? Readiness
 * asks: can it take traffic now (connected, tables caught up)?
 */
export class HealthRegistry {
  private readonly liveness = new Map<string, Check>();
  private readonly readiness = new Map<string, Check>();

  addLiveness(name: string, check: Check): void {
    this.liveness.set(name, check);
  }

  addReadiness(name: string, check: Check): void {
    this.readiness.set(name, check);
  }

  live(): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
    return run(this.liveness);
  }

  ready(): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
    return run(this.readiness);
  }
}

async function run(
  checks: Map<string, Check>,
): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
  const results: Record<string, CheckResult> = {};
  for (const [name, check] of checks) {
    try {
      results[name] = await check();
    } catch (err) {
      results[name] = { ok: false, details: (err as Error).message };
    }
  }
  return { ok: Object.values(results).every((r) => r.ok), checks: results };
}
