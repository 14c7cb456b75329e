import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@mlops/config';
import { ApiError } from '@mlops/nest-kit';
import {
  ANONYMOUS_ADMIN,
  ANONYMOUS_VIEWER,
  Authenticator,
  claimAt,
  type AuthRequirement,
} from './authenticator';
import { AuthEnv, authConfigFromEnv } from './config';
import { AuthError, mlflowAuthErrorBody, v1AuthErrorBody } from './errors';
import { signJwt } from './jwt';
import { highestRole, roleAtLeast } from './roles';

const SECRET = 'a-shared-secret-of-32-characters!';
const VIEWER_KEY = 'viewer-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789';

function authenticator(env: NodeJS.ProcessEnv): Authenticator {
  return new Authenticator(authConfigFromEnv(loadConfig('test', AuthEnv, env)), ['/health/live']);
}
const both = authenticator({
  AUTH_MODE: 'api-key,jwt',
  AUTH_API_KEYS: `${VIEWER_KEY}:viewer:grafana,${ADMIN_KEY}:admin:ops`,
  AUTH_JWT_SECRET: SECRET,
  AUTH_OPEN_READS: 'false',
});
const bearer = (token: string): IncomingHttpHeaders => ({ authorization: `Bearer ${token}` });
const jwt = (claims: Record<string, unknown>) =>
  signJwt({ sub: 'alice', ...claims }, { secret: SECRET });

/** The outcome of authorize as "status message" or the principal. */
function outcome(
  a: Authenticator,
  method: string,
  headers: IncomingHttpHeaders,
  requirement?: AuthRequirement,
  path = '/v1/x',
) {
  try {
    return a.authorize({ method, path, headers }, requirement);
  } catch (err) {
    if (err instanceof AuthError) return `${err.status} ${err.message}`;
    throw err;
  }
}

describe('roles', () => {
  it('are ordered viewer < publisher < admin', () => {
    expect(roleAtLeast('admin', 'publisher')).toBe(true);
    expect(roleAtLeast('publisher', 'publisher')).toBe(true);
    expect(roleAtLeast('viewer', 'publisher')).toBe(false);
    expect(highestRole(['viewer', 'admin', 'publisher'])).toBe('admin');
    expect(highestRole(['owner', 42, null])).toBeUndefined();
  });
});

