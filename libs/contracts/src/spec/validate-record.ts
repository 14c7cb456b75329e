import type { DatasetSpec, FieldSpec } from './dataset-spec';

/** Why a record failed its dataset spec; stable codes that dashboards and tests can count. */
export const RECORD_REASON_CODES = [
  'not_an_object',
  'missing_required',
  'wrong_type',
  'not_finite',
  'not_integer',
  'out_of_range',
  'not_in_enum',
  'too_short',
  'too_long',
  'bad_timestamp',
  'bad_label',
  'unknown_field',
] as const;
export type RecordReasonCode = (typeof RECORD_REASON_CODES)[number];

export interface RecordProblem {
  code: RecordReasonCode;
  field?: string;
  message: string;
}

export type TypedValue = number | string | boolean | null;
export type TypedRecord = Record<string, unknown>;

export type RecordValidation =
  { ok: true; record: TypedRecord; entityId: string } | { ok: false; problems: RecordProblem[] };

const NUMERIC_STRING = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

function toNumber(value: unknown, coerce: boolean): number | undefined {
  if (typeof value === 'number') return value;
  if (coerce && typeof value === 'string' && NUMERIC_STRING.test(value)) return Number(value);
  return undefined;
}

function toBoolean(value: unknown, coerce: boolean): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (coerce && (value === 'true' || value === 'false')) return value === 'true';
  return undefined;
}

