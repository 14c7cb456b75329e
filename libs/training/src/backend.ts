import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/**
 * The tfjs backend of this process, chosen once: `@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node` when installed (optional: their install downloads libtensorflow, which
 * these machines cannot; they must be the same version as @tensorflow/tfjs-core), else the
 * WebAssembly backend (SIMD when the runtime has it; its thread pool needs a browser's workers,
 * so one thread in Node), else the plain-JS cpu backend.
 */

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs's name of the backend: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** Which package provides it (`@tensorflow/tfjs-node-gpu`, …). */
  package: string;
  simd: boolean | null;
  threads: number;
  /** Backends tried before this one and why they were not taken. */
  skipped: { package: string; reason: string }[];
}

let chosen: BackendInfo | undefined;

const NATIVE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function tryNative(pkg: string): string | null {
  try {
    // Optional packages: present only where their native install could run.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/**
 * Selects and initialises the backend (once per process; later calls return the first choice
 * unless `preference` names another one explicitly, which switches).
 */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (chosen && (preference === 'auto' || preference === chosen.name)) return chosen;
  const skipped: BackendInfo['skipped'] = [];
  const order: string[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  for (const name of order) {
    if (name === 'tensorflow') {
      let pkg: string | null = null;
      for (const candidate of NATIVE) {
        const reason = tryNative(candidate);
        if (reason === null) {
          pkg = candidate;
          break;
        }
        skipped.push({ package: candidate, reason });
      }
      if (!pkg || !(await setBackend('tensorflow', skipped, pkg))) {
        if (preference !== 'auto')
          throw new Error(`backend tensorflow unavailable: ${JSON.stringify(skipped)}`);
        continue;
      }
      chosen = { name, package: pkg, simd: null, threads: 0, skipped };
      return chosen;
    }
    const pkg = name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu';
    if (!(await setBackend(name, skipped, pkg))) {
      if (preference !== 'auto')
        throw new Error(`backend ${name} unavailable: ${JSON.stringify(skipped)}`);
      continue;
    }
    const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null;
    chosen = { name, package: pkg, simd, threads: 1, skipped };
    return chosen;
  }
  throw new Error(`no tfjs backend could start: ${JSON.stringify(skipped)}`);
}

async function setBackend(
  name: string,
  skipped: BackendInfo['skipped'],
  pkg: string,
): Promise<boolean> {
  try {
    if (!(await tf.setBackend(name))) {
      skipped.push({ package: pkg, reason: 'setBackend returned false' });
      return false;
    }
    await tf.ready();
    return true;
  } catch (err) {
    skipped.push({ package: pkg, reason: (err as Error).message });
    return false;
  }
}

/** The backend selected so far, if any. */
export function currentBackend(): BackendInfo | undefined {
  return chosen;
}
