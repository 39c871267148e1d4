/**
 * Checking connections out of the pool and rolling back on them, each wait bounded: a server
 * that died or hangs must fail a call in bounded time, never leave it waiting. `pg` has
 * timeouts of its own (`connectionTimeoutMillis`, `query_timeout`), but a caller's pool may
 * have none set, so the backend keeps its own timers around what it awaits.
 */
import { storageError } from './errors.js';
import type { PostgresClientLike, PostgresPoolLike, PostgresQueryResult } from './pool-like.js';

/** A connection checked out of the pool; `release(destroy)` returns (or destroys) it. */
export interface Checkout {
  readonly client: PostgresClientLike;
  release(destroy: boolean): void;
}

const ignoreError = () => undefined;

/**
 * The answer to a statement did not arrive in time. Treated like a broken connection (its code
 * is `ETIMEDOUT`): the statement may have run, so its outcome is settled by looking, and the
 * connection is destroyed, never returned to the pool.
 */
export class NoAnswer extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(ms: number) {
    super(`no answer from the server within ${ms} ms (connection timeout)`);
  }
}

/**
 * Checks a connection out, listening for its `error` event while it is out: a connection the
 * server drops between two statements then fails the next statement instead of the process.
 */
export async function checkout(pool: PostgresPoolLike): Promise<Checkout> {
  return checkedOut(await pool.connect());
}

function checkedOut(client: PostgresClientLike): Checkout {
  client.on?.('error', ignoreError);
  return {
    client,
    release(destroy) {
      client.off?.('error', ignoreError);
      client.release(destroy);
    },
  };
}

/**
 * `checkout`, bounded: rejects with a retryable `io` error when the pool has no connection for
 * us within `timeoutMs` (a server that accepts connections but never answers, a pool whose
 * connections all hang). A connection that arrives later is destroyed.
 */
export function checkoutWithin(pool: PostgresPoolLike, timeoutMs: number, where: string): Promise<Checkout> {
  return new Promise<Checkout>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(
        storageError(
          'io',
          `no connection to ${where} within ${timeoutMs} ms (the server is down or hangs, or the pool is exhausted); nothing was sent, retry once the server answers`,
          { retryable: true },
        ),
      );
    }, timeoutMs);
    pool.connect().then(
      (client) => {
        clearTimeout(timer);
        if (timedOut) client.release(true);
        else resolve(checkedOut(client));
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      },
    );
  });
}

/**
 * Resolves or rejects as `answer` does, or rejects with `NoAnswer` after `timeoutMs`. A late
 * rejection of `answer` is swallowed (the caller has moved on, and destroys the connection).
 */
export function withinTime<T>(answer: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NoAnswer(timeoutMs)), timeoutMs);
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The client, with every statement's answer bounded by `timeoutMs` (see `withinTime`). */
export function answeringWithin(client: PostgresClientLike, timeoutMs: number): PostgresClientLike {
  return {
    query: (text: string, values?: readonly unknown[]): Promise<PostgresQueryResult> =>
      withinTime(client.query(text, values), timeoutMs),
    release: (destroy) => client.release(destroy),
    processID: client.processID ?? null,
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
