/**
 * The set of event ids seen recently, bounded by count (oldest out first). A batch stages its
 * new ids; they become part of the window only when the batch's transaction commits, so an
 * aborted batch that is handled again does not find its own ids and drop its events.
 */
export class DedupeWindow {
  /** id → when first seen; Map order is insertion order, so the first key is the oldest. */
  private readonly seen = new Map<string, string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new Error('capacity must be a positive integer');
  }

  get size(): number {
    return this.seen.size;
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  /** Restores an entry read back from the changelog. */
  restore(id: string, seenAt: string): void {
    this.seen.delete(id);
    this.seen.set(id, seenAt);
  }

  forget(id: string): void {
    this.seen.delete(id);
  }

  /**
   * Adds committed ids and returns those evicted to stay within capacity (their changelog
   * entries are then deleted with tombstones).
   */
  commit(entries: readonly { id: string; seenAt: string }[]): string[] {
    for (const e of entries) this.seen.set(e.id, e.seenAt);
    const evicted: string[] = [];
    while (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  /**
   * The ids that {@link commit} would evict if these new ids (not in the window) were
   * committed now: the oldest first, and some of the new ones too when they alone exceed the
   * capacity.
   */
  wouldEvict(incoming: readonly string[]): string[] {
    const excess = this.seen.size + incoming.length - this.capacity;
    if (excess <= 0) return [];
    const out: string[] = [];
    for (const id of this.seen.keys()) {
      if (out.length >= excess) return out;
      out.push(id);
    }
    for (const id of incoming) {
      if (out.length >= excess) break;
      out.push(id);
    }
    return out;
  }
}
