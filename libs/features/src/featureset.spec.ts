import { describe, expect, it } from 'vitest';
import { DatasetSpec, FeatureSpecError, type DatasetSpecInput } from '@mlops/contracts';
import { cardsSpec, generateCards } from '@mlops/datagen';
import {
  columnSource,
  featuresetArtifact,
  fitFeatureset,
  parseFeaturesetArtifact,
  recordLabel,
  transform,
} from './featureset';

const gen = generateCards({ n: 3000, seed: 5 });
const records = gen.records as unknown as Record<string, unknown>[];
const spec = (features?: DatasetSpecInput['features']) =>
  DatasetSpec.parse({ ...cardsSpec(), ...(features === undefined ? {} : { features }) });

/** numpy's default percentile (linear interpolation between closest ranks). */
function percentile(sorted: number[], q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

describe('fitFeatureset with the defaults', () => {
  const fs = fitFeatureset(spec(), records);
  // Every column kept, so the out-of-vocabulary columns (constant on the fitting rows) stay.
  const all = fitFeatureset(spec({ selection: { varianceThreshold: null } }), records);

  it('drops the columns that are constant on the fitting rows', () => {
    expect(fs.names).not.toContain('merchant_category=<other>');
    expect(all.names).toContain('merchant_category=<other>');
    expect(fs.names.length).toBeLessThan(all.names.length);
  });

  it('names its columns by block, in spec order', () => {
    expect(fs.names.slice(0, 2)).toEqual(['amount', 'hour']);
    expect(fs.names.some((n) => n.startsWith('country='))).toBe(true);
    expect(fs.names.some((n) => n.startsWith('device='))).toBe(true);
    expect(fs.names.filter((n) => n.startsWith('memo:tfidf:')).length).toBeGreaterThan(5);
    expect(fs.names.filter((n) => n.startsWith('memo:tfidf:')).length).toBeLessThanOrEqual(64);
    expect(fs.names).not.toContain('card_id');
    expect(fs.names).not.toContain('is_fraud');
    expect(fs.version).toMatch(/^fs-[a-f0-9]{16}$/);
    expect(fs.classes).toEqual(['0', '1']);
  });

  it('maps every column back to the field it encodes', () => {
    // The cards spec's features: two numeric fields, three categorical, one text.
    expect([...new Set(fs.names.map(columnSource))]).toEqual([
      'amount',
      'hour',
      'merchant_category',
      'country',
      'device',
      'memo',
    ]);
    expect(columnSource('country=<other>')).toBe('country');
    expect(columnSource('memo:emb:3')).toBe('memo');
    expect(columnSource('device#12')).toBe('device');
    expect(columnSource('amountxcountry#4')).toBe('amountxcountry');
    expect(columnSource('amount*hour')).toBe('amount*hour');
  });

  it('robust-scales numeric fields with the median and IQR of the fitting rows', () => {
    const amounts = records
      .map((r) => r.amount)
      .filter((x): x is number => typeof x === 'number')
      .sort((a, b) => a - b);
    const median = percentile(amounts, 50);
    const iqr = percentile(amounts, 75) - percentile(amounts, 25);
    const r = records.find((x) => typeof x.amount === 'number')!;
    expect(transform(fs, r)[0]).toBeCloseTo(((r.amount as number) - median) / iqr, 12);
    // A missing amount becomes the center: 0.
    expect(transform(fs, { ...r, amount: null })[0]).toBe(0);
  });

  it('one-hot encodes categories, unseen values into the last column', () => {
    const r = records[0];
    const v = transform(all, r);
    const col = all.names.indexOf(`merchant_category=${String(r.merchant_category)}`);
    expect(v[col]).toBe(1);
    const other = transform(all, { ...r, merchant_category: 'never-seen' });
    expect(other[all.names.indexOf('merchant_category=<other>')]).toBe(1);
    expect(other[col]).toBe(0);
  });

  it('labels by class index', () => {
    expect(recordLabel(fs, { ...records[0], is_fraud: 1 })).toBe(1);
    expect(recordLabel(fs, { ...records[0], is_fraud: null })).toBeNull();
  });

  it('round-trips through its artifact: same version, same vectors', () => {
    const back = parseFeaturesetArtifact(featuresetArtifact(fs));
    expect(back.version).toBe(fs.version);
    expect(back.names).toEqual(fs.names);
    for (const r of records.slice(0, 200)) expect(transform(back, r)).toEqual(transform(fs, r));
  });
});

describe('fitFeatureset options', () => {
  it('is deterministic: the same records give the same version; other records another', () => {
    const a = fitFeatureset(spec(), records);
    const b = fitFeatureset(
      spec(),
      records.map((r) => ({ ...r })),
    );
    expect(b.version).toBe(a.version);
    expect(fitFeatureset(spec(), records.slice(1)).version).not.toBe(a.version);
  });

  it('drops constant columns, hashes, crosses and keeps the top-K by χ²', () => {
    const fs = fitFeatureset(
      spec({
        numeric: {
          amount: { scaler: 'standard', log1p: true, clip: { lower: 0.01, upper: 0.99 } },
        },
        categorical: { country: { encoding: 'hash', buckets: 8 } },
        text: { memo: { tfidf: null, embedding: { type: 'hashed-ngrams', dim: 8 } } },
        crosses: [
          { categorical: ['merchant_category', 'device'], buckets: 16 },
          { product: ['amount', 'hour'] },
        ],
        selection: { topK: { k: 12, method: 'chi2' } },
      }),
      records.map((r) => ({ ...r, hour: 5 })), // hour constant: dropped by the variance rule
    );
    expect(fs.names).toHaveLength(12);
    expect(fs.names).not.toContain('hour');
    expect(fs.allNames).toContain('merchant_categoryxdevice#15');
    expect(fs.allNames).toContain('amount*hour');
    expect(fs.allNames.filter((n) => n.startsWith('memo:emb:'))).toHaveLength(8);
    expect(fs.allNames.filter((n) => n.startsWith('country#'))).toHaveLength(8);
    for (const r of records.slice(0, 50)) expect(transform(fs, r)).toHaveLength(12);
  });

  it('refuses a features section that does not fit the spec, with every reason', () => {
    expect(() =>
      fitFeatureset(
        spec({ numeric: { memo: {} }, categorical: { nope: { encoding: 'onehot' } } }),
        records,
      ),
    ).toThrow(FeatureSpecError);
    try {
      fitFeatureset(spec({ numeric: { memo: {} }, bogus: 1 }), records);
    } catch (e) {
      expect((e as FeatureSpecError).issues.join('\n')).toMatch(/bogus/);
    }
  });
});

describe('refitting 100,000 records', () => {
  it('gives the same featureset, byte for byte', () => {
    const big = generateCards({ n: 100_000, seed: 8 }).records as unknown as Record<
      string,
      unknown
    >[];
    const a = fitFeatureset(spec(), big);
    const b = fitFeatureset(
      spec(),
      big.map((r) => ({ ...r })),
    );
    expect(b.version).toBe(a.version);
    expect(featuresetArtifact(b).equals(featuresetArtifact(a))).toBe(true);
    expect(a.records).toBe(100_000);
  }, 120_000);
});
