import { z } from 'zod';

/** A configuration that failed its schema; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: { variable: string; message: string }[],
  ) {
    super(
      `invalid configuration for ${service}:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment against a service's schema before anything starts, and returns a
 * typed object: no string keys scattered through the code, and a message that names the bad
 * variable instead of a failure somewhere later.
 */
export function loadConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    service,
    result.error.issues.map((issue) => ({
      variable: issue.path.length > 0 ? issue.path.join('.') : '(environment)',
      message:
        typeof issue.path[0] === 'string' &&
        env[issue.path[0]] === undefined &&
        issue.code === 'invalid_type'
          ? 'is required'
          : `${issue.message}${describeInput(env, issue.path)}`,
    })),
  );
}

function describeInput(env: NodeJS.ProcessEnv, path: PropertyKey[]): string {
  const name = path[0];
  if (typeof name !== 'string' || env[name] === undefined) return '';
  // Never echo what looks like a secret.
  if (/PASSWORD|SECRET|TOKEN|KEY/i.test(name)) return '';
  return ` (got "${String(env[name]).slice(0, 80)}")`;
}

/** Shared pieces of every service's schema. */
export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);
export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');
export const bytes = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
