import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  allOptions,
  parseCommandLine,
  parseDuration,
  parseTime,
  positiveInt,
  resolveGlobals,
  trainingRange,
} from './args';
import { UsageError } from './errors';

const command = (argv: string[], env = {}) => {
  const p = parseCommandLine(argv, env);
  if (p.kind !== 'command') throw new Error('expected a command');
  return p;
};

describe('parseCommandLine', () => {
  it('finds one- and two-word commands, their arguments and options, wherever the options are', () => {
    const p = command([
      '--json',
      'models',
      'promote',
      'cards',
      '--version',
      '4',
      '--reason',
      'A/B won',
    ]);
    expect(p.id).toBe('models promote');
    expect(p.args).toEqual(['cards']);
    expect(p.opts).toMatchObject({ version: '4', reason: 'A/B won' });
    expect(p.globals.json).toBe(true);

    const q = command(['produce', '-', '--dataset=cards', '--batch', '500']);
    expect(q.id).toBe('produce');
    expect(q.args).toEqual(['-']);
    expect(q.opts).toMatchObject({ dataset: 'cards', batch: '500' });
  });

  it('resolves service URLs from options, then MLOPS_* variables, then the default ports', () => {
    const p = command(['status', '--registry', 'http://reg:9000/'], {
      MLOPS_INFERENCE_URL: 'http://inf:7000',
      MLOPS_API_KEY: 'secret-key-1234567',
    });
    expect(p.globals.urls).toEqual({
      ingestion: 'http://127.0.0.1:3001',
      'data-quality': 'http://127.0.0.1:3002',
      feature: 'http://127.0.0.1:3003',
      trainer: 'http://127.0.0.1:3004',
      compressor: 'http://127.0.0.1:3005',
      registry: 'http://reg:9000',
      inference: 'http://inf:7000',
      'drift-monitor': 'http://127.0.0.1:3008',
    });
    expect(p.globals.apiKey).toBe('secret-key-1234567');
    expect(command(['status', '--api-key', 'k']).globals.apiKey).toBe('k');
  });

  it('gives help for --help, -h and `help <command>`', () => {
    const top = parseCommandLine(['--help']);
    expect(top.kind === 'help' && top.text).toContain('Exit codes:');
    const produce = parseCommandLine(['produce', '-h']);
    expect(produce.kind === 'help' && produce.text).toMatch(/^Usage: mlops produce <file\.csv/);
    const alias = parseCommandLine(['help', 'models', 'alias']);
    expect(alias.kind === 'help' && alias.text).toMatch(
      /^Usage: mlops models alias <model> <alias> \[<version>\]/,
    );
    const group = parseCommandLine(['drift', '--help']);
    expect(group.kind === 'help' && group.text).toContain('drift report <model>');
  });

  it('refuses an unknown command, suggesting the closest one', () => {
    expect(() => parseCommandLine(['prodce'])).toThrow(
      'unknown command "prodce" (did you mean "produce"?)',
    );
    expect(() => parseCommandLine(['models', 'promot', 'x'])).toThrow(
      'unknown subcommand "models promot" (did you mean "promote"?)',
    );
    expect(() => parseCommandLine(['frobnicate'])).toThrow('unknown command "frobnicate"');
  });

  it('refuses missing arguments and options, extra arguments, and unknown options', () => {
    expect(() => parseCommandLine(['produce', 'x.csv'])).toThrow('missing --dataset NAME');
    expect(() => parseCommandLine(['produce', '--dataset', 'cards'])).toThrow('missing <file>');
    expect(() => parseCommandLine(['models', 'show'])).toThrow('missing <model>');
    expect(() => parseCommandLine(['models', 'show', 'a', 'b'])).toThrow('unexpected argument "b"');
    expect(() => parseCommandLine(['jobs', '--tranier'])).toThrow(
      'unknown option --tranier for "mlops jobs" (did you mean "--trainer"?)',
    );
    expect(() => parseCommandLine(['drift', 'report', 'cards', '--version'])).toThrow(
      'option --version needs a value (N)',
    );
    expect(() => parseCommandLine(['models'])).toThrow('"mlops models" needs a subcommand');
    expect(() => parseCommandLine([])).toThrow('no command given');
  });

  it('carries the usage of the command in its errors', () => {
    try {
      parseCommandLine(['train']);
      expect.unreachable();
    } catch (err) {
      expect((err as UsageError).usage).toBe(
        'Usage: mlops train --dataset NAME [--since 24h | --from ISO [--to ISO]] [options]\n',
      );
    }
  });

  it('refuses a service URL that is not http(s)', () => {
    expect(() => command(['status', '--registry', 'localhost:3006'])).toThrow(
      '--registry must be http(s): localhost:3006',
    );
    expect(() => resolveGlobals({}, { MLOPS_DRIFT_URL: 'not a url' })).toThrow(
      'MLOPS_DRIFT_URL is not a URL: "not a url"',
    );
  });

  it('never gives one option name two types', () => {
    expect(() => allOptions()).not.toThrow();
    expect(new Set(COMMANDS.map((c) => c.id)).size).toBe(COMMANDS.length);
  });
});

describe('value checks', () => {
  it('positiveInt', () => {
    expect(positiveInt('--batch', '500', 10_000)).toBe(500);
    expect(positiveInt('--batch', undefined)).toBeUndefined();
    expect(() => positiveInt('--batch', '0', 10_000)).toThrow(
      '--batch must be a whole number from 1 to 10000, not "0"',
    );
    expect(() => positiveInt('--batch', '20000', 10_000)).toThrow(UsageError);
    expect(() => positiveInt('--version', '1.5')).toThrow(
      '--version must be a whole number from 1, not "1.5"',
    );
  });

  it('parseDuration and parseTime', () => {
    expect(parseDuration('--since', '24h')).toBe(86_400_000);
    expect(parseDuration('--since', '30m')).toBe(1_800_000);
    expect(parseDuration('--since', '1.5h')).toBe(5_400_000);
    expect(() => parseDuration('--since', '24')).toThrow(
      '--since must be a duration such as 30m, 24h or 7d, not "24"',
    );
    expect(parseTime('--from', '2026-01-01')).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTime('--from', '2026-01-01T10:00')).toBe('2026-01-01T10:00:00.000Z');
    expect(parseTime('--from', '2026-01-01T10:00:00+02:00')).toBe('2026-01-01T08:00:00.000Z');
    expect(() => parseTime('--from', 'yesterday')).toThrow(UsageError);
  });

  it('trainingRange', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    expect(trainingRange({ since: '24h' }, now)).toEqual({
      kind: 'time',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-02T00:00:00.000Z',
    });
    expect(trainingRange({ from: '2026-01-01T12:00:00Z' }, now)).toEqual({
      kind: 'time',
      from: '2026-01-01T12:00:00.000Z',
      to: '2026-01-02T00:00:00.000Z',
    });
    expect(trainingRange({}, now)).toBeUndefined();
    expect(() => trainingRange({ since: '1h', from: '2026-01-01' }, now)).toThrow(
      'use --since, or --from/--to, not both',
    );
    expect(() => trainingRange({ to: '2026-01-01' }, now)).toThrow('--to needs --from');
    expect(() => trainingRange({ from: '2026-01-03', to: '2026-01-02' }, now)).toThrow(
      /must be before --to/,
    );
  });
});
