import type { Coercer } from './coerce';
import { CsvHeader, CsvParser } from './csv';
import { InputError } from './errors';

/**
 * Records from a text stream: CSV with a header row, JSON lines, or one JSON document (an
 * array of records, or one record). Pure apart from iterating the chunks it is given.
 */
export type RecordFormat = 'csv' | 'jsonl' | 'json';
export const RECORD_FORMATS: readonly RecordFormat[] = ['csv', 'jsonl', 'json'];

export interface SourceRecord {
  record: Record<string, unknown>;
  /** The line the record starts on; for a JSON array, the record's position (1-based). */
  line: number;
}

/** The format a file name implies: .csv, .jsonl / .ndjson, .json; undefined otherwise. */
export function formatFromPath(path: string): RecordFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/** A stream without a telling name: `{` starts JSON lines, `[` a JSON array, else CSV. */
export function sniffFormat(start: string): RecordFormat {
  const first = start.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '{') return 'jsonl';
  if (first === '[') return 'json';
  return 'csv';
}

export interface ReadOptions {
  /** Named in errors: the file name, or "stdin". */
  source: string;
  format: RecordFormat | 'auto';
  /** Applied to CSV rows (the spec's types); JSON records are sent as they are. */
  coerce?: Coercer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Yields the records of the chunks, in order, with their line numbers. */
export async function* readRecords(
  chunks: AsyncIterable<string> | Iterable<string>,
  opts: ReadOptions,
): AsyncGenerator<SourceRecord> {
  let format = opts.format === 'auto' ? undefined : opts.format;
  const csv = new CsvParser(opts.source);
  const header = new CsvHeader(opts.source);
  const coerce = opts.coerce ?? ((v: Record<string, string>) => v);
  let pending = '';
  let line = 1;
  let whole = '';
  let first = true;

  function* jsonLines(text: string, final: boolean): Generator<SourceRecord> {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const raw = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const rec = jsonLine(raw, line);
      line++;
      if (rec) yield rec;
    }
    if (final && pending !== '') {
      const rec = jsonLine(pending, line);
      pending = '';
      if (rec) yield rec;
    }
  }

  function jsonLine(raw: string, at: number): SourceRecord | undefined {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(`${opts.source} line ${at}: not valid JSON (${(err as Error).message})`);
    }
    if (!isRecord(value))
      throw new InputError(`${opts.source} line ${at}: a record must be a JSON object`);
    return { record: value, line: at };
  }

  for await (let chunk of chunks) {
    if (chunk.length === 0) continue;
    if (first) {
      first = false;
      chunk = chunk.replace(/^\uFEFF/, '');
      format ??= sniffFormat(chunk);
    }
    switch (format) {
      case 'csv':
        for (const r of header.records(csv.push(chunk)))
          yield { record: coerce(r.values), line: r.line };
        break;
      case 'jsonl':
        yield* jsonLines(chunk, false);
        break;
      case 'json':
        whole += chunk;
        break;
      case undefined:
        break;
    }
  }
  switch (format) {
    case 'csv':
      for (const r of header.records(csv.end())) yield { record: coerce(r.values), line: r.line };
      if (header.header === null) throw new InputError(`${opts.source}: no header row`);
      break;
    case 'jsonl':
      yield* jsonLines('', true);
      break;
    case 'json':
      yield* jsonDocument(whole, opts.source);
      break;
    case undefined:
      break;
  }
}

function* jsonDocument(text: string, source: string): Generator<SourceRecord> {
  if (text.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(value) ? value : [value];
  for (let i = 0; i < list.length; i++) {
    const record: unknown = list[i];
    if (!isRecord(record)) throw new InputError(`${source}: record ${i + 1} is not a JSON object`);
    yield { record, line: i + 1 };
  }
}
