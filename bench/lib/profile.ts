import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

function post<T = unknown>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
  );
}

/**
 * Runs `fn`, and when BENCH_CPU_PROF names a directory, records a V8 CPU profile of just this
 * section to `<dir>/<label>.cpuprofile` (open it in Chrome DevTools or speedscope). Unlike
 * `node --cpu-prof`, setup such as preloading topics stays out of the profile.
 */
export async function profiled<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
    await post(session, 'Profiler.start');
    let ok = false;
    try {
      const result = await fn();
      ok = true;
      return result;
    } finally {
      const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
      if (ok) {
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${label}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        process.stdout.write(`[profile] ${file}\n`);
      }
    }
  } finally {
    session.disconnect();
  }
}
