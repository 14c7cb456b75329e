import { describe, expect, it } from 'vitest';
import { balancedClassWeights, classWeightVector } from './class-weights';

function expectRel(actual: number, expected: number, tol = 1e-15): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.abs(expected));
}

describe('balancedClassWeights against scikit-learn', () => {
  // Each expected list is scikit-learn 1.9.1's
  //   compute_class_weight('balanced', classes=<labels present>, y=np.repeat(np.arange(K), counts))
  const cases: [number[], number[]][] = [
    [
      [98, 2],
      [0.5102040816326531, 25.0],
    ],
    [
      [50, 30, 20],
      [0.6666666666666666, 1.1111111111111112, 1.6666666666666667],
    ],
    [
      [7, 1, 13, 3],
      [0.8571428571428571, 6.0, 0.46153846153846156, 2.0],
    ],
    [
      [5, 5, 5, 5],
      [1, 1, 1, 1],
    ],
  ];
  for (const [counts, expected] of cases) {
    it(`counts ${counts.join('/')}`, () => {
      const w = balancedClassWeights(counts);
      expect(w).toHaveLength(expected.length);
      w.forEach((v, i) => expectRel(v, expected[i]));
    });
  }

  it('gives an absent class weight 0 and leaves it out of n_classes', () => {
    // scikit-learn raises "classes should have valid labels that are in y" for class 2 here; on
    // the present classes [0, 1, 3, 4] alone it returns the weights of the 7/1/13/3 case above.
    const w = balancedClassWeights([7, 1, 0, 13, 3]);
    const expected = [0.8571428571428571, 6.0, 0, 0.46153846153846156, 2.0];
    w.forEach((v, i) => (expected[i] === 0 ? expect(v).toBe(0) : expectRel(v, expected[i])));
    expect(balancedClassWeights([0, 0])).toEqual([0, 0]);
  });

  it('gives every present class the same total weight n_samples / n_classes', () => {
    const counts = [1234, 17, 0, 560, 3];
    const w = balancedClassWeights(counts);
    const n = counts.reduce((a, b) => a + b, 0);
    counts.forEach((c, i) => {
      if (c > 0) expectRel(w[i] * c, n / 4, 1e-14);
    });
  });

  it('rejects negative and non-finite counts', () => {
    expect(() => balancedClassWeights([3, -1])).toThrow(RangeError);
    expect(() => balancedClassWeights([3, NaN])).toThrow(RangeError);
    expect(() => balancedClassWeights([3, Infinity])).toThrow(RangeError);
  });
});

describe('classWeightVector', () => {
  const classes = ['legit', 'fraud', 'review'];
  const counts = [50, 20, 30];

  it("'none' is all ones", () => {
    expect(Array.from(classWeightVector('none', classes, counts))).toEqual([1, 1, 1]);
  });

  it("'balanced' is balancedClassWeights rounded to float32", () => {
    const v = classWeightVector('balanced', classes, counts);
    expect(v).toBeInstanceOf(Float32Array);
    // sklearn: compute_class_weight('balanced', classes=[0,1,2], y=repeat([0,1,2], [50,20,30]))
    const sklearn = [0.6666666666666666, 1.6666666666666667, 1.1111111111111112];
    expect(Array.from(v)).toEqual(sklearn.map(Math.fround));
  });

  it('a record weights named classes and leaves the others at 1', () => {
    const v = classWeightVector({ fraud: 12.5, review: 0 }, classes, counts);
    expect(Array.from(v)).toEqual([1, 12.5, 0]);
  });

  it('an unknown label throws a RangeError that names it', () => {
    expect(() => classWeightVector({ frad: 3 }, classes, counts)).toThrow(RangeError);
    expect(() => classWeightVector({ frad: 3 }, classes, counts)).toThrow(/"frad"/);
  });

  it('rejects bad weights and mismatched lengths', () => {
    expect(() => classWeightVector({ fraud: -1 }, classes, counts)).toThrow(RangeError);
    expect(() => classWeightVector({ fraud: NaN }, classes, counts)).toThrow(RangeError);
    expect(() => classWeightVector('none', classes, [1, 2])).toThrow(RangeError);
  });
});
