import { describe, expect, it } from 'vitest';
import { evaluate, type Task } from './evaluate';
import { err, fixture } from './fixture';

const TOL = 1e-12;
const close = (actual: number | null, expected: number | null): void => {
  if (expected === null) expect(actual).toBeNull();
  else expect(err(actual ?? NaN, expected)).toBeLessThanOrEqual(TOL);
};
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('evaluate', () => {
  for (const c of fixture.binary) {
    it(`binary ${c.name}: the report holds sklearn's values, null where undefined`, () => {
      const sk = c.sklearn;
      const report = evaluate('binary', c.yTrue, c.scores, {
        threshold: c.threshold,
        recallLevels: sk.precisionAtRecall.map((p) => p.target),
        precisionLevels: sk.recallAtPrecision.map((p) => p.target),
      });
      expect(roundTrip(report)).toEqual(report);
      expect(report.n).toBe(c.yTrue.length);
      expect(report.confusionMatrix).toEqual(sk.confusionMatrix);
      close(report.accuracy, sk.accuracy);
      close(report.precision, sk.prf.nan.precision);
      close(report.recall, sk.prf.nan.recall);
      close(report.f1, sk.prf.nan.f1);
      close(report.rocAuc, sk.rocAuc);
      close(report.averagePrecision, report.positives === 0 ? null : sk.averagePrecision);
      close(report.logLoss, sk.logLoss);
      report.precisionAtRecall.forEach(({ level, point }, i) => {
        expect(level).toBe(sk.precisionAtRecall[i].target);
        expect(point?.threshold).toBe(sk.precisionAtRecall[i].point?.threshold);
      });
      report.recallAtPrecision.forEach(({ level, point }, i) => {
        expect(level).toBe(sk.recallAtPrecision[i].target);
        expect(point?.threshold).toBe(sk.recallAtPrecision[i].point?.threshold);
      });
    });
  }

  for (const c of fixture.multiclass) {
    it(`multiclass ${c.name}: the report holds sklearn's values`, () => {
      const sk = c.sklearn;
      const report = evaluate('multiclass', c.yTrue, c.proba);
      expect(roundTrip(report)).toEqual(report);
      expect(report.classes).toBe(4);
      expect(report.support).toEqual(sk.prf.nan.support);
      expect(report.confusionMatrix).toEqual(sk.confusionMatrix);
      close(report.accuracy, sk.accuracy);
      for (const metric of ['precision', 'recall', 'f1'] as const) {
        close(report[metric].macro, sk.prf.nan.macro[metric]);
        close(report[metric].weighted, sk.prf.nan.weighted[metric]);
        report[metric].perClass.forEach((v, i) => close(v, sk.prf.nan.perClass[metric][i]));
      }
      close(report.logLoss, sk.logLoss);
      close(report.rocAucOvr.macro, sk.rocAucOvrMacro);
      report.rocAucOvr.perClass.forEach((v, i) => close(v, sk.rocAucPerClass[i]));
    });
  }

  for (const c of fixture.regression) {
    it(`regression ${c.name}: the report holds sklearn's values`, () => {
      const report = evaluate('regression', c.yTrue, c.yPred);
      expect(roundTrip(report)).toEqual(report);
      close(report.mae, c.sklearn.mae);
      close(report.rmse, c.sklearn.rmse);
      const constant = c.yTrue.every((y) => y === c.yTrue[0]);
      close(report.r2, constant ? null : c.sklearn.r2);
    });
  }

  it('reports a whole binary evaluation as plain JSON', () => {
    const report = evaluate('binary', [0, 0, 1, 1, 0], [0.1, 0.6, 0.7, 0.4, 0.2], {
      recallLevels: [1],
      precisionLevels: [1],
    });
    expect(report).toEqual({
      task: 'binary',
      n: 5,
      positives: 2,
      threshold: 0.5,
      confusionMatrix: [
        [2, 1],
        [1, 1],
      ],
      accuracy: 0.6,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
      rocAuc: 5 / 6,
      averagePrecision: 0.5 * 1 + 0.5 * (2 / 3),
      logLoss: -(Math.log(0.9) + Math.log(0.4) + Math.log(0.7) + Math.log(0.4) + Math.log(0.8)) / 5,
      precisionAtRecall: [{ level: 1, point: { threshold: 0.4, precision: 2 / 3, recall: 1 } }],
      recallAtPrecision: [{ level: 1, point: { threshold: 0.7, precision: 1, recall: 0.5 } }],
    });
  });

  it('has no log loss for scores that are not probabilities', () => {
    const report = evaluate('binary', [0, 1, 1], [-2.5, 0.3, 4], { threshold: 0 });
    expect(report.logLoss).toBeNull();
    expect(report.rocAuc).toBe(1);
    expect(report.accuracy).toBe(1);
  });

  it('rejects an unknown task', () => {
    expect(() => evaluate('ranking' as Task as 'regression', [1], [1])).toThrow(
      /unknown task "ranking"/,
    );
  });
});
