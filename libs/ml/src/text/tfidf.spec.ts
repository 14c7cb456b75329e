import { describe, expect, it } from 'vitest';
import { dense, fixture, maxAbsDiff } from './fixture';
import {
  type TfidfState,
  fitTfidf,
  resolveTfidfOptions,
  tfidfTransform,
  tfidfTransformSparse,
} from './tfidf';

// Absolute tolerance against sklearn. Measured: idf bit-identical; vector values at most
// 2.2e-16 apart (a last-bit difference in a sum or a log), 99.7 % of them bit-identical.
const TOLERANCE = 1e-9;

describe(`fitTfidf / tfidfTransform against sklearn ${fixture._sklearn} TfidfVectorizer`, () => {
  it('covers the option combinations it is meant to', () => {
    const names = fixture.cases.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'defaults',
        'ngram_1_2',
        'min_df_2',
        'max_df_0.5',
        'max_features_20',
        'sublinear_tf',
        'smooth_idf_false',
        'norm_l1',
        'norm_none',
        'use_idf_false',
      ]),
    );
    expect(fixture.corpus.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of fixture.cases) {
    describe(`${c.name} (${JSON.stringify(c.sklearn)})`, () => {
      const state = fitTfidf(fixture.corpus, c.options);

      it('learns the same vocabulary, in the same order', () => {
        expect(state.vocabulary).toEqual(c.vocabulary);
      });

      it('learns the same idf', () => {
        if (c.idf === null) {
          expect(state.idf).toBeNull();
        } else {
          expect(state.idf).not.toBeNull();
          expect(maxAbsDiff(state.idf ?? [], c.idf)).toBeLessThanOrEqual(TOLERANCE);
        }
      });

      it('transforms every corpus document and the unseen ones to the same vector', () => {
        const size = c.vocabulary.length;
        const docs = [...fixture.corpus, ...fixture.unseen];
        const rows = [...c.corpus, ...c.unseen];
        expect(rows).toHaveLength(docs.length);
        docs.forEach((doc, i) => {
          const got = tfidfTransform(doc, state);
          expect(got).toHaveLength(size);
          expect(maxAbsDiff(got, dense(rows[i], size)), JSON.stringify(doc)).toBeLessThanOrEqual(
            TOLERANCE,
          );
          const sparse = tfidfTransformSparse(doc, state);
          expect(sparse.indices).toEqual(rows[i].indices);
          expect(sparse.values).toEqual(sparse.indices.map((j) => got[j]));
        });
      });
    });
  }

  it('differs from sklearn at a max_features cut-off only among equally frequent terms', () => {
    const limited = fixture.cases.filter((c) => c.sklearn_vocabulary !== undefined);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    // At least one case where numpy's unstable argsort kept other tied terms than we do.
    expect(limited.some((c) => c.sklearn_vocabulary?.join() !== c.vocabulary.join())).toBe(true);
    for (const c of limited) {
      const tf = c.term_frequency ?? {};
      const ours = new Set(c.vocabulary);
      const theirs = new Set(c.sklearn_vocabulary);
      const cutoff = Math.min(...c.vocabulary.map((t) => tf[t]));
      const differing = [...ours].filter((t) => !theirs.has(t));
      differing.push(...[...theirs].filter((t) => !ours.has(t)));
      for (const term of differing) expect(tf[term], `${c.name}: ${term}`).toBe(cutoff);
      if (c.tie_at_cutoff === false) expect(differing).toEqual([]);
    }
  });

  it('refuses what sklearn refuses', () => {
    const expected: Record<string, RegExp> = {
      max_df_below_min_df: /maxDf corresponds to fewer documents/,
      max_df_proportion_below_min_df: /maxDf corresponds to fewer documents/,
      nothing_left: /After pruning, no terms remain/,
      ngram_range_reversed: /lower boundary larger than the upper boundary/,
      only_empty_and_short: /empty vocabulary/,
    };
    expect(fixture.errors.map((e) => e.name).sort()).toEqual(Object.keys(expected).sort());
    for (const e of fixture.errors) {
      expect(() => fitTfidf(e.corpus ?? fixture.corpus, e.options), e.message).toThrow(
        expected[e.name],
      );
    }
  });
});

