/**
 * The exclusive lock on a database directory: a file `LOCK` holding the owner's pid, host and
 * start time. It is created atomically with its contents (write a private temp file, then
 * hard-link it to `LOCK`, which fails if `LOCK` exists), so no one ever sees a half-written
 * lock. A lock whose process is gone (`kill(pid, 0)` says ESRCH) is taken over: it is renamed
 * aside, checked to be the same stale lock, and deleted, so two processes racing for a stale
 * lock cannot both win. Opens in the same process are tracked in a registry, so a second open
 * here is refused, while a lock left by an earlier process that had our pid is taken over.
 *
 * Because no ProtoBase process ever leaves a `LOCK` without its full contents (a kill while
 * writing leaves only the temp file), a `LOCK` that does not parse as one (empty, as LevelDB
 * and RocksDB leave theirs, or any other text) was written by another program: the open is
 * refused without touching anything, instead of deleting it and starting a database beside
 * that program's files.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isProtoError, StorageError } from '@proto/atom/storage';
import { errorCode, ioError, LAYER } from './errors.js';
import { closeQuietly, readWholeFile, type WalFileSystem, writeFully } from './fs.js';
import { FILE_MODE } from './manifest.js';

export const LOCK_FILE = 'LOCK';

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

const REGISTRY_KEY = Symbol.for('@proto/storage-wal/held-locks');

/** Directories locked by this process, shared by every copy of this module. */
function registry(): Set<string> {
  const scope = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  let held = scope[REGISTRY_KEY];
  if (held === undefined) {
    held = new Set();
    scope[REGISTRY_KEY] = held;
  }
  return held;
}

export interface DirectoryLock {
  readonly file: string;
  /** Deletes `LOCK` if it is still ours. Idempotent. */
  release(): void;
}

const decoder = new TextDecoder();

/** The holder named by a lock ProtoBase wrote (`{"pid":…,"host":…,"since":…}`), else undefined. */
function parseHolder(text: string): Holder | undefined {
  let value: Partial<Record<keyof Holder, unknown>> | null;
  try {
    value = JSON.parse(text) as Partial<Record<keyof Holder, unknown>> | null;
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, host, since } = value;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof host !== 'string' || typeof since !== 'string') return undefined;
  return { pid, host, since };
}

/** What a `LOCK` that is not ProtoBase's holds, for the message: "is empty" or a short quote. */
function describeForeign(text: string): string {
  if (text.length === 0) return 'is empty';
  const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return `holds ${JSON.stringify(shown)}`;
}

function foreignLockError(dir: string, file: string, text: string): StorageError {
  return new StorageError({
    layer: LAYER,
    reason: 'invalid-argument',
    message:
      `${dir} has a LOCK file not written by ProtoBase (it ${describeForeign(text)}), so the directory ` +
      'belongs to another program (LevelDB and RocksDB keep an empty LOCK) and nothing in it was changed: ' +
      'pass the path of a ProtoBase database directory or of a new one. ' +
      `If it is a ProtoBase database whose ${file} was damaged, delete that file and open it again`,
    details: { file },
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

/** Whether the lock's holder may still be using the database. */
function holderAlive(holder: Holder, key: string): boolean {
  if (holder.host !== hostname()) return true; // cannot check a process on another host
  if (holder.pid === process.pid) return registry().has(key);
  return processAlive(holder.pid);
}

function lockedError(dir: string, holder: Holder): StorageError {
  const here = holder.pid === process.pid && holder.host === hostname();
  const message = here
    ? `database at ${dir} is already open in this process (pid ${holder.pid}); close the other backend first, or share it`
    : `database at ${dir} is locked by pid ${holder.pid} on host ${holder.host} since ${holder.since}; ` +
      'close it in that process (or wait for it to exit), or open it with { readOnly: true }. ' +
      `If that process no longer exists on that host, delete ${join(dir, LOCK_FILE)}`;
  return new StorageError({
    layer: LAYER,
    reason: 'locked',
    message,
    retryable: true,
    details: { file: join(dir, LOCK_FILE), pid: holder.pid, host: holder.host },
  });
}

function readText(files: WalFileSystem, file: string): string | undefined {
  const bytes = readWholeFile(files, file);
  return bytes === undefined ? undefined : decoder.decode(bytes);
}

function unlinkQuietly(files: WalFileSystem, file: string): void {
  try {
    files.unlink(file);
  } catch {
    // best effort: a leftover temp file is harmless and removed by a later open
  }
}

/**
 * Takes the lock on `dir` (which must exist) or throws `locked` without changing any file.
 * `key` identifies the directory in this process (its real path).
 */
export async function acquireLock(files: WalFileSystem, dir: string, key: string): Promise<DirectoryLock> {
  const file = join(dir, LOCK_FILE);
  const held = registry();
  const mine: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  if (held.has(key)) throw lockedError(dir, mine);
  const content = `${JSON.stringify(mine)}\n`;
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const existing = readText(files, file);
      if (existing !== undefined) {
        const holder = parseHolder(existing);
        if (holder === undefined) throw foreignLockError(dir, file, existing);
        if (holderAlive(holder, key)) throw lockedError(dir, holder);
        takeOverStale(files, dir, file, existing);
        continue;
      }
      const temp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const fd = files.open(temp, 'wx', FILE_MODE);
      try {
        const bytes = new TextEncoder().encode(content);
        writeFully(files, fd, bytes, 0, bytes.byteLength, 0);
        // Durable before it becomes the lock: after a power loss LOCK is never empty.
        await files.sync(fd);
        files.close(fd);
      } catch (error) {
        closeQuietly(files, fd);
        unlinkQuietly(files, temp);
        throw error;
      }
      try {
        files.link(temp, file);
      } catch (error) {
        if (errorCode(error) === 'EEXIST') continue; // someone else won the race: look again
        throw error;
      } finally {
        unlinkQuietly(files, temp);
      }
      const handle = lockHandle(files, file, key, content);
      held.add(key);
      try {
        await files.syncDir(dir);
      } catch (error) {
        try {
          handle.release();
        } catch {
          // the directory sync failed; report that, not the clean-up
        }
        throw error;
      }
      return handle;
    }
  } catch (error) {
    if (isProtoError(error)) throw error;
    throw ioError('locking', file, error);
  }
  throw new StorageError({
    layer: LAYER,
    reason: 'locked',
    message: `could not take the lock ${file}: other processes keep racing for it; try again`,
    retryable: true,
  });
}

function takeOverStale(files: WalFileSystem, dir: string, file: string, staleText: string): void {
  const aside = join(dir, `${LOCK_FILE}.stale.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    files.rename(file, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // already gone
    throw error;
  }
  const moved = readText(files, aside);
  if (moved !== staleText) {
    // A live process re-created the lock between our read and the rename: put it back.
    try {
      files.link(aside, file);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  files.unlink(aside);
}

function lockHandle(files: WalFileSystem, file: string, key: string, content: string): DirectoryLock {
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      try {
        if (readText(files, file) === content) files.unlink(file);
      } catch (error) {
        throw ioError('unlocking', file, error);
      } finally {
        registry().delete(key);
      }
    },
  };
}

/** Deletes temp files left by lock attempts of processes that are gone. */
export function removeStaleLockLeftovers(files: WalFileSystem, dir: string, names: readonly string[]): void {
  for (const name of names) {
    const match = /^LOCK\.(?:stale\.)?(\d+)\.[0-9a-f]+(?:\.tmp)?$/.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && !processAlive(pid)) unlinkQuietly(files, join(dir, name));
  }
}
