import { describe, expect, it } from 'vitest';
import { formatFromPath, readRecords, sniffFormat, type SourceRecord } from './records';

async function all(
  chunks: string[],
  format: Parameters<typeof readRecords>[1]['format'],
  coerce?: (v: Record<string, string>) => Record<string, unknown>,
) {
  const out: SourceRecord[] = [];
  for await (const r of readRecords(chunks, {
    source: 'in',
    format,
    ...(coerce ? { coerce } : {}),
  }))
    out.push(r);
  return out;
}

describe('readRecords', () => {
  it('reads JSON lines split anywhere, with CRLF and blank lines, numbering lines', async () => {
    const text = '{"a":1}\r\n\n{"a":"x,y"}\n{"a":3}';
    const whole = await all([text], 'jsonl');
    expect(whole).toEqual([
      { record: { a: 1 }, line: 1 },
      { record: { a: 'x,y' }, line: 3 },
      { record: { a: 3 }, line: 4 },
    ]);
    const split = await all(text.split(''), 'jsonl');
    expect(split).toEqual(whole);
  });

  it('names the line of bad JSON and of a line that is not an object', async () => {
    await expect(all(['{"a":1}\n{"a":\n'], 'jsonl')).rejects.toThrow(/^in line 2: not valid JSON/);
    await expect(all(['{"a":1}\n[1,2]\n'], 'jsonl')).rejects.toThrow(
      'in line 2: a record must be a JSON object',
    );
  });

  it('reads CSV through its header and the coercer', async () => {
    const records = await all(['id,n\n', 'a,1\nb,', '\n'], 'csv', (v) => ({
      ...v,
      n: v.n === '' ? null : Number(v.n),
    }));
    expect(records).toEqual([
      { record: { id: 'a', n: 1 }, line: 2 },
      { record: { id: 'b', n: null }, line: 3 },
    ]);
  });

  it('reads a JSON array, and sniffs the format of a nameless stream', async () => {
    expect(await all(['[{"a":1},', '{"a":2}]'], 'json')).toEqual([
      { record: { a: 1 }, line: 1 },
      { record: { a: 2 }, line: 2 },
    ]);
    expect(await all(['  {"a":1}\n'], 'auto')).toEqual([{ record: { a: 1 }, line: 1 }]);
    expect(await all(['a\n1\n'], 'auto')).toEqual([{ record: { a: '1' }, line: 2 }]);
    expect(sniffFormat('\uFEFF[')).toBe('json');
  });

  it('refuses an empty CSV (no header)', async () => {
    await expect(all([''], 'csv')).rejects.toThrow('in: no header row');
  });
});

describe('formatFromPath', () => {
  it('knows the extensions', () => {
    expect(['a.csv', 'b.JSONL', 'c.ndjson', 'd.json', 'e.txt'].map(formatFromPath)).toEqual([
      'csv',
      'jsonl',
      'jsonl',
      'json',
      undefined,
    ]);
  });
});
