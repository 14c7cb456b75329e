// `node dist/bench/run.js [name]` (`npm run bench -- [name]`): runs one benchmark, or all of them
// in order. Each benchmark starts what it needs, measures, and returns its figures; this writes
// them to bench/results/<name>.json and prints them (see /work/shared/BENCH.md).
import { report, type BenchResult } from './lib/report';

interface BenchmarkModule {
  run(): Promise<BenchResult>;
}

/**
 * name → module, loaded only when run (each pulls in its own heavy dependencies). The built
 * files are CommonJS and SWC keeps `import()`, which Node resolves as ESM: hence the `.js`.
 */
const BENCHMARKS: Record<string, () => Promise<BenchmarkModule>> = {
  bus: () => import('./bus.js'),
  'data-quality': () => import('./data-quality.js'),
  feature: () => import('./feature.js'),
  registry: () => import('./registry.js'),
  trainer: () => import('./trainer.js'),
  compressor: () => import('./compressor.js'),
  drift: () => import('./drift.js'),
  inference: () => import('./inference.js'),
};

async function main(argv: string[]): Promise<number> {
  const names = argv.length > 0 ? argv : Object.keys(BENCHMARKS);
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.map((n) => `"${n}"`).join(', ')}; available: ${Object.keys(BENCHMARKS).join(', ')}\n`,
    );
    return 2;
  }
  let failed = 0;
  for (const name of names) {
    process.stdout.write(`\n=== bench ${name} ===\n`);
    try {
      const mod = await BENCHMARKS[name]();
      report(await mod.run());
    } catch (err) {
      failed++;
      process.stderr.write(
        `bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
  }
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
