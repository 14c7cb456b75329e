import { describe, expect, it } from 'vitest';
import { levenshtein, normalizedEditDistance } from './edit-distance';

describe('levenshtein', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', 'abc', 0],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['gumbo', 'gambol', 2],
    ['book', 'back', 2],
  ])('%j → %j is %d', (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });

  it('stops above the cut-off with max + 1', () => {
    expect(levenshtein('kitten', 'sitting', 2)).toBe(3);
    expect(levenshtein('kitten', 'sitting', 3)).toBe(3);
    expect(levenshtein('a', 'abcdef', 2)).toBe(3);
  });
});

describe('normalizedEditDistance', () => {
  it('divides by the longer length', () => {
    expect(normalizedEditDistance('kitten', 'sitting')).toBeCloseTo(3 / 7);
    expect(normalizedEditDistance('', '')).toBe(0);
  });

  it('reports a value above the threshold when the cut-off is hit', () => {
    expect(normalizedEditDistance('abcdefghij', 'abcdefghij')).toBe(0);
    expect(normalizedEditDistance('abcdefghij', 'abcdefgxyz', 0.2)).toBeGreaterThan(0.2);
    expect(normalizedEditDistance('abcdefghij', 'abcdefghix', 0.2)).toBeCloseTo(0.1);
  });
});
