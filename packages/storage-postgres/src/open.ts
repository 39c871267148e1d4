/**
 * `openPostgresBackend`: opens (or creates) a ProtoBase location in a PostgreSQL database, from
 * a pool the caller owns or a connection string, and returns the raw backend.
 */
import type { StorageBackend, StorageCapabilities } from '@proto/atom/storage';
import { PostgresBackend } from './backend.js';
import { BlockingReader } from './blocking.js';
import type { CompareAndSetTimeouts } from './commit.js';
import { loadPg } from './driver.js';
import { storageError, translate } from './errors.js';
import type { PostgresPoolConstructor, PostgresPoolLike } from './pool-like.js';
import { prepareSchema, tablesOf } from './schema.js';
import { AtomStore } from './store.js';

/** Atoms travel as one protocol message and come back as hex text: keep well below 1 GiB. */
const MAX_ATOM_BYTES_LIMIT = 128 * 1024 * 1024;
const DEFAULT_MAX_ATOM_BYTES = 64 * 1024 * 1024;
const DEFAULT_WATCH_INTERVAL_MS = 100;
const DEFAULT_MAX_CONNECTIONS = 10;
const DEFAULT_BLOCKING_READ_TIMEOUT_MS = 10_000;

/** Use a pool you created (a `pg.Pool`, or anything shaped like it). It stays open on `close()`. */
export interface PostgresPoolConnection {
  /** The pool the backend runs its statements on. */
  readonly pool: PostgresPoolLike;
  /** Not with `pool`. */
  readonly connectionString?: never;
}

/** Connect with a connection string: the backend creates a `pg.Pool` and ends it on `close()`. */
export interface PostgresUrlConnection {
  /** `postgresql://user:password@host:5432/database` (everything `pg` accepts). */
  readonly connectionString: string;
  /** Not with `connectionString`. */
  readonly pool?: never;
  /** Connections the pool opens at most. Default 10. */
  readonly maxConnections?: number;
  /** The `pg.Pool` constructor to use instead of importing `pg`. */
  readonly driver?: PostgresPoolConstructor;
}

/** How the backend reaches the server: a pool of yours, or a connection string. */
export type PostgresConnection = PostgresPoolConnection | PostgresUrlConnection;

/** Where in the database the backend keeps its tables, and its limits. */
export interface PostgresBackendOptions {
  /** The schema holding the tables; created when missing. Default `public`. */
  readonly schema?: string;
  /**
   * Starts the name of every table (`<prefix>atoms`, `<prefix>root`, `<prefix>commits`,
   * `<prefix>meta`), so several locations can share a schema. Default `proto_`.
   */
  readonly tablePrefix?: string;
  /** The largest atom accepted, in bytes. Default 64 MiB; at most 128 MiB. */
  readonly maxAtomBytes?: number;
  /**
   * While the space has change subscribers, how often (ms) the backend reads the root to notice
   * other processes' commits. Default 100; at least 1.
   */
  readonly watchIntervalMs?: number;
  /**
   * Reads that cannot await (`db.read`, `begin()` transactions, live queries, diffs) and meet an
   * atom not in memory: `true` loads it on a worker thread with a connection of its own while
   * the calling thread waits (one round trip per miss, more atoms per trip when scanning);
   * `false` makes them fail with `not-loaded` instead, so nothing ever blocks the event loop.
   * `db.transact` never blocks either way. Default: true with `connectionString`; with `pool`,
   * give `{ connectionString }` for the worker's connection (a pool cannot be shared across
   * threads), else false.
   */
  readonly blockingReads?: boolean | { readonly connectionString: string };
  /** How long a blocking read waits for its answer before it throws a retryable `io` error, in ms. Default 10,000. */
  readonly blockingReadTimeoutMs?: number;
  /**
   * Bounds on what a compare-and-set waits for, in ms: a pooled connection (`connectMs`,
   * default 10,000), each statement's answer (`answerMs`, default 30,000: past it the
   * connection is treated as broken and the outcome settled by looking), and that settling
   * (`settleMs`, default 5,000). Past a bound the call rejects with a retryable `io` error.
   */
  readonly commitTimeouts?: {
    readonly connectMs?: number;
    readonly answerMs?: number;
    readonly settleMs?: number;
  };
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw storageError(
      'invalid-argument',
      `${name} must be an integer from 1 to ${max}, not ${String(value)}`,
    );
  }
  return value;
}

/**
 * Opens a ProtoBase location stored in PostgreSQL and returns the raw backend; the kernel wraps
 * it with `guardBackend`.
 *
 * An empty location (no tables with the prefix in the schema) is created; an existing one must
 * be ProtoBase's: tables of the same names that are not are refused with `invalid-argument` and
 * left untouched. Any number of processes on any number of hosts may open the same location;
 * `compareAndSetRoot` arbitrates between them.
 *
 * @example
 * ```ts
 * import { ObjectSpace } from '@proto/atom';
 * import { openPostgresBackend } from '@proto/storage-postgres';
 *
 * const backend = await openPostgresBackend(
 *   { connectionString: 'postgresql://app@db.internal/app' },
 *   { schema: 'shop' },
 * );
 * const space = await ObjectSpace.open(backend);
 * ```
 */
