import { DatasetSpec } from '@mlops/contracts';
import { describe, expect, it } from 'vitest';
import { QualityEngine, type QualityRecord } from './engine';
import { parseQualityConfig, type QualitySectionInput } from './quality-config';

/** A small spec: entity, two numerics, a category, a text, a timestamp, a binary label. */
function engine(quality: QualitySectionInput = {}): QualityEngine {
  const spec = DatasetSpec.parse({
    name: 'toy',
    version: 1,
    fields: [
      { name: 'user', type: 'entity_id' },
      { name: 'x', type: 'numeric' },
      { name: 'y', type: 'numeric' },
      { name: 'color', type: 'categorical' },
      { name: 'note', type: 'text' },
      { name: 'ts', type: 'timestamp' },
      { name: 'label', type: 'label' },
    ],
    quality,
  });
  return new QualityEngine(parseQualityConfig(spec));
}

let n = 0;
/** Six pseudo-random tokens: texts of different n are far apart in SimHash and edit distance. */
const words = (k: number): string =>
  Array.from({ length: 6 }, (_, j) =>
    (Math.imul(k * 6 + j + 1, 2654435761) >>> 0).toString(36),
  ).join(' ');
/** A record with distinct content (its own ts and note) unless overridden. */
function rec(over: QualityRecord = {}): QualityRecord {
  n += 1;
  return {
    user: 'u1',
    x: 10,
    y: 1,
    color: 'red',
    note: words(n),
    ts: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    label: 0,
    ...over,
  };
}
const meta = (id: string, entityId = 'u1') => ({ id, entityId });

describe('exact duplicates', () => {
  it('drops a repeated id and a repeated content, and lets the rest pass', () => {
    const e = engine();
    const a = rec();
    expect(e.process(a, meta('a')).verdict).toBe('pass');
    expect(e.process(rec(), meta('a'))).toMatchObject({ verdict: 'drop', flags: ['duplicate_id'] });
    expect(e.process({ ...a }, meta('b'))).toMatchObject({
      verdict: 'drop',
      flags: ['duplicate_content'],
    });
    expect(e.process(rec(), meta('c')).verdict).toBe('pass');
  });

  it('treats absent and null alike in the content hash, and forgets the oldest beyond the window', () => {
    const e = engine({ duplicates: { window: { count: 2 } }, nearDuplicates: { enabled: false } });
    const a = rec({ y: null });
    const { y: _y, ...aAbsent } = a;
    e.process(a, meta('a'));
    expect(e.process(aAbsent, meta('a2')).flags).toEqual(['duplicate_content']);
    e.process(rec(), meta('b'));
    e.process(rec(), meta('c'));
    // 'a' and its content left the window (capacity 2): both pass again.
    expect(e.process({ ...a }, meta('a')).verdict).toBe('pass');
  });

  it('can be switched off per key', () => {
    const e = engine({ duplicates: { byId: false, byContent: false } });
    const a = rec();
    e.process(a, meta('a'));
    expect(e.process({ ...a }, meta('a')).flags).not.toContain('duplicate_id');
  });
});

describe('near duplicates', () => {
  const base = 'Coffee and croissant at Cafe Central, Vienna, ref 8812';
  it('drops a small edit of an earlier text of the same entity, naming the original', () => {
    const e = engine();
    e.process(rec({ note: base }), meta('orig'));
    const r = e.process(rec({ note: base.replace('croissant', 'croisant') }), meta('copy'));
    expect(r).toMatchObject({ verdict: 'drop', flags: ['near_duplicate:orig'] });
    expect(e.report().flags.near_duplicate).toBe(1);
  });

  it('requires the same entity unless configured otherwise', () => {
    const other = { note: base.toUpperCase(), user: 'u2' };
    const strict = engine();
    strict.process(rec({ note: base }), meta('orig'));
    expect(strict.process(rec(other), meta('copy', 'u2')).verdict).toBe('pass');
    const loose = engine({ nearDuplicates: { sameEntity: false } });
    loose.process(rec({ note: base }), meta('orig'));
    expect(loose.process(rec(other), meta('copy', 'u2')).flags).toEqual(['near_duplicate:orig']);
  });

  it('verifies SimHash candidates with the edit distance', () => {
    // Same words in another order: the same SimHash, but far in edit distance.
    const shuffled = 'ref 8812 Vienna, Cafe Central at croissant and Coffee';
    const verified = engine();
    verified.process(rec({ note: base }), meta('orig'));
    expect(verified.process(rec({ note: shuffled }), meta('copy')).verdict).toBe('pass');
    const simhashOnly = engine({ nearDuplicates: { verifyEditDistance: null } });
    simhashOnly.process(rec({ note: base }), meta('orig'));
    expect(simhashOnly.process(rec({ note: shuffled }), meta('copy')).verdict).toBe('drop');
  });

  it('only flags when the action is flag, and the flagged record is kept', () => {
    const e = engine({ nearDuplicates: { action: 'flag' } });
    e.process(rec({ note: base }), meta('orig'));
    const r = e.process(rec({ note: `${base}.` }), meta('copy'));
    expect(r).toMatchObject({ verdict: 'pass', flags: ['near_duplicate:orig'] });
  });

  it('reports a near-identical record with another label as a label conflict, not a duplicate', () => {
    const e = engine();
    e.process(rec({ note: base, label: 0 }), meta('orig'));
    const r = e.process(rec({ note: base, label: 1, x: 11 }), meta('relabelled'));
    expect(r).toMatchObject({ verdict: 'pass', flags: ['label_conflict'] });
  });
});

