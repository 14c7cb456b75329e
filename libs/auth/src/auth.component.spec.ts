import 'reflect-metadata';
import {
  Body,
  Catch,
  Controller,
  Delete,
  Get,
  Module,
  Param,
  Post,
  Req,
  UseFilters,
  type ArgumentsHost,
  type DynamicModule,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mlops/config';
import { ApiExceptionFilter } from '@mlops/nest-kit';
import { ObservabilityModule } from '@mlops/observability';
import type { AuthPrincipal } from './authenticator';
import { AuthModule } from './auth.module';
import { AuthEnv } from './config';
import { Principal, principalOf, Public, ReadOnly, Roles } from './decorators';
import { AuthError, sendAuthError } from './errors';
import { signJwt } from './jwt';

const SECRET = 'component-test-secret-0123456789abcdef';
const KEYS = {
  viewer: 'viewer-key-000000000000',
  publisher: 'publisher-key-000000000',
  admin: 'admin-key-0000000000000',
};
const API_KEYS = `${KEYS.viewer}:viewer:grafana,${KEYS.publisher}:publisher:ci,${KEYS.admin}:admin:ops`;
const NEEDED = 'authentication required: send Authorization: Bearer <token> or X-API-Key';

@Controller('v1/things')
class ThingsController {
  @Get()
  list(@Principal() caller: AuthPrincipal) {
    return { caller };
  }

  @Post()
  create(@Body() body: unknown, @Principal() caller: AuthPrincipal) {
    return { created: body, by: caller.subject };
  }

  @Roles('admin')
  @Delete(':id')
  remove(@Param('id') id: string, @Req() req: Request) {
    return { deleted: id, by: principalOf(req).subject };
  }

  @Public()
  @Post('ping')
  ping() {
    return { pong: true };
  }
}

/** What the registry's MLflow filter does with an AuthError. */
@Catch(AuthError)
class MlflowAuthFilter implements ExceptionFilter {
  catch(err: AuthError, host: ArgumentsHost): void {
    sendAuthError(host.switchToHttp().getResponse<Response>(), err, 'mlflow');
  }
}

@Controller('api/2.0/mlflow/registered-models')
@UseFilters(MlflowAuthFilter)
class MlflowController {
  @Post('create')
  create(@Principal() caller: AuthPrincipal) {
    return { registered_model: { name: 'm', user_id: caller.subject } };
  }

  @ReadOnly()
  @Post('search')
  search() {
    return { registered_models: [] };
  }
}

@Module({})
class TestAppModule {
  static forRoot(env: NodeJS.ProcessEnv, logger: pino.Logger): DynamicModule {
    return {
      module: TestAppModule,
      imports: [
        ObservabilityModule.forRoot({ logger, registry: new Registry() }),
        AuthModule.forRoot(loadConfig('test', AuthEnv, env)),
      ],
      controllers: [ThingsController, MlflowController],
      providers: [{ provide: APP_FILTER, useValue: new ApiExceptionFilter(logger) }],
    };
  }
}

interface TestApp {
  call: (
    method: string,
    path: string,
    headers?: Record<string, string>,
    body?: unknown,
  ) => Promise<Reply>;
  logs: Record<string, unknown>[];
  close: () => Promise<void>;
}
interface Reply {
  status: number;
  body: unknown;
  wwwAuthenticate: string | null;
}

async function start(env: NodeJS.ProcessEnv): Promise<TestApp> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const app: INestApplication = await NestFactory.create(TestAppModule.forRoot(env, logger), {
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    logs,
    close: () => app.close(),
    call: async (method, path, headers = {}, body) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const json = res.headers.get('content-type')?.startsWith('application/json') ?? false;
      return {
        status: res.status,
        body: json ? JSON.parse(text) : text || null,
        wwwAuthenticate: res.headers.get('www-authenticate'),
      };
    },
  };
}

const key = (role: keyof typeof KEYS) => ({ 'x-api-key': KEYS[role] });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jwt = (sub: string, role: unknown) => signJwt({ sub, role }, { secret: SECRET });

