import { InputError } from './errors';

/**
 * CSV as RFC 4180 writes it, read incrementally (chunks of any size, split anywhere):
 *
 * - fields separated by commas, records by CRLF or LF (a lone CR ends a record too);
 * - a field that starts with `"` is quoted: it may hold commas, CR, LF and `""` (one quote),
 *   and must be followed by a comma, a line end or the end of the input;
 * - a `"` inside an unquoted field is kept as it is (`5'11"`), as most readers do;
 * - empty lines are skipped, and so is the newline at the end of the file;
 * - a UTF-8 byte order mark at the start is dropped.
 *
 * Each row carries the line it starts on (1-based), so an error can name it even when quoted
 * fields span lines.
 */
export interface CsvRow {
  fields: string[];
  line: number;
}

type State = 'start' | 'unquoted' | 'quoted' | 'closing';

export class CsvParser {
  private state: State = 'start';
  private field = '';
  private row: string[] = [];
  /** The physical line of the next character. */
  private line = 1;
  private rowLine = 1;
  private quoteLine = 1;
  /** Whether the current row has begun (a field, or a comma). */
  private inRow = false;
  /** The previous character was a CR that ended a row: an LF right after it is the same end. */
  private afterCr = false;
  private first = true;

  constructor(private readonly source = 'input') {}

  /** Parses a chunk; returns the rows it completed. */
  push(chunk: string): CsvRow[] {
    const out: CsvRow[] = [];
    let i = 0;
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.afterCr) {
        this.afterCr = false;
        if (c === '\n') continue;
      }
      switch (this.state) {
        case 'start':
          if (!this.inRow) this.rowLine = this.line;
          if (c === '"') {
            this.state = 'quoted';
            this.quoteLine = this.line;
            this.inRow = true;
          } else if (c === ',') {
            this.row.push('');
            this.inRow = true;
          } else if (c === '\n' || c === '\r') {
            if (this.inRow) {
              this.row.push('');
              this.emit(out);
            }
            this.newline(c);
          } else {
            this.field = c;
            this.state = 'unquoted';
            this.inRow = true;
          }
          break;
        case 'unquoted':
          if (c === ',') {
            this.row.push(this.field);
            this.field = '';
            this.state = 'start';
          } else if (c === '\n' || c === '\r') {
            this.row.push(this.field);
            this.emit(out);
            this.newline(c);
          } else this.field += c;
          break;
        case 'quoted':
          if (c === '"') this.state = 'closing';
          else {
            if (c === '\n') this.line++;
            this.field += c;
          }
          break;
        case 'closing':
          if (c === '"') {
            this.field += '"';
            this.state = 'quoted';
          } else if (c === ',') {
            this.row.push(this.field);
            this.field = '';
            this.state = 'start';
          } else if (c === '\n' || c === '\r') {
            this.row.push(this.field);
            this.emit(out);
            this.newline(c);
          } else {
            throw new InputError(
              `${this.source} line ${this.line}: unexpected ${JSON.stringify(c)} after the closing quote of a field (a quote inside a quoted field is written "")`,
            );
          }
          break;
      }
    }
    return out;
  }

  /** Ends the input; returns the last row if it had no line end. */
  end(): CsvRow[] {
    const out: CsvRow[] = [];
    switch (this.state) {
      case 'quoted':
        throw new InputError(
          `${this.source} line ${this.quoteLine}: a quoted field is not closed before the end of the input`,
        );
      case 'unquoted':
      case 'closing':
        this.row.push(this.field);
        this.emit(out);
        break;
      case 'start':
        if (this.inRow) {
          this.row.push('');
          this.emit(out);
        }
        break;
    }
    return out;
  }

  private emit(out: CsvRow[]): void {
    out.push({ fields: this.row, line: this.rowLine });
    this.row = [];
    this.field = '';
    this.state = 'start';
    this.inRow = false;
  }

  private newline(c: string): void {
    this.line++;
    if (c === '\r') this.afterCr = true;
  }
}

/** Every row of a whole CSV text. */
export function parseCsv(text: string, source = 'input'): CsvRow[] {
  const parser = new CsvParser(source);
  return [...parser.push(text), ...parser.end()];
}

/** A CSV row under its header: column → raw string. */
export interface CsvRecord {
  values: Record<string, string>;
  line: number;
}

/**
 * Turns rows into records by the first row (the header). Header names must be non-empty and
 * unique; every later row must have exactly as many fields, else an error names its line.
 */
export class CsvHeader {
  private columns: string[] | null = null;

  constructor(private readonly source = 'input') {}

  get header(): readonly string[] | null {
    return this.columns;
  }

  /** The records of these rows; the first row ever seen is taken as the header. */
  records(rows: CsvRow[]): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (const row of rows) {
      if (this.columns === null) {
        this.columns = this.checkHeader(row);
        continue;
      }
      if (row.fields.length !== this.columns.length) {
        throw new InputError(
          `${this.source} line ${row.line}: ${row.fields.length} field${row.fields.length === 1 ? '' : 's'}, but the header has ${this.columns.length}` +
            (row.fields.length > this.columns.length
              ? ' (an unquoted comma? quote fields that hold commas)'
              : ''),
        );
      }
      const values: Record<string, string> = {};
      this.columns.forEach((name, i) => {
        values[name] = row.fields[i];
      });
      out.push({ values, line: row.line });
    }
    return out;
  }

  private checkHeader(row: CsvRow): string[] {
    const names = row.fields.map((f) => f.trim());
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (name === '')
        throw new InputError(`${this.source} line ${row.line}: header column ${i + 1} is empty`);
      if (seen.has(name))
        throw new InputError(`${this.source} line ${row.line}: header column "${name}" repeats`);
      seen.add(name);
    });
    return names;
  }
}
