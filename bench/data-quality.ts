// `npm run bench -- data-quality`: the built data-quality service, with every rule of the cards
// spec on, against a raw kafkajs exactly-once consume→produce pipe, over the same generated card
// records in one run, runs interleaved. Each run is cold: a fresh topic prefix with the same
// records produced into it, a fresh service process (or a fresh raw consumer group).
//
// Both are timed the same way, from outside: from the moment the pipeline is consuming (the raw
// consumer joined its group; the service answered /health/ready) to the moment its group's
// committed offsets reach the end of every input partition. Both commit their offsets inside
// their Kafka transactions, so a committed offset means the outputs before it are committed too.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, Partitioners, logLevel, type Admin, type Message, type Producer } from 'kafkajs';
import {
  CE_SPEC_VERSION,
  DatasetSpec,
  EVENTS,
  JSON_CONTENT_TYPE,
  TOPICS,
  entityKey,
  newEventId,
  newTraceparent,
  toKafkaHeaders,
  topicName,
  validateRecord,
  type ValidatedEvent,
} from '@mlops/contracts';
import { cardsSpec, generateCards, type GenerateCardsOptions } from '@mlops/datagen';
import { withKafka } from './lib/kafka';
import { intEnv } from './lib/measure';
import { Recorder, type BenchResult } from './lib/report';
import { startService } from './lib/service';

// kafkajs prints a one-time notice about its v2 partitioner on every producer otherwise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** Card records per run; every run (warm-up included) processes all of them. */
const EVENTS_TOTAL = intEnv('BENCH_DQ_EVENTS', 50_000);
/**
 * Measured runs per pipeline, after one warm-up each. Five, not three: on these shared 2-core
 * machines one pipeline's records/s moved by up to 2× between runs of the same benchmark, and
 * a round (both pipelines, 50,000 records) takes 20 to 35 s, so the whole stays within 3 min.
 */
const RUNS = intEnv('BENCH_RUNS', 5);

/**
 * The data-quality stage's consumer group, without the deployment prefix the bus puts in front
 * of it. The benchmark's clock stops when this group's committed offsets reach the input's end.
 * With a wrong name the run fails after NO_COMMIT_MS and lists the groups it found.
 */
const DQ_GROUP = 'data-quality.stage';

/**
 * generateCards injects no defects unless asked (every rate defaults to 0). These are the rates
 * and seed of the data-quality acceptance test (services/data-quality/src/rules/acceptance.spec.ts),
 * so every rule has work: 2 % exact duplicates, 1 % repeated ids, 2 % near duplicates, 2 %
 * missing values, 1 % outliers, 1 % label conflicts.
 */
const GENERATOR: Omit<GenerateCardsOptions, 'n'> = {
  seed: 7,
  duplicateRate: 0.02,
  duplicateIdRate: 0.01,
  nearDuplicateRate: 0.02,
  missingRate: 0.02,
  outlierRate: 0.01,
  labelConflictRate: 0.01,
};

