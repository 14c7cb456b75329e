import type { CardRecord } from './cards-spec';
import { CARD_FIELDS } from './cards-spec';

/** One JSON object per line, each line ending in `\n` (what ingestion accepts as NDJSON). */
export function toNdjson(rows: readonly object[]): string {
  let out = '';
  for (const row of rows) out += `${JSON.stringify(row)}\n`;
  return out;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV (RFC 4180 quoting, `\n` line ends) with a header row; columns in spec order unless given.
 * A null or absent value is an empty cell (the generator never writes an empty memo, so an empty
 * cell always means missing).
 */
export function toCsv(
  records: readonly CardRecord[],
  columns: readonly string[] = CARD_FIELDS,
): string {
  let out = `${columns.map(csvCell).join(',')}\n`;
  for (const record of records) {
    const row = record as unknown as Record<string, unknown>;
    out += `${columns.map((c) => csvCell(row[c])).join(',')}\n`;
  }
  return out;
}

/** A structured-mode CloudEvent carrying one record, as ingestion's CloudEvents media types accept. */
export interface CardCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time?: string;
  datacontenttype: 'application/json';
  data: CardRecord;
}

/** The records as structured CloudEvents with the generator's ids; `time` is the record's `ts`. */
export function toCloudEvents(
  records: readonly CardRecord[],
  ids: readonly string[],
  options: { source?: string; type?: string; subject?: string } = {},
): CardCloudEvent[] {
  if (ids.length !== records.length) throw new RangeError('one id per record is needed');
  const source = options.source ?? '/datagen/cards';
  const type = options.type ?? 'dev.mlops.datagen.card.v1';
  const subject = options.subject ?? 'cards';
  return records.map((data, i) => {
    const event: CardCloudEvent = {
      specversion: '1.0',
      id: ids[i],
      source,
      type,
      subject,
      datacontenttype: 'application/json',
      data,
    };
    if (typeof data.ts === 'string') event.time = data.ts;
    return event;
  });
}
