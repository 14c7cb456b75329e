import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL that tests and benchmarks use (`.ci/run` starts it; the role has CREATEDB). */
export const POSTGRES_TEST_URL =
  process.env.DATABASE_URL_TEST ?? 'postgres://mlops:mlops@127.0.0.1:5432/mlops';

/** A URL for logs, without the password. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * A fresh database on the test server, so a backend is exercised from empty; `drop` removes it.
 * Unreachable PostgreSQL is an error naming the URL, never a skip.
 */
export async function freshDatabase(
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({
    connectionString: POSTGRES_TEST_URL,
    connectionTimeoutMillis: 5_000,
  });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${redactUrl(POSTGRES_TEST_URL)} is not reachable (set DATABASE_URL_TEST): ${(err as Error).message}`,
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_TEST_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_TEST_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
