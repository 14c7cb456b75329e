import { existsSync } from 'node:fs';
import path from 'node:path';

let root: string | undefined;

/**
 * The repository root, found from this file so that the same code works from `bench/lib`
 * (ts tooling) and from `dist/bench/lib` (the built benchmark).
 */
export function repoRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (
      existsSync(path.join(dir, 'infra', 'kafka', 'kafka.mjs')) &&
      existsSync(path.join(dir, 'package.json'))
    ) {
      return (root = dir);
    }
    if (path.dirname(dir) === dir)
      throw new Error(`cannot find the repository root above ${__dirname}`);
  }
}
