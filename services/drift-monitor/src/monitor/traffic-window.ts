/**
 * The windows a model version's traffic is judged on, by count or by event time, tumbling or
 * sliding — as a dataset spec's `drift.window` says. Pure and serialisable: the monitor's
 * snapshot holds a window's buffer and position, so a restarted monitor closes the same windows
 * on the same events (time is the events' own time, never the clock).
 *
 * - count, tumbling (`size`): every `size` events close a window and start an empty one.
 * - count, sliding (`size`, `slide`): once `size` events are in, a window of the latest `size`
 *   closes every `slide` events.
 * - time, tumbling: windows [k·size, (k+1)·size) seconds; an event at or past the end closes the
 *   open window (if it holds anything). Late events (before the open window) are counted, not
 *   judged.
 * - time, sliding: windows of `size` seconds ending on multiples of `slide`; each closes when an
 *   event reaches its end, over the events in [end − size, end).
 */

export interface WindowSpec {
  kind: 'count' | 'time';
  size: number;
  slide?: number;
}

export interface Timed {
  /** Event time, ms since the epoch. */
  at: number;
}

export interface ClosedWindow<T> {
  /** Sequence number of the window (count) or its end ÷ step (time); unique per version. */
  index: number;
  kind: 'count' | 'time';
  entries: T[];
  from: number;
  to: number;
}

export interface WindowState<T> {
  entries: T[];
  /** Events since the last close (count), or the end of the next window to close (time, ms). */
  mark: number;
  closed: number;
  late: number;
}

export class TrafficWindow<T extends Timed> {
  private entries: T[];
  private mark: number;
  private closedCount: number;
  private lateCount: number;

  constructor(
    readonly spec: WindowSpec,
    state?: WindowState<T>,
  ) {
    if (!(spec.size > 0)) throw new RangeError(`window size ${spec.size}`);
    if (spec.slide !== undefined && !(spec.slide > 0 && spec.slide <= spec.size))
      throw new RangeError(`window slide ${spec.slide} must be in (0, ${spec.size}]`);
    this.entries = state?.entries ?? [];
    this.mark = state?.mark ?? 0;
    this.closedCount = state?.closed ?? 0;
    this.lateCount = state?.late ?? 0;
  }

  get size(): number {
    return this.entries.length;
  }

  get closed(): number {
    return this.closedCount;
  }

  get late(): number {
    return this.lateCount;
  }

  /** Adds one event; returns the windows it closed (at most one, bar time gaps). */
  add(entry: T): ClosedWindow<T>[] {
    return this.spec.kind === 'count' ? this.addCounted(entry) : this.addTimed(entry);
  }

  state(): WindowState<T> {
    return {
      entries: this.entries,
      mark: this.mark,
      closed: this.closedCount,
      late: this.lateCount,
    };
  }

  private addCounted(entry: T): ClosedWindow<T>[] {
    const { size, slide } = this.spec;
    this.entries.push(entry);
    this.mark += 1;
    if (slide === undefined) {
      if (this.entries.length < size) return [];
      const entries = this.entries;
      this.entries = [];
      this.mark = 0;
      return [this.close(entries)];
    }
    if (this.entries.length > size) this.entries.splice(0, this.entries.length - size);
    if (this.entries.length < size || this.mark < slide) return [];
    this.mark = 0;
    return [this.close(this.entries.slice())];
  }

  private addTimed(entry: T): ClosedWindow<T>[] {
    const sizeMs = this.spec.size * 1000;
    const stepMs = (this.spec.slide ?? this.spec.size) * 1000;
    const out: ClosedWindow<T>[] = [];
    if (this.mark === 0) this.mark = (Math.floor(entry.at / stepMs) + 1) * stepMs;
    // The open window's start: an event before it can no longer be judged.
    if (entry.at < this.mark - sizeMs) {
      this.lateCount += 1;
      return out;
    }
    while (entry.at >= this.mark) {
      const end = this.mark;
      const inside = this.entries.filter((e) => e.at >= end - sizeMs && e.at < end);
      if (inside.length > 0) out.push(this.close(inside, end - sizeMs, end, end / stepMs));
      // Jump over empty steps rather than walk them one by one.
      const next = (Math.floor(entry.at / stepMs) + 1) * stepMs;
      this.mark = inside.length > 0 || this.entries.length > 0 ? end + stepMs : next;
      this.entries = this.entries.filter((e) => e.at >= this.mark - sizeMs);
      if (this.entries.length === 0 && this.mark < next) this.mark = next;
    }
    this.entries.push(entry);
    return out;
  }

  private close(entries: T[], from?: number, to?: number, index?: number): ClosedWindow<T> {
    this.closedCount += 1;
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of entries) {
      if (e.at < lo) lo = e.at;
      if (e.at > hi) hi = e.at;
    }
    return {
      index: index ?? this.closedCount,
      kind: this.spec.kind,
      entries,
      from: from ?? lo,
      to: to ?? hi,
    };
  }
}
