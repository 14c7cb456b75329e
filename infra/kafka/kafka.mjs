#!/usr/bin/env node
// Local Apache Kafka for `npm start`, tests and benchmarks: one combined broker+controller in
// KRaft mode on 127.0.0.1, run from the jars that `pom.xml` fetches from Maven Central.
//
//   node infra/kafka/kafka.mjs start|stop|status
//
// Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (port + 10000), KAFKA_DATA_DIR
// (infra/kafka/.data), KAFKA_HEAP (1g), JAVA_HOME. Start and stop are idempotent.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const libsDir = path.join(here, '.dist', 'libs');

/** Resolved settings of one local broker. */
export function brokerSettings(env = process.env) {
  const port = Number(env.KAFKA_PORT ?? 9092);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`KAFKA_PORT must be a TCP port, got "${env.KAFKA_PORT}"`);
  }
  const controllerPort = Number(env.KAFKA_CONTROLLER_PORT ?? port + 10000);
  const dataDir = path.resolve(env.KAFKA_DATA_DIR ?? path.join(here, '.data', String(port)));
  return {
    port,
    controllerPort,
    dataDir,
    heap: env.KAFKA_HEAP ?? '1g',
    brokers: `127.0.0.1:${port}`,
    pidFile: path.join(dataDir, 'broker.pid'),
    logFile: path.join(dataDir, 'broker.log'),
    configFile: path.join(dataDir, 'server.properties'),
    logDirs: path.join(dataDir, 'logs'),
  };
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Fetches the broker jars with Maven when they are not there yet (first start on a machine). */
export function ensureJars() {
  const ready =
    fs.existsSync(libsDir) && fs.readdirSync(libsDir).some((f) => f.startsWith('kafka_2.13-'));
  if (ready) return;
  process.stderr.write('[kafka] fetching the broker jars from Maven Central (first run)…\n');
  const r = spawnSync('mvn', ['-q', '-B', '-f', path.join(here, 'pom.xml'), 'package'], {
    stdio: 'inherit',
  });
  if (r.error) throw new Error(`could not run mvn: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`mvn exited with ${r.status} while fetching the Kafka jars`);
}

function classpath() {
  return fs
    .readdirSync(libsDir)
    .filter((f) => f.endsWith('.jar'))
    .map((f) => path.join(libsDir, f))
    .join(path.delimiter);
}

function serverProperties(s) {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${s.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${s.port},CONTROLLER://127.0.0.1:${s.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${s.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${s.logDirs}`,
    // Topics are created by the services from libs/contracts with their real settings
    // (compaction, partitions); an auto-created topic would silently get the wrong ones.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    // One node: the internal topics cannot have more replicas than that.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests create many short-lived groups; waiting 3 s for more members only slows them.
    'group.initial.rebalance.delay.ms=0',
    // A 2 MB poison record must reach the broker so that the consumer side can dead-letter it.
    'message.max.bytes=4194304',
    'replica.fetch.max.bytes=4194304',
    'log.segment.bytes=268435456',
    'log.retention.hours=168',
    'log.cleaner.enable=true',
    'delete.topic.enable=true',
    '',
  ].join('\n');
}

function log4jProperties(s) {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${s.logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = file',
    'logger.kafka.name = kafka',
    'logger.kafka.level = INFO',
    'logger.apache.name = org.apache.kafka',
    'logger.apache.level = INFO',
    '',
  ].join('\n');
}

