import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { bool, ConfigError } from '@mlops/config';
import { algorithmOf, type JwtVerifier } from './jwt';
import { isRole, type Role } from './roles';

export const AUTH_MODES = ['none', 'api-key', 'jwt', 'api-key,jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** RFC 7235 token68 without '.', so that a key is never taken for a JWT (which has two). */
const API_KEY = /^[A-Za-z0-9\-_~+/]+=*$/;
const MIN_API_KEY_LENGTH = 16;
const MIN_HMAC_SECRET_LENGTH = 32;

/**
 * The auth variables of every service, merged into its schema with `.and(AuthEnv)`. The default
 * `AUTH_MODE=none` is for local development only; production sets `api-key`, `jwt` or both.
 * Files are read and keys parsed during validation, so a bad key is a config error at boot that
 * names its variable.
 */
export const AuthEnv = z
  .object({
    AUTH_MODE: z
      .enum(AUTH_MODES)
      .default('none')
      .describe('none (local dev) | api-key | jwt | api-key,jwt'),
    AUTH_API_KEYS: z.string().optional().describe('comma-separated key:role:subject'),
    AUTH_API_KEYS_FILE: z.string().optional().describe('one key:role:subject per line'),
    AUTH_JWT_SECRET: z.string().optional().describe('HS256 shared secret'),
    AUTH_JWT_PUBLIC_KEY_FILE: z.string().optional().describe('PEM public key(s), RS256 or ES256'),
    AUTH_JWT_ISSUER: z.string().min(1).optional(),
    AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
    AUTH_JWT_ROLE_CLAIM: z.string().min(1).default('role'),
    AUTH_OPEN_READS: bool(true),
  })
  .superRefine((env, ctx) => {
    for (const problem of resolveAuth(env).problems) {
      ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
    }
  });
export type AuthEnv = z.output<typeof AuthEnv>;

/** One API key; only its sha256 is kept once the config is built. */
export interface ApiKeyEntry {
  key: string;
  role: Role;
  subject: string;
}

/** The validated, file-resolved auth settings the guard works from. */
export interface AuthConfig {
  mode: AuthMode;
  openReads: boolean;
  apiKeys: { sha256: Buffer; role: Role; subject: string }[];
  jwt?: JwtVerifier & { roleClaim: string };
}

interface Problem {
  variable: string;
  message: string;
}

/**
 * Parses `key:role:subject` entries. The subject is everything after the second colon. Messages
 * point at the entry by position and never repeat the key.
 */
export function parseApiKeys(
  entries: readonly string[],
  where: (index: number) => string,
): { keys: ApiKeyEntry[]; problems: string[] } {
  const keys: ApiKeyEntry[] = [];
  const problems: string[] = [];
  entries.forEach((raw, index) => {
    const parsed = parseApiKey(raw.trim());
    if (typeof parsed === 'string') problems.push(`${where(index)}: ${parsed}`);
    else if (keys.some((k) => k.key === parsed.key))
      problems.push(`${where(index)}: key is listed twice`);
    else keys.push(parsed);
  });
  return { keys, problems };
}

function parseApiKey(entry: string): ApiKeyEntry | string {
  const [key = '', role = '', ...rest] = entry.split(':');
  const subject = rest.join(':').trim();
  if (rest.length === 0) return 'expected key:role:subject';
  if (key.length < MIN_API_KEY_LENGTH)
    return `key is shorter than ${MIN_API_KEY_LENGTH} characters`;
  if (!API_KEY.test(key)) return 'key may hold only letters, digits and - _ ~ + / (= at the end)';
  if (!isRole(role)) return `role "${role.slice(0, 20)}" is not viewer, publisher or admin`;
  if (subject === '') return 'subject is empty';
  return { key, role, subject };
}

/** Validates the auth variables and reads their files: the config, or every problem found. */
export function resolveAuth(env: AuthEnv): { config?: AuthConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const fail = (variable: string, message: string) => problems.push({ variable, message });
  const usesApiKeys = env.AUTH_MODE === 'api-key' || env.AUTH_MODE === 'api-key,jwt';
  const usesJwt = env.AUTH_MODE === 'jwt' || env.AUTH_MODE === 'api-key,jwt';

  let apiKeys: ApiKeyEntry[] = [];
  const inline = env.AUTH_API_KEYS?.trim() || undefined;
  const file = env.AUTH_API_KEYS_FILE || undefined;
  if (inline !== undefined && file !== undefined) {
    fail('AUTH_API_KEYS', 'set AUTH_API_KEYS or AUTH_API_KEYS_FILE, not both');
  } else if (inline !== undefined) {
    const parsed = parseApiKeys(inline.split(','), (i) => `entry ${i + 1}`);
    apiKeys = parsed.keys;
    for (const p of parsed.problems) fail('AUTH_API_KEYS', p);
  } else if (file !== undefined) {
    const text = readText(file, 'AUTH_API_KEYS_FILE', fail);
    if (text !== undefined) {
      const lines = text.split(/\r?\n/).map((line, i) => ({ line: line.trim(), number: i + 1 }));
      const kept = lines.filter(({ line }) => line !== '' && !line.startsWith('#'));
      const parsed = parseApiKeys(
        kept.map(({ line }) => line),
        (i) => `line ${kept[i].number}`,
      );
      apiKeys = parsed.keys;
      for (const p of parsed.problems) fail('AUTH_API_KEYS_FILE', p);
    }
  }
  if (usesApiKeys && apiKeys.length === 0 && problems.length === 0) {
    fail('AUTH_API_KEYS', `AUTH_MODE=${env.AUTH_MODE} needs AUTH_API_KEYS or AUTH_API_KEYS_FILE`);
  }

  const secret = env.AUTH_JWT_SECRET || undefined;
  if (secret !== undefined && secret.length < MIN_HMAC_SECRET_LENGTH) {
    // RFC 7518 §3.2: an HS256 key at least as long as the hash.
    fail('AUTH_JWT_SECRET', `must be at least ${MIN_HMAC_SECRET_LENGTH} characters`);
  }
  const publicKeys: KeyObject[] = [];
  const keyFile = env.AUTH_JWT_PUBLIC_KEY_FILE || undefined;
  if (keyFile !== undefined) {
    const text = readText(keyFile, 'AUTH_JWT_PUBLIC_KEY_FILE', fail);
    if (text !== undefined) {
      for (const p of parsePublicKeys(text, publicKeys)) fail('AUTH_JWT_PUBLIC_KEY_FILE', p);
    }
  }
  if (usesJwt && secret === undefined && keyFile === undefined) {
    fail(
      'AUTH_JWT_SECRET',
      `AUTH_MODE=${env.AUTH_MODE} needs AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE`,
    );
  }

  if (problems.length > 0) return { problems };
  return {
    problems,
    config: {
      mode: env.AUTH_MODE,
      openReads: env.AUTH_OPEN_READS,
      apiKeys: usesApiKeys
        ? apiKeys.map(({ key, role, subject }) => ({ sha256: sha256(key), role, subject }))
        : [],
      ...(usesJwt
        ? {
            jwt: {
              ...(secret !== undefined ? { hmacSecret: Buffer.from(secret, 'utf8') } : {}),
              publicKeys,
              issuer: env.AUTH_JWT_ISSUER,
              audience: env.AUTH_JWT_AUDIENCE,
              leewaySeconds: 30,
              roleClaim: env.AUTH_JWT_ROLE_CLAIM,
            },
          }
        : {}),
    },
  };
}

/** The guard's settings from validated variables; throws ConfigError if a file changed since. */
export function authConfigFromEnv(env: AuthEnv): AuthConfig {
  const { config, problems } = resolveAuth(env);
  if (!config) throw new ConfigError('auth', problems);
  return config;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function readText(
  file: string,
  variable: string,
  fail: (variable: string, message: string) => void,
): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    fail(variable, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return undefined;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function parsePublicKeys(text: string, into: KeyObject[]): string[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return ['holds no PEM block'];
  const problems: string[] = [];
  blocks.forEach(([pem, label = ''], i) => {
    const key = label.includes('PRIVATE')
      ? 'is a private key; give the public key only'
      : readPublicKey(pem);
    if (typeof key === 'string') problems.push(`key ${i + 1} ${key}`);
    else into.push(key);
  });
  return problems;
}

function readPublicKey(pem: string): KeyObject | string {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'is not a readable public key';
  }
  const alg = algorithmOf(key);
  return typeof alg === 'string' ? key : `is unusable: ${alg.problem}`;
}
