/**
 * A database: a named set of roots inside an object space, and the entry point for
 * transactions on them.
 */
import { isConflict, TransactionError } from './errors.js';
import { type CommitHost, type Snapshot, Transaction } from './transaction.js';

/**
 * @internal What a database needs from its object space: the object space implements it and
 * hands it to each `Database` it creates, so a database handle exposes no part of the space.
 */
export interface DatabaseHost extends CommitHost {
  /** The sequence number of the newest commit. */
  readonly sequence: number;
  /**
   * The committed state a new transaction reads: the newest, or commit `asOf` while it is kept.
   * Throws `closed` once the space is closing, `not-found` for a commit no longer kept.
   */
  snapshot(asOf?: number): Snapshot;
  /** Registers a transaction just begun; `reclaim` keeps its snapshot while it is active. Holds it weakly. */
  track(tx: Transaction): void;
}

export interface BeginOptions {
  /** Read the database as of an earlier commit (see `space.history()`); the transaction is read-only. */
  readonly asOf?: number;
  /** Reject writes in this transaction. */
  readonly readOnly?: boolean;
}

export interface TransactOptions {
  /** How many times to run the function again after a conflict (default 10). */
  readonly retries?: number;
}

/** A named set of roots. Obtain one with `space.database(name)`. */
export class Database {
  readonly #host: DatabaseHost;

  /** @internal */
  constructor(
    host: DatabaseHost,
    readonly name: string,
  ) {
    this.#host = host;
  }

  /**
   * Starts a transaction on the newest committed state (or, with `asOf`, an earlier one).
   * The snapshot is fixed now; the transaction may await anything before committing.
   */
  begin(options: BeginOptions = {}): Transaction {
    const snapshot = this.#host.snapshot(options.asOf);
    const readOnly = options.readOnly === true || options.asOf !== undefined;
    const tx = new Transaction(this.#host, this.name, snapshot, readOnly);
    this.#host.track(tx);
    return tx;
  }

  /**
   * Runs `fn` in a transaction and commits it, running it again on a fresh snapshot when the
   * commit conflicts (up to `retries` times, with a short randomized back-off). Any other
   * error aborts the transaction and is rethrown. Resolves with `fn`'s result once durable.
   * @example
   * await db.transact(async (tx) => {
   *   const n = tx.get<number>('visits') ?? 0;
   *   tx.set('visits', n + 1);
   * });
   */
  async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options: TransactOptions = {}): Promise<T> {
    const retries = options.retries ?? 10;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new TransactionError({
        layer: 'atom',
        reason: 'invalid-argument',
        message: `retries must be a non-negative integer, got ${retries}`,
      });
    }
    for (let attempt = 0; ; attempt++) {
      const tx = this.begin();
      try {
        const result = await fn(tx);
        if (tx.active) await tx.commit();
        return result;
      } catch (error) {
        tx.abort();
        if (!isConflict(error) || attempt >= retries) throw error;
        await backoff(attempt);
      }
    }
  }

  /** The commit this database's transactions would read now. */
  get sequence(): number {
    return this.#host.sequence;
  }
}

/** Randomized exponential back-off between conflict retries, capped at ~50 ms. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
