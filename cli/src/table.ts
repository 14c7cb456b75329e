/**
 * Aligned text tables, kubectl style: an upper-case header row, columns separated by two
 * spaces, numbers right-aligned, no trailing blanks. No dependencies.
 */

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

export type Cell = string | number | boolean | null | undefined;

/** Characters as a terminal shows them: code points, with combining marks taking no column. */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x300 && cp <= 0x36f) continue; // combining diacritics
    if (cp === 0x200b || cp === 0xfe0f) continue; // zero-width space, variation selector
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0x1f300 && cp <= 0x1faff)
  );
}

function pad(s: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? fill + s : s + fill;
}

/** A cell as text: null/undefined → "-", booleans → ✓ or blank, numbers via String. */
export function cellText(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? '✓' : '';
  return String(value).replace(/[\r\n\t]+/g, ' ');
}

/**
 * Renders rows under their headers. A column whose `align` is not given is right-aligned when
 * every non-empty cell of it is a number, else left-aligned. Ends with a newline.
 */
export function renderTable(columns: (Column | string)[], rows: Cell[][]): string {
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const text = rows.map((r) => cols.map((_, i) => cellText(r[i])));
  const aligns: Align[] = cols.map((c, i) => {
    if (c.align) return c.align;
    const values = rows.map((r) => r[i]).filter((v) => v !== null && v !== undefined && v !== '');
    return values.length > 0 && values.every((v) => typeof v === 'number') ? 'right' : 'left';
  });
  const headers = cols.map((c) => c.header.toUpperCase());
  const widths = cols.map((_, i) =>
    Math.max(displayWidth(headers[i]), ...text.map((r) => displayWidth(r[i]))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i], aligns[i]))
      .join('  ')
      .replace(/\s+$/, '');
  return [line(headers), ...text.map(line)].join('\n') + '\n';
}

/** `key: value` lines with the keys padded to one width; null values are left out. */
export function renderFields(fields: [string, Cell][]): string {
  const shown = fields.filter(([, v]) => v !== null && v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => displayWidth(k) + 1));
  return shown.map(([k, v]) => `${pad(`${k}:`, width, 'left')}  ${cellText(v)}`).join('\n') + '\n';
}
