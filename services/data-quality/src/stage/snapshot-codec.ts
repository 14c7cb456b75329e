import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { OutgoingRecord } from '@mlops/bus';
import type { PartitionSnapshot } from './partition-state';

/**
 * A partition snapshot as changelog records: gzip'd JSON cut into chunks of at most
 * `CHUNK_BYTES` (a record stays within what consumers fetch by default), plus a head record
 * that names the snapshot (its input offset), the number of chunks and the sha256 of the
 * whole. All go to the changelog partition of the input partition, in one transaction, so a
 * reader sees a snapshot whole or not at all; the head is checked against the chunks anyway.
 *
 * Keys: `<partition>/head`, `<partition>/chunk/<i>`. A later snapshot overwrites the keys, and
 * tombstones the chunks it no longer needs, so compaction keeps one snapshot per partition.
 */

export const CHUNK_BYTES = 1024 * 1024;
const SNAPSHOT_HEADER = 'dq-snapshot';

export interface SnapshotHead {
  nextOffset: string;
  chunks: number;
  bytes: number;
  sha256: string;
  writtenAt: string;
}

export const headKey = (partition: number) => `${partition}/head`;
export const chunkKey = (partition: number, i: number) => `${partition}/chunk/${i}`;

/** The records of one snapshot, and tombstones for chunks of a larger previous one. */
export function encodeSnapshot(
  topic: string,
  snapshot: PartitionSnapshot,
  previousChunks: number,
  now = new Date(),
): { records: OutgoingRecord[]; head: SnapshotHead } {
  const body = gzipSync(JSON.stringify(snapshot), { level: 1 });
  const chunks = Math.max(1, Math.ceil(body.length / CHUNK_BYTES));
  const head: SnapshotHead = {
    nextOffset: snapshot.nextOffset,
    chunks,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    writtenAt: now.toISOString(),
  };
  const partition = snapshot.partition;
  const headers = { [SNAPSHOT_HEADER]: snapshot.nextOffset };
  const records: OutgoingRecord[] = [];
  for (let i = 0; i < chunks; i++) {
    records.push({
      topic,
      partition,
      key: chunkKey(partition, i),
      value: body.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
      headers,
    });
  }
  for (let i = chunks; i < previousChunks; i++) {
    records.push({ topic, partition, key: chunkKey(partition, i), value: null });
  }
  records.push({
    topic,
    partition,
    key: headKey(partition),
    value: JSON.stringify(head),
    headers,
  });
  return { records, head };
}

/** The latest value per key of a changelog partition, with its snapshot header. */
export type ChangelogRows = Map<string, { value: Buffer | null; snapshot: string | undefined }>;

/**
 * The snapshot the rows hold for `partition`, or undefined when there is none. Throws when a
 * head's chunks are missing or do not add up to its hash: a snapshot is never used half.
 */
export function decodeSnapshot(
  rows: ChangelogRows,
  partition: number,
): { snapshot: PartitionSnapshot; head: SnapshotHead } | undefined {
  const headRow = rows.get(headKey(partition));
  if (!headRow?.value) return undefined;
  const head = JSON.parse(headRow.value.toString('utf8')) as SnapshotHead;
  const parts: Buffer[] = [];
  for (let i = 0; i < head.chunks; i++) {
    const row = rows.get(chunkKey(partition, i));
    if (!row?.value || row.snapshot !== head.nextOffset) {
      throw new Error(
        `snapshot of partition ${partition} at ${head.nextOffset}: chunk ${i} is missing or from another snapshot`,
      );
    }
    parts.push(row.value);
  }
  const body = Buffer.concat(parts);
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (body.length !== head.bytes || sha256 !== head.sha256) {
    throw new Error(`snapshot of partition ${partition} at ${head.nextOffset}: hash mismatch`);
  }
  const snapshot = JSON.parse(gunzipSync(body).toString('utf8')) as PartitionSnapshot;
  if (snapshot.partition !== partition || snapshot.nextOffset !== head.nextOffset) {
    throw new Error(`snapshot of partition ${partition}: head and body disagree`);
  }
  return { snapshot, head };
}

/** The snapshot a changelog record belongs to (its header), from kafkajs or string headers. */
export function snapshotHeaderOf(
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): string | undefined {
  const raw = headers?.[SNAPSHOT_HEADER];
  const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}
