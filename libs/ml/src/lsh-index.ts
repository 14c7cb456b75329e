/**
 * Find every stored 64-bit fingerprint within Hamming distance k of a query without scanning
 * them all: LSH by banding, the pigeonhole form of Manku et al. (2007).
 *
 * The 64 bits are cut into b = k + 1 contiguous bands. Two fingerprints that differ in at most k
 * bits cannot have a difference in every one of k + 1 bands, so they agree exactly on at least
 * one band. Each band indexes the stored ids by that band's value; a query's candidates are the
 * ids sharing at least one band value with it, and each candidate is then checked with the
 * exact distance. So no true neighbour is missed and no false one returned; only the work
 * varies. For unrelated (random) fingerprints a band of w bits matches with probability 2^−w,
 * so a query examines about b·N/2^w entries: at the default k = 3, four 16-bit bands, ~6
 * candidates per query for N = 100,000 stored, instead of 100,000. Larger k means narrower bands
 * (k = 7: eight 8-bit bands, ~N/32) — the cost of tolerating more differing bits.
 *
 * {@link LshIndex.query} returns every match, closest first; {@link LshIndex.findAny} stops at
 * the first, which is all a "near duplicate or not" decision needs.
 *
 * The index is a bounded window when given a capacity: inserting beyond it evicts the oldest
 * entry, and callers with a time window evict through {@link LshIndex.oldest} /
 * {@link LshIndex.evictOldest}.
 *
 * Scopes: an entry may be inserted under a scope (an entity id, say), and a query with a scope
 * only sees that scope's entries — each scope has buckets of its own, so entries of other
 * scopes are never even examined. A caller that only accepts neighbours of the same entity
 * pays for that entity's entries, not for the window's (at k = 10, eleven 5–6-bit bands, an
 * unscoped query examines about a sixth of all entries). A scope (the unscoped entries are one
 * too) of at most {@link SCAN_LIMIT} entries is scanned, which beats k + 1 bucket lookups; a
 * larger one is banded as above. Either way the answer is exact.
 */
import { type Fingerprint64, fingerprintFromHex, fingerprintToHex, hamming } from './simhash';

/** Options of {@link LshIndex}. */
export interface LshIndexOptions {
  /** The largest Hamming distance a query reports, 0–63; 3 by default. Sets the bands (k + 1). */
  readonly maxDistance?: number;
  /** At most this many entries; inserting one more evicts the oldest. Unbounded by default. */
  readonly capacity?: number;
}

/** One stored fingerprint within the query distance. */
export interface LshMatch<Id> {
  readonly id: Id;
  readonly fingerprint: Fingerprint64;
  readonly distance: number;
}

/** Snapshot of an {@link LshIndex}: its settings and its entries, oldest first. */
export interface LshIndexState<Id> {
  readonly maxDistance: number;
  readonly capacity: number | null;
  /** [id, fingerprint as 16 hex digits, scope when it has one], oldest first. */
  readonly entries: readonly (readonly [Id, string] | readonly [Id, string, string])[];
}

interface Entry {
  readonly fp: Fingerprint64;
  readonly scope: string;
  // Insertion sequence number: orders matches of equal distance oldest first.
  readonly seq: number;
}

/** Groups of at most this many entries are scanned rather than banded. */
export const SCAN_LIMIT = 32;

/** The entries of one scope: in insertion order, with band buckets once it is large. */
interface Group<Id> {
  ids: Id[];
  bands: Map<number, Id[]>[] | null;
}

/** The key of the unscoped entries' group (an empty scope is no scope). */
const NO_SCOPE = '';

/** An id that JSON and Map keys both handle. */
export type LshId = string | number;

/** Banded LSH index over 64-bit fingerprints; see the module comment. */
export class LshIndex<Id extends LshId = string> {
  /** The k of "within Hamming distance k". */
  readonly maxDistance: number;
  /** Maximum number of entries (Infinity when unbounded). */
  readonly capacity: number;
  private readonly starts: number[] = [];
  private readonly widths: number[] = [];
  private readonly groups = new Map<string, Group<Id>>();
  // Map iteration order is insertion order: the first key is always the oldest entry.
  private readonly entries = new Map<Id, Entry>();
  private seq = 0;
  private queryCount = 0;
  private candidateCount = 0;

  constructor(options: LshIndexOptions = {}) {
    const k = options.maxDistance ?? 3;
    if (!Number.isInteger(k) || k < 0 || k > 63) {
      throw new RangeError(`LshIndex: maxDistance must be an integer in [0, 63], got ${k}`);
    }
    const capacity = options.capacity ?? Infinity;
    if (capacity !== Infinity && (!Number.isSafeInteger(capacity) || capacity < 1)) {
      throw new RangeError(`LshIndex: capacity must be a positive integer, got ${capacity}`);
    }
    this.maxDistance = k;
    this.capacity = capacity;
    // k + 1 bands as equal as possible: the first 64 mod b bands get one extra bit.
    const b = k + 1;
    const base = Math.floor(64 / b);
    const extra = 64 % b;
    let start = 0;
    for (let i = 0; i < b; i += 1) {
      const w = base + (i < extra ? 1 : 0);
      this.starts.push(start);
      this.widths.push(w);
      start += w;
    }
  }

