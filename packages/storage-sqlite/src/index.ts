/**
 * `@proto/storage-sqlite`: the ProtoBase storage backend on SQLite (better-sqlite3, WAL mode).
 * Atoms are rows with a crc32 checked on every read, the root is one row, commits are SQLite
 * transactions fsynced before they resolve, several processes can share one file, and
 * `reclaim()` deletes what the root no longer reaches.
 */
export type {
  SqliteDatabaseConstructor,
  SqliteDatabaseLike,
  SqliteRunResult,
  SqliteStatementLike,
} from './database-like.js';
export {
  type OpenSqliteOptions,
  openSqliteBackend,
  type SqliteBackendSettings,
  type SqliteDatabaseOptions,
  type SqlitePathOptions,
} from './open.js';
export { FORMAT_MARKER, FORMAT_VERSION } from './schema.js';