function checkField(
  field: FieldSpec,
  value: unknown,
  coerce: boolean,
): { value: unknown } | RecordProblem {
  const name = field.name;
  switch (field.type) {
    case 'numeric': {
      const n = toNumber(value, coerce);
      if (n === undefined)
        return { code: 'wrong_type', field: name, message: `${name} must be a number` };
      if (!Number.isFinite(n))
        return { code: 'not_finite', field: name, message: `${name} must be finite` };
      if (field.integer && !Number.isInteger(n)) {
        return { code: 'not_integer', field: name, message: `${name} must be an integer` };
      }
      if (
        (field.min !== undefined && n < field.min) ||
        (field.max !== undefined && n > field.max)
      ) {
        return {
          code: 'out_of_range',
          field: name,
          message: `${name}=${n} is outside [${field.min ?? '-inf'}, ${field.max ?? 'inf'}]`,
        };
      }
      return { value: n };
    }
    case 'categorical': {
      const s = typeof value === 'number' && coerce ? String(value) : value;
      if (typeof s !== 'string')
        return { code: 'wrong_type', field: name, message: `${name} must be a string` };
      if (s.length > field.maxLength) {
        return {
          code: 'too_long',
          field: name,
          message: `${name} is longer than ${field.maxLength}`,
        };
      }
      if (field.enum && !field.enum.includes(s)) {
        return {
          code: 'not_in_enum',
          field: name,
          message: `${name}="${s.slice(0, 64)}" is not one of the allowed values`,
        };
      }
      return { value: s };
    }
    case 'text': {
      if (typeof value !== 'string')
        return { code: 'wrong_type', field: name, message: `${name} must be a string` };
      if (value.length < field.minLength) {
        return {
          code: 'too_short',
          field: name,
          message: `${name} is shorter than ${field.minLength}`,
        };
      }
      if (value.length > field.maxLength) {
        return {
          code: 'too_long',
          field: name,
          message: `${name} is longer than ${field.maxLength}`,
        };
      }
      return { value };
    }
    case 'entity_id': {
      const s = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
      if (typeof s !== 'string' || s.length === 0) {
        return {
          code: 'wrong_type',
          field: name,
          message: `${name} must be a non-empty string or a number`,
        };
      }
      if (s.length > field.maxLength) {
        return {
          code: 'too_long',
          field: name,
          message: `${name} is longer than ${field.maxLength}`,
        };
      }
      return { value: s };
    }
    case 'timestamp': {
      if (field.format === 'iso8601') {
        const ms = typeof value === 'string' ? isoMillis(value) : undefined;
        if (ms === undefined) {
          return {
            code: 'bad_timestamp',
            field: name,
            message: `${name} must be an ISO 8601 date-time`,
          };
        }
        return { value: new Date(ms).toISOString() };
      }
      const n = toNumber(value, coerce);
      if (n === undefined || !Number.isFinite(n) || n < 0) {
        return {
          code: 'bad_timestamp',
          field: name,
          message: `${name} must be epoch ${field.format === 'epoch_ms' ? 'milliseconds' : 'seconds'}`,
        };
      }
      const ms = field.format === 'epoch_ms' ? n : n * 1000;
      if (ms > MAX_DATE_MS)
        return { code: 'bad_timestamp', field: name, message: `${name} is out of the date range` };
      return { value: new Date(ms).toISOString() };
    }
    case 'boolean': {
      const b = toBoolean(value, coerce);
      if (b === undefined)
        return { code: 'wrong_type', field: name, message: `${name} must be a boolean` };
      return { value: b };
    }
    case 'label': {
      if (field.task === 'regression') {
        const n = toNumber(value, coerce);
        if (n === undefined || !Number.isFinite(n)) {
          return { code: 'bad_label', field: name, message: `${name} must be a finite number` };
        }
        return { value: n };
      }
      if (field.task === 'binary') {
        const b = toBoolean(value, coerce);
        const n = b === undefined ? toNumber(value, coerce) : b ? 1 : 0;
        if (n !== 0 && n !== 1)
          return { code: 'bad_label', field: name, message: `${name} must be 0 or 1` };
        return { value: n };
      }
      const s = typeof value === 'number' && coerce ? String(value) : value;
      if (typeof s !== 'string' || !field.classes!.includes(s)) {
        return {
          code: 'bad_label',
          field: name,
          message: `${name} must be one of the spec's classes`,
        };
      }
      return { value: s };
    }
  }
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const MAX_DATE_MS = 8.64e15;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An ISO 8601 date-time in ms since the epoch. Without an offset it is UTC: `Date.parse` would
 * read it in the host's time zone. A day the month lacks is refused: `Date.parse` would roll
 * 2026-02-30 over into March.
 */
function isoMillis(value: string): number | undefined {
  const m = ISO_8601.exec(value);
  if (!m) return undefined;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > DAYS_IN_MONTH[month - 1] + (month === 2 && leap ? 1 : 0)
  )
    return undefined;
  const ms = Date.parse(m[1] !== undefined && m[4] === undefined ? `${value}Z` : value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Checks a record against its dataset spec and returns it typed (numeric strings converted,
 * timestamps normalised to ISO 8601 UTC) — or every problem found, each with a reason code.
 * Pure: no I/O, no clock.
 */
export function validateRecord(spec: DatasetSpec, raw: unknown): RecordValidation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [{ code: 'not_an_object', message: 'a record must be a JSON object' }],
    };
  }
  const input = raw as Record<string, unknown>;
  const problems: RecordProblem[] = [];
  const record: TypedRecord = {};
  let entityId = '';
  for (const field of spec.fields) {
    const value = Object.prototype.hasOwnProperty.call(input, field.name)
      ? input[field.name]
      : undefined;
    if (value === undefined || value === null) {
      if (field.required || field.type === 'entity_id') {
        problems.push({
          code: 'missing_required',
          field: field.name,
          message: `${field.name} is required`,
        });
      } else {
        record[field.name] = null;
      }
      continue;
    }
    const checked = checkField(field, value, spec.coerce);
    if ('code' in checked) {
      problems.push(checked);
      continue;
    }
    record[field.name] = checked.value;
    if (field.type === 'entity_id') entityId = checked.value as string;
  }
  if (spec.unknownFields !== 'drop') {
    const known = new Set(spec.fields.map((f) => f.name));
    for (const key of Object.keys(input)) {
      if (known.has(key)) continue;
      if (spec.unknownFields === 'reject') {
        problems.push({
          code: 'unknown_field',
          field: key.slice(0, 128),
          message: `field "${key.slice(0, 64)}" is not in the spec`,
        });
      } else {
        record[key] = input[key];
      }
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, record, entityId };
}
