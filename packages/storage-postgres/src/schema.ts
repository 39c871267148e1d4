/**
 * The backend's tables in one PostgreSQL schema, named `<prefix>atoms`, `<prefix>root`,
 * `<prefix>commits` and `<prefix>meta`:
 * - atoms: `id` (from the sequence `<prefix>atom_ids`), `crc` (crc32 of the bytes, checked on
 *   every read: PostgreSQL does not checksum data pages unless the cluster was made so), `bytes`.
 * - root: one row: the root `pointer`, and the reclaim `fence` (every atom id at or below it that
 *   survived the latest reclaim was live then; 0 when nothing was ever deleted).
 * - commits: the pointer of each root a compare-and-set installed, so that a commit whose
 *   connection broke after it was sent can be settled by looking, not guessed. Rows older than
 *   the retention are pruned.
 * - meta: the format marker and version, so that foreign tables with the same names are refused.
 * Creation runs once per location, in one transaction under an advisory lock (several processes
 * may open a new location at once).
 */

import { checkout, rollback } from './connection.js';
import { storageError, translate } from './errors.js';
import type { PostgresClientLike, PostgresPoolLike } from './pool-like.js';

/** Written into the meta table of every location this package creates. */
export const FORMAT_MARKER = 'protobase-postgres';
/** The layout version; a location written by a newer version is refused. */
export const FORMAT_VERSION = 1;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL truncates identifiers at 63 bytes; the index `commits_pointer` has the longest suffix. */
const LONGEST_SUFFIX = 'commits_pointer'.length;

/** Quoted, schema-qualified names of the backend's objects. */
export interface Tables {
  readonly schema: string;
  readonly prefix: string;
  /** For messages: `public.proto_*`. */
  readonly where: string;
  readonly atoms: string;
  readonly atomIds: string;
  readonly root: string;
  readonly commits: string;
  readonly meta: string;
}

export function tablesOf(schema: string, prefix: string): Tables {
  if (!IDENTIFIER.test(schema) || schema.length > 63) {
    throw storageError(
      'invalid-argument',
      `schema must be a lower-case SQL identifier (letters, digits, _) of at most 63 characters, not ${JSON.stringify(schema)}`,
    );
  }
  if (!(prefix === '' || IDENTIFIER.test(prefix)) || prefix.length + LONGEST_SUFFIX > 63) {
    throw storageError(
      'invalid-argument',
      `tablePrefix must be empty or start a lower-case SQL identifier (letters, digits, _) of at most ${63 - LONGEST_SUFFIX} characters, not ${JSON.stringify(prefix)}`,
    );
  }
  const name = (suffix: string) => `"${schema}"."${prefix}${suffix}"`;
  return {
    schema,
    prefix,
    where: `${schema}.${prefix}*`,
    atoms: name('atoms'),
    atomIds: name('atom_ids'),
    root: name('root'),
    commits: name('commits'),
    meta: name('meta'),
  };
}

/** What is found at a location before opening it. */
type SchemaState = 'ours' | 'empty';

async function inspect(pool: PostgresPoolLike, tables: Tables): Promise<SchemaState> {
  const { rows } = await pool.query(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
    [tables.schema, ['atoms', 'atom_ids', 'root', 'commits', 'meta'].map((s) => tables.prefix + s)],
  );
  const found = new Set(rows.map((row) => (row as { name: string }).name));
  if (found.size === 0) return 'empty';
  if (!found.has(`${tables.prefix}meta`))
    throw foreign(tables, `it has ${[...found].join(', ')} but no ${tables.prefix}meta`);
  const meta = await pool.query(`SELECT key, value FROM ${tables.meta}`);
  const values = new Map(
    meta.rows.map((row) => [(row as { key: string }).key, (row as { value: string }).value]),
  );
  if (values.get('format') !== FORMAT_MARKER) {
    throw foreign(
      tables,
      `its ${tables.prefix}meta table names format ${JSON.stringify(values.get('format') ?? null)}`,
    );
  }
  const version = Number(values.get('version'));
  if (version > FORMAT_VERSION) {
    throw storageError(
      'invalid-argument',
      `${tables.where} was written by a newer @proto/storage-postgres (format version ${version}, this one reads ${FORMAT_VERSION}); upgrade the package`,
    );
  }
  if (found.size < 5) {
    // Creation is one transaction, so a partial set is not ours: someone dropped a table.
    throw storageError(
      'corrupt',
      `${tables.where} lacks some of its tables (found ${[...found].join(', ')}); restore them from a backup`,
    );
  }
  return 'ours';
}

