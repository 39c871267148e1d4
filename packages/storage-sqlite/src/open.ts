/**
 * `openSqliteBackend`: opens (or creates) a ProtoBase SQLite database from a path or from a
 * connection the caller already has, configures the connection and returns the raw backend.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { StorageBackend, StorageCapabilities } from '@proto/atom/storage';
import { SqliteBackend } from './backend.js';
import type { SqliteDatabaseConstructor, SqliteDatabaseLike } from './database-like.js';
import { loadBetterSqlite3 } from './driver.js';
import { storageError, translate } from './errors.js';
import { type JournalState, journalState } from './journal.js';
import { createSchema, inspectSchema, type SchemaState } from './schema.js';
import { AtomStore, writeTransaction } from './store.js';

/** SQLite's default SQLITE_MAX_LENGTH is 1e9 bytes per value; keep a margin below it. */
const MAX_ATOM_BYTES_LIMIT = 999_000_000;
const DEFAULT_MAX_ATOM_BYTES = 256 * 1024 * 1024;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_WATCH_INTERVAL_MS = 50;
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** Settings shared by both ways of opening. */
export interface SqliteBackendSettings {
  /**
   * `FULL` (default): every commit fsyncs the WAL before its promise resolves, so it survives a
   * power loss (`capabilities.durable` is true). `NORMAL`: commits are not synced; they survive
   * a process kill but the last ones can be lost on power loss (`durable` is false).
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long a statement waits for another connection's lock before failing `locked`. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** The largest atom accepted, in bytes. Default 256 MiB; at most 999,000,000 (SQLite's limit is 1e9). */
  readonly maxAtomBytes?: number;
  /**
   * While the space has change subscribers, how often (ms) the backend asks SQLite whether
   * another connection committed (`PRAGMA data_version`, a read of the connection's own
   * counter that touches no table): commits of other processes reach subscribers within this
   * delay. Default 50; at least 1.
   */
  readonly watchIntervalMs?: number;
}

/** Open a database file, creating it when it does not exist. */
export interface SqlitePathOptions extends SqliteBackendSettings {
  readonly path: string;
  readonly database?: never;
  /** The better-sqlite3 `Database` constructor to use instead of importing `better-sqlite3`. */
  readonly driver?: SqliteDatabaseConstructor;
}

/**
 * Use a connection you opened yourself (better-sqlite3 or anything shaped like it). The backend
 * sets `journal_mode=WAL`, `synchronous` and `busy_timeout` on it, may create its `proto_*`
 * tables beside yours, and leaves it open on `close()` unless `closeDatabase` is true.
 */
export interface SqliteDatabaseOptions extends SqliteBackendSettings {
  readonly database: SqliteDatabaseLike;
  readonly path?: never;
  /** Close `database` when the backend closes. Default false: the caller owns it. */
  readonly closeDatabase?: boolean;
}

export type OpenSqliteOptions = SqlitePathOptions | SqliteDatabaseOptions;

interface Settings {
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly busyTimeoutMs: number;
  readonly maxAtomBytes: number;
  readonly watchIntervalMs: number;
}

function settingsOf(options: SqliteBackendSettings): Settings {
  const {
    synchronous = 'FULL',
    busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
    maxAtomBytes = DEFAULT_MAX_ATOM_BYTES,
    watchIntervalMs = DEFAULT_WATCH_INTERVAL_MS,
  } = options;
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw storageError(
      'invalid-argument',
      `synchronous must be 'FULL' or 'NORMAL', not ${JSON.stringify(synchronous)}`,
    );
  }
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw storageError(
      'invalid-argument',
      `busyTimeoutMs must be a non-negative integer, not ${String(busyTimeoutMs)}`,
    );
  }
  if (!Number.isSafeInteger(maxAtomBytes) || maxAtomBytes < 1 || maxAtomBytes > MAX_ATOM_BYTES_LIMIT) {
    throw storageError(
      'invalid-argument',
      `maxAtomBytes must be an integer from 1 to ${MAX_ATOM_BYTES_LIMIT}, not ${String(maxAtomBytes)}`,
    );
  }
  if (!Number.isSafeInteger(watchIntervalMs) || watchIntervalMs < 1) {
    throw storageError(
      'invalid-argument',
      `watchIntervalMs must be a positive integer, not ${String(watchIntervalMs)}`,
    );
  }
  return { synchronous, busyTimeoutMs, maxAtomBytes, watchIntervalMs };
}