describe('options', () => {
  it('fills in sklearn defaults', () => {
    expect(resolveTfidfOptions()).toEqual({
      lowercase: true,
      ngramRange: [1, 1],
      minDf: 1,
      maxDf: { proportion: 1 },
      maxFeatures: null,
      sublinearTf: false,
      smoothIdf: true,
      useIdf: true,
      norm: 'l2',
    });
  });

  it('reads an integer bound as a document count and a fraction as a proportion', () => {
    const docs = ['alpha beta', 'alpha gamma', 'alpha delta', 'beta gamma'];
    // alpha in 3 of 4 documents, beta and gamma in 2, delta in 1.
    expect(fitTfidf(docs, { maxDf: 2 }).vocabulary).toEqual(['beta', 'delta', 'gamma']);
    expect(fitTfidf(docs, { maxDf: 0.5 }).vocabulary).toEqual(['beta', 'delta', 'gamma']);
    expect(fitTfidf(docs, { maxDf: 1 }).vocabulary).toEqual(['delta']);
    expect(fitTfidf(docs, { maxDf: { proportion: 1 } }).vocabulary).toHaveLength(4);
    expect(fitTfidf(docs, { minDf: 0.6 }).vocabulary).toEqual(['alpha']);
    expect(fitTfidf(docs, { minDf: { proportion: 0.5 } }).vocabulary).toEqual([
      'alpha',
      'beta',
      'gamma',
    ]);
  });

  it('rejects malformed options with the name of the option', () => {
    expect(() => resolveTfidfOptions({ maxDf: 1.5 })).toThrow(/maxDf/);
    expect(() => resolveTfidfOptions({ minDf: -1 })).toThrow(/minDf/);
    expect(() => resolveTfidfOptions({ minDf: { proportion: 2 } })).toThrow(/minDf/);
    expect(() => resolveTfidfOptions({ maxFeatures: 0 })).toThrow(/maxFeatures/);
    expect(() => resolveTfidfOptions({ maxFeatures: 2.5 })).toThrow(/maxFeatures/);
    expect(() => resolveTfidfOptions({ ngramRange: [0, 2] })).toThrow(/ngramRange/);
    expect(() => resolveTfidfOptions({ norm: 'max' as 'l1' })).toThrow(/norm/);
  });
});

describe('TfidfState', () => {
  const state = fitTfidf(fixture.corpus, { ngramRange: [1, 2], sublinearTf: true });

  it('is plain JSON and transforms the same after a round trip', () => {
    const copy = JSON.parse(JSON.stringify(state)) as TfidfState;
    expect(copy).toEqual(state);
    for (const doc of [...fixture.corpus, ...fixture.unseen]) {
      expect(tfidfTransform(doc, copy)).toEqual(tfidfTransform(doc, state));
    }
  });

  it('gives the zero vector for a document without vocabulary terms', () => {
    for (const doc of ['', 'zzz qqq', '!!! ?']) {
      expect(tfidfTransform(doc, state).every((v) => v === 0)).toBe(true);
    }
  });

  it('rejects a state whose idf does not match its vocabulary', () => {
    const broken: TfidfState = { ...state, idf: [1, 2] };
    expect(() => tfidfTransform('weekly groceries', broken)).toThrow(/2 idf values/);
  });

  it('works out the documented formulas on a small corpus', () => {
    const docs = ['coffee coffee shop', 'coffee bar', 'shop'];
    const s = fitTfidf(docs);
    // n = 3; df: bar 1, coffee 2, shop 2. idf = ln((1 + n) / (1 + df)) + 1.
    expect(s.vocabulary).toEqual(['bar', 'coffee', 'shop']);
    const idf = [Math.log(4 / 2) + 1, Math.log(4 / 3) + 1, Math.log(4 / 3) + 1];
    expect(s.idf).toEqual(idf);
    const raw = [0, 2 * idf[1], idf[2]];
    const norm = Math.hypot(...raw);
    expect(tfidfTransform(docs[0], s)).toEqual(raw.map((v) => v / norm));
    const plain = fitTfidf(docs, { smoothIdf: false, sublinearTf: true, norm: 'l1' });
    const idf2 = [Math.log(3 / 1) + 1, Math.log(3 / 2) + 1, Math.log(3 / 2) + 1];
    const raw2 = [0, (1 + Math.log(2)) * idf2[1], idf2[2]];
    const l1 = raw2[1] + raw2[2];
    expect(tfidfTransform(docs[0], plain)).toEqual(raw2.map((v) => v / l1));
  });
});
