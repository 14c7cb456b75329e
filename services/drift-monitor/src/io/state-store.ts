import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { readPartition, type Bus, type OutgoingRecord } from '@mlops/bus';
import { topicName } from '@mlops/contracts';
import type { DriftReport, MonitorSnapshot } from '../monitor/monitor';

/** What a snapshot holds: the monitor and the input positions it reflects. */
export interface StoredState {
  monitor: MonitorSnapshot;
  /** Next offset to read per `topic/partition` (the physical topic name). */
  positions: Record<string, string>;
  /** The latest report of each kind per version, so the REST API answers after a restart. */
  reports?: DriftReport[];
  writtenAt: string;
}

interface Head {
  generation: number;
  chunks: number;
  bytes: number;
  sha256: string;
  writtenAt: string;
}

export const CHUNK_BYTES = 1024 * 1024;
const HEAD = 'head';
const chunkKey = (generation: number, i: number) => `chunk/${generation}/${i}`;

/** A snapshot as records: its chunks under keys of its own generation, then the head. */
export function encodeState(
  topic: string,
  state: StoredState,
  generation: number,
): { records: OutgoingRecord[]; head: Head } {
  const body = gzipSync(JSON.stringify(state), { level: 1 });
  const chunks = Math.max(1, Math.ceil(body.length / CHUNK_BYTES));
  const head: Head = {
    generation,
    chunks,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    writtenAt: state.writtenAt,
  };
  const records: OutgoingRecord[] = [];
  for (let i = 0; i < chunks; i++)
    records.push({
      topic,
      partition: 0,
      key: chunkKey(generation, i),
      value: body.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
    });
  records.push({ topic, partition: 0, key: HEAD, value: JSON.stringify(head) });
  return { records, head };
}

/** The latest snapshot among the changelog's latest values per key; throws on a torn one. */
export function decodeState(
  rows: Map<string, Buffer | null>,
): { state: StoredState; head: Head } | undefined {
  const raw = rows.get(HEAD);
  if (!raw) return undefined;
  const head = JSON.parse(raw.toString('utf8')) as Head;
  const parts: Buffer[] = [];
  for (let i = 0; i < head.chunks; i++) {
    const part = rows.get(chunkKey(head.generation, i));
    if (!part) throw new Error(`drift monitor snapshot ${head.generation}: chunk ${i} is missing`);
    parts.push(part);
  }
  const body = Buffer.concat(parts);
  if (body.length !== head.bytes || createHash('sha256').update(body).digest('hex') !== head.sha256)
    throw new Error(`drift monitor snapshot ${head.generation}: hash mismatch`);
  return { state: JSON.parse(gunzipSync(body).toString('utf8')) as StoredState, head };
}

/**
 * The monitor's snapshots in the compacted drift-monitor.state.changelog.v1 (one partition):
 * gzip'd JSON in chunks of 1 MiB under keys of the snapshot's generation, then a head naming
 * them. The head is written after its chunks (one producer, one partition: in order), and the
 * previous generation's chunks are tombstoned only after that, so a crash mid-write leaves the
 * previous snapshot whole.
 */
export class StateStore {
  private readonly topic: string;
  private generation = 0;
  private previousChunks = 0;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {
    this.topic = topicName('driftMonitorState', bus.prefix);
  }

  async load(): Promise<StoredState | undefined> {
    const rows = new Map<string, Buffer | null>();
    await readPartition(
      this.bus.kafka,
      this.bus.admin,
      { topic: this.topic, partition: 0, from: '0', maxBytes: 64 * 1024 * 1024 },
      (messages) => {
        for (const m of messages) if (m.key) rows.set(m.key.toString('utf8'), m.value);
      },
    );
    const found = decodeState(rows);
    if (!found) return undefined;
    this.generation = found.head.generation;
    this.previousChunks = found.head.chunks;
    return found.state;
  }

  async save(state: StoredState): Promise<{ bytes: number; chunks: number }> {
    const generation = this.generation + 1;
    const { records, head } = encodeState(this.topic, state, generation);
    await this.bus.producer.send(records);
    const stale: OutgoingRecord[] = [];
    for (let i = 0; i < this.previousChunks; i++)
      stale.push({
        topic: this.topic,
        partition: 0,
        key: chunkKey(this.generation, i),
        value: null,
      });
    this.generation = generation;
    this.previousChunks = head.chunks;
    await this.bus.producer
      .send(stale)
      .catch((err: unknown) => this.logger.warn({ err }, 'could not tombstone an old snapshot'));
    return { bytes: head.bytes, chunks: head.chunks };
  }
}
