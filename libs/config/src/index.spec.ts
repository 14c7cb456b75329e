import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, bool, bytes, loadConfig, logLevel, port } from './index';

const Schema = z.object({
  PORT: port(3001),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: logLevel,
  MAX_BODY: bytes(1024),
  STRICT: bool(false),
  VERBOSE: bool(true),
  DATABASE_URL: z.url(),
  WINDOW: z.coerce.number().int().positive(),
});

/** The ConfigError loadConfig throws for `env`. */
function failure(env: NodeJS.ProcessEnv, schema: z.ZodType = Schema): ConfigError {
  try {
    loadConfig('ingestion', schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('returns the typed configuration with defaults', () => {
    expect(
      loadConfig('ingestion', Schema, { DATABASE_URL: 'postgres://db:5432/x', WINDOW: '100' }),
    ).toEqual({
      PORT: 3001,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MAX_BODY: 1024,
      STRICT: false,
      VERBOSE: true,
      DATABASE_URL: 'postgres://db:5432/x',
      WINDOW: 100,
    });
  });

  it('converts given values', () => {
    const config = loadConfig('ingestion', Schema, {
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      MAX_BODY: '2048',
      STRICT: '1',
      VERBOSE: '0',
      DATABASE_URL: 'postgres://db/x',
      WINDOW: '5',
      UNRELATED: 'ignored',
    });
    expect(config).toEqual({
      PORT: 8080,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      MAX_BODY: 2048,
      STRICT: true,
      VERBOSE: false,
      DATABASE_URL: 'postgres://db/x',
      WINDOW: 5,
    });
    expect(loadConfig('x', z.object({ B: bool(false) }), { B: 'true' })).toEqual({ B: true });
    expect(loadConfig('x', z.object({ B: bool(true) }), { B: 'false' })).toEqual({ B: false });
  });

  it('reads process.env by default', () => {
    process.env.MLOPS_CONFIG_TEST_VALUE = 'from-process';
    try {
      expect(loadConfig('x', z.object({ MLOPS_CONFIG_TEST_VALUE: z.string() }))).toEqual({
        MLOPS_CONFIG_TEST_VALUE: 'from-process',
      });
    } finally {
      delete process.env.MLOPS_CONFIG_TEST_VALUE;
    }
  });

  it('names every bad variable in one error, and says "is required" for missing ones', () => {
    const err = failure({ PORT: '70000', LOG_LEVEL: 'loud', STRICT: 'yes' });
    expect(err.name).toBe('ConfigError');
    expect(err.service).toBe('ingestion');
    expect(err.problems.map((p) => p.variable)).toEqual([
      'PORT',
      'LOG_LEVEL',
      'STRICT',
      'DATABASE_URL',
      'WINDOW',
    ]);
    expect(err.problems.find((p) => p.variable === 'DATABASE_URL')!.message).toBe('is required');
    expect(err.problems.find((p) => p.variable === 'WINDOW')!.message).toBe('is required');
    expect(err.message.split('\n')[0]).toBe('invalid configuration for ingestion:');
    for (const name of ['PORT', 'LOG_LEVEL', 'STRICT', 'DATABASE_URL', 'WINDOW']) {
      expect(err.message).toContain(`  ${name}: `);
    }
    expect(err.message.split('\n')).toHaveLength(6);
  });

  it('shows the rejected value of an ordinary variable', () => {
    const err = failure({
      DATABASE_URL: 'postgres://db/x',
      WINDOW: '10',
      PORT: '70000',
      LOG_LEVEL: 'loud',
    });
    expect(err.problems).toEqual([
      { variable: 'PORT', message: 'Too big: expected number to be <=65535 (got "70000")' },
      {
        variable: 'LOG_LEVEL',
        message: expect.stringMatching(/^Invalid option: .* \(got "loud"\)$/),
      },
    ]);
  });

  it('does not call a present but malformed value "required"', () => {
    const err = failure({ DATABASE_URL: 'postgres://db/x', WINDOW: 'many' });
    expect(err.problems).toEqual([
      { variable: 'WINDOW', message: 'Invalid input: expected number, received NaN (got "many")' },
    ]);
  });

  it('cuts long values to 80 characters', () => {
    const err = failure({ DATABASE_URL: 'postgres://db/x', WINDOW: 'x'.repeat(200) });
    expect(err.problems[0].message).toMatch(new RegExp(` \\(got "${'x'.repeat(80)}"\\)$`));
  });

  it.each([
    'DB_PASSWORD',
    'API_TOKEN',
    'SIGNING_KEY',
    'KAFKA_SSL_KEY_FILE',
    'CLIENT_SECRET',
    'db_password',
  ])('never echoes the value of %s', (name) => {
    const secret = 'hunter2-s3cr3t';
    const schema = z.object({ [name]: z.string().min(64) });
    const err = failure({ [name]: secret }, schema);
    expect(err.problems.map((p) => p.variable)).toEqual([name]);
    expect(err.problems[0].message).toBe('Too small: expected string to have >=64 characters');
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain('hunter2');
  });

  it('names the environment for a refinement without a path', () => {
    const schema = z
      .object({ A: z.string().optional() })
      .refine((env) => env.A !== undefined, 'A must be set somehow');
    expect(failure({}, schema).problems).toEqual([
      { variable: '(environment)', message: 'A must be set somehow' },
    ]);
  });
});
