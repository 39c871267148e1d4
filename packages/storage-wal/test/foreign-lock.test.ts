/**
 * A directory whose `LOCK` file ProtoBase did not write (issue 9, finding 5). ProtoBase creates
 * its lock atomically with its full contents (a temp file hard-linked to `LOCK`), so a `LOCK`
 * that does not parse as one is another program's: the open must refuse it and change nothing,
 * rather than delete it as a stale lock and create a database beside that program's data.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { hasReason, isProtoError } from '@proto/atom/storage';
import { compactWal, openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { bytesOf, commitAtom, tempDir } from './helpers.js';

interface Entry {
  readonly bytes: Buffer;
  readonly mtimeNs: bigint;
}

/** Every name in `dir` with its bytes and mtime, and the directory's own mtime. */
function contents(dir: string): { entries: Map<string, Entry>; mtimeNs: bigint } {
  const entries = new Map<string, Entry>();
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    entries.set(name, { bytes: readFileSync(file), mtimeNs: statSync(file, { bigint: true }).mtimeNs });
  }
  return { entries, mtimeNs: statSync(dir, { bigint: true }).mtimeNs };
}

/** A LevelDB directory as LevelDB leaves it closed: an empty LOCK beside its files. */
function levelDbDirectory(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'LOCK'), '');
  writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000002\n');
  writeFileSync(join(dir, 'MANIFEST-000002'), Buffer.from([0x56, 0xf3, 0x2e, 0x8a, 0x1c, 0x00, 0x01, 0x01]));
  writeFileSync(join(dir, '000003.log'), Buffer.from('\u0000\u0001user:1\u0000ada', 'latin1'));
  writeFileSync(join(dir, 'LOG'), '2026/11/28-10:00:00.000 Recovering log #3\n');
  return dir;
}

/** A tool's directory with a text LOCK file beside its data. */
function textLockDirectory(lock: string): () => string {
  return () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), lock);
    writeFileSync(join(dir, 'data.csv'), 'name,score\nada,3\n');
    return dir;
  };
}

const cases: readonly (readonly [string, () => string, RegExp])[] = [
  ['empty (a LevelDB directory)', levelDbDirectory, /is empty/],
  ['a text file', textLockDirectory('locked by backup-tool, pid 77\n'), /backup-tool/],
  ['JSON without the fields ProtoBase writes', textLockDirectory('{"pid":4242}'), /4242/],
];

describe("storage-wal: a LOCK file that is not ProtoBase's", () => {
  it.each(cases)(
    'refuses with invalid-argument and changes nothing in the directory when LOCK is %s',
    async (_, makeDirectory, found) => {
      // issue 9, finding 5
      const dir = makeDirectory();
      const before = contents(dir);
      for (const attempt of [
        () => openWalBackend({ path: dir }),
        () => compactWal(dir),
        () => openWalBackend({ path: dir }),
      ]) {
        const error = await attempt().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(isProtoError(error), String(error)).toBe(true);
        expect(hasReason(error, 'invalid-argument'), String(error)).toBe(true);
        const message = (error as Error).message;
        expect(message).toContain('[proto:storage-wal]');
        expect(message).toContain(join(dir, 'LOCK'));
        expect(message).toMatch(found);
        expect(message).toMatch(/not written by ProtoBase/);
        expect(message).toMatch(/nothing in it was changed/);
        expect(message).toMatch(/pass the path of a ProtoBase database directory or of a new one/);
        expect(contents(dir)).toEqual(before);
      }
    },
  );

  // issue 9, finding 5: what ProtoBase itself leaves is still recognized. A killed holder leaves
  // a complete LOCK naming a dead pid; a kill while taking the lock leaves at most a temp file.
  it('takes over a lock ProtoBase wrote and removes a half-written temp lock when their process is gone', async () => {
    const dir = tempDir();
    const setup = await openWalBackend({ path: dir });
    const root = await commitAtom(setup, bytesOf('kept'));
    await setup.close();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    expect(gone).toBeGreaterThan(0);
    const stale = { pid: gone, host: hostname(), since: '2026-11-28T10:00:00.000Z' };
    writeFileSync(join(dir, 'LOCK'), `${JSON.stringify(stale)}\n`);
    writeFileSync(join(dir, `LOCK.${gone}.0badcafe.tmp`), '{"pid":');
    const backend = await openWalBackend({ path: dir });
    expect(await backend.readRoot()).toBe(root);
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid).toBe(process.pid);
    expect(readdirSync(dir).filter((name) => name.startsWith('LOCK'))).toEqual(['LOCK']);
    await backend.close();
  });
});
