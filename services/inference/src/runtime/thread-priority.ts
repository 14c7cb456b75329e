import { setPriority } from 'node:os';

/**
 * Lowers the scheduling priority of the calling thread to `nice` (0–19), for the service's
 * helper threads (the request decoder, the prediction log's producer). On a busy node they
 * then yield the CPU to the event loop, which answers every request, instead of sharing it
 * evenly: the loop's timers run on time and requests are taken in sooner.
 *
 * On Linux the nice value belongs to a thread (`setpriority(PRIO_PROCESS, 0)` sets the caller's
 * only), and raising it needs no privilege. Elsewhere it would apply to the whole process, so
 * nothing is done there. Returns whether the priority was set.
 */
export function lowerThreadPriority(
  nice: number,
  platform: NodeJS.Platform = process.platform,
  set: (pid: number, priority: number) => void = setPriority,
): boolean {
  if (!(nice > 0) || platform !== 'linux') return false;
  try {
    set(0, Math.min(19, Math.floor(nice)));
    return true;
  } catch {
    return false;
  }
}
