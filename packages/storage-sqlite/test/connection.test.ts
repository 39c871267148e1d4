/**
 * Opening on a connection the caller already has: a better-sqlite3 `Database` (or anything of
 * the same shape) is accepted as it is, shared with the caller's own tables, and left open.
 */
import { guardBackend } from '@proto/atom/storage';
import Database from 'better-sqlite3';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { openSqliteBackend, type SqliteDatabaseLike } from '../src/index.js';
import { freshPath, scratchDir } from './helpers.js';

const dir = scratchDir('connection');

/** A structural stand-in that records the SQL run through `exec`. */
function recording(database: Database.Database): { connection: SqliteDatabaseLike; execs: string[] } {
  const execs: string[] = [];
  return {
    execs,
    connection: {
      prepare: (sql) => database.prepare(sql),
      exec: (sql) => {
        execs.push(sql);
        return database.exec(sql);
      },
      close: () => database.close(),
    },
  };
}

describe('storage-sqlite: an already open connection', () => {
  it('accepts a better-sqlite3 Database typed structurally when the caller passes one', async () => {
    expectTypeOf<Database.Database>().toExtend<SqliteDatabaseLike>();
    const path = freshPath(dir);
    const database = new Database(path);
    const backend = guardBackend(await openSqliteBackend({ database }));
    expect(backend.name).toBe(`sqlite:${path}`);
    expect(backend.capabilities).toMatchObject({
      persistent: true,
      durable: true,
      multiProcess: true,
      syncReads: true,
    });
    const [pointer] = await backend.writeAtoms([Uint8Array.of(7, 8, 9)]);
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    expect(backend.readAtomSync?.(pointer as string)).toEqual(Uint8Array.of(7, 8, 9));
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    await backend.close();
    // The caller owns the connection: it stays open and sees the data.
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT pointer FROM proto_root').get()).toEqual({ pointer });
    database.close();

    const reopened = guardBackend(await openSqliteBackend({ path }));
    expect(await reopened.readRoot()).toBe(pointer);
    await reopened.close();
  });

  it('shares a database with the caller’s own tables when they pass the connection', async () => {
    const database = new Database(freshPath(dir));
    database.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')",
    );
    const backend = guardBackend(await openSqliteBackend({ database, closeDatabase: true }));
    const [pointer] = await backend.writeAtoms([Uint8Array.of(1)]);
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    expect(database.prepare('SELECT name FROM users').all()).toEqual([{ name: 'ada' }]);
    await backend.close();
    expect(database.open).toBe(false);
  });

  it('declares neither persistent nor durable when the connection is in memory', async () => {
    const database = new Database(':memory:');
    const backend = guardBackend(await openSqliteBackend({ database }));
    expect(backend.capabilities).toMatchObject({ persistent: false, durable: false, multiProcess: false });
    const [pointer] = await backend.writeAtoms([Uint8Array.of(1, 2)]);
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    expect(await backend.readRoot()).toBe(pointer);
    await backend.close();
    database.close();
  });

  it('commits in one transaction and one sync when compare-and-set calls arrive together', async () => {
    const database = new Database(freshPath(dir));
    const { connection, execs } = recording(database);
    const backend = guardBackend(await openSqliteBackend({ database: connection }));
    const nodes = await backend.writeAtoms(Array.from({ length: 16 }, (_, i) => Uint8Array.of(i)));
    const before = execs.length;
    // A chain issued at once: each call expects the previous one's root.
    const results = await Promise.all(
      nodes.map((pointer, i) =>
        backend.compareAndSetRoot(i === 0 ? null : (nodes[i - 1] as string), pointer),
      ),
    );
    expect(results).toEqual(nodes.map(() => true));
    const during = execs.slice(before);
    expect(during.filter((sql) => sql === 'BEGIN IMMEDIATE')).toHaveLength(1);
    expect(during.filter((sql) => sql === 'PRAGMA synchronous = FULL')).toHaveLength(1);
    expect(await backend.readRoot()).toBe(nodes.at(-1));

    // Racing commits, each written then compare-and-set from the same root: one wins, one sync.
    const racers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const [pointer] = await backend.writeAtoms([Uint8Array.of(100 + i)]);
        return backend.compareAndSetRoot(nodes.at(-1) as string, pointer as string);
      }),
    );
    expect(racers.filter(Boolean)).toHaveLength(1);
    expect(execs.slice(before).filter((sql) => sql === 'PRAGMA synchronous = FULL')).toHaveLength(2);
    await backend.close();
    database.close();
  });

  it('rejects with invalid-argument when the database is not a connection', async () => {
    await expect(openSqliteBackend({ database: {} as SqliteDatabaseLike })).rejects.toMatchObject({
      reason: 'invalid-argument',
    });
  });
});
