// `npm run bench -- bus`: the same events through (a) a raw kafkajs eachBatch consume→produce
// pipe, (b) libs/bus and (c) the stock @nestjs/microservices Kafka transport, in one run, runs
// interleaved. Each pipeline does the same work per record: parse the JSON value, add
// `quality: {flags: []}` (validated → clean), serialise, produce keyed like the input with
// acks=all, and commit the input offsets only after the outputs are acknowledged.
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { Controller, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientKafka,
  ClientsModule,
  Ctx,
  EventPattern,
  KafkaContext,
  Payload,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Kafka, logLevel, type Admin, type Message, type ProducerConfig } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '@mlops/bus';
import {
  CE_SPEC_VERSION,
  EVENTS,
  JSON_CONTENT_TYPE,
  entityKey,
  newTraceparent,
  toKafkaHeaders,
  topicName,
  type ValidatedEvent,
} from '@mlops/contracts';
import { withKafka } from './lib/kafka';
import { intEnv, RunClock, type Throughput } from './lib/measure';
import { profiled } from './lib/profile';
import { Recorder, type BenchResult } from './lib/report';

// kafkajs prints a one-time notice about its v2 partitioner on every producer otherwise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** Events in the input topic; raw and bus runs process all of them. */
const EVENTS_TOTAL = intEnv('BENCH_BUS_EVENTS', 200_000);
/**
 * Measured runs per pipeline (after one warm-up run each). Five, not three: these machines are
 * shared and a run's wall time moves by ±20 % with the neighbours' load.
 */
const RUNS = intEnv('BENCH_RUNS', 5);
const WARMUP_EVENTS = Math.min(EVENTS_TOTAL, intEnv('BENCH_BUS_WARMUP', 20_000));
/**
 * The stock Nest transport handles one record at a time and waits for each produce (1,100 to
 * 2,400 msgs/s here, with the neighbours' load): all 200,000 would take up to three minutes per
 * run. msgs/s over the first 30,000 of the same topic is comparable, and keeps the whole
 * benchmark within about six minutes on a busy machine.
 */
const NEST_EVENTS = Math.min(EVENTS_TOTAL, intEnv('BENCH_BUS_NEST_EVENTS', 30_000));
const NEST_WARMUP_EVENTS = Math.min(NEST_EVENTS, 5_000);
const PARTITIONS = 3;
/** A run that has not finished after this long has stalled: fail loudly. */
const RUN_TIMEOUT_MS = 300_000;

type PipelineName = 'raw' | 'bus' | 'nest';
const ALL_PIPELINES: PipelineName[] = ['raw', 'bus', 'nest'];

/**
 * The producer settings all three pipelines share, as libs/bus sets them: idempotent (which
 * kafkajs allows with at most one request in flight per broker) and no auto-created topics.
 * Every send is acks=-1 (all in-sync replicas).
 */
const PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
};
/** The fetch settings libs/bus uses by default; set the same on the other two. */
const FETCH = { maxWaitTimeInMs: 100, minBytes: 1 };

interface RunSpec {
  brokers: string[];
  /** The shared input topic (`<prefix>events.validated.v1`). */
  input: string;
  prefix: string;
  output: string;
  /** Fresh per run; like the bus does, every pipeline puts the prefix in front of it. */
  groupId: string;
  clientId: string;
  target: number;
}

type Pipeline = (spec: RunSpec) => Promise<Throughput>;

// ---------------------------------------------------------------------------------------------
// Input

const COUNTRIES = ['DE', 'FR', 'NL', 'ES', 'IT', 'PL'];

/** A valid events.validated.v1 payload of about 300 bytes of JSON. */
function validatedEvent(i: number, now: number): ValidatedEvent {
  const ts = new Date(now - (i % 86_400) * 1000).toISOString();
  return {
    dataset: 'cards',
    specVersion: 3,
    entityId: `card-${String(i).padStart(8, '0')}`,
    record: {
      amount: Math.round(((i * 7919) % 500_000) + 99) / 100,
      currency: 'EUR',
      merchant: `m-${String(i % 9973).padStart(5, '0')}`,
      mcc: 5411 + (i % 40),
      country: COUNTRIES[i % COUNTRIES.length],
      channel: i % 3 === 0 ? 'pos' : 'web',
      cardPresent: i % 3 === 0,
      ts,
      device: `d-${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}`,
    },
    ingestedAt: new Date(now).toISOString(),
    via: 'kafka',
    source: 'bench',
  };
}

