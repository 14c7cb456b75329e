import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetSpec,
  EVENTS,
  type CleanEvent,
  type QualityReportEvent,
  type RejectedEvent,
  type ValidatedEvent,
} from '@mlops/contracts';
import {
  cardsSpec,
  generateCards,
  QUALITY_WORKLOAD,
  scoreDetections,
  type DefectKind,
  type GeneratedCards,
} from '@mlops/datagen';
import {
  cloudEventMessage,
  consumeUntil,
  groupCaughtUp,
  publishSpec,
  readAll,
  startService,
  testKafka,
  type Collected,
  type RunningService,
  type TestKafka,
} from '@mlops/testing';
import { parseQualityConfig } from '../services/data-quality/src/rules/quality-config';
import {
  PartitionState,
  type Decision,
  type QualityInput,
} from '../services/data-quality/src/stage/partition-state';

/**
 * The acceptance through the running stage on the real broker: 50,000 generated card
 * records with known defects on events.validated.v1, data-quality killed with SIGKILL once it
 * is well into them and started again.
 *
 * - Nothing lost or doubled: every input record comes out once, on events.clean.v1 or
 *   dead-lettered on events.rejected.v1 with its reasons.
 * - The same output as a run that never stopped: the rules are replayed in-process
 *   (PartitionState, the stage's own pure core) over each partition's records in offset order,
 *   and every decision, flag and repaired value must match — which also shows that the state
 *   the restarted process continued from (snapshot + replay) was exactly right.
 * - Precision and recall per rule against the generator's truth.
 */

const N = 50_000;
const SPEC = DatasetSpec.parse(cardsSpec());
const GROUP = 'data-quality.stage';

function produceValidated(t: TestKafka, gen: GeneratedCards): Promise<unknown> {
  const messages = gen.records.map((r, i) => {
    const data: ValidatedEvent = {
      dataset: 'cards',
      specVersion: SPEC.version,
      entityId: r.card_id,
      record: r as unknown as Record<string, unknown>,
      ingestedAt: new Date().toISOString(),
      via: 'kafka',
      source: 'e2e',
    };
    const m = cloudEventMessage(EVENTS.validatedEvent.type, `cards:${r.card_id}`, data, gen.ids[i]);
    return { ...m, headers: { ...m.headers, 'x-index': String(i) } };
  });
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += 2000) {
    sends.push(
      t.producer.send({
        topic: t.topic('eventsValidated'),
        acks: -1,
        messages: messages.slice(i, i + 2000),
      }),
    );
  }
  return Promise.all(sends);
}

/** The decisions of a run that never stopped: the stage's core over each partition in order. */
function reference(validated: Collected[]): Map<string, Decision> {
  const config = parseQualityConfig(SPEC);
  const lookup = () => ({ config, specVersion: SPEC.version });
  const out = new Map<string, Decision>();
  const byPartition = new Map<number, Collected[]>();
  for (const r of validated) {
    const list = byPartition.get(r.partition) ?? [];
    list.push(r);
    byPartition.set(r.partition, list);
  }
  for (const [partition, records] of byPartition) {
    records.sort((a, b) => Number(a.offset) - Number(b.offset));
    const state = new PartitionState(partition);
    const inputs: QualityInput[] = records.map((r) => ({
      offset: r.offset,
      id: r.headers.ce_id,
      data: JSON.parse(r.value!) as ValidatedEvent,
    }));
    for (const d of state.process(inputs, lookup).decisions) {
      out.set(`${partition}/${d.input.offset}`, d);
    }
  }
  return out;
}

