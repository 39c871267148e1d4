/**
 * The backend's own checks beyond the conformance suite: checksums on damaged bytes, lock
 * timeouts between connections, options, pointers, and a missing better-sqlite3.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { guardBackend, hasReason, isProtoError } from '@proto/atom/storage';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { childBytes } from '../../../tooling/test-support/chain.js';
import { loadBetterSqlite3 } from '../src/driver.js';
import { openSqliteBackend } from '../src/index.js';
import { runFixture } from './child.js';
import { freshPath, scratchDir } from './helpers.js';

const dir = scratchDir('backend');

const reasonIs = (reason: string) => (error: unknown) => hasReason(error, reason as never);

describe('storage-sqlite: integrity', () => {
  it('rejects with corrupt when stored bytes no longer match their checksum', async () => {
    const path = freshPath(dir);
    const backend = guardBackend(await openSqliteBackend({ path }));
    const [pointer] = await backend.writeAtoms([childBytes('victim', 300)]);
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    const other = new Database(path);
    other
      .prepare('UPDATE proto_atoms SET bytes = ? WHERE id = ?')
      .run(childBytes('other', 300), Number.parseInt(pointer as string, 36));
    other.close();
    await expect(backend.readAtom(pointer as string)).rejects.toSatisfy(
      (error: unknown) => hasReason(error, 'corrupt') && (error as Error).message.includes(path),
    );
    expect(() => backend.readAtomSync?.(pointer as string)).toThrow(/checksum/);
    await backend.close();
  });

  it('rejects with corrupt when a byte of an atom flips in the file', async () => {
    const path = freshPath(dir);
    const bytes = childBytes('flip-me', 3000);
    const backend = guardBackend(await openSqliteBackend({ path }));
    const [pointer] = await backend.writeAtoms([bytes]);
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    await backend.close(); // the last connection checkpoints the WAL into the file
    const file = readFileSync(path);
    const at = file.indexOf(Buffer.from(bytes.subarray(0, 64)));
    expect(at).toBeGreaterThan(0);
    file[at + 1500] = (file[at + 1500] as number) ^ 0x10;
    writeFileSync(path, file);
    const reopened = guardBackend(await openSqliteBackend({ path }));
    await expect(reopened.readAtom(pointer as string)).rejects.toSatisfy(reasonIs('corrupt'));
    await reopened.close();
  });

  it('rejects with not-found when a pointer was never issued', async () => {
    const backend = guardBackend(await openSqliteBackend({ path: freshPath(dir) }));
    const [pointer] = await backend.writeAtoms([Uint8Array.of(1)]);
    for (const unknown of ['zz', 'A', '0', '01', 'zzzzzzzzzzzzz', 'not-a-pointer', `${pointer}0`]) {
      await expect(backend.readAtom(unknown)).rejects.toSatisfy(reasonIs('not-found'));
    }
    await backend.close();
  });
});

describe('storage-sqlite: locks between connections', () => {
  it('rejects with locked (retryable) when another connection holds the write lock past busyTimeoutMs', async () => {
    const path = freshPath(dir);
    const backend = guardBackend(await openSqliteBackend({ path, busyTimeoutMs: 50 }));
    const [pointer] = await backend.writeAtoms([Uint8Array.of(1)]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    await expect(backend.compareAndSetRoot(null, pointer as string)).rejects.toSatisfy(
      (error: unknown) => hasReason(error, 'locked') && isProtoError(error) && error.retryable,
    );
    await expect(backend.writeAtoms([Uint8Array.of(2)])).rejects.toSatisfy(reasonIs('locked'));
    // Reads are not blocked by a writer in WAL mode.
    expect(await backend.readRoot()).toBeNull();
    other.exec('ROLLBACK');
    other.close();
    expect(await backend.compareAndSetRoot(null, pointer as string)).toBe(true);
    await backend.close();
  });
});

describe('storage-sqlite: options', () => {
  it('declares durable false when synchronous is NORMAL', async () => {
    const backend = await openSqliteBackend({ path: freshPath(dir), synchronous: 'NORMAL' });
    expect(backend.capabilities).toMatchObject({
      durable: false,
      persistent: true,
      multiProcess: true,
      reclaim: true,
    });
    await backend.close();
  });

  it('declares durable true, checked reads and the default atom limit when opened with defaults', async () => {
    const backend = await openSqliteBackend({ path: freshPath(dir) });
    expect(backend.capabilities).toEqual({
      durable: true,
      persistent: true,
      syncReads: true,
      multiProcess: true,
      maxAtomBytes: 256 * 1024 * 1024,
      reclaim: true,
      checkedReads: true,
    });
    await backend.close();
  });

  it('rejects with too-large and writes nothing when an atom exceeds maxAtomBytes', async () => {
    const backend = await openSqliteBackend({ path: freshPath(dir), maxAtomBytes: 100 });
    await expect(backend.writeAtoms([new Uint8Array(10), new Uint8Array(101)])).rejects.toSatisfy(
      reasonIs('too-large'),
    );
    const [pointer] = await backend.writeAtoms([new Uint8Array(100)]);
    expect(pointer).toBe('1');
    await backend.close();
  });

  it.each([
    [{ synchronous: 'OFF' }],
    [{ busyTimeoutMs: -1 }],
    [{ maxAtomBytes: 0 }],
    [{ maxAtomBytes: 2_000_000_000 }],
    [{ path: '' }],
  ])('rejects with invalid-argument when given %j', async (options) => {
    await expect(openSqliteBackend({ path: freshPath(dir), ...options } as never)).rejects.toSatisfy(
      reasonIs('invalid-argument'),
    );
  });
});

describe('storage-sqlite: the optional better-sqlite3 dependency', () => {
  it('rejects with unsupported and an install hint when better-sqlite3 cannot be found', async () => {
    const missing = Object.assign(new Error("Cannot find package 'better-sqlite3' imported from /app/x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(loadBetterSqlite3(() => Promise.reject(missing))).rejects.toSatisfy(
      (error: unknown) =>
        hasReason(error, 'unsupported') &&
        (error as Error).message.includes('install better-sqlite3 (pnpm add better-sqlite3)'),
    );
  });

  it('rejects with unsupported and a rebuild hint when better-sqlite3 fails to load', async () => {
    const broken = Object.assign(new Error('was compiled against a different Node.js version'), {
      code: 'ERR_DLOPEN_FAILED',
    });
    await expect(loadBetterSqlite3(() => Promise.reject(broken))).rejects.toSatisfy(
      (error: unknown) =>
        hasReason(error, 'unsupported') && (error as Error).message.includes('pnpm rebuild better-sqlite3'),
    );
  });

  it('tells a process without better-sqlite3 to install it when it opens a path', async () => {
    const child = runFixture('open-without-driver.ts', [freshPath(dir)]);
    const { code } = await child.exited;
    expect(code, child.stderr()).toBe(0);
    const result = JSON.parse(child.lines.join('\n')) as { reason: string; message: string };
    expect(result.reason).toBe('unsupported');
    expect(result.message).toContain('install better-sqlite3 (pnpm add better-sqlite3)');
  });
});
