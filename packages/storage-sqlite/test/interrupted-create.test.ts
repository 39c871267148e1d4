/**
 * Opening a file whose creation was killed part way (issue 9, finding 4): what each instant of
 * an interrupted creation leaves on disk must open as a new database, the rollback journal it
 * may leave being played back, rather than be refused on every later attempt.
 */
import { existsSync } from 'node:fs';
import { guardBackend } from '@proto/atom/storage';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../src/index.js';
import { freshPath, scratchDir } from './helpers.js';
import { spilledTransaction, tablelessPageOne, writeJournal } from './journals.js';

const dir = scratchDir('interrupted-create');

/** Opens `path`, checks it is a new, working ProtoBase database, and returns its user_version. */
async function expectNewDatabase(path: string): Promise<number> {
  const backend = guardBackend(await openSqliteBackend({ path }));
  expect(existsSync(`${path}-journal`)).toBe(false);
  expect(await backend.readRoot()).toBeNull();
  const [pointer] = await backend.writeAtoms([Uint8Array.of(4, 2)]);
  expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
  await backend.close();
  const reopened = guardBackend(await openSqliteBackend({ path }));
  expect(await reopened.readRoot()).toBe(pointer);
  expect(await reopened.readAtom(pointer as string)).toEqual(Uint8Array.of(4, 2));
  await reopened.close();
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
}

describe('storage-sqlite: a creation killed part way', () => {
  // issue 9, finding 4: `auto_vacuum` had written page 1 and the commit had not yet deleted
  // the journal (which began on an empty file), so a read-only probe failed with
  // SQLITE_READONLY_ROLLBACK at every open.
  it('opens as a new database when the kill left page 1 and the journal of the empty file', async () => {
    const path = freshPath(dir, 'page-one-written');
    tablelessPageOne(path);
    writeJournal(path, 0, new Map());
    await expectNewDatabase(path);
  });

  // issue 9, finding 4: the kill landed while `journal_mode = WAL` rewrote page 1; the journal
  // holds page 1 as it was (user_version 0), the file a changed page 1 (user_version 7).
  it('opens as a new database, rolling page 1 back, when the kill landed in the switch to WAL mode', async () => {
    const path = freshPath(dir, 'switching-to-wal');
    const original = tablelessPageOne(freshPath(dir, 'scratch'));
    tablelessPageOne(path, 7);
    writeJournal(path, 1, new Map([[1, original]]));
    // The journal was played back: page 1 is the one from before the interrupted transaction.
    expect(await expectNewDatabase(path)).toBe(0);
  });

  // issue 9, finding 4: the same state as SQLite itself leaves it (a journal of a transaction
  // that began on a table-less page 1, pages of it already in the file).
  it('opens as a new database when a transaction begun on a table-less page 1 was killed', async () => {
    const path = freshPath(dir, 'spilled');
    spilledTransaction(freshPath(dir, 'scratch'), path, (db) => db.pragma('auto_vacuum = INCREMENTAL'));
    await expectNewDatabase(path);
  });

  // issue 9, finding 4: a transaction begun on a 0-byte file: page 1 (still being built in
  // memory) is all zeros in the file, so the file has no SQLite header yet.
  it('opens as a new database when a transaction begun on an empty file was killed', async () => {
    const path = freshPath(dir, 'spilled-empty');
    spilledTransaction(freshPath(dir, 'scratch'), path, () => {});
    await expectNewDatabase(path);
  });
});
