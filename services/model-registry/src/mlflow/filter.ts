import { InvalidError } from '../store/registry-store';

/**
 * MLflow's search filter, the subset its registry search supports: clauses joined by AND, each
 * `<attribute> <op> <value>` with `=`, `!=`, `LIKE`, `ILIKE` and `IN (…)`; attributes `name`,
 * `run_id`, `version_number`, `tags.<key>` (or `tag.<key>`, or tags.`key with dots`). Strings in
 * single or double quotes.
 */
export interface FilterClause {
  attribute: string;
  op: '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN';
  values: string[];
}

export function parseFilter(filter: string | undefined): FilterClause[] {
  if (filter === undefined || filter.trim() === '') return [];
  const clauses: FilterClause[] = [];
  let rest = filter.trim();
  const attr = /^(tags?\.`[^`]+`|tags?\.[A-Za-z0-9_.-]+|[A-Za-z_]+)\s*/;
  const op = /^(!=|=|LIKE\b|ILIKE\b|IN\b)\s*/i;
  const str = /^(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+))\s*/;
  for (;;) {
    const a = attr.exec(rest);
    if (!a)
      throw new InvalidError(
        `Invalid filter '${filter}': expected an attribute at '${rest.slice(0, 30)}'`,
      );
    rest = rest.slice(a[0].length);
    const o = op.exec(rest);
    if (!o)
      throw new InvalidError(
        `Invalid filter '${filter}': expected =, !=, LIKE, ILIKE or IN after ${a[1]}`,
      );
    rest = rest.slice(o[0].length);
    const operator = o[1].toUpperCase() as FilterClause['op'];
    const values: string[] = [];
    const readValue = () => {
      const s = str.exec(rest);
      if (!s)
        throw new InvalidError(
          `Invalid filter '${filter}': expected a quoted value at '${rest.slice(0, 30)}'`,
        );
      rest = rest.slice(s[0].length);
      values.push((s[1] ?? s[2] ?? s[3]).replace(/\\(.)/g, '$1'));
    };
    if (operator === 'IN') {
      if (!rest.startsWith('('))
        throw new InvalidError(`Invalid filter '${filter}': IN needs a parenthesised list`);
      rest = rest.slice(1).trimStart();
      for (;;) {
        readValue();
        if (rest.startsWith(',')) {
          rest = rest.slice(1).trimStart();
          continue;
        }
        if (rest.startsWith(')')) {
          rest = rest.slice(1).trimStart();
          break;
        }
        throw new InvalidError(`Invalid filter '${filter}': unclosed IN list`);
      }
    } else readValue();
    // `tag.` and `tags.` both name a tag; backquotes allow any key.
    const tagKey = /^tags?\.(?:`([^`]+)`|(.+))$/.exec(a[1]);
    const attribute = tagKey ? `tags.${tagKey[1] ?? tagKey[2]}` : a[1];
    clauses.push({ attribute, op: operator, values });
    if (rest === '') return clauses;
    const and = /^AND\s+/i.exec(rest);
    if (!and)
      throw new InvalidError(
        `Invalid filter '${filter}': only AND joins clauses (at '${rest.slice(0, 30)}')`,
      );
    rest = rest.slice(and[0].length);
  }
}

/** SQL LIKE semantics (`%`, `_`) as a RegExp, for checks made in code. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

export interface OrderBy<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

/** `["name ASC", "last_updated_timestamp DESC"]` → fields of ours. */
export function parseOrderBy<F extends string>(
  orderBy: string[] | undefined,
  fields: Record<string, F>,
): OrderBy<F>[] {
  return (orderBy ?? []).map((clause) => {
    const m = /^\s*([a-z_]+)\s*(ASC|DESC)?\s*$/i.exec(clause);
    const field = m ? fields[m[1].toLowerCase()] : undefined;
    if (!m || !field)
      throw new InvalidError(
        `Invalid order_by clause '${clause}'; allowed fields: ${Object.keys(fields).join(', ')}`,
      );
    return { field, direction: (m[2] ?? 'ASC').toLowerCase() as 'asc' | 'desc' };
  });
}
