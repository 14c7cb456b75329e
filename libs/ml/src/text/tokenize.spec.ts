import { describe, expect, it } from 'vitest';
import { fixture } from './fixture';
import { analyze, compareCodePoints, tokenize, wordNgrams } from './tokenize';

describe('analyze (sklearn build_analyzer)', () => {
  for (const { options, outputs } of fixture.analyzer) {
    const label = `lowercase ${String(options.lowercase)}, ngramRange [${options.ngramRange?.join(', ')}]`;
    it(`matches sklearn ${fixture._sklearn} with ${label}`, () => {
      for (const { text, tokens } of outputs) {
        expect(analyze(text, options), JSON.stringify(text)).toEqual(tokens);
      }
    });
  }

  it('covers the tricky cases it is meant to', () => {
    const lower = fixture.analyzer[0].outputs;
    const tokensOf = (text: string) => lower.find((o) => o.text === text)?.tokens;
    // Final sigma, dotted capital I splitting a word, decomposed accent, astral letters.
    expect(tokensOf('ΟΔΟΣ Σ ΣΣ ὈΔΥΣΣΕΎΣ')).toEqual(['οδος', 'σς', 'ὀδυσσεύς']);
    expect(tokensOf('İstanbul IİıI')).toEqual(['stanbul', 'ii', 'ıi']);
    expect(tokensOf('café cafe\u0301 CAFÉ')).toEqual(['café', 'cafe', 'café']);
    expect(tokensOf('𠮷野家 𝐀𝐁𝐂 𐐀𐐁 ｃａｆｅ')).toEqual(['𠮷野家', '𝐀𝐁𝐂', '𐐨𐐩', 'ｃａｆｅ']);
  });
});

describe('tokenize', () => {
  it('keeps maximal runs of at least two letters, digits or underscores', () => {
    expect(tokenize("Payment #48213 to O'Neil's e-shop, 2 items")).toEqual([
      'payment',
      '48213',
      'to',
      'neil',
      'shop',
      'items',
    ]);
    expect(tokenize('Weekly GROCERIES', { lowercase: false })).toEqual(['Weekly', 'GROCERIES']);
    expect(tokenize('')).toEqual([]);
    expect(tokenize('a b c 1 2 3 !!')).toEqual([]);
  });

  it('counts code points, not UTF-16 units: one astral letter is not a token', () => {
    expect('𠮷'.length).toBe(2);
    expect(tokenize('𠮷 𠮷𠮷')).toEqual(['𠮷𠮷']);
  });
});

describe('wordNgrams', () => {
  const tokens = ['weekly', 'groceries', 'at', 'the', 'shop'];

  it('lists all unigrams, then all bigrams, … in text order', () => {
    expect(wordNgrams(tokens, [1, 2])).toEqual([
      ...tokens,
      'weekly groceries',
      'groceries at',
      'at the',
      'the shop',
    ]);
    expect(wordNgrams(tokens, [3, 3])).toEqual([
      'weekly groceries at',
      'groceries at the',
      'at the shop',
    ]);
    expect(wordNgrams(['one', 'two'], [2, 5])).toEqual(['one two']);
    expect(wordNgrams([], [1, 3])).toEqual([]);
  });

  it('does not hand back the input array', () => {
    const out = wordNgrams(tokens, [1, 1]);
    expect(out).toEqual(tokens);
    expect(out).not.toBe(tokens);
  });

  it('rejects a range sklearn rejects', () => {
    expect(() => wordNgrams(tokens, [2, 1])).toThrow(/lower boundary larger than the upper/);
    expect(() => wordNgrams(tokens, [0, 1])).toThrow(RangeError);
    expect(() => wordNgrams(tokens, [1, 1.5])).toThrow(RangeError);
  });
});

describe('compareCodePoints', () => {
  it('orders as Python orders str, unlike UTF-16 comparison', () => {
    const fullwidth = 'ｃａｆｅ'; // U+FF43…
    const astral = '𠮷野家'; // U+20BB7, a surrogate pair in UTF-16
    expect(fullwidth < astral).toBe(false); // UTF-16: 0xFF43 > 0xD842
    expect(compareCodePoints(fullwidth, astral)).toBeLessThan(0);
    expect(compareCodePoints(astral, fullwidth)).toBeGreaterThan(0);
    expect(compareCodePoints('ab', 'ab')).toBe(0);
    expect(compareCodePoints('ab', 'abc')).toBeLessThan(0);
    expect(compareCodePoints('b', 'ab')).toBeGreaterThan(0);
    expect(compareCodePoints('\ud7ff', '\ue000')).toBeLessThan(0);
  });

  it("sorts sklearn's default vocabulary into sklearn's order", () => {
    const vocabulary = fixture.cases[0].vocabulary;
    expect([...vocabulary].reverse().sort(compareCodePoints)).toEqual(vocabulary);
  });
});