function readPid(s) {
  try {
    const pid = Number(fs.readFileSync(s.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Asks the broker for its metadata with a real Kafka ApiVersions + Metadata round trip
 * (kafkajs admin), which only succeeds once the broker has joined its own KRaft quorum.
 */
async function brokerAnswers(s) {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'kafka-readiness',
    brokers: [s.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function formatStorage(s) {
  if (fs.existsSync(path.join(s.logDirs, 'meta.properties'))) return;
  fs.mkdirSync(s.logDirs, { recursive: true });
  const clusterId = randomBytes(16).toString('base64url');
  const r = spawnSync(
    javaBin(),
    [
      '-cp',
      classpath(),
      `-Dlog4j2.configurationFile=${path.join(s.dataDir, 'log4j2.properties')}`,
      'kafka.tools.StorageTool',
      'format',
      // `=`: a base64url id may start with '-', which argparse would take for an option.
      `--cluster-id=${clusterId}`,
      '-c',
      s.configFile,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    throw new Error(`formatting Kafka storage failed (${r.status}): ${r.stderr || r.stdout}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the broker unless one already runs for these settings, and resolves once it answers.
 * @returns {{brokers: string, started: boolean, pid: number}}
 */
export async function start(env = process.env, { timeoutMs = 90_000 } = {}) {
  const s = brokerSettings(env);
  const existing = readPid(s);
  if (alive(existing) && (await brokerAnswers(s))) {
    return { brokers: s.brokers, started: false, pid: existing };
  }
  if (!alive(existing) && (await portOpen(s.port))) {
    // Something else holds the port: maybe a broker the user runs. Use it if it speaks Kafka.
    if (await brokerAnswers(s)) return { brokers: s.brokers, started: false, pid: 0 };
    throw new Error(`port ${s.port} is taken by something that is not a Kafka broker`);
  }
  ensureJars();
  fs.mkdirSync(s.dataDir, { recursive: true });
  fs.writeFileSync(s.configFile, serverProperties(s));
  fs.writeFileSync(path.join(s.dataDir, 'log4j2.properties'), log4jProperties(s));
  formatStorage(s);

  let pid = existing;
  if (!alive(existing)) {
    const out = fs.openSync(path.join(s.dataDir, 'broker.stdout'), 'a');
    const child = spawn(
      javaBin(),
      [
        `-Xmx${s.heap}`,
        `-Xms256m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${path.join(s.dataDir, 'log4j2.properties')}`,
        '-cp',
        classpath(),
        'kafka.Kafka',
        s.configFile,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    child.unref();
    pid = child.pid;
    fs.writeFileSync(s.pidFile, String(pid));
  }

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      const tail = fs.existsSync(s.logFile)
        ? fs.readFileSync(s.logFile, 'utf8').split('\n').slice(-30).join('\n')
        : '';
      throw new Error(`the Kafka broker exited during start; last log lines:\n${tail}`);
    }
    if ((await portOpen(s.port)) && (await brokerAnswers(s))) {
      return { brokers: s.brokers, started: true, pid };
    }
    await sleep(250);
  }
  throw new Error(`the Kafka broker did not answer on ${s.brokers} within ${timeoutMs} ms`);
}

/** Stops the broker this script started for these settings (SIGTERM, then SIGKILL). */
export async function stop(env = process.env, { timeoutMs = 30_000 } = {}) {
  const s = brokerSettings(env);
  const pid = readPid(s);
  if (!alive(pid)) {
    fs.rmSync(s.pidFile, { force: true });
    return { stopped: false };
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
  fs.rmSync(s.pidFile, { force: true });
  return { stopped: true };
}

export async function status(env = process.env) {
  const s = brokerSettings(env);
  const pid = readPid(s);
  return { brokers: s.brokers, pid: alive(pid) ? pid : null, answers: await brokerAnswers(s) };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const command = process.argv[2];
  try {
    if (command === 'start') {
      const r = await start();
      console.log(
        r.started
          ? `kafka started on ${r.brokers} (pid ${r.pid})`
          : `kafka already up on ${r.brokers}`,
      );
    } else if (command === 'stop') {
      const r = await stop();
      console.log(r.stopped ? 'kafka stopped' : 'kafka was not running');
    } else if (command === 'status') {
      const r = await status();
      console.log(JSON.stringify(r));
      process.exitCode = r.answers ? 0 : 1;
    } else {
      console.error('usage: kafka.mjs start|stop|status');
      process.exitCode = 2;
    }
  } catch (err) {
    console.error(`[kafka] ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