/** The record as ingestion writes it: binary-mode CloudEvent, keyed dataset:entityId. */
function inputMessage(i: number, now: number): Message {
  const data = validatedEvent(i, now);
  return {
    key: entityKey(data.dataset, data.entityId),
    value: JSON.stringify(data),
    headers: toKafkaHeaders({
      id: randomUUID(),
      type: EVENTS.validatedEvent.type,
      source: '/services/ingestion',
      time: data.ingestedAt,
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
      subject: data.dataset,
      traceparent: newTraceparent(),
    }),
  };
}

async function createTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: PARTITIONS,
        configEntries: [{ name: 'max.message.bytes', value: String(4 * 1024 * 1024) }],
      },
    ],
  });
}

async function topicRecords(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

async function preload(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  total: number,
): Promise<{ valueBytes: number; headerBytes: number }> {
  await createTopic(admin, topic);
  const producer = kafka.producer(PRODUCER);
  await producer.connect();
  const now = Date.now();
  const chunk = 5_000;
  let valueBytes = 0;
  let headerBytes = 0;
  try {
    for (let from = 0; from < total; from += chunk) {
      const messages = Array.from({ length: Math.min(chunk, total - from) }, (_, j) =>
        inputMessage(from + j, now),
      );
      for (const m of messages) {
        valueBytes += Buffer.byteLength(m.value as string);
        for (const [k, v] of Object.entries(m.headers ?? {}))
          headerBytes += k.length + Buffer.byteLength(v as string);
      }
      await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
  const stored = await topicRecords(admin, topic);
  if (stored !== total)
    throw new Error(`preloading ${topic}: ${stored} records stored, expected ${total}`);
  return { valueBytes: valueBytes / total, headerBytes: headerBytes / total };
}

// ---------------------------------------------------------------------------------------------
// (a) raw kafkajs: eachBatch, JSON.parse/stringify, sendBatch, then resolveOffset + commitOffsets.

const rawPipeline: Pipeline = async (spec) => {
  const kafka = new Kafka({
    clientId: spec.clientId,
    brokers: spec.brokers,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer(PRODUCER);
  const consumer = kafka.consumer({
    groupId: `${spec.prefix}${spec.groupId}`,
    ...FETCH,
    allowAutoTopicCreation: false,
  });
  const clock = new RunClock(spec.target);
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: spec.input, fromBeginning: true });
  try {
    clock.start();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // The same concurrency libs/bus uses by default.
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        clock.first();
        const outputs: Message[] = new Array(batch.messages.length);
        for (let i = 0; i < batch.messages.length; i++) {
          const m = batch.messages[i];
          const data = JSON.parse(m.value!.toString('utf8')) as ValidatedEvent;
          outputs[i] = {
            key: m.key,
            value: JSON.stringify({ ...data, quality: { flags: [] } }),
            headers: m.headers,
          };
        }
        await producer.sendBatch({
          topicMessages: [{ topic: spec.output, messages: outputs }],
          acks: -1,
        });
        const last = batch.messages[batch.messages.length - 1].offset;
        resolveOffset(last);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: String(Number(last) + 1) },
        ]);
        clock.done(outputs.length);
        await heartbeat();
      },
    });
    return await clock.wait(RUN_TIMEOUT_MS, 'raw');
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
  }
};

// ---------------------------------------------------------------------------------------------
// (b) libs/bus: an at-least-once subscription to events.validated.v1 whose handler returns
// events.clean.v1 outputs. The bus validates payloads with zod on consume and produce and
// carries the CloudEvents envelope, as every service of the platform uses it.

const silent = pino({ level: 'silent' });

