import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { sha256, type AuthConfig } from './config';
import { AuthError } from './errors';
import { configuredAlgorithms, JwtError, verifyJwt, type JwtClaims } from './jwt';
import { highestRole, roleAtLeast, type Role } from './roles';

/** Who made a request; services record `subject` as the caller in their audit logs. */
export interface AuthPrincipal {
  subject: string;
  role: Role;
  via: 'api-key' | 'jwt' | 'anonymous';
}

/** AUTH_MODE=none: local development, where everything is allowed. */
export const ANONYMOUS_ADMIN: AuthPrincipal = Object.freeze({
  subject: 'anonymous',
  role: 'admin',
  via: 'anonymous',
});
/** A caller without credentials on an open read or a public endpoint. */
export const ANONYMOUS_VIEWER: AuthPrincipal = Object.freeze({
  subject: 'anonymous',
  role: 'viewer',
  via: 'anonymous',
});

/**
 * What an endpoint asks for, from its decorators: `public` (never checked), or a minimum role.
 * `readOnly` marks a non-GET handler (MLflow's POST searches) as a read, which
 * AUTH_OPEN_READS may open.
 */
export type AuthRequirement = { public: true } | { role: Role; readOnly?: boolean };

export interface AuthRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CREDENTIAL_HINT = 'send Authorization: Bearer <token> or X-API-Key';

/**
 * The decisions of the guard, free of Nest: who is calling (API key or JWT), and may they do
 * what the endpoint requires. A credential that is sent is always checked, even where none is
 * needed, so that a client with a broken token hears about it.
 */
export class Authenticator {
  private readonly publicPaths: ReadonlySet<string>;

  constructor(
    readonly config: AuthConfig,
    publicPaths: readonly string[] = [],
  ) {
    this.publicPaths = new Set(publicPaths);
  }

  /** The principal allowed to make this request; throws AuthError (401 or 403) otherwise. */
  authorize(req: AuthRequest, requirement?: AuthRequirement): AuthPrincipal {
    if (this.config.mode === 'none') return ANONYMOUS_ADMIN;
    const read = READ_METHODS.has(req.method.toUpperCase());
    if (requirement && 'public' in requirement) return ANONYMOUS_VIEWER;
    // Routes of libraries that cannot carry our decorators (health probes, metrics).
    if (!requirement && read && this.publicPaths.has(req.path)) return ANONYMOUS_VIEWER;

    const required: Role = requirement?.role ?? (read ? 'viewer' : 'publisher');
    const open =
      this.config.openReads && required === 'viewer' && (read || requirement?.readOnly === true);
    const principal = this.authenticate(req.headers);
    if (!principal) {
      if (open) return ANONYMOUS_VIEWER;
      throw AuthError.unauthenticated(`authentication required: ${CREDENTIAL_HINT}`);
    }
    if (!roleAtLeast(principal.role, required)) {
      throw AuthError.forbidden(
        `requires the ${required} role; ${principal.subject} is a ${principal.role}`,
      );
    }
    return principal;
  }

  /** The caller named by the request's credential, or undefined when it carries none. */
  authenticate(headers: IncomingHttpHeaders): AuthPrincipal | undefined {
    const authorization = headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer +(\S+) *$/i.exec(authorization);
      if (!match) throw AuthError.unauthenticated('Authorization must be "Bearer <token>"', true);
      const token = match[1];
      return token.split('.').length === 3 ? this.fromJwt(token) : this.fromApiKey(token);
    }
    const apiKey = headers['x-api-key'];
    if (apiKey === undefined) return undefined;
    if (Array.isArray(apiKey)) throw AuthError.unauthenticated('send one X-API-Key header', true);
    return this.fromApiKey(apiKey.trim());
  }

  /** For the start-up log line: what is accepted, never the secrets. */
  describe(): Record<string, unknown> {
    const { mode, openReads, apiKeys, jwt } = this.config;
    return {
      mode,
      openReads,
      apiKeys: apiKeys.length,
      ...(jwt
        ? {
            jwtAlgorithms: [...configuredAlgorithms(jwt)],
            issuer: jwt.issuer,
            audience: jwt.audience,
            roleClaim: jwt.roleClaim,
          }
        : {}),
    };
  }

  private fromApiKey(key: string): AuthPrincipal {
    if (this.config.apiKeys.length === 0)
      throw AuthError.unauthenticated('API keys are not accepted here', true);
    const presented = sha256(key);
    let found: { role: Role; subject: string } | undefined;
    // Equal-length digests compared in constant time, and every entry visited, so the time
    // taken says nothing about how close a guess came or which key it matched.
    for (const entry of this.config.apiKeys) {
      if (timingSafeEqual(entry.sha256, presented)) found = entry;
    }
    if (!found) throw AuthError.unauthenticated('unknown API key', true);
    return { subject: found.subject, role: found.role, via: 'api-key' };
  }

  private fromJwt(token: string): AuthPrincipal {
    const jwt = this.config.jwt;
    if (!jwt) throw AuthError.unauthenticated('JWTs are not accepted here', true);
    let claims: JwtClaims;
    try {
      claims = verifyJwt(token, jwt);
    } catch (err) {
      if (err instanceof JwtError)
        throw AuthError.unauthenticated(`invalid token: ${err.reason}`, true);
      throw err;
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw AuthError.unauthenticated('invalid token: no sub', true);
    }
    const value = claimAt(claims, jwt.roleClaim);
    const role = highestRole(Array.isArray(value) ? value : [value]);
    if (!role) throw AuthError.forbidden(`the token grants no role (claim "${jwt.roleClaim}")`);
    return { subject: claims.sub, role, via: 'jwt' };
  }
}

/**
 * A claim by name, else by dotted path (Keycloak's `realm_access.roles`). The name is tried
 * first because namespaced claims (`https://example.com/roles`) contain dots themselves.
 */
export function claimAt(claims: JwtClaims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const step of name.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, step))
      return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}
