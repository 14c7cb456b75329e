import { describe, expect, it } from 'vitest';
import { parseCliArgs } from './cli-args';

describe('parseCliArgs', () => {
  it('maps every flag to a generator option', () => {
    const command = parseCliArgs([
      '--n', '50000', '--seed', '7', '--fraud-rate', '0.03', '--cards', '900',
      '--start', '2026-02-01T00:00:00Z', '--duplicates', '0.02', '--duplicate-ids', '0.01',
      '--near-duplicates', '0.02', '--missing', '0.03', '--missing-fields', 'amount, memo',
      '--outliers', '0.01', '--label-conflicts', '0.005', '--clean-prefix', '200',
      '--window', '500', '--drift', '{"from":25000,"shifts":{"amount":{"meanShiftSd":0.5}}}',
      '--format', 'csv', '--out', 'cards.csv', '--truth', 'truth.json',
    ]); // prettier-ignore
    expect(command).toEqual({
      format: 'csv',
      out: 'cards.csv',
      truth: 'truth.json',
      options: {
        n: 50_000,
        seed: 7,
        fraudRate: 0.03,
        cards: 900,
        start: '2026-02-01T00:00:00Z',
        duplicateRate: 0.02,
        duplicateIdRate: 0.01,
        nearDuplicateRate: 0.02,
        missingRate: 0.03,
        missingFields: ['amount', 'memo'],
        outlierRate: 0.01,
        labelConflictRate: 0.005,
        cleanPrefix: 200,
        referenceWindow: 500,
        drift: { from: 25_000, shifts: { amount: { meanShiftSd: 0.5 } } },
      },
    });
  });

  it('defaults to 10,000 NDJSON records on standard output', () => {
    expect(parseCliArgs([])).toEqual({ format: 'ndjson', options: { n: 10_000 } });
    expect(parseCliArgs(['--help'])).toBe('help');
  });

  it('explains bad input', () => {
    expect(() => parseCliArgs(['--n', 'many'])).toThrow(/--n needs a number/);
    expect(() => parseCliArgs(['--format', 'xml'])).toThrow(/--format must be one of/);
    expect(() => parseCliArgs(['--drift', '{'])).toThrow(/--drift is not valid JSON/);
    expect(() => parseCliArgs(['--drift', '{"from":1}'])).toThrow(/--drift must be/);
    expect(() => parseCliArgs(['--colour', 'red'])).toThrow();
    expect(() => parseCliArgs(['extra'])).toThrow();
  });
});
