/** The platform's roles, weakest first: each one may do everything the ones before it may. */
export const ROLES = ['viewer', 'publisher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Does `held` include the permissions of `required`? */
export function roleAtLeast(held: Role, required: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}

/** The strongest known role among `values`; unknown strings are ignored. */
export function highestRole(values: readonly unknown[]): Role | undefined {
  let best: Role | undefined;
  for (const value of values) {
    if (isRole(value) && (best === undefined || roleAtLeast(value, best))) best = value;
  }
  return best;
}
