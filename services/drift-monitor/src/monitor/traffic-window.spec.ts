import { describe, expect, it } from 'vitest';
import { TrafficWindow } from './traffic-window';

const ev = (at: number, id = at) => ({ at, id });

describe('TrafficWindow', () => {
  it('count, tumbling: closes every `size` events and starts empty', () => {
    const w = new TrafficWindow<{ at: number; id: number }>({ kind: 'count', size: 3 });
    const closed = [1, 2, 3, 4, 5, 6, 7].flatMap((i) => w.add(ev(i * 1000, i)));
    expect(closed.map((c) => c.entries.map((e) => e.id))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(closed.map((c) => c.index)).toEqual([1, 2]);
    expect(closed[1]).toMatchObject({ from: 4000, to: 6000, kind: 'count' });
    expect(w.size).toBe(1);
  });

  it('count, sliding: the latest `size` events every `slide` once full', () => {
    const w = new TrafficWindow<{ at: number; id: number }>({ kind: 'count', size: 4, slide: 2 });
    const closed = Array.from({ length: 9 }, (_, i) => i + 1).flatMap((i) => w.add(ev(i, i)));
    expect(closed.map((c) => c.entries.map((e) => e.id))).toEqual([
      [1, 2, 3, 4],
      [3, 4, 5, 6],
      [5, 6, 7, 8],
    ]);
  });

  it('time, tumbling: [k·size, (k+1)·size) seconds; a gap closes once; late events are counted', () => {
    const w = new TrafficWindow<{ at: number; id: number }>({ kind: 'time', size: 10 });
    const out = [1_000, 9_999, 10_000, 15_000, 55_000, 12_000, 61_000].flatMap((t) => w.add(ev(t)));
    expect(out.map((c) => [c.from, c.to, c.entries.map((e) => e.at)])).toEqual([
      [0, 10_000, [1_000, 9_999]],
      [10_000, 20_000, [10_000, 15_000]],
      [50_000, 60_000, [55_000]],
    ]);
    // 12 s arrived after the window [50, 60) had opened.
    expect(w.late).toBe(1);
    expect(out.map((c) => c.index)).toEqual([1, 2, 6]);
  });

  it('time, sliding: windows of `size` seconds ending on multiples of `slide`', () => {
    const w = new TrafficWindow<{ at: number; id: number }>({ kind: 'time', size: 20, slide: 10 });
    const out = [5_000, 12_000, 25_000, 31_000].flatMap((t) => w.add(ev(t)));
    expect(out.map((c) => [c.from, c.to, c.entries.map((e) => e.at)])).toEqual([
      [-10_000, 10_000, [5_000]],
      [0, 20_000, [5_000, 12_000]],
      [10_000, 30_000, [12_000, 25_000]],
    ]);
  });

  it('resumes from its state and closes the same windows', () => {
    const spec = { kind: 'count' as const, size: 5, slide: 2 };
    const whole = new TrafficWindow<{ at: number; id: number }>(spec);
    const a = new TrafficWindow<{ at: number; id: number }>(spec);
    const events = Array.from({ length: 20 }, (_, i) => ev(i, i));
    const expected = events.flatMap((e) => whole.add(e));
    const first = events.slice(0, 7).flatMap((e) => a.add(e));
    const b = new TrafficWindow<{ at: number; id: number }>(
      spec,
      JSON.parse(JSON.stringify(a.state())) as ReturnType<typeof a.state>,
    );
    const rest = events.slice(7).flatMap((e) => b.add(e));
    expect([...first, ...rest]).toEqual(expected);
  });

  it('refuses a slide larger than the window', () => {
    expect(() => new TrafficWindow({ kind: 'count', size: 5, slide: 6 })).toThrow(/slide/);
  });
});
