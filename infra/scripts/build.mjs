#!/usr/bin/env node
// Compiles every TypeScript source (libs, services, bench, infra, test, cli) to dist/ with SWC,
// which keeps Nest's decorator metadata and rewrites the @mlops/* path aliases.
// `--if-needed` skips the work when dist/ is newer than every source file; `--typecheck`
// runs tsc first (the SWC pass does not check types).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const roots = ['libs', 'services', 'bench', 'infra', 'test', 'cli'];
const args = new Set(process.argv.slice(2));
const stamp = path.join(root, 'dist', '.build-stamp');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (args.has('--if-needed') && fs.existsSync(stamp)) {
  const built = fs.statSync(stamp).mtimeMs;
  const sources = Math.max(
    ...roots
      .filter((r) => fs.existsSync(path.join(root, r)))
      .map((r) => newestSource(path.join(root, r))),
    fs.statSync(path.join(root, '.swcrc')).mtimeMs,
  );
  if (sources <= built) process.exit(0);
}

if (args.has('--typecheck'))
  run(process.execPath, [
    path.join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.json',
    '--noEmit',
  ]);
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [
  path.join(root, 'node_modules/@swc/cli/bin/swc.js'),
  ...roots.filter((r) => fs.existsSync(path.join(root, r))),
  '-d',
  'dist',
  '--quiet',
  '--ignore',
  '**/*.spec.ts',
]);
fs.writeFileSync(stamp, new Date().toISOString());
