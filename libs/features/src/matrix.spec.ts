import { describe, expect, it } from 'vitest';
import { decodeMatrix, encodeMatrix, labelledSplitRows, type Matrix } from './matrix';
import { splitOf } from './split';

const m = (): Matrix => ({
  header: {
    rows: 3,
    columns: 2,
    names: ['a', 'b'],
    classes: ['0', '1'],
    featuresetVersion: 'fs-0123456789abcdef',
    dataset: 'cards',
  },
  values: Float32Array.from([1.5, -2, 0.1, 3e38, 0, -0.25]),
  labels: Float64Array.from([0, 1, NaN]),
  split: Uint8Array.from([0, 2, 1]),
});

describe('training matrix format', () => {
  it('round-trips header, float32 values, float64 labels and splits', () => {
    const back = decodeMatrix(encodeMatrix(m()));
    expect(back.header).toEqual(m().header);
    expect([...back.values]).toEqual([...m().values]);
    expect(back.labels[0]).toBe(0);
    expect(back.labels[2]).toBeNaN();
    expect([...back.split]).toEqual([0, 2, 1]);
  });

  it('gives the same bytes for the same matrix, and refuses a truncated or foreign file', () => {
    const a = encodeMatrix(m());
    expect(encodeMatrix(m()).equals(a)).toBe(true);
    expect(() => decodeMatrix(a.subarray(0, a.length - 1))).toThrow(/truncated/);
    expect(() => decodeMatrix(Buffer.from('PK\u0003\u0004 not a matrix'))).toThrow(/magic/);
    const bad = Buffer.from(a);
    bad.writeUInt32LE(9, 4);
    expect(() => decodeMatrix(bad)).toThrow(/version 9/);
  });

  it('refuses inconsistent sizes', () => {
    expect(() => encodeMatrix({ ...m(), values: new Float32Array(5) })).toThrow(/rows × columns/);
  });
});

describe('splitOf', () => {
  it('is deterministic per entity and close to the asked proportions', () => {
    const o = { validation: 0.1, test: 0.2, seed: 3 };
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 50_000; i++) counts[splitOf(`card-${i}`, o)] += 1;
    expect(counts.test / 50_000).toBeCloseTo(0.2, 1);
    expect(counts.validation / 50_000).toBeCloseTo(0.1, 1);
    expect(splitOf('card-7', o)).toBe(splitOf('card-7', o));
    // Another seed moves entities between splits.
    let moved = 0;
    for (let i = 0; i < 1000; i++) {
      if (splitOf(`card-${i}`, o) !== splitOf(`card-${i}`, { ...o, seed: 4 })) moved += 1;
    }
    expect(moved).toBeGreaterThan(200);
  });
});

describe('labelledSplitRows', () => {
  it('lists the labelled rows of each split, in order', () => {
    const m = {
      header: {
        rows: 6,
        columns: 1,
        names: ['x'],
        classes: null,
        featuresetVersion: 'fs-0',
        dataset: 'd',
      },
      values: new Float32Array(6),
      labels: Float64Array.from([1, NaN, 0, 2, 5, NaN]),
      split: Uint8Array.from([0, 0, 2, 1, 0, 2]),
    };
    expect(labelledSplitRows(m)).toEqual({
      train: Uint32Array.from([0, 4]),
      validation: Uint32Array.from([3]),
      test: Uint32Array.from([2]),
    });
  });
});