  /** Number of stored entries. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Queries answered and band candidates examined (with repeats) since construction, and the
   * number of non-empty buckets over all bands now (memory: at most bands × size).
   */
  get stats(): { readonly queries: number; readonly candidates: number; readonly buckets: number } {
    let buckets = 0;
    for (const g of this.groups.values()) {
      if (g.bands) for (const band of g.bands) buckets += band.size;
    }
    return { queries: this.queryCount, candidates: this.candidateCount, buckets };
  }

  /** Whether an id is stored. */
  has(id: Id): boolean {
    return this.entries.has(id);
  }

  /** The fingerprint stored under an id. */
  get(id: Id): Fingerprint64 | undefined {
    return this.entries.get(id)?.fp;
  }

  /** The oldest stored id (the next to be evicted). */
  oldest(): Id | undefined {
    for (const id of this.entries.keys()) return id;
    return undefined;
  }

  /**
   * Stores a fingerprint under an id (and a scope, see the module comment). An id already
   * present is replaced and becomes the newest. Returns the id evicted to stay within capacity,
   * if any.
   */
  insert(id: Id, fingerprint: Fingerprint64, scope?: string): Id | undefined {
    checkFingerprint(fingerprint);
    this.remove(id);
    const fp: Fingerprint64 = { hi: fingerprint.hi, lo: fingerprint.lo };
    const key = scope ?? NO_SCOPE;
    this.entries.set(id, { fp, scope: key, seq: this.seq++ });
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { ids: [], bands: null };
      this.groups.set(key, group);
    }
    group.ids.push(id);
    if (group.bands) this.addToBands(group.bands, id, fp);
    else if (group.ids.length > SCAN_LIMIT) group.bands = this.bandsOf(group.ids);
    return this.entries.size > this.capacity ? this.evictOldest() : undefined;
  }

  /** Removes an id; false when it was not stored. */
  remove(id: Id): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.entries.delete(id);
    const group = this.groups.get(entry.scope)!;
    removeFrom(group.ids, id);
    if (group.ids.length === 0) {
      this.groups.delete(entry.scope);
      return true;
    }
    if (group.bands === null) return true;
    if (group.ids.length <= SCAN_LIMIT / 2) {
      group.bands = null;
      return true;
    }
    for (let i = 0; i < group.bands.length; i += 1) {
      const band = group.bands[i];
      const key = this.bandKey(entry.fp, i);
      const bucket = band.get(key);
      if (bucket === undefined) continue;
      removeFrom(bucket, id);
      // Empty buckets are dropped, or a sliding window would leak one per distinct band value.
      if (bucket.length === 0) band.delete(key);
    }
    return true;
  }

  /** Removes and returns the oldest id; undefined when empty. */
  evictOldest(): Id | undefined {
    const id = this.oldest();
    if (id !== undefined) this.remove(id);
    return id;
  }

  /** Removes everything (statistics are kept). */
  clear(): void {
    this.entries.clear();
    this.groups.clear();
  }

  /**
   * Every stored fingerprint within `maxDistance` (at most the index's k) of the query, closest
   * first, equal distances oldest first; with a scope, only that scope's entries.
   */
  query(
    fingerprint: Fingerprint64,
    maxDistance = this.maxDistance,
    scope?: string,
  ): LshMatch<Id>[] {
    checkFingerprint(fingerprint);
    this.checkRadius(maxDistance);
    this.queryCount += 1;
    // A neighbour agreeing on several bands is found several times; `seen` keeps it once. It is
    // created only on the first match, so a query without matches allocates nothing more.
    let seen: Set<Id> | undefined;
    const out: (LshMatch<Id> & { seq: number })[] = [];
    const consider = (id: Id) => {
      const entry = this.entries.get(id) as Entry;
      const distance = hamming(fingerprint, entry.fp);
      if (distance > maxDistance) return;
      if (seen === undefined) seen = new Set();
      else if (seen.has(id)) return;
      seen.add(id);
      out.push({ id, fingerprint: entry.fp, distance, seq: entry.seq });
    };
    const group = this.groups.get(scope ?? NO_SCOPE);
    if (group === undefined) return [];
    if (group.bands === null) {
      this.candidateCount += group.ids.length;
      for (const id of group.ids) consider(id);
    } else {
      for (let i = 0; i < group.bands.length; i += 1) {
        const bucket = group.bands[i].get(this.bandKey(fingerprint, i));
        if (bucket === undefined) continue;
        this.candidateCount += bucket.length;
        for (const id of bucket) consider(id);
      }
    }
    out.sort((a, b) => a.distance - b.distance || a.seq - b.seq);
    return out.map(({ id, fingerprint: fp, distance }) => ({ id, fingerprint: fp, distance }));
  }

  /** The closest stored fingerprint within the index's k (oldest on ties), if any. */
  nearest(fingerprint: Fingerprint64): LshMatch<Id> | undefined {
    return this.query(fingerprint)[0];
  }

  /**
   * Some stored fingerprint within `maxDistance`, or undefined: the first one found, not
   * necessarily the closest. It stops at the first match, so "is this a near duplicate?" stays
   * cheap even when many similar texts share a bucket.
   */
  findAny(
    fingerprint: Fingerprint64,
    maxDistance = this.maxDistance,
    scope?: string,
  ): LshMatch<Id> | undefined {
    checkFingerprint(fingerprint);
    this.checkRadius(maxDistance);
    this.queryCount += 1;
    const group = this.groups.get(scope ?? NO_SCOPE);
    if (group === undefined) return undefined;
    const buckets =
      group.bands === null
        ? [group.ids]
        : group.bands.map((band, i) => band.get(this.bandKey(fingerprint, i)) ?? []);
    for (const bucket of buckets) {
      for (const id of bucket) {
        this.candidateCount += 1;
        const entry = this.entries.get(id) as Entry;
        const distance = hamming(fingerprint, entry.fp);
        if (distance <= maxDistance) return { id, fingerprint: entry.fp, distance };
      }
    }
    return undefined;
  }

  /** [id, fingerprint] pairs, oldest first. */
  *[Symbol.iterator](): IterableIterator<[Id, Fingerprint64]> {
    for (const [id, entry] of this.entries) yield [id, entry.fp];
  }

  /** A JSON-safe snapshot; {@link LshIndex.fromJSON} rebuilds the same index, same order. */
  toJSON(): LshIndexState<Id> {
    return {
      maxDistance: this.maxDistance,
      capacity: this.capacity === Infinity ? null : this.capacity,
      entries: Array.from(this.entries, ([id, e]) =>
        e.scope === NO_SCOPE
          ? ([id, fingerprintToHex(e.fp)] as const)
          : ([id, fingerprintToHex(e.fp), e.scope] as const),
      ),
    };
  }

  /** Rebuilds an index from {@link LshIndex.toJSON}, inserting oldest first. */
  static fromJSON<Id extends LshId>(state: LshIndexState<Id>): LshIndex<Id> {
    const index = new LshIndex<Id>({
      maxDistance: state.maxDistance,
      capacity: state.capacity ?? Infinity,
    });
    for (const [id, hex, scope] of state.entries) index.insert(id, fingerprintFromHex(hex), scope);
    return index;
  }

  // Beyond k the pigeonhole argument fails: a neighbour could differ in every band.
  private checkRadius(maxDistance: number): void {
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > this.maxDistance) {
      throw new RangeError(
        `LshIndex: a query radius must be an integer in [0, ${this.maxDistance}] (the index's k)`,
      );
    }
  }

  private bandsOf(ids: readonly Id[]): Map<number, Id[]>[] {
    const bands = this.starts.map(() => new Map<number, Id[]>());
    for (const id of ids) this.addToBands(bands, id, (this.entries.get(id) as Entry).fp);
    return bands;
  }

  private addToBands(bands: Map<number, Id[]>[], id: Id, fp: Fingerprint64): void {
    for (let i = 0; i < bands.length; i += 1) {
      const key = this.bandKey(fp, i);
      const bucket = bands[i].get(key);
      if (bucket === undefined) bands[i].set(key, [id]);
      else bucket.push(id);
    }
  }

  // The value of band i as a number. Bands of up to 32 bits are exact; the single 64-bit band
  // of k = 0 becomes a double, which may round: equal fingerprints still get equal keys, and the
  // exact distance check discards the rare rounding collisions.
  private bandKey(fp: Fingerprint64, i: number): number {
    const start = this.starts[i];
    const width = this.widths[i];
    if (width > 32) return fp.hi * 4294967296 + fp.lo;
    const mask = 0xffffffff >>> (32 - width);
    if (start >= 32) return ((fp.hi >>> (start - 32)) & mask) >>> 0;
    if (start + width <= 32) return ((fp.lo >>> start) & mask) >>> 0;
    // The band straddles the halves: its low bits come from lo, the rest from hi.
    const lowBits = 32 - start;
    const highMask = 0xffffffff >>> (32 - (width - lowBits));
    return (fp.lo >>> start) + ((fp.hi & highMask) >>> 0) * 2 ** lowBits;
  }
}

/** Removes one occurrence; ids are mostly removed oldest first, so from the front. */
function removeFrom<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}

function checkFingerprint(f: Fingerprint64): void {
  const ok = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!ok(f.hi) || !ok(f.lo)) throw new RangeError('fingerprint halves must be uint32');
}