describe('Authenticator', () => {
  it('takes the highest known role from a string or an array claim', () => {
    expect(both.authenticate(bearer(jwt({ role: 'publisher' })))).toEqual({
      subject: 'alice',
      role: 'publisher',
      via: 'jwt',
    });
    expect(
      both.authenticate(bearer(jwt({ role: ['viewer', 'superuser', 'admin', 'publisher'] })))?.role,
    ).toBe('admin');
    expect(outcome(both, 'GET', bearer(jwt({ role: ['superuser'] })))).toBe(
      '403 the token grants no role (claim "role")',
    );
    expect(outcome(both, 'GET', bearer(jwt({})))).toBe(
      '403 the token grants no role (claim "role")',
    );
    expect(outcome(both, 'GET', bearer(signJwt({ role: 'admin' }, { secret: SECRET })))).toBe(
      '401 invalid token: no sub',
    );
  });

  it('reads the role claim by name first, then by dotted path', () => {
    const keycloak = authenticator({
      AUTH_MODE: 'jwt',
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWT_ROLE_CLAIM: 'realm_access.roles',
    });
    expect(
      keycloak.authenticate(
        bearer(jwt({ realm_access: { roles: ['offline_access', 'publisher'] } })),
      )?.role,
    ).toBe('publisher');
    expect(claimAt({ 'https://x.example/roles': ['admin'] }, 'https://x.example/roles')).toEqual([
      'admin',
    ]);
    expect(claimAt({ a: { b: 'viewer' } }, 'a.b')).toBe('viewer');
    expect(claimAt({ a: 'viewer' }, 'a.b')).toBeUndefined();
    expect(claimAt({}, 'constructor')).toBeUndefined();
  });

  it('reads API keys from a Bearer token or X-API-Key', () => {
    expect(both.authenticate(bearer(ADMIN_KEY))).toEqual({
      subject: 'ops',
      role: 'admin',
      via: 'api-key',
    });
    expect(both.authenticate({ 'x-api-key': VIEWER_KEY })).toEqual({
      subject: 'grafana',
      role: 'viewer',
      via: 'api-key',
    });
    expect(both.authenticate({ authorization: `bearer   ${ADMIN_KEY}` })?.subject).toBe('ops');
    expect(both.authenticate({})).toBeUndefined();
    expect(outcome(both, 'GET', { 'x-api-key': `${ADMIN_KEY}x` })).toBe('401 unknown API key');
    expect(outcome(both, 'GET', { authorization: `Basic ${ADMIN_KEY}` })).toBe(
      '401 Authorization must be "Bearer <token>"',
    );
    expect(outcome(both, 'GET', { authorization: 'Bearer' })).toBe(
      '401 Authorization must be "Bearer <token>"',
    );
  });

  it('refuses the kind of credential that the mode does not accept', () => {
    const keysOnly = authenticator({
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: `${ADMIN_KEY}:admin:ops`,
      AUTH_JWT_SECRET: SECRET,
    });
    const jwtOnly = authenticator({
      AUTH_MODE: 'jwt',
      AUTH_API_KEYS: `${ADMIN_KEY}:admin:ops`,
      AUTH_JWT_SECRET: SECRET,
    });
    expect(outcome(keysOnly, 'GET', bearer(jwt({ role: 'admin' })))).toBe(
      '401 JWTs are not accepted here',
    );
    expect(outcome(jwtOnly, 'GET', { 'x-api-key': ADMIN_KEY })).toBe(
      '401 API keys are not accepted here',
    );
    expect(outcome(jwtOnly, 'GET', bearer(ADMIN_KEY))).toBe('401 API keys are not accepted here');
  });

  it('applies the default requirement by method, and decorators over it', () => {
    const viewer = { 'x-api-key': VIEWER_KEY };
    const admin = { 'x-api-key': ADMIN_KEY };
    expect(outcome(both, 'GET', viewer)).toEqual({
      subject: 'grafana',
      role: 'viewer',
      via: 'api-key',
    });
    expect(outcome(both, 'HEAD', viewer)).toMatchObject({ subject: 'grafana' });
    expect(outcome(both, 'PATCH', viewer)).toBe(
      '403 requires the publisher role; grafana is a viewer',
    );
    expect(outcome(both, 'GET', viewer, { role: 'admin' })).toBe(
      '403 requires the admin role; grafana is a viewer',
    );
    expect(outcome(both, 'DELETE', admin, { role: 'admin' })).toMatchObject({ role: 'admin' });
    expect(outcome(both, 'POST', {}, { public: true })).toBe(ANONYMOUS_VIEWER);
    // A public endpoint does not even look at a broken credential.
    expect(outcome(both, 'GET', { authorization: 'Basic x' }, { public: true })).toBe(
      ANONYMOUS_VIEWER,
    );
    expect(outcome(both, 'GET', {}, undefined, '/health/live')).toBe(ANONYMOUS_VIEWER);
    expect(outcome(both, 'POST', {}, undefined, '/health/live')).toBe(
      '401 authentication required: send Authorization: Bearer <token> or X-API-Key',
    );
  });

  it('opens viewer-level reads with AUTH_OPEN_READS, but never writes or stronger reads', () => {
    const open = authenticator({
      AUTH_MODE: 'api-key',
      AUTH_API_KEYS: `${VIEWER_KEY}:viewer:grafana`,
    });
    const needed = '401 authentication required: send Authorization: Bearer <token> or X-API-Key';
    expect(outcome(open, 'GET', {})).toBe(ANONYMOUS_VIEWER);
    expect(outcome(open, 'OPTIONS', {})).toBe(ANONYMOUS_VIEWER);
    expect(outcome(open, 'POST', {}, { role: 'viewer', readOnly: true })).toBe(ANONYMOUS_VIEWER);
    expect(outcome(open, 'POST', {}, { role: 'viewer' })).toBe(needed);
    expect(outcome(open, 'POST', {})).toBe(needed);
    expect(outcome(open, 'GET', {}, { role: 'publisher' })).toBe(needed);
    // A credential that is sent is checked even where none is needed.
    expect(outcome(open, 'GET', { 'x-api-key': 'wrong-key-0123456789' })).toBe(
      '401 unknown API key',
    );
    expect(outcome(open, 'GET', { 'x-api-key': VIEWER_KEY })).toMatchObject({
      subject: 'grafana',
      via: 'api-key',
    });
    expect(outcome(both, 'POST', {}, { role: 'viewer', readOnly: true })).toBe(needed);
  });

  it('lets everything through as an anonymous admin when AUTH_MODE=none', () => {
    const none = authenticator({});
    expect(outcome(none, 'DELETE', {}, { role: 'admin' })).toBe(ANONYMOUS_ADMIN);
    expect(ANONYMOUS_ADMIN).toEqual({ subject: 'anonymous', role: 'admin', via: 'anonymous' });
    expect(none.describe()).toEqual({ mode: 'none', openReads: true, apiKeys: 0 });
  });

  it('describes its settings without secrets', () => {
    expect(both.describe()).toEqual({
      mode: 'api-key,jwt',
      openReads: false,
      apiKeys: 2,
      jwtAlgorithms: ['HS256'],
      issuer: undefined,
      audience: undefined,
      roleClaim: 'role',
    });
  });
});

describe('AuthError', () => {
  it('renders for /v1 and for MLflow', () => {
    const unauthenticated = AuthError.unauthenticated('authentication required');
    const forbidden = AuthError.forbidden('requires the admin role');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.getStatus()).toBe(401);
    expect(forbidden.status).toBe(403);
    expect(unauthenticated).toBeInstanceOf(ApiError);
    expect(unauthenticated.name).toBe('AuthError');
    expect(unauthenticated.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(AuthError.unauthenticated('bad', true).headers).toEqual({
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
    expect(unauthenticated.message).toBe('authentication required');
    expect(v1AuthErrorBody(unauthenticated)).toEqual({
      error: { code: 'unauthenticated', message: 'authentication required' },
    });
    expect(unauthenticated.getResponse()).toEqual(v1AuthErrorBody(unauthenticated));
    expect(v1AuthErrorBody(forbidden)).toEqual({
      error: { code: 'forbidden', message: 'requires the admin role' },
    });
    expect(mlflowAuthErrorBody(unauthenticated)).toEqual({
      error_code: 'UNAUTHENTICATED',
      message: 'authentication required',
    });
    expect(mlflowAuthErrorBody(forbidden)).toEqual({
      error_code: 'PERMISSION_DENIED',
      message: 'requires the admin role',
    });
    expect(forbidden.headers).toEqual({});
  });
});