const busPipeline: Pipeline = async (spec) => {
  const bus = new Bus(
    {
      brokers: spec.brokers,
      clientId: spec.clientId,
      topicPrefix: spec.prefix,
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 30_000,
    },
    silent,
    new Registry(),
  );
  const clock = new RunClock(spec.target);
  await bus.connect();
  try {
    const sub = bus.subscribe({
      name: 'bench-clean',
      groupId: spec.groupId,
      event: EVENTS.validatedEvent,
      delivery: 'at-least-once',
      handler: async (events) => {
        clock.first();
        return {
          outputs: events.map((e) => ({
            event: EVENTS.cleanEvent,
            // A fresh output topic per run; otherwise the event's own `<prefix>events.clean.v1`.
            topic: spec.output,
            key: e.key ?? entityKey(e.data.dataset, e.data.entityId),
            data: { ...e.data, quality: { flags: [] } },
            // What services/data-quality carries over.
            attrs: {
              id: e.attrs.id,
              traceparent: e.attrs.traceparent,
              subject: e.data.dataset,
              time: e.attrs.time,
            },
          })),
          // Runs after the outputs are acknowledged and the offsets committed.
          onCommitted: () => clock.done(events.length),
        };
      },
    });
    clock.start();
    await sub.start();
    return await clock.wait(RUN_TIMEOUT_MS, 'bus');
  } finally {
    await bus.shutdown();
  }
};

// ---------------------------------------------------------------------------------------------
// (c) the stock @nestjs/microservices Kafka transport: an @EventPattern handler that transforms
// and emits with a ClientKafka, awaiting the acknowledgement so that the transport's automatic
// commit (after the handler returns) follows it. Default eachMessage processing.

const OUT_CLIENT = 'BENCH_OUT_CLIENT';

const nestPipeline: Pipeline = async (spec) => {
  const clock = new RunClock(spec.target);
  const kafkaClient = {
    clientId: spec.clientId,
    brokers: spec.brokers,
    logLevel: logLevel.NOTHING,
  };

  @Controller()
  class CleanController implements OnModuleInit {
    constructor(@Inject(OUT_CLIENT) private readonly client: ClientKafka) {}

    async onModuleInit(): Promise<void> {
      await this.client.connect();
    }

    @EventPattern(spec.input)
    async clean(@Payload() data: ValidatedEvent, @Ctx() context: KafkaContext): Promise<void> {
      clock.first();
      const message = context.getMessage();
      await lastValueFrom(
        this.client.emit(spec.output, {
          key: message.key,
          value: { ...data, quality: { flags: [] } },
          headers: message.headers,
        }),
      );
      clock.done(1);
    }
  }

  @Module({
    imports: [
      ClientsModule.register([
        {
          name: OUT_CLIENT,
          transport: Transport.KAFKA,
          options: {
            client: kafkaClient,
            producer: PRODUCER,
            producerOnlyMode: true,
            send: { acks: -1 },
          },
        },
      ]),
    ],
    controllers: [CleanController],
  })
  class CleanModule {}

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(CleanModule, {
    transport: Transport.KAFKA,
    options: {
      client: kafkaClient,
      consumer: {
        groupId: `${spec.prefix}${spec.groupId}`,
        ...FETCH,
        allowAutoTopicCreation: false,
      },
      subscribe: { fromBeginning: true },
      producer: PRODUCER,
    },
    logger: false,
  });
  try {
    await app.init();
    clock.start();
    await app.listen();
    return await clock.wait(RUN_TIMEOUT_MS, 'nest');
  } finally {
    await app.close().catch(() => {});
  }
};

const PIPELINES: Record<PipelineName, Pipeline> = {
  raw: rawPipeline,
  bus: busPipeline,
  nest: nestPipeline,
};

// ---------------------------------------------------------------------------------------------