export async function openPostgresBackend(
  connection: PostgresConnection,
  options: PostgresBackendOptions = {},
): Promise<StorageBackend> {
  const {
    schema = 'public',
    tablePrefix = 'proto_',
    maxAtomBytes = DEFAULT_MAX_ATOM_BYTES,
    watchIntervalMs = DEFAULT_WATCH_INTERVAL_MS,
    blockingReadTimeoutMs = DEFAULT_BLOCKING_READ_TIMEOUT_MS,
  } = options;
  const tables = tablesOf(schema, tablePrefix);
  positiveInteger('maxAtomBytes', maxAtomBytes, MAX_ATOM_BYTES_LIMIT);
  positiveInteger('watchIntervalMs', watchIntervalMs);
  positiveInteger('blockingReadTimeoutMs', blockingReadTimeoutMs);
  const blockingUrl = blockingUrlOf(connection, options.blockingReads);
  const timeouts = commitTimeoutsOf(options.commitTimeouts);
  const { pool, ownsPool } = await poolOf(connection);
  try {
    await prepareSchema(pool, tables);
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw error;
  }
  const capabilities: StorageCapabilities = {
    durable: true,
    persistent: true,
    syncReads: false,
    multiProcess: true,
    maxAtomBytes,
    reclaim: true,
    // Every row's crc32 is checked on read (blocking reads too).
    checkedReads: true,
  };
  let blocking: BlockingReader | undefined;
  try {
    if (blockingUrl !== undefined)
      blocking = new BlockingReader({
        connectionString: blockingUrl,
        atomsTable: tables.atoms,
        where: tables.where,
        timeoutMs: blockingReadTimeoutMs,
      });
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw error;
  }
  return new PostgresBackend(new AtomStore(pool, tables), {
    name: `postgres:${tables.where}`,
    capabilities,
    ownsPool,
    watchIntervalMs,
    timeouts,
    ...(blocking === undefined ? {} : { blocking }),
  });
}

function commitTimeoutsOf(given: PostgresBackendOptions['commitTimeouts']): Partial<CompareAndSetTimeouts> {
  if (given === undefined) return {};
  if (typeof given !== 'object' || given === null)
    throw storageError(
      'invalid-argument',
      'commitTimeouts must be an object of connectMs, answerMs and settleMs',
    );
  const out: { -readonly [K in keyof CompareAndSetTimeouts]?: number } = {};
  for (const name of ['connectMs', 'answerMs', 'settleMs'] as const) {
    const value = given[name];
    if (value !== undefined) out[name] = positiveInteger(`commitTimeouts.${name}`, value);
  }
  return out;
}

/** The connection string of the blocking-read worker, or undefined for no blocking reads. */
function blockingUrlOf(
  connection: PostgresConnection,
  option: PostgresBackendOptions['blockingReads'],
): string | undefined {
  if (option === false) return undefined;
  if (typeof option === 'object' && option !== null) {
    if (typeof option.connectionString !== 'string' || option.connectionString === '')
      throw storageError('invalid-argument', 'blockingReads.connectionString must be a non-empty string');
    return option.connectionString;
  }
  if (option !== undefined && option !== true)
    throw storageError('invalid-argument', 'blockingReads must be true, false or { connectionString }');
  const url = (connection as { connectionString?: unknown } | null)?.connectionString;
  if (typeof url === 'string' && url !== '') return url;
  if (option === true)
    throw storageError(
      'invalid-argument',
      'blockingReads: true with a pool needs the connection string for its own connection: pass blockingReads: { connectionString }',
    );
  return undefined;
}

async function poolOf(
  connection: PostgresConnection,
): Promise<{ pool: PostgresPoolLike; ownsPool: boolean }> {
  if (typeof connection !== 'object' || connection === null) {
    throw storageError('invalid-argument', 'openPostgresBackend expects { pool } or { connectionString }');
  }
  if ('pool' in connection && connection.pool !== undefined) {
    const { pool } = connection;
    if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function') {
      throw storageError('invalid-argument', 'pool must be a pg.Pool (an object with query() and connect())');
    }
    return { pool, ownsPool: false };
  }
  const {
    connectionString,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
    driver,
  } = connection as PostgresUrlConnection;
  if (typeof connectionString !== 'string' || connectionString === '') {
    throw storageError(
      'invalid-argument',
      'openPostgresBackend expects { pool } or a non-empty { connectionString }',
    );
  }
  positiveInteger('maxConnections', maxConnections);
  const Pool = driver ?? (await loadPg());
  try {
    const pool = new Pool({ connectionString, max: maxConnections });
    // An idle connection the server drops (restart, idle timeout) must not crash the process:
    // the next query gets a fresh connection, or the error.
    (pool as { on?: (event: string, listener: (error: unknown) => void) => void }).on?.(
      'error',
      () => undefined,
    );
    return { pool, ownsPool: true };
  } catch (error) {
    throw translate(error, 'creating a connection pool');
  }
}
