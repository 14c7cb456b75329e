/**
 * The request bodies ingestion accepts, parsed into rows. Pure: the controller reads the bytes
 * (with its size limit) and maps a failure here to a 4xx.
 *
 * - application/json: one record object, or an array of them
 * - application/x-ndjson (or application/jsonl): one record object per line
 * - application/cloudevents+json: one structured CloudEvent whose `data` is the record
 * - application/cloudevents-batch+json: an array of structured CloudEvents
 *
 * CloudEvents carry the producer's `id` (the idempotency key); plain records get one derived
 * from their content.
 */
export interface IncomingRow {
  record: unknown;
  id?: string;
  source?: string;
  traceparent?: string;
}

export type ParseResult =
  | { ok: true; rows: IncomingRow[] }
  | { ok: false; status: 400 | 413 | 415; code: string; message: string };

export const ACCEPTED_MEDIA_TYPES = [
  'application/json',
  'application/x-ndjson',
  'application/jsonl',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
] as const;

/** JSON that nests deeper than this is refused before it reaches any recursive code. */
export const MAX_DEPTH = 32;

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

function tooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

function parseJson(
  text: string,
  what: string,
): { ok: true; value: unknown } | { ok: false; message: string } {
  if (tooDeep(text)) return { ok: false, message: `${what} nests deeper than ${MAX_DEPTH} levels` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: `${what} is not valid JSON: ${(err as Error).message}` };
  }
}

function cloudEvent(value: unknown, index: number): IncomingRow | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return `event ${index} is not a JSON object`;
  const ce = value as Record<string, unknown>;
  if (ce.specversion !== '1.0') return `event ${index}: specversion must be "1.0"`;
  if (typeof ce.id !== 'string' || ce.id.length === 0 || ce.id.length > 256)
    return `event ${index}: id must be a string of 1 to 256 characters`;
  if (typeof ce.source !== 'string' || ce.source.length === 0)
    return `event ${index}: source is required`;
  if (
    ce.datacontenttype !== undefined &&
    !(typeof ce.datacontenttype === 'string' && ce.datacontenttype.startsWith('application/json'))
  ) {
    return `event ${index}: only application/json data is accepted`;
  }
  const row: IncomingRow = { record: ce.data, id: ce.id, source: ce.source.slice(0, 512) };
  if (typeof ce.traceparent === 'string') row.traceparent = ce.traceparent;
  return row;
}

/**
 * @param accepted the media types this endpoint takes (a subset of ACCEPTED_MEDIA_TYPES); any
 * other is a 415 naming them.
 */
export function parseBody(
  contentType: string | undefined,
  body: Buffer,
  maxRows: number,
  accepted: readonly (typeof ACCEPTED_MEDIA_TYPES)[number][] = ACCEPTED_MEDIA_TYPES,
): ParseResult {
  const type = mediaType(contentType);
  if (!type || !(accepted as readonly string[]).includes(type)) {
    return {
      ok: false,
      status: 415,
      code: 'unsupported_media_type',
      message: `content type must be one of ${accepted.join(', ')}`,
    };
  }
  const text = body.toString('utf8');
  if (text.trim().length === 0)
    return { ok: false, status: 400, code: 'empty_body', message: 'the body is empty' };
  const tooMany = (n: number): ParseResult => ({
    ok: false,
    status: 413,
    code: 'too_many_rows',
    message: `${n} rows exceed the limit of ${maxRows} per request`,
  });

  if (type === 'application/x-ndjson' || type === 'application/jsonl') {
    const rows: IncomingRow[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line.length === 0) continue;
      if (rows.length >= maxRows) return tooMany(lines.filter((l) => l.trim()).length);
      const parsed = parseJson(line, `line ${i + 1}`);
      if (!parsed.ok)
        return { ok: false, status: 400, code: 'malformed_json', message: parsed.message };
      rows.push({ record: parsed.value });
    }
    return { ok: true, rows };
  }

  const parsed = parseJson(text, 'the body');
  if (!parsed.ok)
    return { ok: false, status: 400, code: 'malformed_json', message: parsed.message };
  const value: unknown = parsed.value;
  if (type === 'application/cloudevents+json') {
    const row = cloudEvent(value, 0);
    return typeof row === 'string'
      ? { ok: false, status: 400, code: 'invalid_cloudevent', message: row }
      : { ok: true, rows: [row] };
  }
  if (type === 'application/cloudevents-batch+json') {
    if (!Array.isArray(value))
      return {
        ok: false,
        status: 400,
        code: 'invalid_cloudevent',
        message: 'a CloudEvents batch is a JSON array',
      };
    if (value.length > maxRows) return tooMany(value.length);
    const rows: IncomingRow[] = [];
    for (let i = 0; i < value.length; i++) {
      const row = cloudEvent(value[i], i);
      if (typeof row === 'string')
        return { ok: false, status: 400, code: 'invalid_cloudevent', message: row };
      rows.push(row);
    }
    return { ok: true, rows };
  }
  if (Array.isArray(value)) {
    if (value.length > maxRows) return tooMany(value.length);
    return { ok: true, rows: (value as unknown[]).map((record) => ({ record })) };
  }
  return { ok: true, rows: [{ record: value }] };
}
