import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatAliases,
  formatBytes,
  formatDuration,
  formatNumber,
  formatPValue,
  formatStat,
} from './format';
import { formatProgress } from './progress';
import { displayWidth, renderFields, renderTable } from './table';

describe('renderTable', () => {
  it('aligns columns under an upper-case header, numbers to the right', () => {
    const out = renderTable(
      ['model', 'latest', 'aliases'],
      [
        ['cards', 12, 'production=3 canary=4'],
        ['churn-model', 3, null],
      ],
    );
    expect(out).toBe(
      [
        'MODEL        LATEST  ALIASES',
        'cards            12  production=3 canary=4',
        'churn-model       3  -',
        '',
      ].join('\n'),
    );
  });

  it('honours an explicit alignment, renders booleans as ✓, trims trailing blanks', () => {
    const out = renderTable(
      ['feature', { header: 'p-value', align: 'right' }, 'drift'],
      [
        ['amount', '3.2e-7', true],
        ['hour', '0.5120', false],
      ],
    );
    expect(out.split('\n')).toEqual([
      'FEATURE  P-VALUE  DRIFT',
      'amount    3.2e-7  ✓',
      'hour      0.5120',
      '',
    ]);
  });

  it('measures wide characters as two columns and flattens newlines in cells', () => {
    expect(displayWidth('✓')).toBe(1);
    expect(displayWidth('日本')).toBe(4);
    expect(renderTable(['a', 'b'], [['日本', 'x\ny']])).toBe('A     B\n日本  x y\n');
  });

  it('renders key: value lines, leaving out empty values', () => {
    expect(
      renderFields([
        ['status', 'READY'],
        ['variant', null],
        ['featureset', 'fs-1'],
      ]),
    ).toBe('status:      READY\nfeatureset:  fs-1\n');
  });
});

describe('number formatting', () => {
  it('groups integers and keeps four significant digits of fractions', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(0.012345)).toBe('0.01235');
    expect(formatNumber(0.00001234)).toBe('1.2e-5');
    expect(formatNumber(null)).toBe('-');
  });

  it('writes p-values in exponent form below 1e-3', () => {
    expect(formatPValue(0.0312)).toBe('0.0312');
    expect(formatPValue(0.001)).toBe('0.0010');
    expect(formatPValue(0.000999)).toBe('1.0e-3');
    expect(formatPValue(3.21e-12)).toBe('3.2e-12');
    expect(formatPValue(0)).toBe('<1e-300');
    expect(formatPValue(null)).toBe('-');
  });

  it('formats statistics, durations, ages, sizes and alias maps', () => {
    expect(formatStat(0.91234567)).toBe('0.9123');
    expect(formatStat(0)).toBe('0');
    expect(formatStat(0.0000421)).toBe('4.2e-5');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(2400)).toBe('2.4 s');
    expect(formatDuration(192_000)).toBe('3m 12s');
    expect(formatDuration(3_900_000)).toBe('1h 05m');
    const now = Date.parse('2026-01-02T00:00:00Z');
    expect(formatAge('2026-01-01T23:59:15Z', now)).toBe('45s');
    expect(formatAge('2026-01-01T23:00:00Z', now)).toBe('60m');
    expect(formatAge('2026-01-01T00:00:00Z', now)).toBe('24h');
    expect(formatAge('2025-12-01T00:00:00Z', now)).toBe('32d');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatAliases({ shadow: 2, canary: 4, production: 3 })).toBe(
      'production=3 canary=4 shadow=2',
    );
  });
});

describe('formatProgress', () => {
  it('shows the bar, counts, rate and rejections', () => {
    expect(formatProgress({ sent: 12_000, rejected: 12, elapsedMs: 3000, fraction: 0.5 }, 10)).toBe(
      '[█████░░░░░]  50%  12,000 sent  4,000/s  12 rejected',
    );
  });

  it('leaves the bar out without a size, and says when it waits for backpressure', () => {
    expect(formatProgress({ sent: 500, rejected: 0, elapsedMs: 1000, waitingMs: 2000 })).toBe(
      '500 sent  500/s  0 rejected  (backpressure: retrying in 2.0 s)',
    );
  });
});
