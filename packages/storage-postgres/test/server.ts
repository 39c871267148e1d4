/**
 * The PostgreSQL server the global setup started, and fresh locations (schemas) in it, dropped
 * after the test file.
 */
import pg from 'pg';
import { afterAll, describe, inject } from 'vitest';

const server = inject('postgres');

/** The server's URL; `undefined` (the tests skip) when there is none, except under CI, where that fails. */
export function serverUrl(): string | undefined {
  if (server.url !== null) return server.url;
  if (process.env.CI === 'true') {
    throw new Error(
      `storage-postgres: CI must run these tests against a real PostgreSQL, and none started: ${server.reason}`,
    );
  }
  return undefined;
}

/**
 * `describe` when a server is there, else a skipped `describe` whose title says why (no
 * PostgreSQL: install the Debian package `postgresql`, or set PROTO_POSTGRES_URL).
 */
export function describeWithServer(title: string, body: (url: string) => void): void {
  const url = serverUrl();
  if (url === undefined) {
    describe.skip(`${title} [skipped: no PostgreSQL server: ${server.reason}; install postgresql or set PROTO_POSTGRES_URL]`, () => {
      body('');
    });
  } else {
    describe(title, () => body(url));
  }
}

let counter = 0;

/** A schema name that no other test uses (the process id keeps parallel files apart). */
export function freshSchema(prefix = 't'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}_${Math.floor(Math.random() * 1e6)}`;
}

/** A pool for the test's own SQL, ended after the file. */
export function adminPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  afterAll(() => pool.end());
  return pool;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