function foreign(tables: Tables, why: string) {
  return storageError(
    'invalid-argument',
    `${tables.where} is not a ProtoBase location: ${why}; choose another schema or tablePrefix`,
  );
}

/** Creates the tables when the location is empty; refuses foreign tables. */
/** The oldest server this package runs on (`server_version_num`): PostgreSQL 14. */
export const MIN_SERVER_VERSION = 140_000;

export async function prepareSchema(pool: PostgresPoolLike, tables: Tables): Promise<void> {
  try {
    const { rows } = await pool.query(`SELECT current_setting('server_version_num') AS version`);
    const version = Number((rows[0] as { version?: unknown } | undefined)?.version);
    if (!(version >= MIN_SERVER_VERSION)) {
      throw storageError(
        'unsupported',
        `the server at ${tables.where} is PostgreSQL ${Number.isFinite(version) ? `${Math.floor(version / 10_000)} (server_version_num ${version})` : 'of an unknown version'}; @proto/storage-postgres needs PostgreSQL 14 or newer`,
        { details: { serverVersion: Number.isFinite(version) ? version : null } },
      );
    }
    if ((await inspect(pool, tables)) === 'ours') return;
    const connection = await checkout(pool);
    const { client } = connection;
    let broken = false;
    try {
      await client.query('BEGIN');
      // Serializes concurrent creators of this location (the key is the location's name).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [tables.where]);
      await createTables(client, tables);
      await client.query('COMMIT');
    } catch (error) {
      broken = await rollback(client);
      throw error;
    } finally {
      connection.release(broken);
    }
    await inspect(pool, tables);
  } catch (error) {
    throw translate(error, `preparing the tables of ${tables.where}`);
  }
}

async function createTables(client: PostgresClientLike, t: Tables): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
  await client.query(`CREATE SEQUENCE IF NOT EXISTS ${t.atomIds} AS bigint`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${t.atoms} (id bigint PRIMARY KEY, crc bigint NOT NULL, bytes bytea NOT NULL)`,
  );
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${t.root} (id int PRIMARY KEY CHECK (id = 1), pointer text, fence bigint NOT NULL DEFAULT 0)`,
  );
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${t.commits} (seq bigserial PRIMARY KEY, pointer text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  );
  await client.query(`CREATE INDEX IF NOT EXISTS "${t.prefix}commits_pointer" ON ${t.commits} (pointer)`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${t.meta} (key text PRIMARY KEY, value text NOT NULL)`);
  await client.query(
    `INSERT INTO ${t.meta} (key, value) VALUES ('format', $1), ('version', $2) ON CONFLICT (key) DO NOTHING`,
    [FORMAT_MARKER, String(FORMAT_VERSION)],
  );
  await client.query(`INSERT INTO ${t.root} (id, pointer) VALUES (1, NULL) ON CONFLICT (id) DO NOTHING`);
}

/**
 * Deletes the commits log but for its newest 10,000 rows and the last ten minutes: a lost
 * commit is settled within seconds of its failure, so older rows are never asked for.
 */
export function pruneCommits(t: Tables): string {
  return `DELETE FROM ${t.commits} WHERE seq < (SELECT max(seq) - 10000 FROM ${t.commits}) AND at < now() - interval '10 minutes'`;
}