describe('AuthModule in a Nest app (reads open)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await start({
      AUTH_MODE: 'api-key,jwt',
      AUTH_API_KEYS: API_KEYS,
      AUTH_JWT_SECRET: SECRET,
    });
  });
  afterAll(() => app.close());

  it('answers a write without a credential with 401 and WWW-Authenticate', async () => {
    expect(await app.call('POST', '/v1/things', {}, { name: 'x' })).toEqual({
      status: 401,
      body: { error: { code: 'unauthenticated', message: NEEDED } },
      wwwAuthenticate: 'Bearer',
    });
  });

  it('answers a write by a viewer with 403', async () => {
    for (const credential of [key('viewer'), bearer(KEYS.viewer), bearer(jwt('vera', 'viewer'))]) {
      const reply = await app.call('POST', '/v1/things', credential, { name: 'x' });
      expect(reply.status).toBe(403);
      expect(reply.wwwAuthenticate).toBeNull();
      expect(reply.body).toEqual({
        error: {
          code: 'forbidden',
          message: expect.stringMatching(
            /^requires the publisher role; (grafana|vera) is a viewer$/,
          ),
        },
      });
    }
  });

  it('lets a publisher write, and hands the handler its subject', async () => {
    expect(
      await app.call('POST', '/v1/things', bearer(jwt('alice', ['viewer', 'publisher'])), {
        name: 'x',
      }),
    ).toEqual({
      status: 201,
      body: { created: { name: 'x' }, by: 'alice' },
      wwwAuthenticate: null,
    });
    expect((await app.call('POST', '/v1/things', key('publisher'), { n: 1 })).body).toEqual({
      created: { n: 1 },
      by: 'ci',
    });
    expect((await app.call('POST', '/v1/things', bearer(KEYS.admin), { n: 2 })).body).toEqual({
      created: { n: 2 },
      by: 'ops',
    });
  });

  it('keeps @Roles("admin") from publishers', async () => {
    expect(await app.call('DELETE', '/v1/things/7', key('publisher'))).toEqual({
      status: 403,
      body: { error: { code: 'forbidden', message: 'requires the admin role; ci is a publisher' } },
      wwwAuthenticate: null,
    });
    expect(
      (await app.call('DELETE', '/v1/things/7', bearer(jwt('alice', 'publisher')))).status,
    ).toBe(403);
    expect(await app.call('DELETE', '/v1/things/7', key('admin'))).toEqual({
      status: 200,
      body: { deleted: '7', by: 'ops' },
      wwwAuthenticate: null,
    });
    expect((await app.call('DELETE', '/v1/things/8', bearer(jwt('root', 'admin')))).body).toEqual({
      deleted: '8',
      by: 'root',
    });
    expect((await app.call('DELETE', '/v1/things/7')).status).toBe(401);
  });

  it('opens reads to anonymous callers, and still names a caller who sends a credential', async () => {
    expect(await app.call('GET', '/v1/things')).toEqual({
      status: 200,
      body: { caller: { subject: 'anonymous', role: 'viewer', via: 'anonymous' } },
      wwwAuthenticate: null,
    });
    expect((await app.call('GET', '/v1/things', key('viewer'))).body).toEqual({
      caller: { subject: 'grafana', role: 'viewer', via: 'api-key' },
    });
    expect((await app.call('GET', '/v1/things', bearer(jwt('alice', 'publisher')))).body).toEqual({
      caller: { subject: 'alice', role: 'publisher', via: 'jwt' },
    });
  });

  it('refuses a bad JWT or an unknown key with 401, even on an open read', async () => {
    const [h, , s] = jwt('alice', 'publisher').split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'alice', role: 'admin', exp: 9e9 })).toString('base64url')}.${s}`;
    expect(await app.call('DELETE', '/v1/things/7', bearer(forged))).toEqual({
      status: 401,
      body: { error: { code: 'unauthenticated', message: 'invalid token: bad signature' } },
      wwwAuthenticate: 'Bearer error="invalid_token"',
    });
    const expired = signJwt(
      { sub: 'alice', role: 'admin' },
      { secret: SECRET },
      { nowMs: Date.now() - 7_200_000 },
    );
    expect((await app.call('GET', '/v1/things', bearer(expired))).body).toEqual({
      error: { code: 'unauthenticated', message: 'invalid token: token expired' },
    });
    const otherSecret = signJwt({ sub: 'alice', role: 'admin' }, { secret: `${SECRET}-other` });
    expect((await app.call('POST', '/v1/things', bearer(otherSecret), {})).status).toBe(401);
    expect(await app.call('GET', '/v1/things', { 'x-api-key': 'not-a-key-000000000000' })).toEqual({
      status: 401,
      body: { error: { code: 'unauthenticated', message: 'unknown API key' } },
      wwwAuthenticate: 'Bearer error="invalid_token"',
    });
  });

  it('never checks @Public() endpoints', async () => {
    expect(await app.call('POST', '/v1/things/ping')).toEqual({
      status: 201,
      body: { pong: true },
      wwwAuthenticate: null,
    });
    expect(
      (await app.call('POST', '/v1/things/ping', { authorization: 'Basic nope' })).status,
    ).toBe(201);
  });

  it('speaks MLflow’s error shape on the MLflow API', async () => {
    expect(
      await app.call('POST', '/api/2.0/mlflow/registered-models/create', {}, { name: 'm' }),
    ).toEqual({
      status: 401,
      body: { error_code: 'UNAUTHENTICATED', message: NEEDED },
      wwwAuthenticate: 'Bearer',
    });
    expect(
      await app.call('POST', '/api/2.0/mlflow/registered-models/create', key('viewer'), {
        name: 'm',
      }),
    ).toEqual({
      status: 403,
      body: {
        error_code: 'PERMISSION_DENIED',
        message: 'requires the publisher role; grafana is a viewer',
      },
      wwwAuthenticate: null,
    });
    expect(
      (
        await app.call('POST', '/api/2.0/mlflow/registered-models/create', key('publisher'), {
          name: 'm',
        })
      ).body,
    ).toEqual({
      registered_model: { name: 'm', user_id: 'ci' },
    });
    // A POST that only reads (@ReadOnly) is open like a GET.
    expect(
      (await app.call('POST', '/api/2.0/mlflow/registered-models/search', {}, {})).status,
    ).toBe(201);
  });

  it('logs what it accepts at start, without secrets', () => {
    const line = app.logs.find((l) => l.msg === 'auth enabled');
    expect(line).toMatchObject({
      level: 30,
      mode: 'api-key,jwt',
      openReads: true,
      apiKeys: 3,
      jwtAlgorithms: ['HS256'],
    });
    expect(JSON.stringify(app.logs)).not.toContain(SECRET);
    expect(JSON.stringify(app.logs)).not.toContain(KEYS.admin);
  });
});

describe('AuthModule in a Nest app (reads closed)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await start({ AUTH_MODE: 'api-key', AUTH_API_KEYS: API_KEYS, AUTH_OPEN_READS: 'false' });
  });
  afterAll(() => app.close());

  it('needs a viewer credential to read', async () => {
    expect(await app.call('GET', '/v1/things')).toEqual({
      status: 401,
      body: { error: { code: 'unauthenticated', message: NEEDED } },
      wwwAuthenticate: 'Bearer',
    });
    expect((await app.call('GET', '/v1/things', key('viewer'))).body).toEqual({
      caller: { subject: 'grafana', role: 'viewer', via: 'api-key' },
    });
    expect(
      (await app.call('POST', '/api/2.0/mlflow/registered-models/search', {}, {})).body,
    ).toEqual({
      error_code: 'UNAUTHENTICATED',
      message: NEEDED,
    });
    expect(
      (await app.call('POST', '/api/2.0/mlflow/registered-models/search', key('viewer'), {}))
        .status,
    ).toBe(201);
  });

  it('refuses JWTs when only API keys are configured', async () => {
    expect((await app.call('GET', '/v1/things', bearer(jwt('alice', 'admin')))).body).toEqual({
      error: { code: 'unauthenticated', message: 'JWTs are not accepted here' },
    });
  });

  it('keeps health probes and metrics open', async () => {
    expect((await app.call('GET', '/health/live')).status).toBe(200);
    expect((await app.call('GET', '/health/ready')).status).toBe(200);
    const metrics = await app.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('http_request_duration_seconds');
  });
});

describe('AuthModule in a Nest app (AUTH_MODE=none)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await start({});
  });
  afterAll(() => app.close());

  it('allows everything as an anonymous admin, and warns once at start', async () => {
    expect(await app.call('DELETE', '/v1/things/3')).toEqual({
      status: 200,
      body: { deleted: '3', by: 'anonymous' },
      wwwAuthenticate: null,
    });
    expect((await app.call('GET', '/v1/things', bearer('whatever'))).body).toEqual({
      caller: { subject: 'anonymous', role: 'admin', via: 'anonymous' },
    });
    const warnings = app.logs.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: 'auth is off (AUTH_MODE=none): every caller is an anonymous admin; set AUTH_MODE in production',
      mode: 'none',
    });
  });
});
