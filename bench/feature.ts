// `npm run bench -- feature`: the feature service's stream stage with a FITTED featureset against
// a raw kafkajs exactly-once consume→produce pipe, over the same generated clean card records in
// one run, runs interleaved; plus the featureset library in-process (fit, transform).
//
// The stream stage is timed like bench/data-quality.ts times its stage, from outside: from the
// moment the pipeline is consuming (the raw consumer joined its group; the service answered
// /health/ready) to the moment its group's committed offsets reach the end of every input
// partition. Both commit their offsets inside their Kafka transactions, so a committed offset
// means the outputs before it are committed too. Each run is cold: a fresh topic prefix with the
// same records, the spec and the featureset announcement produced into it, a fresh service
// process (or a fresh raw consumer group).
//
// The featureset is fitted here, in-process, with the library; its artifact is uploaded to a
// model-registry process started for the benchmark, and announced on the round's
// featuresets.v1 before the feature service starts: the service downloads it from the registry
// (sha256 and version checked) with the first record, as it does after a training request.
// Every output vector is read back and compared with the library's vector of the same record.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Admin, type KafkaMessage, type Message } from 'kafkajs';
import {
  CE_HEADERS,
  CE_SPEC_VERSION,
  DatasetSpec,
  EVENTS,
  FeaturesetEvent,
  JSON_CONTENT_TYPE,
  TOPICS,
  entityKey,
  headerString,
  newEventId,
  newTraceparent,
  toKafkaHeaders,
  topicName,
  validateRecord,
  type ArtifactRef,
  type CleanEvent,
  type FeatureVectorEvent,
} from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import { featuresetArtifact, fitFeatureset, transform, type Featureset } from '@mlops/features';
import { RegistryClient } from '@mlops/registry-client';
import { withKafka } from './lib/kafka';
import { intEnv } from './lib/measure';
import { Recorder, type BenchResult } from './lib/report';
import { startService, type BenchService } from './lib/service';
import {
  POLL_MS,
  countRecords,
  dropRound,
  prepareRound as prepareTopics,
  rawPipe,
  specMessage,
  timeServiceStage,
  type Round,
  type ServiceMeasured,
} from './lib/stage';

// kafkajs prints a one-time notice about its v2 partitioner on every producer otherwise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** Clean card records per stream run (every run, warm-up included, processes all of them). */
const EVENTS_TOTAL = intEnv('BENCH_FEATURE_EVENTS', 50_000);
/** Records the featureset is fitted on (another seed than the stream's records). */
const FIT_RECORDS = intEnv('BENCH_FEATURE_FIT_RECORDS', 20_000);
/**
 * Measured runs, after one warm-up, of each pipeline and of the library figures. Five, as in the
 * data-quality benchmark: one pipeline's records/s moved by up to 1.6× between runs on these
 * shared 2-core machines, and a round (both pipelines over 50,000 records, read-back checks
 * included) takes about 15 s, so the whole benchmark stays within ~2.5 minutes.
 */
const RUNS = intEnv('BENCH_RUNS', 5);

const FIT_SEED = 1;
const STREAM_SEED = 2;

/**
 * The feature stage's consumer group on events.clean.v1, without the deployment prefix the bus
 * puts in front of it. The benchmark's clock stops when this group's committed offsets reach
 * the input's end. With a wrong name the run fails after 30 s and lists the groups it found.
 */
const FEATURE_GROUP = 'feature.stream';

