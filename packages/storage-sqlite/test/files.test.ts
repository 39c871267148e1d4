/**
 * What `openSqliteBackend({ path })` does with files that are not ProtoBase databases: it
 * refuses them with a clear error naming the path, and leaves them exactly as they were.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasReason, isProtoError } from '@proto/atom/storage';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, openSqliteBackend } from '../src/index.js';
import { freshPath, scratchDir } from './helpers.js';
import { spilledTransaction } from './journals.js';

const dir = scratchDir('files');

interface Snapshot {
  readonly bytes: Buffer;
  readonly mtimeNs: bigint;
  readonly sidecars: readonly boolean[];
}

function snapshot(path: string): Snapshot {
  return {
    bytes: readFileSync(path),
    mtimeNs: statSync(path, { bigint: true }).mtimeNs,
    sidecars: ['-wal', '-shm', '-journal'].map((suffix) => existsSync(path + suffix)),
  };
}

/** Opens `path`, expects a StorageError with `reason` naming the path, and the file untouched. */
async function expectRefusedUntouched(
  path: string,
  reason: string,
  mentions: RegExp[] = [],
): Promise<string> {
  const before = snapshot(path);
  let failure: unknown;
  try {
    const backend = await openSqliteBackend({ path });
    await backend.close();
  } catch (error) {
    failure = error;
  }
  expect(isProtoError(failure), String(failure)).toBe(true);
  expect(hasReason(failure, reason as never), String(failure)).toBe(true);
  const message = (failure as Error).message;
  expect(message).toContain(path);
  for (const mention of mentions) expect(message).toMatch(mention);
  const after = snapshot(path);
  expect(after.bytes.equals(before.bytes)).toBe(true);
  expect(after.mtimeNs).toBe(before.mtimeNs);
  expect(after.sidecars).toEqual(before.sidecars);
  return message;
}

function foreignDatabase(journalMode: 'delete' | 'wal'): string {
  const path = freshPath(dir, `foreign-${journalMode}`);
  const db = new Database(path);
  db.pragma(`journal_mode = ${journalMode}`);
  db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')");
  db.close();
  return path;
}

