/** Checking connections out of the pool and rolling back on them. */
import type { PostgresClientLike, PostgresPoolLike } from './pool-like.js';

/** A connection checked out of the pool; `release(destroy)` returns (or destroys) it. */
export interface Checkout {
  readonly client: PostgresClientLike;
  release(destroy: boolean): void;
}

const ignoreError = () => undefined;

/**
 * Checks a connection out, listening for its `error` event while it is out: a connection the
 * server drops between two statements then fails the next statement instead of the process.
 */
export async function checkout(pool: PostgresPoolLike): Promise<Checkout> {
  const client = await pool.connect();
  client.on?.('error', ignoreError);
  return {
    client,
    release(destroy) {
      client.off?.('error', ignoreError);
      client.release(destroy);
    },
  };
}

/** Rolls back, quietly; returns true when the connection is unusable and must be destroyed. */
export async function rollback(client: PostgresClientLike): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return false;
  } catch {
    return true;
  }
}