const PARTITIONS = TOPICS.eventsClean.partitions;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const say = (line: string) => process.stdout.write(`[feature] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Input

interface Input {
  spec: DatasetSpec;
  /** Typed records the featureset is fitted on (seed FIT_SEED). */
  fitRecords: Record<string, unknown>[];
  /** Typed records of the stream (seed STREAM_SEED), in message order. */
  records: Record<string, unknown>[];
  /** ce_id → index into `records`. */
  indexOfId: Map<string, number>;
  messages: Message[];
  valueBytes: number;
  headerBytes: number;
}

/** Generated card records typed by the spec, as ingestion passes them on. */
function typedCards(spec: DatasetSpec, n: number, seed: number) {
  const generated = generateCards({ n, seed });
  const checked = generated.records.map((raw, i) => {
    const c = validateRecord(spec, raw);
    if (!c.ok)
      throw new Error(
        `generated record ${i} (seed ${seed}) fails the ${spec.name} spec: ${c.problems.map((p) => p.code).join(', ')}`,
      );
    return c;
  });
  return { ids: generated.ids, checked };
}

/**
 * The stream's records as data-quality writes them to events.clean.v1: the validated event plus
 * `quality: {flags: []}`, binary-mode CloudEvents keyed dataset:entityId, `ce_id` the
 * generator's id. Built once: every run produces the same messages.
 */
function buildInput(): Input {
  const spec = DatasetSpec.parse(cardsSpec());
  const fit = typedCards(spec, FIT_RECORDS, FIT_SEED);
  const stream = typedCards(spec, EVENTS_TOTAL, STREAM_SEED);
  const ingestedAt = new Date().toISOString();
  let valueBytes = 0;
  let headerBytes = 0;
  const indexOfId = new Map<string, number>();
  const messages = stream.checked.map((checked, i): Message => {
    const data: CleanEvent = {
      dataset: spec.name,
      specVersion: spec.version,
      entityId: checked.entityId,
      record: checked.record,
      ingestedAt,
      via: 'kafka',
      // What ingestion puts there for a raw event: its `ce_source` (datagen's CloudEvents one).
      source: '/datagen/cards',
      quality: { flags: [] },
    };
    const value = JSON.stringify(data);
    const headers = toKafkaHeaders({
      id: stream.ids[i],
      type: EVENTS.cleanEvent.type,
      source: '/services/data-quality',
      time: ingestedAt,
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
      subject: spec.name,
      traceparent: newTraceparent(),
    });
    valueBytes += Buffer.byteLength(value);
    for (const [k, v] of Object.entries(headers)) headerBytes += k.length + Buffer.byteLength(v);
    indexOfId.set(stream.ids[i], i);
    return { key: entityKey(spec.name, checked.entityId), value, headers };
  });
  if (indexOfId.size !== EVENTS_TOTAL) throw new Error('generated ids are not unique');
  return {
    spec,
    fitRecords: fit.checked.map((c) => c.record),
    records: stream.checked.map((c) => c.record),
    indexOfId,
    messages,
    valueBytes: valueBytes / EVENTS_TOTAL,
    headerBytes: headerBytes / EVENTS_TOTAL,
  };
}

// ---------------------------------------------------------------------------------------------
// The library, in-process

/**
 * Fits the featureset (a warm-up, then RUNS timed fits, each from scratch) and transforms the
 * stream's records with it (likewise). Returns the featureset and the library's vector of every
 * stream record, which the service's outputs are compared with.
 */
function libraryFigures(
  recorder: Recorder,
  input: Input,
): { fs: Featureset; expected: number[][] } {
  let fs: Featureset | undefined;
  for (let run = 0; run <= RUNS; run++) {
    const t0 = performance.now();
    const fitted = fitFeatureset(input.spec, input.fitRecords);
    const seconds = (performance.now() - t0) / 1000;
    if (fs && fitted.version !== fs.version)
      throw new Error(`fit is not deterministic: ${fitted.version} after ${fs.version}`);
    fs = fitted;
    say(
      `fit ${run === 0 ? 'warm-up' : `${run}/${RUNS}`}: ${fmt(FIT_RECORDS)} records in ${seconds.toFixed(2)} s = ${fmt(FIT_RECORDS / seconds)} records/s → ${fs.version}, ${fs.names.length} columns`,
    );
    if (run > 0) recorder.add('fit_records_per_s', FIT_RECORDS / seconds);
  }
  let expected: number[][] = [];
  for (let run = 0; run <= RUNS; run++) {
    const out = new Array<number[]>(input.records.length);
    const t0 = performance.now();
    for (let i = 0; i < input.records.length; i++) out[i] = transform(fs!, input.records[i]);
    const seconds = (performance.now() - t0) / 1000;
    expected = out;
    say(
      `transform ${run === 0 ? 'warm-up' : `${run}/${RUNS}`}: ${fmt(input.records.length)} rows in ${seconds.toFixed(2)} s = ${fmt(input.records.length / seconds)} rows/s (${((seconds * 1e6) / input.records.length).toFixed(1)} µs/row)`,
    );
    if (run > 0) recorder.add('transform_rows_per_s', input.records.length / seconds);
  }
  return { fs: fs!, expected };
}

// ---------------------------------------------------------------------------------------------
// Rounds

/** The featureset's announcement, as the feature service writes it after a fit. */
function featuresetMessage(fs: Featureset, spec: DatasetSpec, artifact: ArtifactRef): Message {
  const createdAt = new Date().toISOString();
  const event = FeaturesetEvent.parse({
    dataset: spec.name,
    version: fs.version,
    specVersion: spec.version,
    artifact,
    names: fs.names,
    fittedOn: [],
    records: fs.records,
    createdAt,
  });
  return {
    key: spec.name,
    value: JSON.stringify(event),
    headers: toKafkaHeaders({
      id: newEventId(),
      type: EVENTS.featureset.type,
      source: '/bench/feature',
      time: createdAt,
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
      subject: spec.name,
    }),
  };
}

/**
 * A fresh prefix with the dataset spec on pipeline.specs.v1, the featureset announced on
 * featuresets.v1 (both compacted, key = dataset name) and the records on events.clean.v1.
 */
function prepareRound(
  kafka: Kafka,
  admin: Admin,
  label: string,
  input: Input,
  announce: () => Message,
): Promise<Round> {
  const prefix = `bench-feature-${randomBytes(3).toString('hex')}-${label}.`;
  return prepareTopics(
    kafka,
    admin,
    prefix,
    [
      {
        topic: topicName('pipelineSpecs', prefix),
        partitions: TOPICS.pipelineSpecs.partitions,
        messages: [specMessage(input.spec, '/bench/feature')],
      },
      {
        topic: topicName('featuresets', prefix),
        partitions: TOPICS.featuresets.partitions,
        messages: [announce()],
      },
    ],
    { topic: topicName('eventsClean', prefix), partitions: PARTITIONS, messages: input.messages },
  );
}

// ---------------------------------------------------------------------------------------------
// The stage

interface StageMeasured extends ServiceMeasured {
  vectors: number;
}

/**
 * Checks every output of a round against the library: the fitted featureset's version, and the
 * vector equal (as JSON numbers, so bit for bit) to `transform(fs, record)` of the same input.
 */
class VectorCheck {
  fitted = 0;
  otherVersions = new Map<string, number>();
  mismatches = 0;
  examples: string[] = [];
  unknownIds = 0;
  private readonly seen = new Set<number>();

  constructor(
    private readonly fs: Featureset,
    private readonly input: Input,
    private readonly expected: number[][],
  ) {}

  inspect = (messages: KafkaMessage[]): void => {
    for (const m of messages) {
      const data = JSON.parse(m.value!.toString('utf8')) as FeatureVectorEvent;
      if (data.featuresetVersion !== this.fs.version) {
        this.otherVersions.set(
          data.featuresetVersion,
          (this.otherVersions.get(data.featuresetVersion) ?? 0) + 1,
        );
        continue;
      }
      this.fitted++;
      const i = this.input.indexOfId.get(headerString(m.headers, CE_HEADERS.id) ?? '');
      if (i === undefined) {
        this.unknownIds++;
        continue;
      }
      this.seen.add(i);
      const want = this.expected[i];
      const got = data.vector;
      if (got.length !== want.length || got.some((v, j) => v !== want[j])) {
        this.mismatches++;
        if (this.examples.length < 3)
          this.examples.push(
            `${data.entityId}: got [${got.slice(0, 6).join(', ')}…] want [${want.slice(0, 6).join(', ')}…]`,
          );
      }
    }
  };

  /** Throws unless every input has exactly one output, computed with the fitted featureset. */
  verify(outputs: number): void {
    const problems: string[] = [];
    if (outputs !== EVENTS_TOTAL) problems.push(`${outputs} vectors for ${EVENTS_TOTAL} inputs`);
    if (this.otherVersions.size > 0)
      problems.push(
        `vectors of other featuresets than ${this.fs.version}: ${JSON.stringify(Object.fromEntries(this.otherVersions))}`,
      );
    if (this.unknownIds > 0) problems.push(`${this.unknownIds} vectors with an unknown ce_id`);
    if (this.seen.size !== EVENTS_TOTAL)
      problems.push(`${this.seen.size} distinct inputs among the vectors`);
    if (this.mismatches > 0)
      problems.push(
        `${this.mismatches} vectors differ from the library's, e.g. ${this.examples.join('; ')}`,
      );
    if (problems.length > 0) throw new Error(`feature: ${problems.join('; ')}`);
  }
}

