/** Checks made when opening, before anything is created: the server version and the options. */
import { hasReason } from '@proto/atom/storage';
import { expect, it } from 'vitest';
import { openPostgresBackend, type PostgresPoolLike } from '../src/index.js';

function poolOfVersion(version: string): { pool: PostgresPoolLike; statements: string[] } {
  const statements: string[] = [];
  const pool: PostgresPoolLike = {
    async query(text) {
      statements.push(text);
      return { rows: text.includes('server_version_num') ? [{ version }] : [], rowCount: 0 };
    },
    async connect() {
      throw new Error('no statement beyond the version check may run');
    },
    async end() {},
  };
  return { pool, statements };
}

it('refuses PostgreSQL 13 with unsupported, naming the version, and runs nothing else', async () => {
  const { pool, statements } = poolOfVersion('130004');
  const error = await openPostgresBackend({ pool }).catch((e: unknown) => e);
  expect(hasReason(error, 'unsupported')).toBe(true);
  expect((error as Error).message).toMatch(/PostgreSQL 13 .*needs PostgreSQL 14 or newer/);
  expect(statements).toHaveLength(1);
});

it('goes past the version check on PostgreSQL 14', async () => {
  const { pool, statements } = poolOfVersion('140000');
  await openPostgresBackend({ pool }).catch(() => undefined);
  expect(statements.length).toBeGreaterThan(1);
});

it('rejects commit timeouts that are not positive integers before running any statement', async () => {
  for (const commitTimeouts of [{ answerMs: 0 }, { connectMs: 1.5 }, { settleMs: -1 }]) {
    const { pool, statements } = poolOfVersion('150000');
    const error = await openPostgresBackend({ pool }, { commitTimeouts }).catch((e: unknown) => e);
    expect(hasReason(error, 'invalid-argument'), JSON.stringify(commitTimeouts)).toBe(true);
    expect(statements).toHaveLength(0);
  }
});
