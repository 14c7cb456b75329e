import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  confusionAtThreshold,
  logLoss,
  precisionAtRecall,
  recallAtPrecision,
  rocAuc,
  thresholdCurve,
  thresholdMetrics,
} from './binary';
import { err, fixture, num } from './fixture';

// Agreement with scikit-learn: |ours − theirs| ≤ 1e-12 · max(1, |theirs|): absolute for the
// metrics in [0, 1], relative for a log loss above 1. NaN must meet NaN.
const TOL = 1e-12;

describe('binary metrics against scikit-learn', () => {
  for (const c of fixture.binary) {
    const sk = c.sklearn;
    const positives = c.yTrue.filter((y) => y === 1).length;

    it(`${c.name}: confusion, accuracy, precision, recall, F1 at ${c.threshold}`, () => {
      const [[tn, fp], [fn, tp]] = sk.confusionMatrix;
      expect(confusionAtThreshold(c.yTrue, c.scores, c.threshold)).toEqual({ tn, fp, fn, tp });
      for (const [key, zeroDivision] of [
        ['nan', NaN],
        ['0', 0],
        ['1', 1],
      ] as const) {
        const m = thresholdMetrics(c.yTrue, c.scores, { threshold: c.threshold, zeroDivision });
        expect(err(m.accuracy, sk.accuracy)).toBeLessThanOrEqual(TOL);
        expect(err(m.precision, num(sk.prf[key].precision))).toBeLessThanOrEqual(TOL);
        expect(err(m.recall, num(sk.prf[key].recall))).toBeLessThanOrEqual(TOL);
        expect(err(m.f1, num(sk.prf[key].f1))).toBeLessThanOrEqual(TOL);
      }
    });

    it(`${c.name}: ROC-AUC and average precision`, () => {
      // sklearn 1.9 returns NaN (with a warning) for one class; so do we.
      expect(err(rocAuc(c.yTrue, c.scores), num(sk.rocAuc))).toBeLessThanOrEqual(TOL);
      if (positives === 0) {
        // sklearn sets recall to 1 everywhere and returns 0; recall is 0/0, so we say NaN.
        expect(sk.averagePrecision).toBe(0);
        expect(averagePrecision(c.yTrue, c.scores)).toBeNaN();
      } else {
        const ap = averagePrecision(c.yTrue, c.scores);
        expect(err(ap, num(sk.averagePrecision))).toBeLessThanOrEqual(TOL);
      }
    });

    it(`${c.name}: log loss`, () => {
      if (sk.logLoss === null) {
        expect(() => logLoss(c.yTrue, c.scores)).toThrow(/not in \[0, 1\]/);
        return;
      }
      // Compared with log_loss(labels=[0, 1]); without labels sklearn raises on one class.
      expect(err(logLoss(c.yTrue, c.scores), sk.logLoss)).toBeLessThanOrEqual(TOL);
      const oneClass = positives === 0 || positives === c.yTrue.length;
      expect(sk.logLossWithoutLabels?.error !== undefined).toBe(oneClass);
    });

    it(`${c.name}: precision at recall, recall at precision`, () => {
      const check = (
        actual: ReturnType<typeof precisionAtRecall>,
        expected: (typeof sk.precisionAtRecall)[number]['point'],
      ): void => {
        if (expected === null) {
          expect(actual).toBeNull();
          return;
        }
        expect(actual).not.toBeNull();
        expect(actual!.threshold).toBe(expected.threshold);
        expect(err(actual!.precision, expected.precision)).toBeLessThanOrEqual(TOL);
        expect(err(actual!.recall, expected.recall)).toBeLessThanOrEqual(TOL);
      };
      for (const { target, point } of sk.precisionAtRecall) {
        check(precisionAtRecall(c.yTrue, c.scores, target), point);
      }
      for (const { target, point } of sk.recallAtPrecision) {
        check(recallAtPrecision(c.yTrue, c.scores, target), point);
      }
    });
  }
});

