import { parseArgs } from 'node:util';
import type { BlankableField } from './cards-spec';
import type { GenerateCardsOptions } from './generate';
import type { DriftOptions } from './truth';

export const OUTPUT_FORMATS = ['ndjson', 'csv', 'cloudevents'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface CliCommand {
  options: GenerateCardsOptions;
  format: OutputFormat;
  /** Records file; standard output when absent. */
  out?: string;
  /** Truth file (JSON), when asked for. */
  truth?: string;
}

export const USAGE = `Usage: npm run datagen -- [options]

Generates card transactions with known defects (libs/datagen).

  --n <count>                 records (default 10000)
  --seed <int>                seed (default 1); same options, same bytes
  --fraud-rate <p>            base fraud rate (default 0.02)
  --cards <count>             distinct cards (default max(50, n/25))
  --start <iso>               first timestamp (default 2026-01-01T00:00:00Z)
  --duplicates <p>            exact duplicates (same content, own id)
  --duplicate-ids <p>         new content repeating an earlier id
  --near-duplicates <p>       memo slightly edited
  --missing <p>               fields null or absent
  --missing-fields <a,b>      which fields (default amount,device,memo)
  --outliers <p>              amount far beyond any clean amount
  --label-conflicts <p>       same features, opposite label
  --clean-prefix <count>      leading records without defects (default min(100, n/10))
  --window <count>            originals at most this far back (default 1000)
  --drift <json>              e.g. '{"from":25000,"shifts":{"amount":{"meanShiftSd":0.5}}}'
  --format ndjson|csv|cloudevents   cloudevents: one structured CloudEvent per line (with ids)
  --out <file>                records file (default: standard output)
  --truth <file>              also write the injected defects and drift as JSON
  --help
`;

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new Error(`--${name} needs a number, got "${value}"`);
  return n;
}

/** Parses the CLI's arguments; throws an Error whose message is fit for the user. */
export function parseCliArgs(argv: readonly string[]): CliCommand | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      n: { type: 'string' },
      seed: { type: 'string' },
      'fraud-rate': { type: 'string' },
      cards: { type: 'string' },
      start: { type: 'string' },
      duplicates: { type: 'string' },
      'duplicate-ids': { type: 'string' },
      'near-duplicates': { type: 'string' },
      missing: { type: 'string' },
      'missing-fields': { type: 'string' },
      outliers: { type: 'string' },
      'label-conflicts': { type: 'string' },
      'clean-prefix': { type: 'string' },
      window: { type: 'string' },
      drift: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      truth: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const format = (values.format ?? 'ndjson') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) {
    throw new Error(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got "${values.format}"`);
  }
  const options: GenerateCardsOptions = { n: num('n', values.n) ?? 10_000 };
  const set = <K extends keyof GenerateCardsOptions>(
    key: K,
    value: GenerateCardsOptions[K] | undefined,
  ) => {
    if (value !== undefined) options[key] = value;
  };
  set('seed', num('seed', values.seed));
  set('fraudRate', num('fraud-rate', values['fraud-rate']));
  set('cards', num('cards', values.cards));
  set('start', values.start);
  set('duplicateRate', num('duplicates', values.duplicates));
  set('duplicateIdRate', num('duplicate-ids', values['duplicate-ids']));
  set('nearDuplicateRate', num('near-duplicates', values['near-duplicates']));
  set('missingRate', num('missing', values.missing));
  set('outlierRate', num('outliers', values.outliers));
  set('labelConflictRate', num('label-conflicts', values['label-conflicts']));
  set('cleanPrefix', num('clean-prefix', values['clean-prefix']));
  set('referenceWindow', num('window', values.window));
  if (values['missing-fields'] !== undefined) {
    set(
      'missingFields',
      values['missing-fields']
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f.length > 0) as BlankableField[],
    );
  }
  if (values.drift !== undefined) {
    let drift: unknown;
    try {
      drift = JSON.parse(values.drift);
    } catch (err) {
      throw new Error(`--drift is not valid JSON: ${(err as Error).message}`);
    }
    if (
      drift === null ||
      typeof drift !== 'object' ||
      typeof (drift as { from?: unknown }).from !== 'number' ||
      typeof (drift as { shifts?: unknown }).shifts !== 'object'
    ) {
      throw new Error('--drift must be {"from": <index>, "shifts": {...}}');
    }
    set('drift', drift as DriftOptions);
  }
  const command: CliCommand = { options, format };
  if (values.out !== undefined) command.out = values.out;
  if (values.truth !== undefined) command.truth = values.truth;
  return command;
}