function selectedPipelines(): PipelineName[] {
  const raw = process.env.BENCH_BUS_PIPELINES;
  if (!raw) return ALL_PIPELINES;
  const names = raw.split(',').map((s) => s.trim()) as PipelineName[];
  const bad = names.filter((n) => !ALL_PIPELINES.includes(n));
  if (bad.length > 0)
    throw new Error(
      `BENCH_BUS_PIPELINES: unknown ${bad.join(', ')} (use ${ALL_PIPELINES.join(', ')})`,
    );
  return names;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const say = (line: string) => process.stdout.write(`[bus] ${line}\n`);

export async function run(): Promise<BenchResult> {
  const pipelines = selectedPipelines();
  const recorder = new Recorder('bus');
  recorder.declare(
    ...pipelines.map((p) => `${p}_msgs_per_s`),
    ...pipelines.map((p) => `${p}_cpu_us_per_msg`),
  );
  recorder.ratio('bus_vs_raw', 'bus_msgs_per_s', 'raw_msgs_per_s', { min: 0.8 });
  recorder.ratio('bus_vs_nest', 'bus_msgs_per_s', 'nest_msgs_per_s', { min: 4 });
  // Informational: the Node process's CPU per record, bus ÷ raw (lower is better; 1 = no cost).
  recorder.ratio('bus_cpu_vs_raw', 'bus_cpu_us_per_msg', 'raw_cpu_us_per_msg');
  const benchStarted = Date.now();

  await withKafka(async ({ brokers }) => {
    const id = randomBytes(3).toString('hex');
    const prefix = `bench-bus-${id}.`;
    const input = topicName(EVENTS.validatedEvent.topic, prefix);
    const kafka = new Kafka({ clientId: `bench-bus-${id}`, brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      say(`preloading ${fmt(EVENTS_TOTAL)} events into ${input} (${PARTITIONS} partitions)`);
      const t = Date.now();
      const sizes = await preload(kafka, admin, input, EVENTS_TOTAL);
      say(
        `preloaded in ${((Date.now() - t) / 1000).toFixed(1)} s: values ${sizes.valueBytes.toFixed(0)} B, CloudEvents headers ${sizes.headerBytes.toFixed(0)} B per record`,
      );
      recorder.note(
        `${fmt(EVENTS_TOTAL)} events.validated.v1 records of ${sizes.valueBytes.toFixed(0)} B JSON (+${sizes.headerBytes.toFixed(0)} B CloudEvents headers), ${PARTITIONS} partitions, one broker`,
      );
      recorder.note(
        'msgs/s = outputs ÷ seconds from the first record handed to the pipeline to the last output acknowledged (acks=-1) by Kafka; group join excluded',
      );
      recorder.note(
        'all three: idempotent producer, one request in flight, acks=-1; fetch maxWait 100 ms; fresh group and output topic per run; runs interleaved',
      );
      if (pipelines.includes('nest') && NEST_EVENTS < EVENTS_TOTAL) {
        recorder.note(
          `nest is measured on the first ${fmt(NEST_EVENTS)} events of each run (it is far slower); raw and bus on all ${fmt(EVENTS_TOTAL)}`,
        );
      }

      const once = async (pipeline: PipelineName, round: number, warm: boolean): Promise<void> => {
        const label = warm ? 'warm-up' : `run ${round}/${RUNS}`;
        const target =
          pipeline === 'nest'
            ? warm
              ? NEST_WARMUP_EVENTS
              : NEST_EVENTS
            : warm
              ? WARMUP_EVENTS
              : EVENTS_TOTAL;
        const output = `${prefix}out.${pipeline}.${round}`;
        await createTopic(admin, output);
        const spec: RunSpec = {
          brokers,
          input,
          prefix,
          output,
          groupId: `${pipeline}-${round}`,
          clientId: `bench-${pipeline}-${round}`,
          target,
        };
        const result = warm
          ? await PIPELINES[pipeline](spec)
          : await profiled(`bus-${pipeline}-${round}`, () => PIPELINES[pipeline](spec));
        // The pipeline's own count said `target` outputs were acknowledged; the topic agrees.
        const stored = await topicRecords(admin, output);
        if (stored < result.count)
          throw new Error(
            `${pipeline}: ${result.count} outputs counted but ${stored} in ${output}`,
          );
        await admin.deleteTopics({ topics: [output] }).catch(() => {});
        say(
          `${label.padEnd(9)} ${pipeline.padEnd(4)} ${fmt(result.count).padStart(7)} in ${result.seconds.toFixed(2).padStart(6)} s = ${fmt(result.perSecond).padStart(7)} msgs/s, ${result.cpuMicrosPerRecord.toFixed(1)} µs CPU/msg (startup ${fmt(result.startupMs)} ms)`,
        );
        if (!warm) {
          recorder.add(`${pipeline}_msgs_per_s`, result.perSecond);
          recorder.add(`${pipeline}_cpu_us_per_msg`, result.cpuMicrosPerRecord);
        }
      };

      for (const p of pipelines) await once(p, 0, true);
      for (let round = 1; round <= RUNS; round++) {
        // Rotate the order so that no pipeline always runs right after the same neighbour.
        const order = pipelines.map((_, i) => pipelines[(i + round - 1) % pipelines.length]);
        for (const p of order) await once(p, round, false);
      }
      await admin.deleteTopics({ topics: [input] }).catch(() => {});
    } finally {
      await admin.disconnect().catch(() => {});
    }
  });
  say(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  return recorder.result();
}
