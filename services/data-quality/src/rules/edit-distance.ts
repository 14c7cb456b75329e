/**
 * Levenshtein distance (insertions, deletions, substitutions; UTF-16 code units) with a cut-off:
 * returns `max + 1` as soon as the distance is known to exceed `max`, so a verification against
 * a small threshold costs O(max · length) rather than O(length²).
 */
export function levenshtein(a: string, b: string, max = Infinity): number {
  if (a === b) return 0;
  if (a.length > b.length) [a, b] = [b, a];
  const n = a.length;
  const m = b.length;
  if (m - n > max) return max + 1;
  if (n === 0) return m;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let i = 0; i <= n; i += 1) prev[i] = i;
  for (let j = 1; j <= m; j += 1) {
    cur[0] = j;
    let rowMin = j;
    const bj = b.charCodeAt(j - 1);
    for (let i = 1; i <= n; i += 1) {
      const cost = a.charCodeAt(i - 1) === bj ? 0 : 1;
      const v = Math.min(prev[i] + 1, cur[i - 1] + 1, prev[i - 1] + cost);
      cur[i] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[n];
}

/**
 * Levenshtein distance divided by the longer text's length, in [0, 1]; 0 for two empty texts.
 * Values above `max` come back as some number above `max` (the cut-off of {@link levenshtein}).
 */
export function normalizedEditDistance(a: string, b: string, max = 1): number {
  const len = Math.max(a.length, b.length);
  if (len === 0) return 0;
  return levenshtein(a, b, Math.floor(max * len)) / len;
}
