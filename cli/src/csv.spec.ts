import { describe, expect, it } from 'vitest';
import { CsvHeader, CsvParser, parseCsv } from './csv';
import { InputError } from './errors';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv', () => {
  it('splits plain fields and records', () => {
    expect(fields('a,b,c\n1,2,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
  });

  it('reads quoted fields, doubled quotes, and commas and newlines inside quotes', () => {
    const rows = parseCsv('id,memo\n1,"say ""hi"", then\nleave"\n2,"a,b"\n');
    expect(rows.map((r) => r.fields)).toEqual([
      ['id', 'memo'],
      ['1', 'say "hi", then\nleave'],
      ['2', 'a,b'],
    ]);
    // The record after a two-line field starts on line 4.
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('takes CRLF line ends, and keeps a CRLF inside quotes', () => {
    expect(fields('a,b\r\n1,"x\r\ny"\r\n2,3\r\n')).toEqual([
      ['a', 'b'],
      ['1', 'x\r\ny'],
      ['2', '3'],
    ]);
    expect(parseCsv('a\r\nb\r\nc').map((r) => r.line)).toEqual([1, 2, 3]);
  });

  it('gives no extra record for the trailing newline, and reads a last line without one', () => {
    expect(fields('a,b\n1,2\n')).toHaveLength(2);
    expect(fields('a,b\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('keeps empty fields, quoted or not, including a trailing one', () => {
    expect(fields('a,b,c\n,,\n"",x,\n')).toEqual([
      ['a', 'b', 'c'],
      ['', '', ''],
      ['', 'x', ''],
    ]);
  });

  it('skips blank lines and a byte order mark', () => {
    const rows = parseCsv('\uFEFFa,b\n\n1,2\n\n');
    expect(rows.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(rows[1].line).toBe(3);
  });

  it('keeps a quote inside an unquoted field as it is', () => {
    expect(fields('h\n5\'11"\n')).toEqual([['h'], ['5\'11"']]);
  });

  it('refuses a character after a closing quote, naming the line', () => {
    expect(() => parseCsv('a,b\n1,2\n"x"y,3\n', 'cards.csv')).toThrow(
      /^cards\.csv line 3: unexpected "y" after the closing quote/,
    );
  });

  it('refuses a quoted field left open, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,"open\n\n', 'f.csv')).toThrow(
      new InputError('f.csv line 2: a quoted field is not closed before the end of the input'),
    );
  });

  it('gives the same rows whatever the chunks are split at', () => {
    const text = 'id,memo,n\r\n1,"a ""q"",\r\nb",2\r\n3,,4\r\n';
    const whole = parseCsv(text);
    for (let size = 1; size <= 7; size++) {
      const parser = new CsvParser();
      const rows = [];
      for (let i = 0; i < text.length; i += size)
        rows.push(...parser.push(text.slice(i, i + size)));
      rows.push(...parser.end());
      expect(rows).toEqual(whole);
    }
    expect(whole.map((r) => r.fields)).toEqual([
      ['id', 'memo', 'n'],
      ['1', 'a "q",\r\nb', '2'],
      ['3', '', '4'],
    ]);
  });
});

describe('CsvHeader', () => {
  it('maps each row onto the header', () => {
    const h = new CsvHeader('f.csv');
    expect(h.records(parseCsv('card_id,amount\nc1,12.5\nc2,\n'))).toEqual([
      { values: { card_id: 'c1', amount: '12.5' }, line: 2 },
      { values: { card_id: 'c2', amount: '' }, line: 3 },
    ]);
  });

  it('refuses a row with too many fields, naming its line', () => {
    const h = new CsvHeader('cards.csv');
    expect(() => h.records(parseCsv('a,b\n1,2\n1,2,3\n'))).toThrow(
      'cards.csv line 3: 3 fields, but the header has 2 (an unquoted comma? quote fields that hold commas)',
    );
  });

  it('refuses a row with too few fields, and counts lines across quoted newlines', () => {
    const h = new CsvHeader('f.csv');
    expect(() => h.records(parseCsv('a,b\n"x\ny",2\n1\n'))).toThrow(
      'f.csv line 4: 1 field, but the header has 2',
    );
  });

  it('refuses an empty or repeated header name', () => {
    expect(() => new CsvHeader('f.csv').records(parseCsv('a,,c\n'))).toThrow(
      'f.csv line 1: header column 2 is empty',
    );
    expect(() => new CsvHeader('f.csv').records(parseCsv('a,b,a\n'))).toThrow(
      'f.csv line 1: header column "a" repeats',
    );
  });
});
