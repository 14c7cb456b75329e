import { describe, expect, it } from 'vitest';
import {
  addLabelled,
  countPrediction,
  emptySide,
  judgeCanary,
  percentile,
  type CanaryPolicy,
  type SideStats,
} from './canary-judge';

const policy: CanaryPolicy = {
  minSamples: 100,
  promoteMarginPct: 1,
  rollbackDropPct: 3,
  maxErrorRateIncrease: 0.01,
  maxLatencyRatio: 1.5,
  minLatencyDeltaMs: 1,
};

/** `n` labelled binary predictions of which `correct` are right; latency `ms` each. */
function side(version: number, n: number, correct: number, ms = 2, errors = 0): SideStats {
  const s = emptySide(version);
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    const right = i < correct;
    countPrediction(s, ms, false);
    addLabelled(s, y, right ? (y === 1 ? 0.8 : 0.2) : y === 1 ? 0.3 : 0.7, 10_000);
  }
  for (let i = 0; i < errors; i++) countPrediction(s, 0, true);
  return s;
}

describe('judgeCanary', () => {
  it('rolls back a canary 5 points worse in accuracy (0.85 against 0.90: a 5.56 % drop)', () => {
    const v = judgeCanary(side(1, 200, 180), side(2, 200, 170), policy, 'binary', 'accuracy');
    expect(v.action).toBe('rollback');
    expect(v.evidence.production.metric).toBeCloseTo(0.9, 12);
    expect(v.evidence.canary.metric).toBeCloseTo(0.85, 12);
    expect(v.evidence.dropPct).toBeCloseTo((100 * 0.05) / 0.9, 9);
  });

  it('promotes an equal canary, and one within the margin', () => {
    expect(
      judgeCanary(side(1, 200, 180), side(2, 200, 180), policy, 'binary', 'accuracy'),
    ).toMatchObject({
      action: 'promote',
      evidence: { dropPct: 0 },
    });
    // 0.895 against 0.90: 0.56 % worse, inside the 1 % margin.
    expect(
      judgeCanary(side(1, 200, 180), side(2, 200, 179), policy, 'binary', 'accuracy').action,
    ).toBe('promote');
  });

  it('waits between the margin and the drop, then rolls back once 4 × minSamples are labelled', () => {
    // 0.88 against 0.90: 2.2 % worse.
    expect(
      judgeCanary(side(1, 200, 180), side(2, 200, 176), policy, 'binary', 'accuracy').action,
    ).toBe('wait');
    expect(
      judgeCanary(side(1, 400, 360), side(2, 400, 352), policy, 'binary', 'accuracy').action,
    ).toBe('rollback');
  });

  it('waits for minSamples labels on both sides', () => {
    const v = judgeCanary(side(1, 200, 180), side(2, 99, 99), policy, 'binary', 'accuracy');
    expect(v.action).toBe('wait');
    expect(v.reason).toMatch(/canary 99, production 200/);
  });

  it('rolls back an erroring or slow canary before any label', () => {
    const p = emptySide(1);
    const c = emptySide(2);
    for (let i = 0; i < 20; i++) countPrediction(p, 2, false);
    for (let i = 0; i < 19; i++) countPrediction(c, 2, false);
    countPrediction(c, 0, true);
    const erroring = judgeCanary(p, c, policy, 'binary', 'accuracy');
    expect(erroring.action).toBe('rollback');
    expect(erroring.evidence.canary.errorRate).toBeCloseTo(0.05, 12);
    const slow = emptySide(3);
    for (let i = 0; i < 20; i++) countPrediction(slow, 3.2, false);
    expect(judgeCanary(p, slow, policy, 'binary', 'accuracy').reason).toMatch(/p95 latency 3.2 ms/);
    const fine = emptySide(4);
    for (let i = 0; i < 20; i++) countPrediction(fine, 2.9, false);
    expect(judgeCanary(p, fine, policy, 'binary', 'accuracy').action).toBe('wait');
    // A shadow canary is not judged on latency: users never wait for it.
    const shadowSlow = emptySide(5);
    for (let i = 0; i < 20; i++) countPrediction(shadowSlow, 30, false, true);
    expect(judgeCanary(p, shadowSlow, policy, 'binary', 'accuracy').action).toBe('wait');
    // 1.6× but only 1.2 ms more: below a 5 ms floor it is noise.
    expect(
      judgeCanary(p, slow, { ...policy, minLatencyDeltaMs: 5 }, 'binary', 'accuracy').action,
    ).toBe('wait');
  });

  it('percentile is numpy’s linear interpolation', () => {
    // numpy.percentile([1, 2, 3, 4, 10], 95) = 8.8
    expect(percentile([10, 1, 3, 2, 4], 95)).toBeCloseTo(8.8, 12);
    expect(percentile([], 95)).toBeNull();
  });
});
