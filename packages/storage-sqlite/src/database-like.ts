/**
 * The slice of a better-sqlite3 `Database` this backend uses, typed structurally (after kysely's
 * `SqliteDatabase`) so that callers can pass their own instance without this package's public
 * types depending on `better-sqlite3` (an optional peer dependency).
 */

/** The result of running a writing statement. */
export interface SqliteRunResult {
  readonly changes: number | bigint;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement, as returned by `SqliteDatabaseLike.prepare`. */
export interface SqliteStatementLike {
  run(...params: unknown[]): SqliteRunResult;
  /** The first row as an object keyed by column name, or `undefined`. */
  get(...params: unknown[]): unknown;
  /** Every row as an object keyed by column name. */
  all(...params: unknown[]): unknown[];
}

/**
 * An open, synchronous SQLite connection: a better-sqlite3 `Database` fits as it is.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const backend = await openSqliteBackend({ database: new Database('app.db') });
 * ```
 */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  close(): unknown;
}

/** The constructor this package loads from `better-sqlite3` when it is given a path. */
export type SqliteDatabaseConstructor = new (
  filename: string,
  options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number },
) => SqliteDatabaseLike;
