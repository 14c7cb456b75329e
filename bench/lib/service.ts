import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { repoRoot } from './paths';

// libs/testing's startService finds dist/ relative to its own source file: from its built copy
// (dist/libs/testing/src) it would look for dist/dist/services. Its index also imports vitest.
// The benchmark therefore starts services with this, the same way (built main.js, its own
// process, ready once /health/ready answers 200).

export interface BenchService {
  readonly name: string;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** The last 64 KiB of what the process printed (LOG_LEVEL=warn keeps it short). */
  output(): string;
  /** CPU seconds (user + system, all threads) the process has used so far; NaN off Linux. */
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds. */
function processCpuSeconds(pid: number): number {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return Number.NaN;
  const stat = readFileSync(file, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

const running = new Set<() => void>();
process.once('exit', () => {
  for (const kill of running) kill();
});

/**
 * Runs a built service (dist/services/<name>/src/main.js) as its own process with `env` on top
 * of this process's environment (minus `unset`), and resolves once `/health/ready` answers 200.
 * A process still running when the benchmark exits is killed.
 */
export async function startService(
  name: string,
  env: Record<string, string>,
  options: {
    unset?: string[];
    readyTimeoutMs?: number;
    /** How often `/health/ready` is asked (default 200 ms); lower when the ready moment is timed. */
    readyPollMs?: number;
  } = {},
): Promise<BenchService> {
  const main = path.join(repoRoot(), 'dist', 'services', name, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  const host = '127.0.0.1';
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of options.unset ?? []) delete childEnv[key];
  Object.assign(childEnv, env, { PORT: String(port), HOST: host });
  // BENCH_CPU_PROF (see profile.ts) profiles the service process too, its whole life.
  const prof = process.env.BENCH_CPU_PROF;
  const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd: repoRoot(),
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
    if (output.length > 128 * 1024) output = output.slice(-64 * 1024);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? null : code);
      resolve(exitCode);
    }),
  );
  const kill = () => {
    if (exitCode === undefined) child.kill('SIGKILL');
  };
  running.add(kill);
  void exited.then(() => running.delete(kill));

  const url = `http://${host}:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(
        `${name} exited with ${exitCode} before it was ready:\n${output.slice(-4000)}`,
      );
    if (Date.now() > deadline) {
      kill();
      await exited;
      throw new Error(`${name} was not ready in time:\n${output.slice(-4000)}`);
    }
    const ok = await fetch(`${url}/health/ready`).then(
      async (r) => {
        await r.arrayBuffer();
        return r.ok;
      },
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, options.readyPollMs ?? 200));
  }
  const pid = child.pid!;
  return {
    name,
    url,
    host,
    port,
    pid,
    output: () => output,
    cpuSeconds: () => processCpuSeconds(pid),
    async stop(graceMs = 15_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
