export * from './embedder';
export * from './murmur3';
export * from './tfidf';
export * from './tokenize';