/** The built feature service as its own process on the round's prefix. */
async function featureStage(
  kafka: Kafka,
  admin: Admin,
  brokers: string[],
  registry: BenchService,
  round: Round,
  check: VectorCheck,
): Promise<StageMeasured> {
  const measured = await timeServiceStage(
    admin,
    round,
    `${round.prefix}${FEATURE_GROUP}`,
    'feature',
    () =>
      startService(
        'feature',
        {
          KAFKA_BROKERS: brokers.join(','),
          KAFKA_TOPIC_PREFIX: round.prefix,
          LOG_LEVEL: 'warn',
          // An inherited AUTH_MODE would need credentials the benchmark does not have.
          AUTH_MODE: 'none',
          REGISTRY_URL: registry.url,
        },
        // Redis would make the online store a network hop the raw pipe does not have.
        { readyPollMs: POLL_MS, readyTimeoutMs: 120_000, unset: ['REDIS_URL', 'REGISTRY_API_KEY'] },
      ),
    say,
  );
  const [vectors, rejected] = await Promise.all([
    countRecords(kafka, admin, round, topicName('features', round.prefix), check.inspect),
    countRecords(kafka, admin, round, topicName('eventsRejected', round.prefix)),
  ]);
  if (rejected > 0) throw new Error(`feature: ${rejected} records dead-lettered`);
  check.verify(vectors);
  return { ...measured, vectors };
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<BenchResult> {
  const recorder = new Recorder('feature');
  recorder.declare(
    'raw_records_per_s',
    'stream_records_per_s',
    'raw_cpu_us_per_record',
    'stream_cpu_us_per_record',
    'stream_startup_s',
    'fit_records_per_s',
    'transform_rows_per_s',
  );
  // Informational: no target is set for the feature stage.
  recorder.ratio('stream_vs_raw', 'stream_records_per_s', 'raw_records_per_s');
  // Informational: CPU per record of the service's process ÷ the raw pipe's (lower is better).
  recorder.ratio('stream_cpu_vs_raw', 'stream_cpu_us_per_record', 'raw_cpu_us_per_record');
  const benchStarted = Date.now();

  const built = performance.now();
  const input = buildInput();
  say(
    `generated ${fmt(FIT_RECORDS)} fit records (seed ${FIT_SEED}) and ${fmt(EVENTS_TOTAL)} stream records (seed ${STREAM_SEED}) in ${((performance.now() - built) / 1000).toFixed(1)} s: values ${input.valueBytes.toFixed(0)} B, CloudEvents headers ${input.headerBytes.toFixed(0)} B per record`,
  );
  // Before Kafka starts: the library figures on a quiet machine.
  const { fs, expected } = libraryFigures(recorder, input);
  const artifactBytes = featuresetArtifact(fs);

  recorder.note(
    `library (in-process, no Kafka running): fit_records_per_s = fitFeatureset(cardsSpec() v${input.spec.version}, ${fmt(FIT_RECORDS)} generateCards records, seed ${FIT_SEED}) from scratch; transform_rows_per_s = transform(fs, record) over the ${fmt(EVENTS_TOTAL)} stream records (seed ${STREAM_SEED}); featureset ${fs.version}: ${fs.names.length} columns (${fs.blocks.map((b) => b.kind).join(', ')}), artifact ${fmt(artifactBytes.length)} B`,
  );
  recorder.note(
    `stream: ${fmt(EVENTS_TOTAL)} events.clean.v1 records of ${input.valueBytes.toFixed(0)} B JSON (+${input.headerBytes.toFixed(0)} B CloudEvents headers), generateCards seed ${STREAM_SEED}, ${PARTITIONS} partitions, one broker; spec on pipeline.specs.v1, featureset ${fs.version} announced on featuresets.v1, its artifact in a model-registry process (SQLite, started once): the service downloads it with the first record, inside the timed span`,
  );
  recorder.note(
    `records/s = input records ÷ seconds from consuming (raw: group joined; stream: /health/ready) to the group's committed offsets reaching every input partition's end (polled every ${POLL_MS} ms); stream consumer group ${FEATURE_GROUP}. Every run's ${fmt(EVENTS_TOTAL)} vectors are read back: all carry featuresetVersion ${fs.version} and equal the library's transform of the same record`,
  );
  recorder.note(
    "both exactly-once: a transactional producer per input partition, offsets in the transaction. raw = the data-quality benchmark's pipe (bench/lib/stage.ts): per record JSON.parse, spread + set `quality`, JSON.stringify, produce keyed with the input headers; one transaction per fetched batch. The stage per record: bus decode + zod validation, spec and featureset lookup, transform (the fitted featureset), FeatureVectorEvent encode + validation, produce; the online store (in-process) updated after commit. Every run cold: fresh topics, fresh service process or raw group; runs interleaved, order alternating",
  );
  recorder.note(
    'cpu_us_per_record: the pipeline process only (raw: this process; stream: the feature service process); stream_startup_s: spawn to /health/ready, not in records/s',
  );

  await withKafka(async ({ brokers }) => {
    const kafka = new Kafka({ clientId: 'bench-feature', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const dir = mkdtempSync(path.join(tmpdir(), 'mlops-bench-feature-'));
    const registryPrefix = `bench-feature-${randomBytes(3).toString('hex')}-registry.`;
    let registry: BenchService | undefined;
    try {
      const started = performance.now();
      registry = await startService(
        'model-registry',
        {
          KAFKA_BROKERS: brokers.join(','),
          KAFKA_TOPIC_PREFIX: registryPrefix,
          ARTIFACT_DIR: path.join(dir, 'artifacts'),
          REGISTRY_SQLITE_PATH: path.join(dir, 'registry.sqlite'),
          AUTH_MODE: 'none',
          LOG_LEVEL: 'warn',
        },
        // An inherited DATABASE_URL would put the registry on PostgreSQL.
        { unset: ['DATABASE_URL'], readyTimeoutMs: 120_000 },
      );
      const artifact = await new RegistryClient({ url: registry.url }).upload(
        artifactBytes,
        'json',
      );
      say(
        `model-registry (pid ${registry.pid}) ready in ${((performance.now() - started) / 1000).toFixed(1)} s; featureset artifact ${artifact.uri} (${fmt(artifact.size)} B)`,
      );
      const announce = () => featuresetMessage(fs, input.spec, artifact);

      for (let round = 0; round <= RUNS; round++) {
        const warm = round === 0;
        const label = warm ? 'warm-up' : `run ${round}/${RUNS}`;
        const prepared = performance.now();
        const r = await prepareRound(kafka, admin, warm ? 'w' : String(round), input, announce);
        say(
          `${label}: ${fmt(EVENTS_TOTAL)} records into ${r.input} in ${((performance.now() - prepared) / 1000).toFixed(1)} s`,
        );
        try {
          // Alternate which pipeline goes first.
          const order =
            round % 2 === 1 ? (['raw', 'stream'] as const) : (['stream', 'raw'] as const);
          for (const pipeline of order) {
            if (pipeline === 'raw') {
              const m = await rawPipe(kafka, admin, r);
              say(
                `${label.padEnd(9)} raw    ${m.seconds.toFixed(2).padStart(6)} s = ${fmt(m.perSecond).padStart(7)} records/s, ${m.cpuMicrosPerRecord.toFixed(1)} µs CPU/record`,
              );
              if (!warm) {
                recorder.add('raw_records_per_s', m.perSecond);
                recorder.add('raw_cpu_us_per_record', m.cpuMicrosPerRecord);
              }
            } else {
              const check = new VectorCheck(fs, input, expected);
              const m = await featureStage(kafka, admin, brokers, registry, r, check);
              say(
                `${label.padEnd(9)} stream ${m.seconds.toFixed(2).padStart(6)} s = ${fmt(m.perSecond).padStart(7)} records/s, ${m.cpuMicrosPerRecord.toFixed(1)} µs CPU/record (startup ${m.startupSeconds.toFixed(1)} s); ${fmt(m.vectors)} vectors, all ${fs.version} and equal to the library's`,
              );
              if (!warm) {
                recorder.add('stream_records_per_s', m.perSecond);
                recorder.add('stream_cpu_us_per_record', m.cpuMicrosPerRecord);
                recorder.add('stream_startup_s', m.startupSeconds);
              }
            }
          }
        } finally {
          await dropRound(admin, r.prefix);
        }
      }
    } finally {
      if (registry) {
        const code = await registry.stop();
        if (code !== 0)
          say(
            `model-registry exited with ${code}; output (tail):\n${registry.output().slice(-3000)}`,
          );
      }
      await dropRound(admin, registryPrefix).catch(() => {});
      await admin.disconnect().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
  say(`done in ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
  return recorder.result();
}
