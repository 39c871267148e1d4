/**
 * The slice of node-postgres (`pg`) this backend uses, typed structurally (after kysely's
 * `PostgresPool`) so that callers pass their own `pg.Pool` without this package's public types
 * depending on `pg` (an optional peer dependency). A `pg.Pool` fits as it is.
 */

/** What a query resolves to: the rows as objects keyed by column name, and the row count. */
export interface PostgresQueryResult {
  /** One object per row, keyed by column name. */
  readonly rows: readonly unknown[];
  /** Rows the statement returned or changed. */
  readonly rowCount: number | null;
}

/** One connection checked out of a pool, as `pool.connect()` resolves it. */
export interface PostgresClientLike {
  /** Runs one statement with `$1`-style parameters on this connection. */
  query(text: string, values?: readonly unknown[]): Promise<PostgresQueryResult>;
  /** Returns the connection to the pool; `true` or an error destroys it instead. */
  release(destroy?: boolean | Error): void;
  /**
   * `pg` clients are event emitters: while a connection is checked out, the backend listens for
   * its `error` event (a connection the server drops between two statements), which would
   * otherwise crash the process.
   */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  /** Removes a listener `on` added. */
  off?(event: 'error', listener: (error: Error) => void): unknown;
  /** The server process serving this connection (`pg` sets it); used to settle a lost commit. */
  readonly processID?: number | null;
}

/**
 * A connection pool: a `pg.Pool` fits as it is.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const backend = await openPostgresBackend({ pool: new pg.Pool({ connectionString }) });
 * ```
 */
export interface PostgresPoolLike {
  /** Runs one statement on any connection of the pool (in a transaction of its own). */
  query(text: string, values?: readonly unknown[]): Promise<PostgresQueryResult>;
  /** Checks a connection out, for a transaction of several statements. */
  connect(): Promise<PostgresClientLike>;
  /** Closes every connection; called on `close()` only for a pool the backend created. */
  end(): Promise<void>;
}

/** The `pg.Pool` constructor this package loads from `pg` when it is given a connection string. */
export type PostgresPoolConstructor = new (config: {
  connectionString: string;
  max?: number;
}) => PostgresPoolLike;