describe('binary metrics by hand', () => {
  it('counts a tied positive–negative pair as half in ROC-AUC', () => {
    // Pairs (pos, neg): (0.8, 0.5) won, (0.5, 0.5) tied, (0.8, 0.2) and (0.5, 0.2) won.
    expect(rocAuc([1, 0, 1, 0], [0.8, 0.5, 0.5, 0.2])).toBe(3.5 / 4);
    expect(rocAuc([1, 0], [0.3, 0.3])).toBe(0.5);
  });

  it('merges tied scores into one curve point, highest threshold first', () => {
    expect(thresholdCurve([1, 0, 1, 0, 1], [0.9, 0.4, 0.4, 0.1, 0.9])).toEqual({
      thresholds: [0.9, 0.4, 0.1],
      tp: [2, 3, 3],
      fp: [0, 1, 2],
      positives: 3,
      negatives: 2,
    });
  });

  it('average precision: recall steps weighted by the precision at each step', () => {
    // Thresholds 0.9 (tp 1, fp 0), 0.6 (tp 1, fp 1), 0.3 (tp 2, fp 1): ½·1 + ½·⅔.
    expect(averagePrecision([1, 0, 1], [0.9, 0.6, 0.3])).toBeCloseTo(0.5 + 1 / 3, 15);
  });

  it('clips log loss at 2⁻⁵²: a confident mistake costs −ln ε', () => {
    expect(logLoss([1], [0])).toBe(-Math.log(Number.EPSILON));
    expect(logLoss([0, 1], [0, 1])).toBe(-Math.log(1 - Number.EPSILON));
    expect(logLoss([1, 1], [0.5, 0.5])).toBe(Math.LN2);
  });

  it('defines the metrics of a one-class evaluation set as documented', () => {
    const y = [0, 0, 0];
    const s = [0.1, 0.7, 0.2];
    expect(rocAuc(y, s)).toBeNaN();
    expect(averagePrecision(y, s)).toBeNaN();
    expect(precisionAtRecall(y, s, 0.5)).toBeNull();
    expect(recallAtPrecision(y, s, 0.5)).toBeNull();
    expect(logLoss(y, s)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.3) + Math.log(0.8)) / 3, 15);
    const m = thresholdMetrics(y, s);
    expect(m).toMatchObject({ accuracy: 2 / 3, precision: 0, f1: 0 });
    expect(m.recall).toBeNaN();
  });

  it('compares minority recall at equal precision', () => {
    const y = [1, 0, 1, 0, 0, 1, 0, 0];
    const a = [0.9, 0.8, 0.7, 0.3, 0.2, 0.6, 0.1, 0.4];
    const b = [0.9, 0.1, 0.8, 0.3, 0.2, 0.2, 0.4, 0.5];
    // a: at threshold 0.6, 3 of the 4 predicted are positive and every positive is found.
    const pointA = precisionAtRecall(y, a, 0.5)!;
    expect(pointA).toEqual({ threshold: 0.6, precision: 0.75, recall: 1 });
    expect(recallAtPrecision(y, a, pointA.precision)).toEqual(pointA);
    // b reaches that precision only at threshold 0.8, where it finds 2 of the 3 positives.
    expect(recallAtPrecision(y, b, pointA.precision)).toEqual({
      threshold: 0.8,
      precision: 1,
      recall: 2 / 3,
    });
    expect(recallAtPrecision(y, b, 1.0)).toEqual({ threshold: 0.8, precision: 1, recall: 2 / 3 });
  });

  it('throws on bad input', () => {
    expect(() => rocAuc([1, 0], [0.5])).toThrow(/2 values, yPred 1/);
    expect(() => rocAuc([], [])).toThrow(/no samples/);
    expect(() => rocAuc([1, 2], [0.5, 0.2])).toThrow(/yTrue\[1\] is 2/);
    expect(() => rocAuc([1, 0], [NaN, 0.2])).toThrow(/yPred\[0\] is NaN/);
    expect(() => logLoss([1, 0], [1.5, 0.2])).toThrow(/not in \[0, 1\]/);
    expect(() => precisionAtRecall([1, 0], [0.5, 0.2], 1.2)).toThrow(/level 1.2/);
  });
});
