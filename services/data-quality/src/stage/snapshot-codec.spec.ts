import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '@mlops/bus';
import type { PartitionSnapshot } from './partition-state';
import {
  CHUNK_BYTES,
  chunkKey,
  decodeSnapshot,
  encodeSnapshot,
  headKey,
  snapshotHeaderOf,
  type ChangelogRows,
} from './snapshot-codec';

/** A snapshot whose gzip'd body spans several chunks: incompressible random ids. */
function bigSnapshot(nextOffset: string, ids: number): PartitionSnapshot {
  const names = Array.from({ length: ids }, () => randomBytes(24).toString('base64'));
  return {
    version: 1,
    partition: 2,
    nextOffset,
    datasets: [['cards', { specVersion: 1, engine: { ids: names } as never, window: {} as never }]],
  };
}

/** What a compacted read of the partition gives: the latest value per key. */
function apply(rows: ChangelogRows, records: OutgoingRecord[]): ChangelogRows {
  for (const r of records) {
    rows.set(r.key, {
      value: r.value === null ? null : Buffer.from(r.value),
      snapshot: snapshotHeaderOf(r.headers),
    });
  }
  return rows;
}

describe('snapshot codec', () => {
  it('writes chunks to the input partition and reads the snapshot back whole', () => {
    const snap = bigSnapshot('1200', 100_000);
    const { records, head } = encodeSnapshot('state', snap, 0);
    expect(head.chunks).toBe(Math.ceil(head.bytes / CHUNK_BYTES));
    expect(head.chunks).toBeGreaterThan(2);
    expect(records.every((r) => r.partition === 2 && r.topic === 'state')).toBe(true);
    expect(records.at(-1)!.key).toBe(headKey(2));
    const back = decodeSnapshot(apply(new Map(), records), 2);
    expect(back?.snapshot).toEqual(snap);
    expect(back?.head).toEqual(head);
  });

  it('a smaller later snapshot tombstones the chunks it no longer uses', () => {
    const big = encodeSnapshot('state', bigSnapshot('10', 100_000), 0);
    const small = encodeSnapshot('state', bigSnapshot('20', 10), big.head.chunks);
    expect(small.head.chunks).toBe(1);
    const tombstones = small.records.filter((r) => r.value === null).map((r) => r.key);
    expect(tombstones).toEqual(
      Array.from({ length: big.head.chunks - 1 }, (_, i) => chunkKey(2, i + 1)),
    );
    const rows = apply(apply(new Map(), big.records), small.records);
    expect(decodeSnapshot(rows, 2)?.snapshot.nextOffset).toBe('20');
  });

  it('refuses a snapshot with a missing chunk or a chunk of another snapshot', () => {
    const a = encodeSnapshot('state', bigSnapshot('10', 100_000), 0);
    const b = encodeSnapshot('state', bigSnapshot('20', 100_000), a.head.chunks);
    const missing = apply(new Map(), a.records);
    missing.delete(chunkKey(2, 1));
    expect(() => decodeSnapshot(missing, 2)).toThrow(/chunk 1 is missing/);
    // b's head over a's chunks (b's chunks lost): never mixed.
    const mixed = apply(new Map(), a.records);
    apply(mixed, [b.records.at(-1)!]);
    expect(() => decodeSnapshot(mixed, 2)).toThrow(/from another snapshot/);
  });

  it('finds nothing in an empty changelog', () => {
    expect(decodeSnapshot(new Map(), 0)).toBeUndefined();
  });
});
