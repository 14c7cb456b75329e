import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HashedNgramEmbedder,
  cosineSimilarity,
  loadEmbedder,
  normaliseForEmbedding,
} from './embedder';
import { dense, fixture, maxAbsDiff } from './fixture';
import { murmur3, murmur3Bytes } from './murmur3';

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('murmur3', () => {
  it('equals sklearn.utils.murmurhash3_32 on UTF-8 strings and several seeds', () => {
    expect(fixture.murmur3.length).toBeGreaterThanOrEqual(50);
    for (const { input, seed, hash } of fixture.murmur3) {
      expect(murmur3(input, seed) | 0, `${JSON.stringify(input)} seed ${seed}`).toBe(hash);
    }
  });

  it('hashes a byte range as it hashes those bytes alone', () => {
    const bytes = new TextEncoder().encode('xx café yy');
    expect(murmur3Bytes(bytes, 3, 8, 7)).toBe(murmur3('café', 7));
  });
});

describe('HashedNgramEmbedder', () => {
  it('equals sklearn HashingVectorizer(analyzer="char") on the normalised text', () => {
    const { texts, normalised, configs } = fixture.hashing;
    texts.forEach((text, i) => expect(normaliseForEmbedding(text)).toBe(normalised[i]));
    for (const config of configs) {
      const embedder = new HashedNgramEmbedder(config);
      texts.forEach((text, i) => {
        const want = dense(config.rows[i], config.dim);
        expect(maxAbsDiff(embedder.embed(text), want), JSON.stringify(text)).toBeLessThanOrEqual(
          1e-12,
        );
      });
    }
  });

  it('is deterministic, with an id naming every parameter', () => {
    const a = new HashedNgramEmbedder();
    const b = new HashedNgramEmbedder({ dim: 64, minN: 3, maxN: 5, seed: 0 });
    expect(a.id).toBe('hashed-ngrams:64:3-5:0');
    expect(b.id).toBe(a.id);
    const text = 'Weekly groceries at the corner shop';
    expect(a.embed(text)).toEqual(b.embed(text));
    expect(a.embed(text)).toEqual(a.embed(text));
    const other = new HashedNgramEmbedder({ dim: 128, minN: 2, maxN: 4, seed: 7 });
    expect(other.id).toBe('hashed-ngrams:128:2-4:7');
    expect(new HashedNgramEmbedder({ seed: 7 }).embed(text)).not.toEqual(a.embed(text));
  });

  it('returns dim values of unit L2 norm', () => {
    for (const dim of [1, 16, 64, 300]) {
      const embedder = new HashedNgramEmbedder({ dim });
      for (const text of ['ab', 'Coffee at Starbucks #1234', '𠮷野家 🍜', 'x'.repeat(500)]) {
        const v = embedder.embed(text);
        expect(v).toHaveLength(dim);
        expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-12);
      }
    }
  });

  it('embeds empty and whitespace-only text as the zero vector', () => {
    const embedder = new HashedNgramEmbedder();
    for (const text of ['', ' ', '\t\n  ']) {
      const v = embedder.embed(text);
      expect(v).toHaveLength(64);
      expect(v.every((x) => x === 0)).toBe(true);
      expect(cosineSimilarity(v, embedder.embed('coffee'))).toBe(0);
    }
  });

  it('ignores case, spacing and Unicode composition', () => {
    const embedder = new HashedNgramEmbedder();
    const v = embedder.embed('Café de la Gare');
    expect(embedder.embed('  cafe\u0301   DE la\tgare ')).toEqual(v);
  });

  it('puts a reworded or mistyped memo closer to its original than to any other memo', () => {
    const memos = [
      'Weekly groceries at the corner shop',
      'Payment to Amazon Marketplace for order 48213',
      'Uber trip to the airport',
      'Netflix monthly subscription',
      'Shell station fuel and car wash',
      'Rent payment for March',
      'Transfer to savings account',
      'Delta Airlines flight to Boston',
      'Pharmacy prescription refill',
      'Café de la Gare, Zürich',
    ];
    const variants = [
      'weekly grocries at corner shop',
      'AMAZON MARKETPLACE payment, order 48231',
      'uber trip airport',
      'Netflix subscription (monthly)',
      'shell fuel station car-wash',
      'rent paymnt march',
      'transfer savings acct',
      'delta airline flight boston',
      'pharmacy refill prescriptions',
      'cafe de la gare zurich',
    ];
    const embedder = new HashedNgramEmbedder();
    const base = memos.map((m) => embedder.embed(m));
    variants.forEach((variant, i) => {
      const v = embedder.embed(variant);
      const own = cosineSimilarity(v, base[i]);
      const others = base.filter((_, j) => j !== i).map((b) => cosineSimilarity(v, b));
      expect(own, variant).toBeGreaterThan(Math.max(...others));
      expect(own, variant).toBeGreaterThan(0.5);
    });
  });

  it('rejects parameters that make no sense', () => {
    expect(() => new HashedNgramEmbedder({ dim: 0 })).toThrow(/dim/);
    expect(() => new HashedNgramEmbedder({ minN: 4, maxN: 3 })).toThrow(/minN/);
    expect(() => new HashedNgramEmbedder({ minN: 0 })).toThrow(/minN/);
    expect(() => new HashedNgramEmbedder({ seed: -1 })).toThrow(/seed/);
    expect(() => new HashedNgramEmbedder({ seed: 2 ** 32 })).toThrow(/seed/);
  });
});

