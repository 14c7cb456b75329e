/**
 * scikit-learn's default word analyzer (`CountVectorizer` / `TfidfVectorizer` with
 * `analyzer='word'`, no stop words, no accent stripping), reproduced token for token.
 *
 * - Lower case (optional): `String.prototype.toLowerCase`, which applies the same full Unicode
 *   case mapping as Python's `str.lower` (final sigma included: "ΟΔΟΣ" → "οδος", and "İ" → "i" +
 *   U+0307, after which the combining dot splits the word, as in sklearn).
 * - Tokens: sklearn's `token_pattern` `(?u)\b\w\w+\b`. Python's Unicode `\w` is exactly the
 *   letters (L*), numbers (N*, so also "½" and "²") and "_"; JavaScript's `\w` and `\b` are
 *   ASCII-only even with the `u` flag, so the class is spelled `[\p{L}\p{N}_]`. Since `\w\w+`
 *   between two `\b` is a maximal run of word characters of length ≥ 2, the pattern needs no
 *   boundaries. `{2,}` counts code points, as Python does, so one astral letter alone ("𠮷") is
 *   not a token while "𠮷野家" is. Combining marks are not word characters in either language: a
 *   decomposed "café" (e + U+0301) gives "cafe".
 * - N-grams: tokens joined by one space, all n = min … max in turn (all unigrams, then all
 *   bigrams, …), each in text order.
 *
 * Checked against `build_analyzer()` of scikit-learn on tricky strings (fixtures/tfidf.json).
 * Every code point assigned in Python 3.11's Unicode 14 classifies and lower-cases identically
 * in Node 20 (checked exhaustively once); code points assigned since then are letters to Node
 * and not to that Python.
 */

/** Options of the word analyzer, as in scikit-learn. */
export interface AnalyzerOptions {
  /** Lower-case the text before tokenizing. Default true. */
  readonly lowercase?: boolean;
  /** Smallest and largest n of the word n-grams. Default [1, 1]. */
  readonly ngramRange?: readonly [number, number];
}

// One compiled pattern, reused: String.prototype.match with a global regex resets lastIndex
// itself, so sharing it is safe.
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** Words of two or more word characters, as sklearn's default `token_pattern` finds them. */
export function tokenize(text: string, opts: Pick<AnalyzerOptions, 'lowercase'> = {}): string[] {
  const source = (opts.lowercase ?? true) ? text.toLowerCase() : text;
  return source.match(TOKEN) ?? [];
}

/**
 * sklearn's `_word_ngrams`: n-grams of `tokens` for n = min … max, all unigrams first, then all
 * bigrams and so on, each joined by a single space. `tokens` is returned as is for [1, 1].
 */
export function wordNgrams(
  tokens: readonly string[],
  ngramRange: readonly [number, number],
): string[] {
  const [minN, maxN] = ngramRange;
  checkNgramRange(minN, maxN);
  if (maxN === 1) return tokens.slice();
  const out: string[] = minN === 1 ? tokens.slice() : [];
  const count = tokens.length;
  for (let n = Math.max(minN, 2); n <= Math.min(maxN, count); n += 1) {
    for (let i = 0; i + n <= count; i += 1) {
      let gram = tokens[i];
      for (let k = 1; k < n; k += 1) gram += ' ' + tokens[i + k];
      out.push(gram);
    }
  }
  return out;
}

/** sklearn's `build_analyzer()` for the word analyzer: {@link tokenize}, then {@link wordNgrams}. */
export function analyze(text: string, opts: AnalyzerOptions = {}): string[] {
  const tokens = tokenize(text, opts);
  const range = opts.ngramRange ?? [1, 1];
  return range[0] === 1 && range[1] === 1 ? tokens : wordNgrams(tokens, range);
}

/** Throws, with sklearn's reasons, unless 1 ≤ minN ≤ maxN are integers. */
export function checkNgramRange(minN: number, maxN: number): void {
  if (!Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 1) {
    throw new RangeError(`ngramRange must be two integers ≥ 1, got [${minN}, ${maxN}]`);
  }
  if (minN > maxN) {
    throw new RangeError(
      `Invalid ngramRange [${minN}, ${maxN}]: lower boundary larger than the upper boundary`,
    );
  }
}

/**
 * Compares strings by Unicode code point, as Python compares `str` (and sklearn therefore sorts
 * feature names). `<` on JavaScript strings compares UTF-16 code units, which puts astral
 * characters (surrogate pairs, 0xD800–0xDFFF) before U+E000–U+FFFF such as fullwidth letters.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// At the first differing code unit, surrogates (any astral code point) must rank above every
// BMP unit from U+E000: shift surrogates up by 0x2000 and U+E000–U+FFFF down by 0x800.
function codePointRank(unit: number): number {
  if (unit >= 0xd800) return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
  return unit;
}
