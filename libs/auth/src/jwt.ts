import {
  createHmac,
  createPrivateKey,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';

/** The algorithms we verify. `none` and everything else are refused before any other check. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** A JWT that must not be accepted; `reason` is safe to show the caller. */
export class JwtError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JwtError';
  }
}

/** What a token is checked against. Each algorithm is enabled by configuring its key. */
export interface JwtVerifier {
  /** HS256 shared secret. */
  hmacSecret?: Buffer;
  /** RS256 (RSA) and ES256 (P-256) public keys; several allow a rotation. */
  publicKeys: KeyObject[];
  issuer?: string;
  audience?: string;
  /** Clock skew allowed on `exp` and `nbf`. */
  leewaySeconds: number;
}

export type JwtClaims = Record<string, unknown>;

/** Which algorithm a public key verifies, or why it cannot be used. */
export function algorithmOf(key: KeyObject): JwtAlgorithm | { problem: string } {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048
      ? 'RS256'
      : { problem: `RSA key of ${bits} bits; at least 2048 are required` };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? 'ES256' : { problem: `EC curve ${curve}; ES256 needs P-256` };
  }
  return {
    problem: `${key.asymmetricKeyType ?? 'unknown'} keys are not supported (RSA or EC P-256)`,
  };
}

export function configuredAlgorithms(verifier: JwtVerifier): Set<JwtAlgorithm> {
  const algs = new Set<JwtAlgorithm>();
  if (verifier.hmacSecret) algs.add('HS256');
  for (const key of verifier.publicKeys) {
    const alg = algorithmOf(key);
    if (typeof alg === 'string') algs.add(alg);
  }
  return algs;
}

/**
 * Verifies a compact JWS and returns its claims, or throws JwtError. The algorithm in the
 * header only selects among the configured keys, and each key verifies only its own algorithm,
 * so neither `alg: none` nor an HS256 token "signed" with an RSA public key can pass. The
 * signature is checked before anything in the payload is believed.
 */
export function verifyJwt(token: string, verifier: JwtVerifier, nowMs = Date.now()): JwtClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('malformed token');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string') throw new JwtError('header has no alg');
  if (alg.toLowerCase() === 'none')
    throw new JwtError('unsigned tokens (alg none) are not accepted');
  const algorithms = configuredAlgorithms(verifier);
  if (!isJwtAlgorithm(alg) || !algorithms.has(alg)) {
    throw new JwtError(`algorithm ${alg.slice(0, 16)} is not accepted`);
  }
  // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
  if (header.crit !== undefined) throw new JwtError('critical header extensions are not supported');
  const signature = decodeSegment(signaturePart, 'signature');
  const signingInput = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  if (!signatureValid(alg, signingInput, signature, verifier)) throw new JwtError('bad signature');

  const claims = decodeJson(payloadPart, 'payload');
  const now = nowMs / 1000;
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new JwtError('token has no exp');
  if (now >= exp + verifier.leewaySeconds) throw new JwtError('token expired');
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw new JwtError('nbf is not a number');
    if (now + verifier.leewaySeconds < nbf) throw new JwtError('token not yet valid');
  }
  if (verifier.issuer !== undefined && claims.iss !== verifier.issuer)
    throw new JwtError('wrong issuer');
  if (verifier.audience !== undefined) {
    const aud = claims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(verifier.audience)) throw new JwtError('wrong audience');
  }
  return claims;
}

function isJwtAlgorithm(alg: string): alg is JwtAlgorithm {
  return alg === 'HS256' || alg === 'RS256' || alg === 'ES256';
}

function signatureValid(
  alg: JwtAlgorithm,
  input: Buffer,
  signature: Buffer,
  verifier: JwtVerifier,
): boolean {
  switch (alg) {
    case 'HS256': {
      const expected = createHmac('sha256', verifier.hmacSecret!).update(input).digest();
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    }
    case 'RS256':
    case 'ES256':
      return verifier.publicKeys.some((key) => {
        if (algorithmOf(key) !== alg) return false;
        try {
          // JWS carries ECDSA signatures as r‖s (64 bytes), not DER.
          return cryptoVerify(
            'sha256',
            input,
            alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
            signature,
          );
        } catch {
          return false;
        }
      });
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(segment: string, what: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  // Node's decoder skips stray characters and ignores trailing bits; a segment that does not
  // re-encode to itself is not canonical base64url, and two spellings of one token are refused.
  if (!BASE64URL.test(segment) || bytes.toString('base64url') !== segment) {
    throw new JwtError(`${what} is not base64url`);
  }
  return bytes;
}

function decodeJson(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(segment, what).toString('utf8'));
  } catch (err) {
    if (err instanceof JwtError) throw err;
    throw new JwtError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The key to sign with: an HS256 secret, or an RSA / EC P-256 private key in PEM. */
export type JwtSigningKey =
  { secret: string | Buffer } | { privateKeyPem: string; alg: 'RS256' | 'ES256' };

export interface SignJwtOptions {
  /** Lifetime when the claims carry no `exp`; default one hour. */
  expiresInSeconds?: number;
  kid?: string;
  nowMs?: number;
}

/**
 * Mints a token (tests, the CLI). Adds `iat`, and `exp` unless the claims set one, because
 * the verifier refuses tokens that never expire.
 */
export function signJwt(
  claims: JwtClaims,
  key: JwtSigningKey,
  options: SignJwtOptions = {},
): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const payload = {
    iat,
    ...claims,
    ...(claims.exp === undefined ? { exp: iat + (options.expiresInSeconds ?? 3600) } : {}),
  };
  const alg: JwtAlgorithm = 'secret' in key ? 'HS256' : key.alg;
  const header = { alg, typ: 'JWT', ...(options.kid !== undefined ? { kid: options.kid } : {}) };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  let signature: Buffer;
  if ('secret' in key) {
    signature = createHmac('sha256', key.secret).update(input).digest();
  } else {
    const privateKey = createPrivateKey(key.privateKeyPem);
    const keyAlg = algorithmOf(privateKey);
    if (keyAlg !== key.alg) {
      throw new Error(
        `the private key cannot sign ${key.alg}${typeof keyAlg === 'string' ? ` (it is an ${keyAlg} key)` : `: ${keyAlg.problem}`}`,
      );
    }
    signature = cryptoSign(
      'sha256',
      Buffer.from(input),
      key.alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey,
    );
  }
  return `${input}.${signature.toString('base64url')}`;
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
