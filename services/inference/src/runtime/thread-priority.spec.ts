import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lowerThreadPriority } from './thread-priority';

describe('lowerThreadPriority', () => {
  it('sets the calling thread’s nice value on Linux, clamped to 19; nothing elsewhere or at 0', () => {
    const calls: [number, number][] = [];
    const set = (pid: number, p: number) => void calls.push([pid, p]);
    expect(lowerThreadPriority(10, 'linux', set)).toBe(true);
    expect(lowerThreadPriority(40, 'linux', set)).toBe(true);
    expect(lowerThreadPriority(0, 'linux', set)).toBe(false);
    expect(lowerThreadPriority(10, 'darwin', set)).toBe(false);
    expect(calls).toEqual([
      [0, 10],
      [0, 19],
    ]);
    expect(
      lowerThreadPriority(5, 'linux', () => {
        throw new Error('EACCES');
      }),
    ).toBe(false);
  });

  it.runIf(process.platform === 'linux')(
    'on Linux, priority 0 means the calling thread: a worker’s change leaves the event loop’s',
    async () => {
      const before = getPriority(0);
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
         const os = require('node:os');
         os.setPriority(0, Math.min(19, os.getPriority(0) + 7));
         parentPort.postMessage(os.getPriority(0));`,
        { eval: true },
      );
      const inWorker = await new Promise<number>((resolve) => worker.once('message', resolve));
      await worker.terminate();
      expect(inWorker).toBe(Math.min(19, before + 7));
      expect(getPriority(0)).toBe(before);
    },
  );
});
