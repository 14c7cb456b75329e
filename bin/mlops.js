#!/usr/bin/env node
// The `mlops` command: builds the sources first when they changed (a no-op otherwise), then
// runs the CLI from dist/. `npm link` puts it on the PATH; `npm run mlops -- <args>` works too.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const build = spawnSync(
  process.execPath,
  [path.join(root, 'infra/scripts/build.mjs'), '--if-needed'],
  {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
if (build.status !== 0) {
  process.stderr.write('mlops: the build failed (see above)\n');
  process.exit(1);
}
require(path.join(root, 'dist/cli/src/main.js'));