/**
 * Opens a ProtoBase database stored in SQLite (better-sqlite3, WAL journal mode) and returns the
 * raw backend; the kernel wraps it with `guardBackend`.
 *
 * A path that does not exist (or an empty file) becomes a new database, and so does a file
 * whose creation was killed before it had tables (its rollback journal is played back first).
 * An existing file must be a ProtoBase SQLite database: anything else (not SQLite, SQLite with
 * other tables, or a hot rollback journal that would restore data) is refused with reason
 * `corrupt` or `invalid-argument` and left byte-for-byte untouched.
 * Several processes may open the same file; `compareAndSetRoot` arbitrates between them.
 *
 * @example
 * ```ts
 * import { guardBackend } from '@proto/atom/storage';
 * import { openSqliteBackend } from '@proto/storage-sqlite';
 *
 * const backend = guardBackend(await openSqliteBackend({ path: './data/app.db' }));
 * const [pointer] = await backend.writeAtoms([new TextEncoder().encode('hello')]);
 * await backend.compareAndSetRoot(await backend.readRoot(), pointer!);
 * await backend.close();
 * ```
 */
export async function openSqliteBackend(options: OpenSqliteOptions): Promise<StorageBackend> {
  if (typeof options !== 'object' || options === null) {
    throw storageError('invalid-argument', 'openSqliteBackend expects { path } or { database }');
  }
  const settings = settingsOf(options);
  if (options.database !== undefined) {
    const { database } = options;
    if (typeof database?.prepare !== 'function' || typeof database.exec !== 'function') {
      throw storageError(
        'invalid-argument',
        'database must be an open better-sqlite3 Database (an object with prepare() and exec())',
      );
    }
    return fromConnection(database, undefined, settings, options.closeDatabase === true, true);
  }
  const { path } = options;
  if (typeof path !== 'string' || path.length === 0) {
    throw storageError(
      'invalid-argument',
      'openSqliteBackend expects { path: string } (a file path) or { database }',
    );
  }
  const Database = options.driver ?? (await loadBetterSqlite3());
  probeExisting(Database, path);
  let database: SqliteDatabaseLike;
  try {
    database = new Database(path, { timeout: settings.busyTimeoutMs });
  } catch (error) {
    throw translate(error, `opening ${path}`);
  }
  try {
    return fromConnection(database, path, settings, true, false);
  } catch (error) {
    try {
      database.close();
    } catch {
      // The open failed already; that error is the one to report.
    }
    throw error;
  }
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** The first 100 bytes of `path` (SQLite's database header), or fewer if the file is shorter. */
function readHeader(path: string): Buffer {
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    return header.subarray(0, readSync(fd, header, 0, 100, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks an existing file before it is opened for writing, so that a non-ProtoBase file is
 * refused without a single byte (or its mtime) changed: a file without SQLite's header is
 * refused before SQLite sees it; a SQLite file is inspected through a read-only connection.
 * A WAL-mode database with no WAL file beside it is inspected through a read-write connection
 * instead, which only reads and, being the last to close, removes the `-wal`/`-shm` files that
 * opening creates (a read-only one would leave them next to someone else's database).
 *
 * A hot rollback journal is the exception to "never write before recognizing the file". A new
 * database is created in place, and a kill at any instant of that leaves a state this function
 * lets the next open finish (the steps are those of `fromConnection`; ProtoBase never uses a
 * rollback journal once the file is in WAL mode):
 * 1. `new Database(path)` created an empty file: it is opened as a new database.
 * 2. `auto_vacuum` wrote page 1 (rollback mode, no tables), or `journal_mode = WAL` rewrote it:
 *    killed before the commit deleted `-journal`, that journal is hot and began on 0 pages or
 *    on that lone, table-less page 1, so playing it back restores an empty database. The probe
 *    opens read-write so that SQLite plays it back (a read-only connection would fail with
 *    `SQLITE_READONLY_ROLLBACK` on every attempt). Killed after the commit, page 1 is left
 *    without tables in rollback or WAL mode, and is read as a new database.
 * 3. The tables are created in one WAL transaction: killed before it committed, the WAL holds
 *    no committed table, the file is read as a new database and the tables are created again.
 * A hot journal that would restore anything else is someone else's interrupted (or running)
 * transaction: the file is refused untouched, since playing it back would write to their data.
 */
function probeExisting(Database: SqliteDatabaseConstructor, path: string): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    throw storageError('invalid-argument', `${path} is a directory; pass the path of a database file`);
  }
  let journal: JournalState;
  try {
    journal = journalState(path);
  } catch (error) {
    throw translate(error, `reading ${path}-journal`);
  }
  if (journal === 'holds-data') {
    throw storageError(
      'invalid-argument',
      `${path} has a rollback journal (${path}-journal) from a write that another program did not finish (or is still doing), so it is not a ProtoBase database; both were left untouched: let that program, or the sqlite3 shell, open the file to finish or roll back its write, or pass the path of a ProtoBase SQLite database or of a new file`,
    );
  }
  if (journal === 'empty-after-rollback') {
    // Step 2 above: a read-write connection plays the journal back, leaving no tables.
    inspectThrough(Database, path, false);
    return;
  }
  let header: Buffer;
  try {
    header = readHeader(path);
  } catch (error) {
    throw translate(error, `reading ${path}`);
  }
  if (header.length === 0) return;
  if (header.length < 100 || header.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw storageError(
      'corrupt',
      `${path} is not a SQLite database (no SQLite header); it was left untouched: pass the path of a ProtoBase SQLite database or of a new file`,
    );
  }
  // SQLite opens a file in WAL mode when its header's read version (byte 19) is 2, whatever
  // the write version (byte 18) says.
  const walMode = header[19] === 2;
  inspectThrough(Database, path, !(walMode && !existsSync(`${path}-wal`)));
}

/** Opens `path` only to check its schema (refusing foreign tables), then closes it. */
function inspectThrough(Database: SqliteDatabaseConstructor, path: string, readonly: boolean): void {
  let probe: SqliteDatabaseLike;
  try {
    probe = new Database(path, { readonly, fileMustExist: true });
  } catch (error) {
    throw translate(error, `opening ${path} to check it`);
  }
  try {
    inspectSchema(probe, path, false);
  } finally {
    probe.close();
  }
}

function pragma(database: SqliteDatabaseLike, statement: string): unknown {
  const row = database.prepare(`PRAGMA ${statement}`).get() as Record<string, unknown> | undefined;
  return row === undefined ? undefined : Object.values(row)[0];
}

/** The file behind the connection's main database, or undefined for an in-memory/temporary one. */
function mainFile(database: SqliteDatabaseLike): string | undefined {
  const rows = database.prepare('PRAGMA database_list').all() as { name: string; file: string }[];
  const file = rows.find((row) => row.name === 'main')?.file;
  return file === undefined || file === '' ? undefined : file;
}

function fromConnection(
  database: SqliteDatabaseLike,
  path: string | undefined,
  settings: Settings,
  ownsDatabase: boolean,
  allowForeignTables: boolean,
): StorageBackend {
  const file = (() => {
    try {
      return mainFile(database);
    } catch (error) {
      throw translate(error, `inspecting ${path ?? 'the given database'}`);
    }
  })();
  const where = path ?? file ?? ':memory:';
  let state: SchemaState;
  try {
    database.exec(`PRAGMA busy_timeout = ${settings.busyTimeoutMs}`);
    state = inspectSchema(database, where, allowForeignTables);
    // auto_vacuum can only be chosen before the first table exists: new databases get
    // INCREMENTAL so that reclaim can return free pages to the file system.
    if (state === 'empty') database.exec('PRAGMA auto_vacuum = INCREMENTAL');
    const mode = String(pragma(database, 'journal_mode = WAL')).toLowerCase();
    if (file !== undefined && mode !== 'wal') {
      throw storageError('io', `${where} could not be switched to WAL journal mode (it stays ${mode})`);
    }
    // The baseline is NORMAL: atom inserts are not synced; in FULL mode each commit switches to
    // FULL for its own transaction, and its WAL fsync covers those inserts too.
    database.exec('PRAGMA synchronous = NORMAL');
    // macOS only honours fsync as a full barrier with F_FULLFSYNC; elsewhere this is a no-op.
    if (settings.synchronous === 'FULL') database.exec('PRAGMA fullfsync = ON');
    // A WAL grown by a large transaction is truncated back to this size when it is reset.
    database.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`);
  } catch (error) {
    throw translate(error, `opening ${where}`);
  }
  const persistent = file !== undefined;
  const durable = persistent && settings.synchronous === 'FULL';
  let store: AtomStore;
  try {
    writeTransaction(database, durable, () => {
      // Checked again under the write lock: another process may have created the tables.
      if (inspectSchema(database, where, allowForeignTables) === 'empty') createSchema(database);
    });
    store = new AtomStore(database, where, durable);
  } catch (error) {
    throw translate(error, `creating the ProtoBase tables in ${where}`);
  }
  const capabilities: StorageCapabilities = {
    durable,
    persistent,
    syncReads: true,
    multiProcess: persistent,
    maxAtomBytes: settings.maxAtomBytes,
    reclaim: true,
    // Every row's crc32 is checked on read.
    checkedReads: true,
  };
  return new SqliteBackend(store, {
    name: `sqlite:${where}`,
    capabilities,
    ownsDatabase,
    file,
    watchIntervalMs: settings.watchIntervalMs,
  });
}