describe('storage-sqlite: files that are not ProtoBase databases', () => {
  it('refuses with corrupt and leaves the file untouched when it holds random bytes', async () => {
    const path = freshPath(dir, 'garbage');
    writeFileSync(path, randomBytes(16 * 1024));
    await expectRefusedUntouched(path, 'corrupt', [/not a SQLite database/]);
  });

  it('refuses with corrupt and leaves the file untouched when it is a short text file', async () => {
    const path = freshPath(dir, 'text');
    writeFileSync(path, 'name,score\nada,3\n');
    await expectRefusedUntouched(path, 'corrupt');
  });

  it('refuses with corrupt and leaves the file untouched when garbage follows a SQLite header', async () => {
    const path = freshPath(dir, 'header');
    writeFileSync(path, Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8192)]));
    await expectRefusedUntouched(path, 'corrupt');
  });

  // Bytes 18 and 19 of the header are its write and read versions; SQLite opens the file in WAL
  // mode when the read version is 2, whatever the write version says. Garbage with those bytes
  // must be refused untouched too: no -wal or -shm left beside it.
  it.each([
    [1, 2],
    [2, 2],
    [2, 1],
    [7, 2],
    [1, 1],
    [200, 1],
    [1, 3],
  ])(
    'refuses garbage whose header has write version %i and read version %i, leaving it untouched',
    async (write, read) => {
      const path = freshPath(dir, `header-${write}-${read}`);
      const garbage = Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8192)]);
      garbage[18] = write;
      garbage[19] = read;
      writeFileSync(path, garbage);
      await expectRefusedUntouched(path, 'corrupt');
    },
  );

  it('refuses with invalid-argument and leaves the file untouched when it is a SQLite database with a users table', async () => {
    const path = foreignDatabase('delete');
    await expectRefusedUntouched(path, 'invalid-argument', [/not a ProtoBase one/, /users/]);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT name FROM users').all()).toEqual([{ name: 'ada' }]);
    db.close();
  });

  it('refuses and leaves the file untouched when another application’s database is in WAL mode', async () => {
    await expectRefusedUntouched(foreignDatabase('wal'), 'invalid-argument', [/users/]);
  });

  // issue 9, finding 4: opening read-write would play the journal back, writing to the other
  // program's data; a read-only probe fails with SQLITE_READONLY_ROLLBACK (reason io).
  it('refuses with invalid-argument and leaves file and journal untouched when a killed write of another program left a hot journal', async () => {
    const path = freshPath(dir, 'foreign-hot-journal');
    spilledTransaction(freshPath(dir, 'scratch'), path, (db) => {
      db.exec(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')",
      );
    });
    const journal = readFileSync(`${path}-journal`);
    const journalMtime = statSync(`${path}-journal`, { bigint: true }).mtimeNs;
    await expectRefusedUntouched(path, 'invalid-argument', [/rollback journal/, /sqlite3 shell/]);
    expect(readFileSync(`${path}-journal`).equals(journal)).toBe(true);
    expect(statSync(`${path}-journal`, { bigint: true }).mtimeNs).toBe(journalMtime);
    // The journal was a real one: SQLite plays it back and the committed row is all there is.
    const db = new Database(path);
    expect(db.prepare('SELECT name FROM users').all()).toEqual([{ name: 'ada' }]);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'spill'").get()).toEqual({
      n: 0,
    });
    db.close();
  });

  // issue 9, finding 4: a journal SQLite would treat as hot but whose header is not SQLite's.
  it('refuses with invalid-argument and leaves the files untouched when the journal beside a SQLite file is not a journal', async () => {
    const path = foreignDatabase('delete');
    writeFileSync(`${path}-journal`, 'not a journal at all');
    await expectRefusedUntouched(path, 'invalid-argument', [/rollback journal/]);
    expect(readFileSync(`${path}-journal`, 'utf8')).toBe('not a journal at all');
  });

  it('refuses with corrupt when proto_meta lacks the format marker', async () => {
    const path = freshPath(dir, 'marker');
    const db = new Database(path);
    db.exec(
      "CREATE TABLE proto_meta (key TEXT PRIMARY KEY, value); INSERT INTO proto_meta VALUES ('format', 'other')",
    );
    db.close();
    await expectRefusedUntouched(path, 'corrupt', [/format marker/]);
  });

  it('refuses with unsupported when the database has a newer format version', async () => {
    const path = freshPath(dir, 'newer');
    await (await openSqliteBackend({ path })).close();
    const db = new Database(path);
    db.prepare("UPDATE proto_meta SET value = ? WHERE key = 'version'").run(FORMAT_VERSION + 1);
    db.close();
    await expectRefusedUntouched(path, 'unsupported', [/upgrade @proto\/storage-sqlite/]);
  });

  it('refuses with invalid-argument when the path is a directory', async () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);
    await expect(openSqliteBackend({ path })).rejects.toSatisfy(
      (error: unknown) => hasReason(error, 'invalid-argument') && (error as Error).message.includes(path),
    );
  });

  it('rejects with an error naming the path when its directory does not exist', async () => {
    const path = join(dir, 'missing-dir', 'db.sqlite');
    await expect(openSqliteBackend({ path })).rejects.toSatisfy(
      (error: unknown) => isProtoError(error) && error.message.includes(path),
    );
    expect(existsSync(join(dir, 'missing-dir'))).toBe(false);
  });

  it('turns an empty file into a new database when it has zero bytes', async () => {
    const path = freshPath(dir, 'empty');
    writeFileSync(path, '');
    const backend = await openSqliteBackend({ path });
    expect(await backend.readRoot()).toBeNull();
    const [pointer] = await backend.writeAtoms([Uint8Array.of(1, 2, 3)]);
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    await backend.close();
    const reopened = await openSqliteBackend({ path });
    expect(await reopened.readRoot()).toBe(pointer);
    await reopened.close();
  });
});
