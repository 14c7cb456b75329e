#!/usr/bin/env node
/**
 * `mlops`: the platform's command-line tool (see cli/README.md, or `mlops --help`).
 * Compiled to dist/cli/src/main.js; the package's `bin` runs it through a shim.
 */
import { run } from './cli';
import { fetchHttp } from './http';
import { terminalIo } from './io';

async function main(): Promise<void> {
  const interrupt = new AbortController();
  let trapped = false;
  process.on('SIGINT', () => {
    // A command that trapped Ctrl-C (produce) finishes its batch and prints what it sent; a
    // second Ctrl-C, or one during any other command, quits at once.
    if (!trapped || interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
  // `mlops … | head` closes stdout early: not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE')
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
  process.exitCode = await run(process.argv.slice(2), {
    io: terminalIo,
    env: process.env,
    http: fetchHttp,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    trapInterrupt: () => {
      trapped = true;
      return interrupt.signal;
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `mlops: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
