import type { DatasetSpec, FieldSpec } from '@mlops/contracts';

/**
 * CSV cells are strings; the dataset spec says what each field is. A record is sent with the
 * JSON types its spec expects, so that it passes even with `coerce: false` and its content id
 * (the idempotency key ingestion derives) is the same as for the same record sent as JSON:
 *
 * | field                                  | cell                          | sent as               |
 * | -------------------------------------- | ----------------------------- | --------------------- |
 * | numeric (integer too)                  | `12.5`, ` 3 `, `1e3`, `-.5`    | number                |
 * | label, task binary                     | `1`/`0`, `true`/`false`, `yes`/`no` | 1 or 0          |
 * | label, task regression                 | numeric                       | number                |
 * | label, task multiclass                 | any                           | string (classes are strings) |
 * | boolean                                | `true`/`false`, `1`/`0`, `yes`/`no`, `t`/`f`, `y`/`n` | boolean |
 * | timestamp, format epoch_ms / epoch_s   | numeric                       | number                |
 * | timestamp (iso8601), entity_id, categorical, text, unknown | any       | string, as is         |
 * | any                                    | empty                         | left out              |
 *
 * A cell that does not read as its type is sent as the string it is, so that ingestion rejects
 * it with its reason code (`wrong_type`, `bad_label`) rather than the CLI guessing.
 */

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

export function toNumber(cell: string): number | undefined {
  return NUMERIC.test(cell) ? Number(cell) : undefined;
}

export function toBoolean(cell: string): boolean | undefined {
  const v = cell.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

/** One cell as the field's JSON type (see the module comment). */
export function coerceCell(field: FieldSpec | undefined, cell: string): unknown {
  if (!field) return cell;
  switch (field.type) {
    case 'numeric':
      return toNumber(cell) ?? cell;
    case 'boolean':
      return toBoolean(cell) ?? cell;
    case 'label': {
      if (field.task === 'binary') {
        const b = toBoolean(cell);
        if (b !== undefined) return b ? 1 : 0;
        return toNumber(cell) ?? cell;
      }
      if (field.task === 'regression') return toNumber(cell) ?? cell;
      return cell;
    }
    case 'timestamp':
      return field.format === 'iso8601' ? cell : (toNumber(cell) ?? cell);
    case 'entity_id':
    case 'categorical':
    case 'text':
      return cell;
  }
}

export type Coercer = (values: Record<string, string>) => Record<string, unknown>;

/** A record coercer for the spec's fields; columns the spec does not name pass as strings. */
export function recordCoercer(spec: Pick<DatasetSpec, 'fields'>): Coercer {
  const fields = new Map(spec.fields.map((f) => [f.name, f]));
  return (values) => {
    const out: Record<string, unknown> = {};
    for (const [name, cell] of Object.entries(values)) {
      if (cell === '') continue;
      out[name] = coerceCell(fields.get(name), cell);
    }
    return out;
  };
}

/**
 * A feedback row (`entityId,label,requestId,eventTime,id`): the label as the spec's label field
 * types it, everything else as strings; empty cells left out.
 */
export function feedbackCoercer(spec: Pick<DatasetSpec, 'fields'>): Coercer {
  const label = spec.fields.find((f) => f.type === 'label');
  return (values) => {
    const out: Record<string, unknown> = {};
    for (const [name, cell] of Object.entries(values)) {
      if (cell === '') continue;
      out[name] = name === 'label' ? coerceLabel(label, cell) : cell;
    }
    return out;
  };
}

function coerceLabel(field: FieldSpec | undefined, cell: string): unknown {
  // Without a label field in the spec, a number is the likelier meaning of "1".
  if (!field || field.type !== 'label') return toNumber(cell) ?? cell;
  return coerceCell(field, cell);
}
