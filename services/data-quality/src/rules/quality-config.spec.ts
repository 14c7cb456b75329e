import { DatasetSpec } from '@mlops/contracts';
import { cardsSpec } from '@mlops/datagen';
import { describe, expect, it } from 'vitest';
import { parseQualityConfig, QualityConfigError } from './quality-config';

const withQuality = (quality: unknown): DatasetSpec =>
  DatasetSpec.parse({ ...cardsSpec(), quality });

function issuesOf(quality: unknown): string[] {
  try {
    parseQualityConfig(withQuality(quality));
  } catch (e) {
    expect(e).toBeInstanceOf(QualityConfigError);
    return (e as QualityConfigError).issues;
  }
  throw new Error('expected a QualityConfigError');
}

/** The cards spec without its tuned section. */
const noQuality = (): DatasetSpec => {
  const { quality: _tuned, ...rest } = cardsSpec();
  return DatasetSpec.parse(rest);
};

describe('parseQualityConfig', () => {
  it('fills every default for a spec without a quality section', () => {
    const c = parseQualityConfig(noQuality());
    expect(c.duplicates).toEqual({ byId: true, byContent: true, window: { count: 100_000 } });
    expect(c.nearDuplicates).toEqual({
      enabled: true,
      fields: ['memo'],
      maxHamming: 3,
      sameEntity: true,
      verifyEditDistance: 0.2,
      action: 'drop',
      window: { count: 10_000 },
    });
    expect(c.outliers).toEqual({
      enabled: true,
      zThreshold: 3,
      warmup: 500,
      action: 'flag',
      transform: {},
      fields: ['amount', 'hour'],
    });
    expect(c.labels).toEqual({ conflicts: 'flag', window: { count: 100_000 } });
    expect(c.report).toEqual({ everyRecords: 10_000, intervalSeconds: 60 });
    expect(Object.fromEntries(c.fields.map((f) => [f.name, f.impute]))).toEqual({
      card_id: 'none',
      amount: 'median',
      hour: 'median',
      merchant_category: 'mode',
      country: 'mode',
      device: 'mode',
      memo: 'none',
      ts: 'none',
      is_fraud: 'none',
    });
    expect([c.entityField, c.labelField, c.timestampField]).toEqual(['card_id', 'is_fraud', 'ts']);
  });

  it('is the same for an empty section and fills nested defaults of a partial one', () => {
    const empty = parseQualityConfig(withQuality({}));
    expect(empty).toEqual(parseQualityConfig(noQuality()));
    const c = parseQualityConfig(withQuality({ duplicates: { byId: false }, nearDuplicates: {} }));
    expect(c.duplicates).toEqual({ byId: false, byContent: true, window: { count: 100_000 } });
    expect(c.nearDuplicates.maxHamming).toBe(3);
  });

  it('takes per-field strategies, constants, transforms and fields', () => {
    const c = parseQualityConfig(
      withQuality({
        missing: {
          strategy: { amount: 'mean', memo: 'constant', device: 'none' },
          constant: { memo: '(none)' },
        },
        outliers: { fields: ['amount'], transform: { amount: 'log' }, action: 'clip' },
        nearDuplicates: { verifyEditDistance: null, action: 'flag' },
      }),
    );
    const byName = new Map(c.fields.map((f) => [f.name, f]));
    expect(byName.get('amount')!.impute).toBe('mean');
    expect(byName.get('memo')).toMatchObject({ impute: 'constant', constant: '(none)' });
    expect(byName.get('device')!.impute).toBe('none');
    expect(c.outliers).toMatchObject({ fields: ['amount'], transform: { amount: 'log' } });
    expect(c.nearDuplicates).toMatchObject({ verifyEditDistance: null, action: 'flag' });
  });

  it.each([
    [{ duplicates: { windw: {} } }, 'quality.duplicates: Unrecognized key'],
    [{ dupes: {} }, 'quality: Unrecognized key'],
    [{ duplicates: { window: { count: 0 } } }, 'quality.duplicates.window.count'],
    [{ nearDuplicates: { maxHamming: 64 } }, 'quality.nearDuplicates.maxHamming'],
    [{ nearDuplicates: { verifyEditDistance: 1.5 } }, 'quality.nearDuplicates.verifyEditDistance'],
    [{ outliers: { zThreshold: 0 } }, 'quality.outliers.zThreshold'],
    [{ outliers: { action: 'drop' } }, 'quality.outliers.action'],
    [{ labels: { conflicts: 'maybe' } }, 'quality.labels.conflicts'],
    [{ missing: { strategy: { amount: 'average' } } }, 'quality.missing.strategy.amount'],
  ])('rejects %j', (quality, message) => {
    expect(issuesOf(quality).join('\n')).toContain(message);
  });

  it.each([
    [{ nearDuplicates: { fields: ['country'] } }, '"country" is not a text field'],
    [{ nearDuplicates: { fields: ['nope'] } }, '"nope" is not a text field'],
    [{ outliers: { fields: ['memo'] } }, '"memo" is not a numeric field'],
    [{ outliers: { transform: { device: 'log' } } }, '"device" is not a numeric field'],
    [{ missing: { strategy: { nope: 'mode' } } }, '"nope" is not a field of the spec'],
    [{ missing: { strategy: { device: 'median' } } }, 'median needs a numeric field'],
    [{ missing: { strategy: { is_fraud: 'mode' } } }, 'a label field is never imputed'],
    [{ missing: { strategy: { ts: 'constant' } } }, 'a timestamp field is never imputed'],
    [{ missing: { strategy: { amount: 'constant' } } }, 'quality.missing.constant.amount: missing'],
  ])('rejects %j against the spec', (quality, message) => {
    expect(issuesOf(quality).join('\n')).toContain(message);
  });

  it('lists every problem at once', () => {
    const issues = issuesOf({
      outliers: { fields: ['memo'] },
      missing: { strategy: { device: 'mean', amount: 'constant' } },
    });
    expect(issues).toHaveLength(3);
  });

  it('refuses near-duplicate detection on a spec without text fields unless disabled', () => {
    const spec = DatasetSpec.parse({
      name: 'plain',
      version: 1,
      fields: [
        { name: 'id', type: 'entity_id' },
        { name: 'x', type: 'numeric' },
      ],
    });
    expect(() => parseQualityConfig(spec)).toThrow('enabled but the spec has no text field');
    const off = parseQualityConfig({ ...spec, quality: { nearDuplicates: { enabled: false } } });
    expect(off.nearDuplicates.fields).toEqual([]);
  });
});
