import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, port } from '@mlops/config';
import { AuthEnv, authConfigFromEnv, parseApiKeys, sha256 } from './config';

const dir = mkdtempSync(path.join(tmpdir(), 'mlops-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}
function problems(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadConfig('registry', AuthEnv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('accepted');
}

const KEY_A = 'a'.repeat(16);
const KEY_B = 'B0-_~+/b'.repeat(3) + '==';
const SECRET = 's'.repeat(32);
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
const ecPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ecPem = ecPair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('AuthEnv', () => {
  it('defaults to no auth (local development) with open reads', () => {
    const env = loadConfig('registry', AuthEnv, {});
    expect(env).toEqual({ AUTH_MODE: 'none', AUTH_JWT_ROLE_CLAIM: 'role', AUTH_OPEN_READS: true });
    expect(authConfigFromEnv(env)).toEqual({ mode: 'none', openReads: true, apiKeys: [] });
  });

  it('merges into a service schema with .and()', () => {
    const Service = z.object({ PORT: port(3005) }).and(AuthEnv);
    const env = loadConfig('registry', Service, {
      PORT: '8080',
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: `${KEY_A}:admin:ops`,
    });
    expect(env.PORT).toBe(8080);
    expect(env.AUTH_MODE).toBe('api-key');
    expect(authConfigFromEnv(env).apiKeys).toEqual([
      { sha256: sha256(KEY_A), role: 'admin', subject: 'ops' },
    ]);
  });

  it('parses AUTH_API_KEYS into key, role and subject, keeping only the hash of the key', () => {
    const env = loadConfig('registry', AuthEnv, {
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: ` ${KEY_A}:viewer:dashboards , ${KEY_B}:publisher:ci:pipeline `,
      AUTH_OPEN_READS: 'false',
    });
    expect(authConfigFromEnv(env)).toEqual({
      mode: 'api-key',
      openReads: false,
      apiKeys: [
        { sha256: sha256(KEY_A), role: 'viewer', subject: 'dashboards' },
        { sha256: sha256(KEY_B), role: 'publisher', subject: 'ci:pipeline' },
      ],
    });
  });

  it('reads AUTH_API_KEYS_FILE, one entry a line, skipping blanks and comments', () => {
    const keys = file('keys', `# team keys\n${KEY_A}:admin:ops\n\n  ${KEY_B}:viewer:grafana  \r\n`);
    const config = authConfigFromEnv(
      loadConfig('registry', AuthEnv, {
        AUTH_MODE: 'api-key,jwt',
        AUTH_API_KEYS_FILE: keys,
        AUTH_JWT_SECRET: SECRET,
      }),
    );
    expect(config.apiKeys.map(({ role, subject }) => `${role}:${subject}`)).toEqual([
      'admin:ops',
      'viewer:grafana',
    ]);
  });

  it('names the variable and the entry for each bad API key, never echoing the key', () => {
    const found = problems({
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: [
        'short:viewer:x',
        `${KEY_A}:root:x`,
        `${KEY_B}:viewer:`,
        `${KEY_A}.${KEY_A}:viewer:x`,
        `${KEY_A}`,
        `${KEY_A}:viewer:x`,
        `${KEY_A}:admin:y`,
      ].join(','),
    });
    expect(found).toEqual([
      { variable: 'AUTH_API_KEYS', message: 'entry 1: key is shorter than 16 characters' },
      {
        variable: 'AUTH_API_KEYS',
        message: 'entry 2: role "root" is not viewer, publisher or admin',
      },
      { variable: 'AUTH_API_KEYS', message: 'entry 3: subject is empty' },
      {
        variable: 'AUTH_API_KEYS',
        message: 'entry 4: key may hold only letters, digits and - _ ~ + / (= at the end)',
      },
      { variable: 'AUTH_API_KEYS', message: 'entry 5: expected key:role:subject' },
      { variable: 'AUTH_API_KEYS', message: 'entry 7: key is listed twice' },
    ]);
    expect(JSON.stringify(found)).not.toContain(KEY_A);
    const keys = file('bad-keys', `# comment\n\n${KEY_A}:admin:ops\n${KEY_B}:owner:x\n`);
    expect(problems({ AUTH_MODE: 'api-key', AUTH_API_KEYS_FILE: keys })).toEqual([
      {
        variable: 'AUTH_API_KEYS_FILE',
        message: 'line 4: role "owner" is not viewer, publisher or admin',
      },
    ]);
  });

  it('requires the credentials the mode uses', () => {
    expect(problems({ AUTH_MODE: 'api-key' })).toEqual([
      {
        variable: 'AUTH_API_KEYS',
        message: 'AUTH_MODE=api-key needs AUTH_API_KEYS or AUTH_API_KEYS_FILE',
      },
    ]);
    expect(problems({ AUTH_MODE: 'jwt' })).toEqual([
      {
        variable: 'AUTH_JWT_SECRET',
        message: 'AUTH_MODE=jwt needs AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE',
      },
    ]);
    expect(
      problems({ AUTH_MODE: 'api-key,jwt', AUTH_JWT_SECRET: SECRET }).map((p) => p.variable),
    ).toEqual(['AUTH_API_KEYS']);
    expect(
      problems({ AUTH_MODE: 'api-key,jwt', AUTH_API_KEYS: `${KEY_A}:admin:x` }).map(
        (p) => p.variable,
      ),
    ).toEqual(['AUTH_JWT_SECRET']);
  });

  it('refuses an unknown mode, a bad boolean, both key sources, a short secret and an unreadable file', () => {
    expect(problems({ AUTH_MODE: 'oauth' }).map((p) => p.variable)).toEqual(['AUTH_MODE']);
    expect(problems({ AUTH_OPEN_READS: 'yes' }).map((p) => p.variable)).toEqual([
      'AUTH_OPEN_READS',
    ]);
    expect(problems({ AUTH_API_KEYS: `${KEY_A}:admin:x`, AUTH_API_KEYS_FILE: '/x' })).toEqual([
      { variable: 'AUTH_API_KEYS', message: 'set AUTH_API_KEYS or AUTH_API_KEYS_FILE, not both' },
    ]);
    expect(problems({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 'too-short' })).toEqual([
      { variable: 'AUTH_JWT_SECRET', message: 'must be at least 32 characters' },
    ]);
    expect(
      problems({ AUTH_MODE: 'api-key', AUTH_API_KEYS_FILE: path.join(dir, 'missing') }),
    ).toEqual([
      {
        variable: 'AUTH_API_KEYS_FILE',
        message: `cannot read ${path.join(dir, 'missing')}: ENOENT`,
      },
    ]);
  });

  it('reads RS256 and ES256 public keys from AUTH_JWT_PUBLIC_KEY_FILE', () => {
    const keys = file('jwt.pem', `${rsaPem}\n${ecPem}`);
    const config = authConfigFromEnv(
      loadConfig('registry', AuthEnv, {
        AUTH_MODE: 'jwt',
        AUTH_JWT_PUBLIC_KEY_FILE: keys,
        AUTH_JWT_ISSUER: 'https://idp.example',
        AUTH_JWT_AUDIENCE: 'mlops',
        AUTH_JWT_ROLE_CLAIM: 'realm_access.roles',
      }),
    );
    expect(config.jwt).toMatchObject({
      issuer: 'https://idp.example',
      audience: 'mlops',
      roleClaim: 'realm_access.roles',
      leewaySeconds: 30,
    });
    expect(config.jwt?.publicKeys.map((k) => k.asymmetricKeyType)).toEqual(['rsa', 'ec']);
    expect(config.jwt?.hmacSecret).toBeUndefined();
  });

  it('refuses key files holding a private key, no key, a weak key or the wrong curve', () => {
    const privatePem = ecPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const garbled = '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n';
    const check = (name: string, text: string) =>
      problems({ AUTH_MODE: 'jwt', AUTH_JWT_PUBLIC_KEY_FILE: file(name, text) }).map(
        (p) => `${p.variable}: ${p.message}`,
      );
    expect(check('private.pem', privatePem)).toEqual([
      'AUTH_JWT_PUBLIC_KEY_FILE: key 1 is a private key; give the public key only',
    ]);
    expect(check('empty.pem', 'nothing here')).toEqual([
      'AUTH_JWT_PUBLIC_KEY_FILE: holds no PEM block',
    ]);
    expect(check('weak.pem', weak)).toEqual([
      'AUTH_JWT_PUBLIC_KEY_FILE: key 1 is unusable: RSA key of 1024 bits; at least 2048 are required',
    ]);
    expect(check('p384.pem', `${rsaPem}${p384}`)).toEqual([
      'AUTH_JWT_PUBLIC_KEY_FILE: key 2 is unusable: EC curve secp384r1; ES256 needs P-256',
    ]);
    expect(check('garbled.pem', garbled)).toEqual([
      'AUTH_JWT_PUBLIC_KEY_FILE: key 1 is not a readable public key',
    ]);
  });
});

describe('parseApiKeys', () => {
  it('keeps colons in the subject and reports entries by the caller’s naming', () => {
    expect(parseApiKeys([`${KEY_A}:publisher:svc:trainer`, 'x'], (i) => `#${i}`)).toEqual({
      keys: [{ key: KEY_A, role: 'publisher', subject: 'svc:trainer' }],
      problems: ['#1: expected key:role:subject'],
    });
  });
});
