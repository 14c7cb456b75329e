import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { AuthPrincipal, AuthRequirement } from './authenticator';
import type { Role } from './roles';

export const AUTH_REQUIREMENT = 'mlops:auth-requirement';

/**
 * The minimum role for a handler or a whole controller; a handler's decorator wins over its
 * controller's. Without one, reads (GET/HEAD/OPTIONS) need `viewer` and writes `publisher`.
 */
export const Roles = (role: Role) =>
  SetMetadata(AUTH_REQUIREMENT, { role } satisfies AuthRequirement);

/** Never authenticated (health, metrics): credentials are not even looked at. */
export const Public = () =>
  SetMetadata(AUTH_REQUIREMENT, { public: true } satisfies AuthRequirement);

/**
 * A handler that reads although its method is not GET (MLflow's POST searches): it needs
 * `viewer`, and AUTH_OPEN_READS opens it like a GET.
 */
export const ReadOnly = () =>
  SetMetadata(AUTH_REQUIREMENT, { role: 'viewer', readOnly: true } satisfies AuthRequirement);

// Kept beside the request rather than on it: no global typing of Express's Request, and no
// way for a handler to overwrite it by accident.
const principals = new WeakMap<object, AuthPrincipal>();

export function attachPrincipal(req: object, principal: AuthPrincipal): void {
  principals.set(req, principal);
}

/** The caller of a request, for audit records; throws when the guard never saw the request. */
export function principalOf(req: object): AuthPrincipal {
  const principal = principals.get(req);
  if (!principal)
    throw new Error('no principal on this request: is AuthModule.forRoot() imported?');
  return principal;
}

/** The caller of the current request: `handler(@Principal() caller: AuthPrincipal)`. */
export const Principal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthPrincipal =>
    principalOf(ctx.switchToHttp().getRequest<object>()),
);