describe('cosineSimilarity', () => {
  it('is the cosine of the angle, 0 for a zero vector', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 1], [2, 2])).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 0], [-3, 0])).toBe(-1);
    expect(cosineSimilarity([0, 0], [1, 2])).toBe(0);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(/length/);
  });
});

describe('loadEmbedder', () => {
  let root: string;

  // A fake "model package" installed under <root>/node_modules, the way a pretrained embedder
  // shipped as an npm package would be.
  function writePackage(name: string, source: string): void {
    const dir = path.join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
    writeFileSync(path.join(dir, 'index.js'), source);
  }

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'embedder-'));
    writePackage(
      'fake-embedder',
      `exports.createEmbedder = function (options) {
         const dim = options.dim;
         return {
           id: 'fake:' + dim,
           dim,
           embed(text) { return Array.from({ length: dim }, (_, i) => (text.length + i) % 3); },
         };
       };`,
    );
    writePackage(
      'default-export-embedder',
      `module.exports = { default: { createEmbedder: () => ({ id: 'd', dim: 1, embed: () => [1] }) } };`,
    );
    writePackage('no-factory', `exports.somethingElse = () => 1;`);
    writePackage('throws-on-load', `throw new Error('weights file missing');`);
    writePackage('returns-promise', `exports.createEmbedder = async () => ({ id: 'p', dim: 1 });`);
    writePackage('returns-junk', `exports.createEmbedder = () => ({ id: '', dim: 0 });`);
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('builds the hashed n-gram embedder from its spec', () => {
    const embedder = loadEmbedder({ type: 'hashed-ngrams', dim: 32, seed: 3 });
    expect(embedder).toBeInstanceOf(HashedNgramEmbedder);
    expect(embedder.id).toBe('hashed-ngrams:32:3-5:3');
    expect(embedder.embed('coffee')).toEqual(
      new HashedNgramEmbedder({ dim: 32, seed: 3 }).embed('coffee'),
    );
  });

  it('loads a package by name from node_modules and passes it the options', () => {
    const embedder = loadEmbedder(
      { type: 'module', module: 'fake-embedder', options: { dim: 4 } },
      { resolveFrom: root },
    );
    expect(embedder.id).toBe('fake:4');
    expect(embedder.dim).toBe(4);
    expect(embedder.embed('abc')).toEqual([0, 1, 2, 0]);
  });

  it('loads a module by absolute path, and a factory under a default export', () => {
    const file = path.join(root, 'node_modules', 'fake-embedder', 'index.js');
    expect(loadEmbedder({ type: 'module', module: file, options: { dim: 2 } }).id).toBe('fake:2');
    const d = loadEmbedder(
      { type: 'module', module: 'default-export-embedder' },
      { resolveFrom: root },
    );
    expect(d.embed('x')).toEqual([1]);
  });

  it('says clearly what is wrong with a package that cannot serve', () => {
    const load = (module: string) => () =>
      loadEmbedder({ type: 'module', module }, { resolveFrom: root });
    expect(load('not-installed-embedder')).toThrow(
      /Embedder module "not-installed-embedder" is not installed/,
    );
    expect(load('no-factory')).toThrow(/"no-factory" does not export a function createEmbedder/);
    expect(load('throws-on-load')).toThrow(/"throws-on-load" failed to load: weights file missing/);
    expect(load('returns-promise')).toThrow(/returned a Promise/);
    expect(load('returns-junk')).toThrow(/did not return a TextEmbedder/);
  });

  it('rejects an unknown spec type from configuration', () => {
    expect(() => loadEmbedder(JSON.parse('{"type":"onnx"}'))).toThrow(
      /unknown embedder type "onnx"/,
    );
  });
});
