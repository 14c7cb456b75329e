import { bench, describe } from 'vitest';
import { HashedNgramEmbedder } from './embedder';
import { fitTfidf, tfidfTransform, tfidfTransformSparse } from './tfidf';

// Short card memos like the generator's, varied enough for a vocabulary of a few thousand terms.
const MERCHANTS = ['Amazon Marketplace', 'Whole Foods', 'Shell', 'Uber Trip', 'Netflix', 'Lidl'];
const CITIES = ['Zürich', 'Paris', 'Boston', 'Tokyo', 'Berlin', 'Lyon', 'Austin'];
const memo = (i: number) =>
  `Payment to ${MERCHANTS[i % MERCHANTS.length]} ${CITIES[(i * 7) % CITIES.length]} order ${(i * 7919) % 100_000}`;
const corpus = Array.from({ length: 5000 }, (_, i) => memo(i));
const docs = Array.from({ length: 1000 }, (_, i) => memo(i * 31 + 5));

const unigrams = fitTfidf(corpus);
const bigrams = fitTfidf(corpus, { ngramRange: [1, 2], sublinearTf: true });
const embedder = new HashedNgramEmbedder();

describe(`tfidfTransform (1000 memos of ~50 characters)`, () => {
  bench(`unigrams, vocabulary ${unigrams.vocabulary.length}`, () => {
    for (const d of docs) tfidfTransform(d, unigrams);
  });
  bench(`1–2-grams, vocabulary ${bigrams.vocabulary.length}`, () => {
    for (const d of docs) tfidfTransform(d, bigrams);
  });
  bench(`1–2-grams, vocabulary ${bigrams.vocabulary.length}, sparse`, () => {
    for (const d of docs) tfidfTransformSparse(d, bigrams);
  });
});

describe('fitTfidf (5000 memos)', () => {
  bench('unigrams', () => {
    fitTfidf(corpus);
  });
});

describe('HashedNgramEmbedder (1000 memos, dim 64, 3–5-grams)', () => {
  bench('embed', () => {
    for (const d of docs) embedder.embed(d);
  });
});
