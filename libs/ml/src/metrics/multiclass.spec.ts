import { describe, expect, it } from 'vitest';
import { err, fixture, num, type Value } from './fixture';
import {
  argmaxRows,
  confusionMatrix,
  multiclassLogLoss,
  rocAucOvr,
  scoresFromConfusion,
} from './multiclass';

// |ours − sklearn| ≤ 1e-12 · max(1, |sklearn|); NaN must meet NaN.
const TOL = 1e-12;

const expectClose = (actual: readonly number[], expected: readonly Value[]): void => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(err(v, num(expected[i]))).toBeLessThanOrEqual(TOL));
};

describe('multiclass metrics against scikit-learn', () => {
  for (const c of fixture.multiclass) {
    const sk = c.sklearn;
    const k = c.proba[0].length;

    it(`${c.name}: argmax, confusion matrix, accuracy`, () => {
      const predicted = argmaxRows(c.proba);
      expect(predicted).toEqual(sk.predicted);
      const matrix = confusionMatrix(c.yTrue, predicted, k);
      expect(matrix).toEqual(sk.confusionMatrix);
      expect(err(scoresFromConfusion(matrix).accuracy, sk.accuracy)).toBeLessThanOrEqual(TOL);
    });

    for (const [key, zeroDivision] of [
      ['nan', NaN],
      ['0', 0],
      ['1', 1],
    ] as const) {
      it(`${c.name}: per-class, macro and weighted P/R/F1, zero_division=${key}`, () => {
        const s = scoresFromConfusion(
          confusionMatrix(c.yTrue, argmaxRows(c.proba), k),
          zeroDivision,
        );
        const ref = sk.prf[key];
        expect(s.perClass.support).toEqual(ref.support);
        for (const metric of ['precision', 'recall', 'f1'] as const) {
          expectClose(s.perClass[metric], ref.perClass[metric]);
          expect(err(s.macro[metric], num(ref.macro[metric]))).toBeLessThanOrEqual(TOL);
          expect(err(s.weighted[metric], num(ref.weighted[metric]))).toBeLessThanOrEqual(TOL);
        }
      });
    }

    it(`${c.name}: log loss and one-vs-rest ROC-AUC`, () => {
      expect(err(multiclassLogLoss(c.yTrue, c.proba), sk.logLoss)).toBeLessThanOrEqual(TOL);
      const auc = rocAucOvr(c.yTrue, c.proba);
      expectClose(auc.perClass, sk.rocAucPerClass);
      expect(err(auc.macro, num(sk.rocAucOvrMacro))).toBeLessThanOrEqual(TOL);
    });
  }

  it('covers a never-predicted class and a class absent from y_true', () => {
    const never = fixture.multiclass.find((c) => c.name === 'k4_class_never_predicted')!;
    expect(never.sklearn.prf.nan.perClass.precision[3]).toBeNull();
    const absent = fixture.multiclass.find((c) => c.name === 'k4_class_absent')!;
    expect(absent.sklearn.rocAucOvrMacro).toBeNull();
    expect(absent.sklearn.rocAucPerClass[1]).toBeNull();
  });
});

describe('multiclass metrics by hand', () => {
  it('takes the first column on a tie, as numpy argmax', () => {
    expect(
      argmaxRows([
        [0.4, 0.4, 0.2],
        [0.1, 0.45, 0.45],
        [0.2, 0.3, 0.5],
      ]),
    ).toEqual([0, 1, 2]);
  });

  it('leaves a class nobody predicted out of macro precision only with NaN', () => {
    // Class 1 is never predicted: precision 0/0; its recall is 0.
    const m = [
      [2, 0, 0],
      [1, 0, 1],
      [0, 0, 2],
    ];
    const withNaN = scoresFromConfusion(m);
    expect(withNaN.perClass.precision[1]).toBeNaN();
    expect(withNaN.macro.precision).toBeCloseTo((2 / 3 + 2 / 3) / 2, 15);
    expect(scoresFromConfusion(m, 0).macro.precision).toBeCloseTo((2 / 3 + 0 + 2 / 3) / 3, 15);
    expect(withNaN.macro.recall).toBeCloseTo((1 + 0 + 1) / 3, 15);
  });

  it('throws on labels outside [0, K) and ragged rows', () => {
    expect(() =>
      rocAucOvr(
        [0, 3],
        [
          [0.5, 0.5],
          [0.2, 0.8],
        ],
      ),
    ).toThrow(/yTrue\[1\] is 3/);
    expect(() => multiclassLogLoss([0, 1], [[0.5, 0.5], [0.8]])).toThrow(/row 1 has 1 values/);
    expect(() =>
      multiclassLogLoss(
        [0, 1],
        [
          [0.5, 0.5],
          [-0.1, 1.1],
        ],
      ),
    ).toThrow(/outside \[0, 1\]/);
  });
});
