import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Repository root, whether running from sources or from dist/. */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (dir !== path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
      };
      if (pkg.name === 'streaming-mlops') return dir;
    } catch {
      // not here; climb
    }
    dir = path.dirname(dir);
  }
  throw new Error('repository root (package.json of streaming-mlops) not found');
})();

export const ASYNCAPI_PATH = path.join(REPO_ROOT, 'docs', 'asyncapi.yaml');

export function contractsVersion(): string {
  return (
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version;
}
