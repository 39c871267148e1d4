/**
 * `@proto/storage-postgres`: the ProtoBase storage backend on PostgreSQL (node-postgres). Atoms
 * are rows with a crc32 checked on every read, the root is one row, a commit is one SQL
 * transaction durable when it resolves, any number of processes on any number of hosts share a
 * location, and `reclaim()` deletes what the root no longer reaches while they keep committing.
 */
export {
  openPostgresBackend,
  type PostgresBackendOptions,
  type PostgresConnection,
  type PostgresPoolConnection,
  type PostgresUrlConnection,
} from './open.js';
export type {
  PostgresClientLike,
  PostgresPoolConstructor,
  PostgresPoolLike,
  PostgresQueryResult,
} from './pool-like.js';
export { FORMAT_MARKER, FORMAT_VERSION } from './schema.js';
