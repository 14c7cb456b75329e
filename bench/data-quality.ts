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
import { Kafka, logLevel, type Admin, type Message } from 'kafkajs';
import {
  CE_SPEC_VERSION,
  DatasetSpec,
  EVENTS,
  JSON_CONTENT_TYPE,
  TOPICS,
  entityKey,
  newTraceparent,
  toKafkaHeaders,
  topicName,
  validateRecord,
  type ValidatedEvent,
} from '@mlops/contracts';
import {
  cardsSpec,
  generateCards,
  QUALITY_WORKLOAD,
  type GenerateCardsOptions,
} from '@mlops/datagen';
import { withKafka } from './lib/kafka';
import { intEnv } from './lib/measure';
import { Recorder, type BenchResult } from './lib/report';
import { startService } from './lib/service';
import {
  POLL_MS,
  countRecords,
  dropRound,
  prepareRound as prepareTopics,
  rawPipe,
  specMessage,
  timeServiceStage,
  type Measured,
  type Round,
} from './lib/stage';

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

/** The acceptance workload of the data-quality tests, so every rule has work. */
const GENERATOR: Omit<GenerateCardsOptions, 'n'> = QUALITY_WORKLOAD;

const PARTITIONS = TOPICS.eventsValidated.partitions;

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

/**
 * A fresh prefix with the dataset spec on its compacted spec topic (as the registry publishes
 * it, key = dataset name) and the records on its validated topic.
 */
async function prepareRound(
  kafka: Kafka,
  admin: Admin,
  label: string,
  input: Input,
): Promise<Round> {
  const prefix = `bench-dq-${randomBytes(3).toString('hex')}-${label}.`;
  return prepareTopics(
    kafka,
    admin,
    prefix,
    [
      {
        topic: topicName('pipelineSpecs', prefix),
        partitions: TOPICS.pipelineSpecs.partitions,
        messages: [specMessage(input.spec, '/bench/data-quality')],
      },
    ],
    {
      topic: topicName('eventsValidated', prefix),
      partitions: PARTITIONS,
      messages: input.messages,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The stage (the clock, the raw pipe and the round's topics are in lib/stage.ts)

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
  const measured = await timeServiceStage(
    admin,
    round,
    `${round.prefix}${DQ_GROUP}`,
    'data-quality',
    () =>
      startService(
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
      ),
    say,
  );
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
