import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { start as startLocalKafka, stop as stopLocalKafka } from '../../../infra/kafka/kafka.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSource: 'env' | 'testcontainers' | 'local';
  }
}

const root = path.resolve(__dirname, '..', '..', '..');

/** Is a Docker engine there to answer? Checked cheaply before testcontainers is loaded. */
async function dockerEngine(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

/**
 * One real Kafka broker for the whole run: `KAFKA_BROKERS` when set; else a testcontainers
 * broker when a Docker engine answers; else the local KRaft broker of infra/kafka on a port and
 * data directory of its own (these machines have no Docker engine). Test files isolate
 * themselves with a topic prefix and group ids of their own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `--project unit` needs neither a build nor a broker: pure tests start in a second.
  const tiers = project.vitest.projects.map((p) => p.name);
  if (!tiers.includes('broker') && !tiers.includes('e2e')) return async () => {};
  // The e2e tests run the built services as processes.
  const build = spawnSync(
    process.execPath,
    [path.join(root, 'infra/scripts/build.mjs'), '--if-needed'],
    { stdio: 'inherit' },
  );
  if (build.status !== 0) throw new Error('build failed');

  if (process.env.KAFKA_BROKERS) {
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    project.provide('kafkaSource', 'env');
    return async () => {};
  }
  if (await dockerEngine()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    project.provide('kafkaBrokers', `${container.getHost()}:${container.getMappedPort(9093)}`);
    project.provide('kafkaSource', 'testcontainers');
    return async () => {
      await container.stop();
    };
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mlops-test-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: process.env.TEST_KAFKA_PORT ?? '21092',
    KAFKA_DATA_DIR: dataDir,
  };
  const { brokers } = await startLocalKafka(env);
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSource', 'local');
  return async () => {
    await stopLocalKafka(env);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