describe('data-quality on 50,000 generated records, killed mid-stream', () => {
  let t: TestKafka;
  const services: RunningService[] = [];
  const gen = generateCards({ n: N, ...QUALITY_WORKLOAD });
  const env = () => ({
    KAFKA_BROKERS: t.brokers,
    KAFKA_TOPIC_PREFIX: t.prefix,
    // Snapshots every few thousand records, so the restart restores one and replays the rest.
    DQ_SNAPSHOT_EVERY: '4000',
  });

  beforeAll(async () => {
    t = await testKafka('dq');
    await t.createTopics(['pipelineSpecs', 'eventsValidated']);
    await publishSpec(t, SPEC);
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await t.close();
  });

  it('judges every record once, as an uninterrupted run would, with the precision and recall the issue asks', async () => {
    let dq = await startService('data-quality', env());
    await produceValidated(t, gen);
    await consumeUntil(t.kafka, t.topic('eventsClean'), (r) => r.length >= 20_000, 120_000);
    await dq.kill();
    const atKill = (await t.admin.fetchTopicOffsets(t.topic('eventsClean'))).reduce(
      (n, p) => n + Number(p.high),
      0,
    );
    expect(atKill).toBeLessThan(N * 0.9);
    dq = await startService('data-quality', env());
    services.push(dq);
    await groupCaughtUp(t.admin, `${t.prefix}${GROUP}`, t.topic('eventsValidated'), 240_000);

    const validated = await readAll(t.kafka, t.admin, t.topic('eventsValidated'));
    expect(validated).toHaveLength(N);
    const indexOf = new Map(
      validated.map((r) => [`${r.partition}/${r.offset}`, Number(r.headers['x-index'])]),
    );
    const clean = (await readAll(t.kafka, t.admin, t.topic('eventsClean'))).map((r) => ({
      id: r.headers.ce_id,
      event: JSON.parse(r.value!) as CleanEvent,
    }));
    const rejected = (await readAll(t.kafka, t.admin, t.topic('eventsRejected')))
      .map((r) => JSON.parse(r.value!) as RejectedEvent)
      .filter((r) => r.stage === 'data-quality');

    // Nothing lost, nothing doubled.
    expect(clean.length + rejected.length).toBe(N);
    const cleanIds = new Set(clean.map((c) => c.id));
    expect(cleanIds.size).toBe(clean.length);
    const rejectedAt = new Set(rejected.map((r) => `${r.original.partition}/${r.original.offset}`));
    expect(rejectedAt.size).toBe(rejected.length);

    // Exactly what a run that never stopped decides.
    const expected = reference(validated);
    const expectedClean = new Map<string, Decision & { kind: 'clean' }>();
    const expectedRejected = new Map<string, string[]>();
    for (const [at, d] of expected) {
      if (d.kind === 'clean') expectedClean.set(d.input.id, d);
      else
        expectedRejected.set(
          at,
          d.reasons.map((r) => r.code),
        );
    }
    expect(new Set(expectedClean.keys())).toEqual(cleanIds);
    for (const c of clean) {
      const want = expectedClean.get(c.id)!;
      expect(c.event.quality.flags, c.id).toEqual(want.result.flags);
      expect(c.event.record, c.id).toEqual(want.result.record);
    }
    expect(rejectedAt).toEqual(new Set(expectedRejected.keys()));
    for (const r of rejected) {
      const at = `${r.original.partition}/${r.original.offset}`;
      expect(
        r.reasons.map((x) => x.code),
        at,
      ).toEqual(expectedRejected.get(at));
    }

    // Precision and recall against the generator's truth.
    const cleanIndex = new Map<number, string[]>();
    const rejectedIndex = new Map<number, string[]>();
    for (const [at, d] of expected) {
      if (d.kind === 'clean') cleanIndex.set(indexOf.get(at)!, d.result.flags);
      else
        rejectedIndex.set(
          indexOf.get(at)!,
          d.reasons.map((r) => r.code),
        );
    }
    const flagged = (onClean: (f: string) => boolean, codes: string[]) => [
      ...[...cleanIndex].filter(([, flags]) => flags.some(onClean)).map(([i]) => i),
      ...[...rejectedIndex].filter(([, c]) => c.some((x) => codes.includes(x))).map(([i]) => i),
    ];
    const score = (
      kind: DefectKind | DefectKind[],
      onClean: (f: string) => boolean,
      codes: string[],
    ) => scoreDetections(gen.truth, kind, flagged(onClean, codes));
    const none = () => false;
    const scores = {
      exactDuplicates: score(['duplicate', 'duplicate_id'], none, [
        'duplicate_id',
        'duplicate_content',
      ]),
      nearDuplicates: score('near_duplicate', (f) => f.startsWith('near_duplicate:'), [
        'near_duplicate',
      ]),
      missing: score('missing', (f) => f.startsWith('missing:'), []),
      outliers: score('outlier', (f) => f.startsWith('outlier:'), ['outlier']),
      labelConflicts: score('label_conflict', (f) => f === 'label_conflict', ['label_conflict']),
    };
    console.table(
      Object.fromEntries(
        Object.entries(scores).map(([k, s]) => [
          k,
          { precision: s.precision.toFixed(4), recall: s.recall.toFixed(4), tp: s.truePositives },
        ]),
      ),
    );
    for (const k of ['exactDuplicates', 'missing', 'outliers'] as const) {
      expect(scores[k].precision, k).toBeGreaterThanOrEqual(0.95);
      expect(scores[k].recall, k).toBeGreaterThanOrEqual(0.95);
    }
    for (const k of ['nearDuplicates', 'labelConflicts'] as const) {
      expect(scores[k].precision, k).toBeGreaterThanOrEqual(0.9);
      expect(scores[k].recall, k).toBeGreaterThanOrEqual(0.9);
    }

    // The restarted process continued from a snapshot, not from nothing.
    expect(dq.output()).toMatch(/"msg":"quality state restored"/);
    expect(dq.output()).toMatch(/"snapshotAt":"\d+"/);

    // Reports: one closed window per 10,000 records of a partition, on the bus and at the API.
    const reports = (await readAll(t.kafka, t.admin, t.topic('qualityReports'))).map(
      (r) => JSON.parse(r.value!) as QualityReportEvent,
    );
    const perPartition = new Map<number, number>();
    for (const r of validated)
      perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
    const windows = [...perPartition.values()].reduce((n, c) => n + Math.floor(c / 10_000), 0);
    expect(new Set(reports.map((r) => `${r.partition}/${r.window.index}`)).size).toBe(windows);
    for (const r of reports) expect(r.counts.records).toBe(10_000);

    const res = await fetch(`${dq.url}/v1/datasets/cards/quality`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      total: {
        counts: {
          records: number;
          verdicts: Record<string, number>;
          flags: Record<string, number>;
        };
      };
      stats: Record<string, { count: number; median: number }>;
      partitions: unknown[];
    };
    expect(body.total.counts.records).toBe(N);
    expect(body.total.counts.verdicts.pass).toBe(clean.length);
    expect(body.total.counts.verdicts.drop + body.total.counts.verdicts.reject).toBe(
      rejected.length,
    );
    const missingFlags = [...cleanIndex.values()].filter((f) =>
      f.some((x) => x.startsWith('missing:')),
    ).length;
    expect(body.total.counts.flags.missing).toBe(missingFlags);
    expect(body.partitions).toHaveLength(perPartition.size);
    expect(body.stats.amount.count).toBeGreaterThan(N * 0.85);
    expect((await fetch(`${dq.url}/v1/datasets/nope/quality`)).status).toBe(404);
  });
});
