/**
 * The on-disk layout, and how an existing database is recognized as ProtoBase's (or refused).
 *
 * ```sql
 * proto_meta  (key TEXT PRIMARY KEY, value)            -- format marker, version, reclaim fence
 * proto_atoms (id INTEGER PRIMARY KEY AUTOINCREMENT,   -- the pointer, in base 36
 *              crc INTEGER NOT NULL,                   -- zlib crc32 of bytes, checked on read
 *              bytes BLOB NOT NULL)
 * proto_root  (id INTEGER PRIMARY KEY CHECK (id = 1),  -- exactly one row
 *              pointer TEXT)                           -- NULL until the first commit
 * ```
 */
import type { SqliteDatabaseLike } from './database-like.js';
import { storageError, translate } from './errors.js';

/** The value of `proto_meta.format`: what makes a SQLite file a ProtoBase database. */
export const FORMAT_MARKER = 'protobase-sqlite';
/** The layout version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;

const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS proto_meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS proto_atoms (id INTEGER PRIMARY KEY AUTOINCREMENT, crc INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS proto_root (id INTEGER PRIMARY KEY CHECK (id = 1), pointer TEXT);
INSERT OR IGNORE INTO proto_meta (key, value) VALUES
  ('format', '${FORMAT_MARKER}'),
  ('version', ${FORMAT_VERSION}),
  ('reclaim_generation', 0),
  ('reclaim_fence', 0);
INSERT OR IGNORE INTO proto_root (id, pointer) VALUES (1, NULL);
`;

const REQUIRED_TABLES = ['proto_meta', 'proto_atoms', 'proto_root'] as const;

/** What `inspectSchema` found: a database to initialize, or a ProtoBase one. */
export type SchemaState = 'empty' | 'protobase';

/**
 * Reads the schema and decides whether this is a ProtoBase database. Never writes.
 * A database without `proto_meta` but with other tables is refused unless `allowForeignTables`
 * (the caller passed their own connection and chose to share it).
 */
export function inspectSchema(
  db: SqliteDatabaseLike,
  where: string,
  allowForeignTables: boolean,
): SchemaState {
  let names: string[];
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    names = rows.map((row) => row.name);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) {
      throw storageError(
        'corrupt',
        `${where} is not a SQLite database (${String(code)}); pass the path of a ProtoBase SQLite database or of a new file`,
        { cause: error },
      );
    }
    throw translate(error, `reading the schema of ${where}`);
  }
  if (!names.includes('proto_meta')) {
    const foreign = names.filter((name) => !name.startsWith('sqlite_'));
    if (foreign.length > 0 && !allowForeignTables) {
      throw storageError(
        'invalid-argument',
        `${where} is a SQLite database but not a ProtoBase one (it holds ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ' ...' : ''}); it was left untouched: pass a new path, or pass your own connection as { database } to share it`,
      );
    }
    return 'empty';
  }
  let meta: Map<string, unknown>;
  try {
    const rows = db.prepare('SELECT key, value FROM proto_meta').all() as { key: string; value: unknown }[];
    meta = new Map(rows.map((row) => [row.key, row.value]));
  } catch (error) {
    throw translate(error, `reading proto_meta of ${where}`);
  }
  if (meta.get('format') !== FORMAT_MARKER) {
    throw storageError(
      'corrupt',
      `${where} has a proto_meta table without the ProtoBase format marker; it is not a ProtoBase SQLite database and was left untouched`,
    );
  }
  const version = meta.get('version');
  if (typeof version !== 'number' && typeof version !== 'bigint') {
    throw storageError('corrupt', `${where} has no valid format version in proto_meta`);
  }
  if (Number(version) > FORMAT_VERSION) {
    throw storageError(
      'unsupported',
      `${where} uses ProtoBase SQLite format version ${version}, newer than this package reads (${FORMAT_VERSION}); upgrade @proto/storage-sqlite`,
    );
  }
  const missing = REQUIRED_TABLES.filter((table) => !names.includes(table));
  if (missing.length > 0) {
    throw storageError(
      'corrupt',
      `${where} is a ProtoBase database missing its ${missing.join(', ')} table(s)`,
    );
  }
  return 'protobase';
}

/** Creates the tables and meta rows; idempotent. Call inside a write transaction. */
export function createSchema(db: SqliteDatabaseLike): void {
  db.exec(CREATE_TABLES);
}