describe('missing values', () => {
  const warm = (e: QualityEngine, xs: number[]) =>
    xs.forEach((x, i) => e.process(rec({ x, color: i % 3 === 0 ? 'blue' : 'red' }), meta(`w${i}`)));

  it('imputes median, mean, mode and constants from values seen, and flags text it leaves', () => {
    const e = engine({
      missing: { strategy: { y: 'constant' }, constant: { y: -1 } },
      outliers: { enabled: false },
    });
    warm(e, [1, 2, 3, 4, 100]);
    const r = e.process(rec({ x: null, y: undefined, color: null, note: null }), meta('m'));
    expect(r.verdict).toBe('pass');
    expect(r.record).toMatchObject({ x: 3, y: -1, color: 'red', note: null });
    expect(r.flags).toEqual([
      'missing:x',
      'imputed:x',
      'missing:y',
      'imputed:y',
      'missing:color',
      'imputed:color',
      'missing:note',
    ]);
    const mean = engine({ missing: { strategy: { x: 'mean' } }, outliers: { enabled: false } });
    warm(mean, [1, 2, 3, 4, 100]);
    expect(mean.process(rec({ x: null }), meta('m')).record.x).toBe(22);
  });

  it('never learns from imputed values and never mutates the input', () => {
    const e = engine({ outliers: { enabled: false } });
    warm(e, [1, 2, 3]);
    const input = rec({ x: null });
    const r = e.process(input, meta('m'));
    expect(input.x).toBeNull();
    expect(r.record.x).toBe(2);
    expect(e.robustStats().x.count).toBe(3);
  });

  it('leaves a field missing when nothing was seen yet', () => {
    const r = engine().process(rec({ x: null }), meta('first'));
    expect(r.flags).toEqual(['missing:x']);
    expect(r.record.x).toBeNull();
  });
});