const PARTITIONS = TOPICS.eventsValidated.partitions;
/** How often committed offsets (and /health/ready) are polled: the clock's resolution. */
const POLL_MS = 20;
/** A run that has not finished after this long has stalled: fail loudly. */
const RUN_TIMEOUT_MS = 180_000;
/** No commit at all by the measured group after this long: most likely the wrong group name. */
const NO_COMMIT_MS = 30_000;
/** The same fetch settings libs/bus uses by default. */
const FETCH = { maxWaitTimeInMs: 100, minBytes: 1 };

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const say = (line: string) => process.stdout.write(`[data-quality] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Input

interface Input {
  spec: DatasetSpec;
  messages: Message[];
  valueBytes: number;
  headerBytes: number;
  defects: Record<string, number>;
}

/**
 * The generated records as ingestion writes them to events.validated.v1: typed by the spec,
 * binary-mode CloudEvents keyed dataset:entityId, `ce_id` the generator's id (a `duplicate_id`
 * defect repeats an earlier record's id). Built once: every run produces the same messages.
 */
function buildInput(n: number): Input {
  const spec = DatasetSpec.parse(cardsSpec());
  const generated = generateCards({ n, ...GENERATOR });
  const ingestedAt = new Date().toISOString();
  let valueBytes = 0;
  let headerBytes = 0;
  const messages = generated.records.map((raw, i): Message => {
    const checked = validateRecord(spec, raw);
    if (!checked.ok)
      throw new Error(
        `generated record ${i} fails the ${spec.name} spec: ${checked.problems.map((p) => p.code).join(', ')}`,
      );
    const data: ValidatedEvent = {
      dataset: spec.name,
      specVersion: spec.version,
      entityId: checked.entityId,
      record: checked.record,
      ingestedAt,
      via: 'kafka',
      // What ingestion puts there for a raw event: its `ce_source` (datagen's CloudEvents one).
      source: '/datagen/cards',
    };
    const value = JSON.stringify(data);
    const headers = toKafkaHeaders({
      id: generated.ids[i],
      type: EVENTS.validatedEvent.type,
      source: '/services/ingestion',
      time: ingestedAt,
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
      subject: spec.name,
      traceparent: newTraceparent(),
    });
    valueBytes += Buffer.byteLength(value);
    for (const [k, v] of Object.entries(headers)) headerBytes += k.length + Buffer.byteLength(v);
    return { key: entityKey(spec.name, checked.entityId), value, headers };
  });
  const defects: Record<string, number> = {};
  for (const d of generated.truth.defects) defects[d.kind] = (defects[d.kind] ?? 0) + 1;
  return { spec, messages, valueBytes: valueBytes / n, headerBytes: headerBytes / n, defects };
}

interface Round {
  prefix: string;
  /** `<prefix>events.validated.v1`. */
  input: string;
  /** End offset per input partition once the records are in. */
  ends: Map<number, number>;
}

async function createTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  compacted = false,
): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: [
          { name: 'cleanup.policy', value: compacted ? 'compact' : 'delete' },
          { name: 'max.message.bytes', value: String(4 * 1024 * 1024) },
        ],
      },
    ],
  });
}

/**
 * A fresh prefix with the dataset spec on its compacted spec topic (as the registry publishes
 * it, key = dataset name) and the records on its validated topic.
 */
async function prepareRound(kafka: Kafka, admin: Admin, label: string, input: Input) {
  const prefix = `bench-dq-${randomBytes(3).toString('hex')}-${label}.`;
  const specs = topicName('pipelineSpecs', prefix);
  const validated = topicName('eventsValidated', prefix);
  await createTopic(admin, specs, TOPICS.pipelineSpecs.partitions, true);
  await createTopic(admin, validated, PARTITIONS);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const now = new Date().toISOString();
    await producer.send({
      topic: specs,
      acks: -1,
      messages: [
        {
          key: input.spec.name,
          value: JSON.stringify(input.spec),
          headers: toKafkaHeaders({
            id: newEventId(),
            type: EVENTS.datasetSpec.type,
            source: '/bench/data-quality',
            time: now,
            specversion: CE_SPEC_VERSION,
            datacontenttype: JSON_CONTENT_TYPE,
            subject: input.spec.name,
          }),
        },
      ],
    });
    const chunk = 5_000;
    for (let from = 0; from < input.messages.length; from += chunk) {
      await producer.sendBatch({
        topicMessages: [{ topic: validated, messages: input.messages.slice(from, from + chunk) }],
        acks: -1,
      });
    }
  } finally {
    await producer.disconnect();
  }
  const offsets = await admin.fetchTopicOffsets(validated);
  const stored = offsets.reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
  if (stored !== input.messages.length)
    throw new Error(`${validated}: ${stored} records stored, expected ${input.messages.length}`);
  const round: Round = {
    prefix,
    input: validated,
    ends: new Map(offsets.map((p) => [p.partition, Number(p.high)])),
  };
  return round;
}

async function dropRound(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
  const groups = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// The clock

/**
 * Polls the group's committed offsets on the input topic until every partition's reaches its
 * end, and returns the moment the poll that saw it was sent (the commit happened at most
 * POLL_MS before). `diagnose` adds context to a failure.
 */
async function committedToEnd(
  admin: Admin,
  groupId: string,
  round: Round,
  label: string,
  diagnose: () => Promise<string>,
): Promise<number> {
  const started = performance.now();
  let anyCommit = false;
  let last = '';
  for (;;) {
    const sent = performance.now();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [round.input] });
    const committed = new Map(
      (offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    let done = true;
    for (const [partition, end] of round.ends) {
      const at = committed.get(partition) ?? -1;
      if (at >= 0) anyCommit = true;
      if (at < end) done = false;
    }
    if (done) return sent;
    last = [...round.ends].map(([p, end]) => `p${p} ${committed.get(p) ?? -1}/${end}`).join(', ');
    const elapsed = sent - started;
    if (!anyCommit && elapsed > NO_COMMIT_MS) {
      const groups = (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(round.prefix));
      throw new Error(
        `${label}: group ${groupId} committed nothing on ${round.input} in ${NO_COMMIT_MS / 1000} s; groups under the run's prefix: ${groups.join(', ') || 'none'} (did the stage's group id change? see DQ_GROUP)${await diagnose()}`,
      );
    }
    if (elapsed > RUN_TIMEOUT_MS)
      throw new Error(
        `${label}: committed offsets of ${groupId} did not reach the end in ${RUN_TIMEOUT_MS / 1000} s (${last})${await diagnose()}`,
      );
    await delay(POLL_MS);
  }
}

/**
 * Committed records of a topic (read_committed, from the beginning to the current end), read
 * by a throw-away group under the round's prefix (dropped with the round).
 */
async function countRecords(
  kafka: Kafka,
  admin: Admin,
  round: Round,
  topic: string,
): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  // Transaction markers take offsets but are never delivered: read until every partition's
  // position reached its end, not until a count.
  const ends = new Map(
    offsets.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
  );
  if (ends.size === 0) return 0;
  const consumer = kafka.consumer({
    groupId: `${round.prefix}bench.count.${randomBytes(4).toString('hex')}`,
    ...FETCH,
    readUncommitted: false,
    allowAutoTopicCreation: false,
  });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`counting ${topic}: ${count} records after 60 s`)),
        60_000,
      );
      const seen = new Map<number, number>();
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        seen.set(e.payload.partition, Number(e.payload.lastOffset) + 1);
        if ([...ends].every(([p, end]) => (seen.get(p) ?? 0) >= end)) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            count += batch.messages.length;
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// The pipelines

interface Measured {
  seconds: number;
  perSecond: number;
  /** CPU of the pipeline's process over the measured span, per record. */
  cpuMicrosPerRecord: number;
}

/**
 * The baseline: kafkajs eachBatch, one transactional producer per input partition (the id
 * derived from group, topic and partition, as libs/bus does), and per fetched batch one
 * transaction holding the outputs and the input offsets. Per record: parse the JSON value, add
 * `quality: {flags: []}`, serialise, produce keyed and with the headers of the input.
 */
async function rawPipe(kafka: Kafka, admin: Admin, round: Round): Promise<Measured> {
  const group = `${round.prefix}bench.raw-pipe`;
  const output = `${round.prefix}bench.raw-pipe.out`;
  await createTopic(admin, output, PARTITIONS);
  const producers = new Map<number, Producer>();
  const consumer = kafka.consumer({
    groupId: group,
    ...FETCH,
    readUncommitted: false,
    allowAutoTopicCreation: false,
  });
  let measured: Measured;
  try {
    // Open every transactional id before consuming, as the stage does before it is ready
    // (kafkajs sends InitProducerId with the first transaction; an empty one ends locally).
    for (const partition of round.ends.keys()) {
      const producer = kafka.producer({
        transactionalId: `${group}.${round.input}.${partition}`,
        transactionTimeout: 15_000,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      producers.set(partition, producer);
      await (await producer.transaction()).abort();
    }
    await consumer.connect();
    await consumer.subscribe({ topic: round.input, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // The same concurrency libs/bus uses by default.
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const outputs: Message[] = new Array<Message>(batch.messages.length);
        for (let i = 0; i < batch.messages.length; i++) {
          const m = batch.messages[i];
          const data = JSON.parse(m.value!.toString('utf8')) as ValidatedEvent;
          outputs[i] = {
            key: m.key,
            value: JSON.stringify({ ...data, quality: { flags: [] } }),
            headers: m.headers,
          };
        }
        const last = batch.messages[batch.messages.length - 1].offset;
        const tx = await producers.get(batch.partition)!.transaction();
        try {
          await tx.sendBatch({ topicMessages: [{ topic: output, messages: outputs }], acks: -1 });
          await tx.sendOffsets({
            consumerGroupId: group,
            topics: [
              {
                topic: batch.topic,
                partitions: [{ partition: batch.partition, offset: String(Number(last) + 1) }],
              },
            ],
          });
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => {});
          throw err;
        }
        resolveOffset(last);
        await heartbeat();
      },
    });
    // consumer.run resolves once the group is joined; fetching starts now.
    const started = performance.now();
    const cpu = process.cpuUsage();
    const ended = await committedToEnd(admin, group, round, 'raw', async () => '');
    const spent = process.cpuUsage(cpu);
    measured = {
      seconds: (ended - started) / 1000,
      perSecond: (EVENTS_TOTAL * 1000) / (ended - started),
      cpuMicrosPerRecord: (spent.user + spent.system) / EVENTS_TOTAL,
    };
  } finally {
    await consumer.disconnect().catch(() => {});
    await Promise.all([...producers.values()].map((p) => p.disconnect().catch(() => {})));
  }
  // Exactly once: one output per input.
  const outputs = await countRecords(kafka, admin, round, output);
  if (outputs !== EVENTS_TOTAL)
    throw new Error(`raw: ${outputs} records in ${output} for ${EVENTS_TOTAL} inputs`);
  return measured;
}

interface StageMeasured extends Measured {
  startupSeconds: number;
  clean: number;
  rejected: number;
}

/** The built service as its own process on the round's prefix. */
async function dataQualityStage(
  kafka: Kafka,
  admin: Admin,
  brokers: string[],
  round: Round,
): Promise<StageMeasured> {
  const spawned = performance.now();
  const service = await startService(
    'data-quality',
    {
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: round.prefix,
      LOG_LEVEL: 'warn',
      // An inherited AUTH_MODE would need credentials the benchmark does not have.
      AUTH_MODE: 'none',
      // A 50,000-record run is ~17,000 records per partition and lasts seconds, so neither
      // default trigger (50,000 records, 30 s) would fire: snapshot every 15,000 so each
      // partition pays for one state snapshot per run — more often than on a long stream.
      DQ_SNAPSHOT_EVERY: '15000',
    },
    { readyPollMs: POLL_MS, readyTimeoutMs: 120_000 },
  );
  let measured: Measured & { startupSeconds: number };
  try {
    const started = performance.now();
    const cpu = service.cpuSeconds();
    const ended = await committedToEnd(
      admin,
      `${round.prefix}${DQ_GROUP}`,
      round,
      'data-quality',
      async () => `\nservice output (tail):\n${service.output().slice(-3000)}`,
    );
    const cpuSeconds = service.cpuSeconds() - cpu;
    const seconds = (ended - started) / 1000;
    measured = {
      seconds,
      perSecond: EVENTS_TOTAL / seconds,
      cpuMicrosPerRecord: (cpuSeconds * 1e6) / EVENTS_TOTAL,
      startupSeconds: (started - spawned) / 1000,
    };
  } finally {
    const code = await service.stop();
    if (code !== 0)
      say(`data-quality exited with ${code}; output (tail):\n${service.output().slice(-3000)}`);
  }
  const [clean, rejected] = await Promise.all([
    countRecords(kafka, admin, round, topicName('eventsClean', round.prefix)),
    countRecords(kafka, admin, round, topicName('eventsRejected', round.prefix)),
  ]);
  if (clean === 0 || clean + rejected > EVENTS_TOTAL)
    throw new Error(
      `data-quality: ${clean} clean and ${rejected} rejected records for ${EVENTS_TOTAL} inputs`,
    );
  return { ...measured, clean, rejected };
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<BenchResult> {
  const recorder = new Recorder('data-quality');
  recorder.declare(
    'raw_records_per_s',
    'dq_records_per_s',
    'raw_cpu_us_per_record',
    'dq_cpu_us_per_record',
    'dq_startup_s',
    'dq_clean_records',
    'dq_rejected_records',
  );
  recorder.ratio('dq_vs_raw', 'dq_records_per_s', 'raw_records_per_s', { min: 0.5 });
  // Informational: CPU per record of the stage's process ÷ the raw pipe's (lower is better).
  recorder.ratio('dq_cpu_vs_raw', 'dq_cpu_us_per_record', 'raw_cpu_us_per_record');
  const benchStarted = Date.now();

  const built = performance.now();
  const input = buildInput(EVENTS_TOTAL);
  say(
    `generated ${fmt(EVENTS_TOTAL)} card records (seed ${GENERATOR.seed}) in ${((performance.now() - built) / 1000).toFixed(1)} s: values ${input.valueBytes.toFixed(0)} B, CloudEvents headers ${input.headerBytes.toFixed(0)} B per record; defects ${JSON.stringify(input.defects)}`,
  );
  recorder.note(
    `${fmt(EVENTS_TOTAL)} events.validated.v1 records of ${input.valueBytes.toFixed(0)} B JSON (+${input.headerBytes.toFixed(0)} B CloudEvents headers) from generateCards (seed ${GENERATOR.seed}; defects ${Object.entries(
      input.defects,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}), ${PARTITIONS} partitions, one broker; spec cardsSpec() v${input.spec.version} on pipeline.specs.v1`,
  );
  recorder.note(
    `records/s = input records ÷ seconds from consuming (raw: group joined; dq: /health/ready) to the group's committed offsets reaching every input partition's end (polled every ${POLL_MS} ms); dq consumer group ${DQ_GROUP}`,
  );
  recorder.note(
    'both exactly-once: a transactional producer per input partition, offsets in the transaction; raw commits one transaction per fetched batch. Every run cold: fresh topics, fresh service process or raw group; runs interleaved',
  );
  recorder.note(
    'cpu_us_per_record: the pipeline process only (raw: this process; dq: the service process); dq_startup_s: spawn to /health/ready, not in records/s',
  );

  await withKafka(async ({ brokers }) => {
    const kafka = new Kafka({ clientId: 'bench-dq', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let round = 0; round <= RUNS; round++) {
        const warm = round === 0;
        const label = warm ? 'warm-up' : `run ${round}/${RUNS}`;
        const prepared = performance.now();
        const r = await prepareRound(kafka, admin, warm ? 'w' : String(round), input);
        say(
          `${label}: ${fmt(EVENTS_TOTAL)} records into ${r.input} in ${((performance.now() - prepared) / 1000).toFixed(1)} s`,
        );
        try {
          // Alternate which pipeline goes first.
          const order = round % 2 === 1 ? (['raw', 'dq'] as const) : (['dq', 'raw'] as const);
          for (const pipeline of order) {
            if (pipeline === 'raw') {
              const m = await rawPipe(kafka, admin, r);
              say(
                `${label.padEnd(9)} raw ${m.seconds.toFixed(2).padStart(6)} s = ${fmt(m.perSecond).padStart(7)} records/s, ${m.cpuMicrosPerRecord.toFixed(1)} µs CPU/record`,
              );
              if (!warm) {
                recorder.add('raw_records_per_s', m.perSecond);
                recorder.add('raw_cpu_us_per_record', m.cpuMicrosPerRecord);
              }
            } else {
              const m = await dataQualityStage(kafka, admin, brokers, r);
              say(
                `${label.padEnd(9)} dq  ${m.seconds.toFixed(2).padStart(6)} s = ${fmt(m.perSecond).padStart(7)} records/s, ${m.cpuMicrosPerRecord.toFixed(1)} µs CPU/record (startup ${m.startupSeconds.toFixed(1)} s); ${fmt(m.clean)} clean, ${fmt(m.rejected)} rejected`,
              );
              if (!warm) {
                recorder.add('dq_records_per_s', m.perSecond);
                recorder.add('dq_cpu_us_per_record', m.cpuMicrosPerRecord);
                recorder.add('dq_startup_s', m.startupSeconds);
                recorder.add('dq_clean_records', m.clean);
                recorder.add('dq_rejected_records', m.rejected);
              }
            }
          }
        } finally {
          await dropRound(admin, r.prefix);
        }
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  });
  say(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  return recorder.result();
}
