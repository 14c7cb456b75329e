import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt, type JwtVerifier } from './jwt';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rsaPrivatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ecPrivatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const SECRET = 'an-hs256-secret-of-at-least-32-characters';
const NOW = Date.UTC(2025, 0, 1);
const NOW_S = NOW / 1000;

function verifier(over: Partial<JwtVerifier> = {}): JwtVerifier {
  return { publicKeys: [], leewaySeconds: 30, ...over };
}
const hs = verifier({ hmacSecret: Buffer.from(SECRET) });
const rs = verifier({ publicKeys: [rsa.publicKey] });
const es = verifier({ publicKeys: [ec.publicKey] });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token with any header and payload, HMAC-signed with `key`. */
function handMade(header: object, payload: object, key: string | KeyObject = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const secret = typeof key === 'string' ? key : key.export({ type: 'spki', format: 'pem' });
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
}
/** Replaces one character in the middle of a segment (the last one may carry unused bits). */
function flip(segment: string): string {
  const i = Math.floor(segment.length / 2);
  return segment.slice(0, i) + (segment[i] === 'A' ? 'B' : 'A') + segment.slice(i + 1);
}

const claims = { sub: 'alice', role: 'publisher', exp: NOW_S + 600 };

describe('verifyJwt', () => {
  it('accepts HS256, RS256 and ES256 tokens signed with the configured keys', () => {
    const hsToken = signJwt(claims, { secret: SECRET }, { nowMs: NOW });
    const rsToken = signJwt(claims, { privateKeyPem: rsaPrivatePem, alg: 'RS256' }, { nowMs: NOW });
    const esToken = signJwt(claims, { privateKeyPem: ecPrivatePem, alg: 'ES256' }, { nowMs: NOW });
    const expected = { ...claims, iat: NOW_S };
    expect(verifyJwt(hsToken, hs, NOW)).toEqual(expected);
    expect(verifyJwt(rsToken, rs, NOW)).toEqual(expected);
    expect(verifyJwt(esToken, es, NOW)).toEqual(expected);
    expect(JSON.parse(Buffer.from(esToken.split('.')[0], 'base64url').toString())).toEqual({
      alg: 'ES256',
      typ: 'JWT',
    });
    // JWS ES256 signatures are r‖s, 64 bytes.
    expect(Buffer.from(esToken.split('.')[2], 'base64url')).toHaveLength(64);
  });

  it('tries every configured public key (rotation)', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = signJwt(claims, { privateKeyPem: rsaPrivatePem, alg: 'RS256' }, { nowMs: NOW });
    expect(
      verifyJwt(
        token,
        verifier({ publicKeys: [other.publicKey, ec.publicKey, rsa.publicKey] }),
        NOW,
      ).sub,
    ).toBe('alice');
    expect(reason(() => verifyJwt(token, verifier({ publicKeys: [other.publicKey] }), NOW))).toBe(
      'bad signature',
    );
  });

  it('refuses expired tokens, with 30 s of leeway', () => {
    const token = signJwt({ sub: 'a', exp: NOW_S }, { secret: SECRET });
    expect(verifyJwt(token, hs, NOW + 29_000).sub).toBe('a');
    expect(reason(() => verifyJwt(token, hs, NOW + 30_000))).toBe('token expired');
    expect(reason(() => verifyJwt(token, hs, NOW + 3_600_000))).toBe('token expired');
  });

  it('refuses tokens that are not yet valid, with 30 s of leeway', () => {
    const token = signJwt({ sub: 'a', nbf: NOW_S + 60, exp: NOW_S + 600 }, { secret: SECRET });
    expect(reason(() => verifyJwt(token, hs, NOW))).toBe('token not yet valid');
    expect(reason(() => verifyJwt(token, hs, NOW + 29_000))).toBe('token not yet valid');
    expect(verifyJwt(token, hs, NOW + 30_000).sub).toBe('a');
  });

  it('refuses tokens without exp, or with a non-numeric exp or nbf', () => {
    expect(reason(() => verifyJwt(handMade({ alg: 'HS256' }, { sub: 'a' }), hs, NOW))).toBe(
      'token has no exp',
    );
    expect(
      reason(() =>
        verifyJwt(handMade({ alg: 'HS256' }, { sub: 'a', exp: `${NOW_S + 60}` }), hs, NOW),
      ),
    ).toBe('token has no exp');
    expect(
      reason(() =>
        verifyJwt(handMade({ alg: 'HS256' }, { exp: NOW_S + 60, nbf: 'soon' }), hs, NOW),
      ),
    ).toBe('nbf is not a number');
  });

  it('checks iss and aud when configured', () => {
    const strict = { ...hs, issuer: 'https://idp.example', audience: 'mlops' };
    const sign = (extra: object) =>
      signJwt({ sub: 'a', ...extra }, { secret: SECRET }, { nowMs: NOW });
    expect(verifyJwt(sign({ iss: 'https://idp.example', aud: 'mlops' }), strict, NOW).sub).toBe(
      'a',
    );
    expect(
      verifyJwt(sign({ iss: 'https://idp.example', aud: ['other', 'mlops'] }), strict, NOW).sub,
    ).toBe('a');
    expect(
      reason(() => verifyJwt(sign({ iss: 'https://evil.example', aud: 'mlops' }), strict, NOW)),
    ).toBe('wrong issuer');
    expect(reason(() => verifyJwt(sign({ aud: 'mlops' }), strict, NOW))).toBe('wrong issuer');
    expect(
      reason(() => verifyJwt(sign({ iss: 'https://idp.example', aud: 'other' }), strict, NOW)),
    ).toBe('wrong audience');
    expect(
      reason(() => verifyJwt(sign({ iss: 'https://idp.example', aud: ['a', 'b'] }), strict, NOW)),
    ).toBe('wrong audience');
    expect(reason(() => verifyJwt(sign({ iss: 'https://idp.example' }), strict, NOW))).toBe(
      'wrong audience',
    );
    // Not configured: not checked.
    expect(verifyJwt(sign({ iss: 'anyone', aud: 'anything' }), hs, NOW).sub).toBe('a');
  });

  it('refuses a tampered payload and a tampered signature', () => {
    for (const [key, v] of [
      [{ secret: SECRET }, hs],
      [{ privateKeyPem: rsaPrivatePem, alg: 'RS256' }, rs],
      [{ privateKeyPem: ecPrivatePem, alg: 'ES256' }, es],
    ] as const) {
      const [h, p, s] = signJwt(claims, key, { nowMs: NOW }).split('.') as [string, string, string];
      const promoted = b64({ ...claims, iat: NOW_S, role: 'admin' });
      expect(reason(() => verifyJwt(`${h}.${promoted}.${s}`, v, NOW))).toBe('bad signature');
      expect(reason(() => verifyJwt(`${h}.${flip(p)}.${s}`, v, NOW))).toBe('bad signature');
      expect(reason(() => verifyJwt(`${h}.${p}.${flip(s)}`, v, NOW))).toBe('bad signature');
      expect(reason(() => verifyJwt(`${h}.${p}.`, v, NOW))).toBe('bad signature');
    }
  });

  it('refuses a signature spelled in non-canonical base64url', () => {
    const token = signJwt(claims, { secret: SECRET }, { nowMs: NOW });
    const [h, p, s] = token.split('.') as [string, string, string];
    // 32 bytes are 43 characters whose last carries 2 unused bits: change only those.
    const last = s.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1];
    expect(Buffer.from(s.slice(0, -1) + twin, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    expect(reason(() => verifyJwt(`${h}.${p}.${s.slice(0, -1)}${twin}`, hs, NOW))).toBe(
      'signature is not base64url',
    );
    expect(reason(() => verifyJwt(`${h}.${p}.${s}=`, hs, NOW))).toBe('signature is not base64url');
  });

  it('refuses alg none, in any spelling, even with an empty signature', () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`;
      expect(reason(() => verifyJwt(unsigned, hs, NOW))).toBe(
        'unsigned tokens (alg none) are not accepted',
      );
    }
  });

  it('refuses an HS256 token signed with the RSA public key when only RS256 is configured (alg confusion)', () => {
    const forged = handMade(
      { alg: 'HS256', typ: 'JWT' },
      { ...claims, role: 'admin' },
      rsa.publicKey,
    );
    expect(reason(() => verifyJwt(forged, rs, NOW))).toBe('algorithm HS256 is not accepted');
    // Even with both configured, HS256 checks only against the shared secret.
    expect(reason(() => verifyJwt(forged, { ...rs, hmacSecret: Buffer.from(SECRET) }, NOW))).toBe(
      'bad signature',
    );
    expect(rsaPublicPem).toContain('BEGIN PUBLIC KEY');
  });

  it('refuses algorithms that are not configured, and a key used for the wrong algorithm', () => {
    const esToken = signJwt(claims, { privateKeyPem: ecPrivatePem, alg: 'ES256' }, { nowMs: NOW });
    expect(reason(() => verifyJwt(esToken, rs, NOW))).toBe('algorithm ES256 is not accepted');
    expect(reason(() => verifyJwt(esToken, hs, NOW))).toBe('algorithm ES256 is not accepted');
    // An RS256 header over an ES256 signature: the RSA key finds it bad, the EC key is not asked.
    const [, p, s] = esToken.split('.') as [string, string, string];
    const relabelled = `${b64({ alg: 'RS256', typ: 'JWT' })}.${p}.${s}`;
    expect(
      reason(() =>
        verifyJwt(relabelled, verifier({ publicKeys: [rsa.publicKey, ec.publicKey] }), NOW),
      ),
    ).toBe('bad signature');
    for (const alg of ['HS512', 'RS384', 'PS256', 'EdDSA']) {
      expect(reason(() => verifyJwt(handMade({ alg }, claims), hs, NOW))).toBe(
        `algorithm ${alg} is not accepted`,
      );
    }
  });

  it('refuses malformed tokens and critical header extensions', () => {
    expect(reason(() => verifyJwt('a.b', hs, NOW))).toBe('malformed token');
    expect(reason(() => verifyJwt('a.b.c.d', hs, NOW))).toBe('malformed token');
    expect(
      reason(() => verifyJwt(`${Buffer.from('{nope').toString('base64url')}.e30.x`, hs, NOW)),
    ).toBe('header is not JSON');
    expect(reason(() => verifyJwt(`${b64([1])}.e30.x`, hs, NOW))).toBe(
      'header is not a JSON object',
    );
    expect(reason(() => verifyJwt(`${b64({ typ: 'JWT' })}.e30.x`, hs, NOW))).toBe(
      'header has no alg',
    );
    expect(reason(() => verifyJwt(`a*b.${b64(claims)}.x`, hs, NOW))).toBe(
      'header is not base64url',
    );
    expect(
      reason(() => verifyJwt(handMade({ alg: 'HS256', crit: ['exp'] }, claims), hs, NOW)),
    ).toBe('critical header extensions are not supported');
    expect(reason(() => verifyJwt(handMade({ alg: 'HS256' }, [claims]), hs, NOW))).toBe(
      'payload is not a JSON object',
    );
  });
});

describe('signJwt', () => {
  it('adds iat, and exp one hour later unless given', () => {
    const token = signJwt({ sub: 'cli' }, { secret: SECRET }, { nowMs: NOW, kid: 'k1' });
    const [h, p] = token.split('.') as [string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
      kid: 'k1',
    });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual({
      sub: 'cli',
      iat: NOW_S,
      exp: NOW_S + 3600,
    });
    const short = signJwt({ sub: 'cli' }, { secret: SECRET }, { nowMs: NOW, expiresInSeconds: 60 });
    expect(verifyJwt(short, hs, NOW).exp).toBe(NOW_S + 60);
    expect(
      verifyJwt(
        signJwt({ sub: 'cli', exp: NOW_S + 5 }, { secret: SECRET }, { nowMs: NOW }),
        hs,
        NOW,
      ).exp,
    ).toBe(NOW_S + 5);
  });

  it('refuses a private key that does not fit the algorithm', () => {
    expect(() => signJwt(claims, { privateKeyPem: rsaPrivatePem, alg: 'ES256' })).toThrow(
      'the private key cannot sign ES256 (it is an RS256 key)',
    );
    expect(() => signJwt(claims, { privateKeyPem: ecPrivatePem, alg: 'RS256' })).toThrow(
      'the private key cannot sign RS256 (it is an ES256 key)',
    );
  });
});
