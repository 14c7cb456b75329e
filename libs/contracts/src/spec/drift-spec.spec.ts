import { describe, expect, it } from 'vitest';
import { DriftSpecError, resolveDriftSpec } from './drift-spec';

describe('resolveDriftSpec', () => {
  it('fills the defaults the issue names (KS at 0.05, std shift 0.15, 3 % drop)', () => {
    for (const d of [resolveDriftSpec(undefined), resolveDriftSpec({})]) {
      expect(d.enabled).toBe(true);
      expect(d.window).toEqual({ kind: 'count', size: 1000 });
      expect(d.features).toEqual({
        alpha: 0.05,
        correction: 'bh',
        sizeThreshold: 1000,
        wassersteinThreshold: 0.1,
        jensenShannonThreshold: 0.1,
        datasetShare: 0.5,
      });
      expect(d.predictions).toEqual({ maxStdShift: 0.15, maxShareShift: 0.05 });
      expect(d.performance).toEqual({
        metric: 'auto',
        maxDropPct: 3,
        joinWindowSeconds: 3600,
        minLabelled: 200,
      });
      expect(d.retrain).toEqual({ enabled: true, cooldownSeconds: 3600, lookbackSeconds: 604800 });
      expect(d.canary).toEqual({
        enabled: true,
        auto: 'retrained',
        minSamples: 500,
        promoteMarginPct: 1,
        rollbackDropPct: 3,
        maxErrorRateIncrease: 0.01,
        maxLatencyRatio: 1.5,
        minLatencyDeltaMs: 5,
      });
      expect(d.rollback).toEqual({ enabled: true });
    }
  });

  it('takes a sliding time window and other overrides', () => {
    const d = resolveDriftSpec({
      drift: {
        window: { kind: 'time', size: 600, slide: 60 },
        features: { correction: 'bonferroni' },
      },
    });
    expect(d.window).toEqual({ kind: 'time', size: 600, slide: 60 });
    expect(d.features.correction).toBe('bonferroni');
    expect(d.features.alpha).toBe(0.05);
  });

  it('names every bad path and refuses contradictions', () => {
    expect(() =>
      resolveDriftSpec({ drift: { features: { alpha: 2 }, window: { size: 1 } } }),
    ).toThrow(
      /drift\.features\.alpha.*drift\.window\.size|drift\.window\.size.*drift\.features\.alpha/,
    );
    expect(() => resolveDriftSpec({ drift: { thresholds: {} } })).toThrow(DriftSpecError);
    expect(() => resolveDriftSpec({ drift: { window: { size: 100, slide: 200 } } })).toThrow(
      /slide: 200 is larger than the window \(100\)/,
    );
    expect(() =>
      resolveDriftSpec({ drift: { canary: { promoteMarginPct: 5, rollbackDropPct: 3 } } }),
    ).toThrow(/promoteMarginPct \(5\) must be below rollbackDropPct \(3\)/);
  });
});
