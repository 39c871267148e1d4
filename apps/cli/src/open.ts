/**
 * Opening a database by what its path is: a directory holding a `MANIFEST` is a WAL database,
 * a file starting with SQLite's header is an SQLite database (`--backend` forces either). A
 * command that only reads opens the space `{ readOnly: true }` (and a WAL database without
 * taking its lock, so it can be read while its owner runs); a command that writes opens it
 * for writing. A new database (an import target, a backup copy) is a WAL directory unless the
 * path ends in `.db`, `.sqlite` or `.sqlite3`, or `--backend` says otherwise.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasReason, ObjectSpace, type ObjectSpaceOptions, type StorageBackend } from '@proto/atom';
import { openSqliteBackend } from '@proto/storage-sqlite';
import { openWalBackend } from '@proto/storage-wal';
import { CliError } from './errors.js';

// The collection and index types a database may hold: registered before anything is read.
import '@proto/collections';
import '@proto/query';
import '@proto/vector';

export type BackendKind = 'wal' | 'sqlite';

export const BACKENDS: readonly BackendKind[] = ['wal', 'sqlite'];

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** The decoded-atom cache of the spaces the CLI opens (estimated heap bytes). */
const CACHE_BYTES = 16 * 1024 * 1024;
/** ... and atoms: a decoded leaf holds its values once read, which its encoded size underestimates. */
const CACHE_ATOMS = 256;

export function parseBackend(value: string | undefined): BackendKind | undefined {
  if (value === undefined) return undefined;
  if (!(BACKENDS as readonly string[]).includes(value))
    throw new CliError('usage', `--backend takes ${BACKENDS.join(' or ')}, not ${JSON.stringify(value)}`);
  return value as BackendKind;
}

/** The backend of an existing database at `path`; throws `not-found` or `foreign`. */
export function detect(path: string, forced?: BackendKind): BackendKind {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new CliError('not-found', `no database at ${path}: nothing exists there`);
  }
  if (stat.isDirectory()) {
    if (forced === 'sqlite')
      throw new CliError('foreign', `${path} is a directory, not an SQLite database file`);
    if (!existsSync(join(path, 'MANIFEST')))
      throw new CliError(
        'foreign',
        `${path} is a directory without a MANIFEST, so it is not a ProtoBase WAL database`,
      );
    return 'wal';
  }
  if (forced === 'wal') throw new CliError('foreign', `${path} is a file, not a WAL database directory`);
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 16 || header.toString('latin1') !== SQLITE_MAGIC)
    throw new CliError('foreign', `${path} is neither a WAL database directory nor an SQLite database file`);
  return 'sqlite';
}

/** The backend a new database at `path` gets. */
export function kindForNew(path: string, forced?: BackendKind): BackendKind {
  if (forced !== undefined) return forced;
  return /\.(db|sqlite|sqlite3)$/i.test(path) ? 'sqlite' : 'wal';
}

/** Opens the raw backend at `path`, translating "someone else's file" into `foreign`. */
export async function openBackend(
  path: string,
  kind: BackendKind,
  options: { readonly readOnly: boolean },
): Promise<StorageBackend> {
  if (kind === 'wal') return openWalBackend({ path, readOnly: options.readOnly });
  try {
    return await openSqliteBackend({ path });
  } catch (error) {
    // An SQLite file with other tables, or with someone else's unfinished write.
    if (hasReason(error, 'invalid-argument')) throw new CliError('foreign', (error as Error).message);
    throw error;
  }
}

export interface Opened {
  readonly space: ObjectSpace;
  readonly kind: BackendKind;
  readonly path: string;
}

/** Opens the space at `path` (which must hold a database), read-only unless `write`. */
export async function openSpace(
  path: string,
  options: {
    readonly backend?: BackendKind | undefined;
    readonly write: boolean;
    readonly historyLimit?: number;
  },
): Promise<Opened> {
  const kind = detect(path, options.backend);
  const backend = await openBackend(path, kind, { readOnly: !options.write });
  const space = await ObjectSpace.open(backend, spaceOptions(!options.write, options.historyLimit));
  return { space, kind, path };
}

/** The options of every space the CLI opens. */
export function spaceOptions(readOnly: boolean, historyLimit?: number): ObjectSpaceOptions {
  return {
    readOnly,
    // A tool walks whole collections once: a small cache keeps its memory flat at any size.
    cache: { maxBytes: CACHE_BYTES, maxAtoms: CACHE_ATOMS },
    ...(historyLimit === undefined ? {} : { historyLimit }),
  };
}

/** Checks that `path` is free for a new database: absent, or an empty directory. */
export function checkNewLocation(path: string): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory() && readdirSync(path).length === 0) return;
  throw new CliError('usage', `${path} already exists; give a new path (or an empty directory) for the copy`);
}

/** Bytes the database occupies on disk (a WAL directory's files; an SQLite file with its -wal and -shm). */
export function sizeOnDisk(path: string, kind: BackendKind): number {
  if (kind === 'wal')
    return readdirSync(path).reduce((sum, name) => {
      const s = statSync(join(path, name));
      return s.isFile() ? sum + s.size : sum;
    }, 0);
  return ['', '-wal', '-shm'].reduce((sum, suffix) => {
    const file = `${path}${suffix}`;
    return existsSync(file) ? sum + statSync(file).size : sum;
  }, 0);
}