describe('outliers', () => {
  const series = (k: number) => Array.from({ length: k }, (_, i) => 10 + (i % 5)); // mean 12, σ √2

  function warmed(quality: QualitySectionInput['outliers'] = {}): QualityEngine {
    const e = engine({ outliers: { warmup: 20, ...quality } });
    series(20).forEach((x, i) => e.process(rec({ x }), meta(`w${i}`)));
    return e;
  }

  it('flags |z| above the threshold after the warm-up, and does not learn from it', () => {
    const e = warmed();
    const before = e.robustStats().x;
    const r = e.process(rec({ x: 100 }), meta('o'));
    expect(r).toMatchObject({ verdict: 'pass', flags: ['outlier:x'] });
    expect(r.record.x).toBe(100);
    expect(e.robustStats().x).toEqual(before);
    expect(e.process(rec({ x: 13 }), meta('ok')).flags).toEqual([]);
  });

  it('does not score during the warm-up', () => {
    const e = engine({ outliers: { warmup: 20 } });
    series(10).forEach((x, i) => e.process(rec({ x }), meta(`w${i}`)));
    expect(e.process(rec({ x: 1000 }), meta('o')).flags).toEqual([]);
  });

  it('leaves outliers of the warm-up out of the statistics when it ends', () => {
    const e = engine({ outliers: { warmup: 20 } });
    [...series(10), 5000, ...series(9)].forEach((x, i) => e.process(rec({ x }), meta(`w${i}`)));
    const s = e.robustStats().x;
    expect(s).toMatchObject({ count: 19, max: 14, warmupExcluded: 1 });
    expect(e.process(rec({ x: 100 }), meta('o')).flags).toEqual(['outlier:x']);
  });

  it('clips to mean ± threshold·σ', () => {
    const e = warmed({ action: 'clip' });
    const r = e.process(rec({ x: 100 }), meta('o'));
    expect(r.flags).toEqual(['outlier:x', 'clipped:x']);
    expect(r.record.x).toBeCloseTo(12 + 3 * Math.sqrt(2), 10);
    expect(e.process(rec({ x: -100 }), meta('p')).record.x).toBeCloseTo(12 - 3 * Math.sqrt(2), 10);
  });

  it('clips on the log scale for a log-transformed field', () => {
    const e = warmed({ action: 'clip', transform: { x: 'log' } });
    const logs = series(20).map(Math.log1p);
    const m = logs.reduce((a, b) => a + b) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / logs.length);
    expect(e.process(rec({ x: 100 }), meta('o')).record.x).toBeCloseTo(Math.expm1(m + 3 * sd), 8);
  });

  it('rejects, and a rejected record teaches nothing', () => {
    const e = warmed({ action: 'reject' });
    const r = e.process(rec({ x: 100, color: 'green' }), meta('o'));
    expect(r.verdict).toBe('reject');
    expect(e.process(rec({ color: null }), meta('m')).record.color).toBe('red');
    expect(e.report().verdicts).toEqual({ pass: 21, drop: 0, reject: 1 });
  });
});

describe('label consistency', () => {
  const features = { x: 1, y: 2, color: 'red', note: 'same words here', user: 'u1' };

  it('flags the same features (whatever the entity and time) with another label', () => {
    const e = engine({ nearDuplicates: { enabled: false } });
    e.process(rec({ ...features, label: 0 }), meta('a'));
    expect(e.process(rec({ ...features, label: 0 }), meta('b')).flags).toEqual([]);
    const r = e.process(rec({ ...features, user: 'u9', label: 1 }), meta('c', 'u9'));
    expect(r).toMatchObject({ verdict: 'pass', flags: ['label_conflict'] });
    // The first label seen stays the reference.
    expect(e.process(rec({ ...features, label: 0 }), meta('d')).flags).toEqual([]);
  });

  it('rejects when configured, and ignores records without a label or when off', () => {
    const e = engine({ nearDuplicates: { enabled: false }, labels: { conflicts: 'reject' } });
    e.process(rec({ ...features, label: 0 }), meta('a'));
    expect(e.process(rec({ ...features, label: 1 }), meta('b')).verdict).toBe('reject');
    const unlabelled = e.process(rec({ ...features, label: null }), meta('c'));
    expect(unlabelled.flags).toEqual(['missing:label']);
    const off = engine({ nearDuplicates: { enabled: false }, labels: { conflicts: 'off' } });
    off.process(rec({ ...features, label: 0 }), meta('a'));
    expect(off.process(rec({ ...features, label: 1 }), meta('b')).flags).toEqual([]);
  });

  it('forgets the oldest feature hash beyond the window', () => {
    const e = engine({ nearDuplicates: { enabled: false }, labels: { window: { count: 1 } } });
    e.process(rec({ ...features, label: 0 }), meta('a'));
    e.process(rec({ x: 99, label: 0 }), meta('b'));
    expect(e.process(rec({ ...features, label: 1 }), meta('c')).flags).toEqual([]);
  });
});

describe('report and statistics', () => {
  it('counts records, verdicts and flags per rule', () => {
    const e = engine();
    const a = rec();
    e.process(a, meta('a'));
    e.process(a, meta('a'));
    e.process(rec({ x: null }), meta('b'));
    expect(e.report()).toEqual({
      records: 3,
      verdicts: { pass: 2, drop: 1, reject: 0 },
      flags: { duplicate_id: 1, missing: 1, 'missing:x': 1, imputed: 1, 'imputed:x': 1 },
    });
  });

  it('gives NaN statistics for a field never seen', () => {
    const s = engine().robustStats();
    expect(s.x.count).toBe(0);
    expect(s.x.median).toBeNaN();
  });
});
