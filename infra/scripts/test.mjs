#!/usr/bin/env node
// `npm test`: type check and build (the e2e tests spawn the built services from dist/), lint,
// then every vitest project. Extra arguments go to vitest (`npm test -- --project unit`).
// The last line is always `N passed, N failed[, N skipped]`, read from vitest's JSON report,
// because CI reads that line and not vitest's own summary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const report = path.join(root, '.vitest-report.json');
const bin = (pkg, file) => path.join(root, 'node_modules', pkg, file);

function step(title, argv) {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit' });
  if (r.error) console.error(`${title}: ${r.error.message}`);
  // A child killed by a signal has status null.
  return r.status === 0;
}

const built = step('build --typecheck', [
  path.join(root, 'infra/scripts/build.mjs'),
  '--typecheck',
]);
const linted = step('eslint', [bin('eslint', 'bin/eslint.js'), '.']);

// A stale report from an earlier run must not stand in for this one.
fs.rmSync(report, { force: true });
const tested = step('vitest', [
  bin('vitest', 'vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile=${report}`,
  ...process.argv.slice(2),
]);

let counts;
try {
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  // A file that fails to import, or whose beforeAll throws, fails without a failed test (its
  // tests are reported skipped); count each such file as one failure so the line cannot read
  // "0 failed" on a broken run.
  const brokenFiles = (json.testResults ?? []).filter(
    (file) =>
      file.status === 'failed' && !file.assertionResults?.some((t) => t.status === 'failed'),
  ).length;
  counts = {
    passed: json.numPassedTests ?? 0,
    failed: (json.numFailedTests ?? 0) + brokenFiles,
    skipped: (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0),
  };
  // Unhandled errors fail the run after every test passed.
  if (!tested && counts.failed === 0) counts.failed = 1;
} catch (error) {
  console.error(`No vitest report (${error.message}): vitest did not finish.`);
  counts = { passed: 0, failed: 1, skipped: 0 };
}

const failedSteps = [!built && 'build', !linted && 'eslint', !tested && 'vitest'].filter(Boolean);
if (failedSteps.length > 0) console.error(`Failed: ${failedSteps.join(', ')}`);
const ran = counts.passed + counts.failed;
if (ran === 0) console.error('No test ran.');

const ok = failedSteps.length === 0 && counts.failed === 0 && ran > 0;
console.log(
  `${counts.passed} passed, ${counts.failed} failed` +
    (counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''),
);
process.exitCode = ok ? 0 : 1;
