import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as LocalKafka from '../../infra/kafka/kafka.mjs';
import { repoRoot } from './paths';

export interface BenchKafka {
  /** host:port list for kafkajs. */
  readonly brokers: string[];
  /** `env`: KAFKA_BROKERS was given; `local`: this process started a broker of its own. */
  readonly source: 'env' | 'local';
  stop(): Promise<void>;
}

// infra/kafka/kafka.mjs is ESM with a top-level await: it cannot be `require`d, and its
// SWC-compiled copy in dist/ does not load. The source file is imported as ESM instead (SWC
// keeps `import()` in its CommonJS output).
const importEsm = (specifier: string): Promise<unknown> => import(specifier);

function log(line: string): void {
  process.stdout.write(`[kafka] ${line}\n`);
}

/**
 * The broker of a benchmark, found the way the test harness finds one: `KAFKA_BROKERS` when
 * set; else the local KRaft broker of infra/kafka on a port of its own (BENCH_KAFKA_PORT,
 * default 21192, away from `npm start`'s 9092 and the tests' 21092) with a temporary data
 * directory, stopped and removed by `stop()`.
 */
export async function startKafka(): Promise<BenchKafka> {
  if (process.env.KAFKA_BROKERS) {
    const brokers = process.env.KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    log(`using KAFKA_BROKERS=${brokers.join(',')}`);
    return { brokers, source: 'env', stop: async () => {} };
  }
  const local = (await importEsm(
    pathToFileURL(path.join(repoRoot(), 'infra/kafka/kafka.mjs')).href,
  )) as typeof LocalKafka;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mlops-bench-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: process.env.BENCH_KAFKA_PORT ?? '21192',
    KAFKA_DATA_DIR: dataDir,
  };
  const started = Date.now();
  let result: Awaited<ReturnType<typeof LocalKafka.start>>;
  try {
    result = await local.start(env);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  log(
    `${result.started ? 'started' : 'reusing a broker'} on ${result.brokers} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  let stopped = false;
  return {
    brokers: [result.brokers],
    source: 'local',
    async stop() {
      if (stopped) return;
      stopped = true;
      await local.stop(env);
      rmSync(dataDir, { recursive: true, force: true });
      log('stopped');
    },
  };
}

/**
 * Runs `fn` with a broker and always stops it afterwards, also on Ctrl-C: a benchmark must not
 * leave a JVM behind.
 */
export async function withKafka<T>(fn: (kafka: BenchKafka) => Promise<T>): Promise<T> {
  const kafka = await startKafka();
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the broker`);
    void kafka.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(kafka);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await kafka.stop();
  }
}
