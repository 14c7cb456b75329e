import { describe, expect, it } from 'vitest';
import { DedupeWindow } from './dedupe-window';

const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
const entries = (...ids: string[]) => ids.map((id, i) => ({ id, seenAt: at(i) }));

/** The ids of a window, oldest first, read through its public API by evicting everything. */
function order(w: DedupeWindow): string[] {
  return w.wouldEvict(fresh(w.capacity));
}

/** `n` ids that are not in any window of these tests. */
function fresh(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `new-${i}`);
}

describe('DedupeWindow', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses capacity %d', (capacity) => {
    expect(() => new DedupeWindow(capacity)).toThrow('capacity must be a positive integer');
  });

  it('holds committed ids within capacity without evicting', () => {
    const w = new DedupeWindow(3);
    expect(w.commit(entries('a', 'b', 'c'))).toEqual([]);
    expect(w.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((id) => w.has(id))).toEqual([true, true, true, false]);
  });

  it('evicts the oldest ids first once over capacity', () => {
    const w = new DedupeWindow(3);
    w.commit(entries('a', 'b', 'c'));
    expect(w.commit(entries('d'))).toEqual(['a']);
    expect(w.commit(entries('e', 'f'))).toEqual(['b', 'c']);
    expect(w.size).toBe(3);
    expect(order(w)).toEqual(['d', 'e', 'f']);
    expect(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => w.has(id))).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('evicts ids of the same batch when the batch alone exceeds capacity', () => {
    const w = new DedupeWindow(2);
    w.commit(entries('a'));
    expect(w.commit(entries('b', 'c', 'd'))).toEqual(['a', 'b']);
    expect(order(w)).toEqual(['c', 'd']);
  });

  it('commit([]) trims a window restored beyond capacity', () => {
    const w = new DedupeWindow(2);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) w.restore(id, at(i));
    expect(w.size).toBe(4);
    expect(w.commit([])).toEqual(['a', 'b']);
    expect(order(w)).toEqual(['c', 'd']);
  });

  it('restore moves an id to the newest position', () => {
    const w = new DedupeWindow(3);
    w.commit(entries('a', 'b', 'c'));
    w.restore('a', at(10));
    expect(order(w)).toEqual(['b', 'c', 'a']);
    expect(w.commit(entries('d'))).toEqual(['b']);
  });

  it('forget removes an id, making room without eviction', () => {
    const w = new DedupeWindow(3);
    w.commit(entries('a', 'b', 'c'));
    w.forget('b');
    w.forget('never-there');
    expect(w.has('b')).toBe(false);
    expect(w.size).toBe(2);
    expect(w.commit(entries('d'))).toEqual([]);
    expect(order(w)).toEqual(['a', 'c', 'd']);
    expect(w.commit(entries('e'))).toEqual(['a']);
  });

  it('a forgotten id can come back, as the newest', () => {
    const w = new DedupeWindow(2);
    w.commit(entries('a', 'b'));
    w.forget('a');
    w.commit(entries('a'));
    expect(order(w)).toEqual(['b', 'a']);
  });

  describe('wouldEvict', () => {
    it('is empty while there is room', () => {
      const w = new DedupeWindow(5);
      w.commit(entries('a', 'b'));
      expect(w.wouldEvict(fresh(0))).toEqual([]);
      expect(w.wouldEvict(fresh(3))).toEqual([]);
      expect(w.wouldEvict(fresh(4))).toEqual(['a']);
      expect(w.wouldEvict(fresh(5))).toEqual(['a', 'b']);
    });

    it('does not change the window', () => {
      const w = new DedupeWindow(2);
      w.commit(entries('a', 'b'));
      expect(w.wouldEvict(fresh(2))).toEqual(['a', 'b']);
      expect(w.size).toBe(2);
      expect(order(w)).toEqual(['a', 'b']);
    });

    it.each([
      [['a', 'b', 'c'], 1],
      [['a', 'b', 'c'], 2],
      [['a', 'b', 'c'], 3],
      [['a', 'b'], 3],
      [['a', 'b'], 4],
      [['a'], 0],
      [[], 4],
    ])(
      'matches what commit then evicts for new ids that fit the capacity (window %j, %d new ids)',
      (existing, incoming) => {
        const w = new DedupeWindow(4);
        w.commit(entries(...existing));
        const predicted = w.wouldEvict(fresh(incoming));
        const newEntries = Array.from({ length: incoming }, (_, i) => ({
          id: `new-${i}`,
          seenAt: at(100 + i),
        }));
        expect(w.commit(newEntries)).toEqual(predicted);
        expect(w.size).toBe(Math.min(4, existing.length + incoming));
      },
    );

    it('names new ids too when a batch alone exceeds the capacity, as commit evicts them', () => {
      const w = new DedupeWindow(2);
      w.commit(entries('a'));
      const incoming = ['x', 'y', 'z'];
      const predicted = w.wouldEvict(incoming);
      expect(predicted).toEqual(['a', 'x']);
      expect(w.commit(entries(...incoming))).toEqual(predicted);
      expect(order(w)).toEqual(['y', 'z']);
    });

    it('matches after restore and forget', () => {
      const w = new DedupeWindow(3);
      w.commit(entries('a', 'b', 'c'));
      w.restore('a', at(9));
      w.forget('c');
      const predicted = w.wouldEvict(fresh(2));
      expect(predicted).toEqual(['b']);
      expect(w.commit(entries('x', 'y'))).toEqual(predicted);
      expect(order(w)).toEqual(['a', 'x', 'y']);
    });
  });
});
