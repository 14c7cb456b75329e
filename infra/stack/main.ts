import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `npm start`: the platform on this machine. Starts the local Kafka broker (unless
 * KAFKA_BROKERS points at one), then each service as its own process with local defaults,
 * waits until every one is ready, prints where they are, prefixes their log lines, and stops
 * everything in order on Ctrl-C (services first, so they commit; the broker last).
 */

interface ServiceSpec {
  name: string;
  port: number;
  /** Serves a Swagger UI at /docs. */
  docs?: boolean;
}

const SERVICES: ServiceSpec[] = [
  { name: 'ingestion', port: 3001 },
  { name: 'data-quality', port: 3002 },
  { name: 'feature', port: 3003 },
  { name: 'trainer', port: 3004, docs: true },
  { name: 'compressor', port: 3005, docs: true },
  { name: 'model-registry', port: 3006, docs: true },
  { name: 'inference', port: 3007, docs: true },
  { name: 'drift-monitor', port: 3008, docs: true },
];

const root = path.resolve(__dirname, '..', '..', '..');
const COLORS = [36, 35, 33, 32, 34, 31, 96, 95];
const useColor = process.stdout.isTTY;
const width = Math.max(...SERVICES.map((s) => s.name.length), 'kafka'.length);

function prefix(name: string, index: number): string {
  const label = name.padEnd(width);
  return useColor ? `\u001b[${COLORS[index % COLORS.length]}m${label}\u001b[0m │ ` : `${label} │ `;
}

/** One pino JSON line → `HH:MM:SS level message key=value…`; anything else as it is. */
function formatLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const {
      time,
      level,
      msg,
      service: _s,
      pid: _p,
      hostname: _h,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const clock = typeof time === 'string' ? time.slice(11, 19) : '';
    const extras = Object.entries(rest)
      .filter(([, v]) => v !== undefined && typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    return `${clock} ${String(level).padEnd(5)} ${typeof msg === 'string' ? msg : JSON.stringify(msg ?? '')}${extras ? `  ${extras}` : ''}`;
  } catch {
    return line;
  }
}

function pipeLines(stream: NodeJS.ReadableStream, label: string): void {
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines)
      if (line.trim()) process.stdout.write(`${label}${formatLine(line)}\n`);
  });
}

async function waitReady(
  url: string,
  child: ChildProcess,
  name: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    if (
      await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} was not ready within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const kafkaModule = (await import(
    pathToFileURL(path.join(root, 'infra/kafka/kafka.mjs')).href
  )) as typeof import('../kafka/kafka.mjs');
  let brokers = process.env.KAFKA_BROKERS;
  let startedKafka = false;
  if (!brokers) {
    process.stdout.write(`${prefix('kafka', 7)}starting the local broker…\n`);
    const r = await kafkaModule.start();
    brokers = r.brokers;
    startedKafka = r.started;
    process.stdout.write(
      `${prefix('kafka', 7)}${r.started ? 'started' : 'already running'} on ${brokers}\n`,
    );
  }

  const children: { spec: ServiceSpec; child: ChildProcess }[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping services…\n');
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    if (startedKafka) {
      process.stdout.write(`${prefix('kafka', 7)}stopping the broker…\n`);
      await kafkaModule.stop();
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  // Ports: the defaults, or <NAME>_PORT (e.g. MODEL_REGISTRY_PORT); the services that call the
  // registry are pointed at its port.
  for (const spec of SERVICES)
    spec.port = Number(
      process.env[`${spec.name.toUpperCase().replace(/-/g, '_')}_PORT`] ?? spec.port,
    );
  const registryPort = SERVICES.find((s) => s.name === 'model-registry')!.port;
  const registryUrl = process.env.REGISTRY_URL ?? `http://127.0.0.1:${registryPort}`;

  SERVICES.forEach((spec, i) => {
    const port = spec.port;
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', path.join(root, 'dist', 'services', spec.name, 'src', 'main.js')],
      {
        cwd: root,
        env: {
          ...process.env,
          KAFKA_BROKERS: brokers,
          REGISTRY_URL: registryUrl,
          PORT: String(port),
          HOST: process.env.HOST ?? '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    pipeLines(child.stdout, prefix(spec.name, i));
    pipeLines(child.stderr, prefix(spec.name, i));
    child.once('exit', (code, signal) => {
      if (!stopping) {
        process.stdout.write(
          `${prefix(spec.name, i)}exited (${signal ?? code}); stopping the stack\n`,
        );
        void stopAll(1);
      }
    });
    children.push({ spec, child });
  });

  try {
    await Promise.all(
      children.map(({ spec, child }) =>
        waitReady(`http://127.0.0.1:${spec.port}`, child, spec.name, 120_000),
      ),
    );
  } catch (err) {
    process.stdout.write(`startup failed: ${(err as Error).message}\n`);
    await stopAll(1);
    return;
  }
  const rows = [
    ['service', 'port', 'url', 'api docs (Swagger UI)', 'metrics'],
    ['kafka', brokers.split(':').pop() ?? '', brokers, '', ''],
    ...children.map(({ spec }) => {
      const url = `http://127.0.0.1:${spec.port}`;
      return [spec.name, String(spec.port), url, spec.docs ? `${url}/docs` : '', `${url}/metrics`];
    }),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
  process.stdout.write(
    `\nplatform ready — Ctrl-C stops it\n\n${table}\n\ntry: npm run demo   ·   npm run mlops -- status   ·   every service: /health/ready\n\n`,
  );
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
