/**
 * A database: a named set of roots inside an object space, and the entry point for
 * transactions on them.
 */
import type { Change, ChangeStream, ChangesOptions, SubscribeOptions, Subscription } from './changes.js';
import { diffDatabases, type RootDiff } from './diff.js';
import { hasReason, isConflict, TransactionError } from './errors.js';
import type { RootName, UntypedRoots } from './roots.js';
import { type Misses, newMisses } from './space/store.js';
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
  /** The space's clock (ms since the epoch). */
  now(): number;
  /** Registers a transaction just begun; `reclaim` keeps its snapshot while it is active. Holds it weakly. */
  track(tx: Transaction): void;
  /** A subscription to database `database`'s commits (see `changes.ts`). */
  subscribe(
    database: string,
    listener: (change: Change) => void | Promise<void>,
    options: SubscribeOptions,
  ): Subscription;
  /** Database `database`'s commits as an async iterator. */
  changes(database: string, options: ChangesOptions): ChangeStream;
  /**
   * After `error`: when it is a `not-loaded` read (a backend without synchronous reads), loads
   * the atom it names (and what a scan reads next) in one batched read, held in `misses` for the
   * caller, and resolves true; resolves false for any other error.
   */
  loadMissing(error: unknown, misses: Misses): Promise<boolean>;
  /** Ends what `loadMissing` held for `misses`. */
  release(misses: Misses): void;
  /**
   * Runs `fn` (and what it awaits) so that its reads of atoms not in memory throw `not-loaded`
   * (to be loaded with `loadMissing` and run again) rather than block (see the storage
   * contract's `readAtomsBlocking`).
   */
  rerunnable<T>(fn: () => T): T;
  /** Runs `fn` so that its reads of atoms not in memory block where the backend can, even inside `rerunnable`. */
  blocking<T>(fn: () => T): T;
  /** False when `rerunnable` and `blocking` would only call `fn` (no blocking reads): skip them. */
  readonly switchesContext: boolean;
  /**
   * Runs `fn` so that the leaves it loads are kept in the decoded-atom cache at once (its
   * synchronous part): a `transact` function's commit reads them again.
   */
  keeping<T>(fn: () => T): T;
}

/** Options of `db.diff`; `Name` is the root names of a database with declared roots. */
export interface DiffOptions<Name extends string = string> {
  /** Only these roots. */
  readonly roots?: readonly Name[];
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

/**
 * A named set of roots. Obtain one with `space.database(name)`, or, with its roots declared,
 * `space.database<Roots>(name)`: its transactions then type every root (see `roots.ts`).
 */
export class Database<Roots extends object = UntypedRoots> {
  readonly #host: DatabaseHost;

  /** @internal */
  constructor(
    host: DatabaseHost,
    readonly name: string,
  ) {
    this.#host = host;
  }

  /**
   * Runs `fn` synchronously in a read-only transaction on the newest commit and returns what it
   * returns; the transaction ends when `fn` returns. The cheapest way to read: since nothing
   * can commit or reclaim while `fn` runs, the transaction is not registered with the space
   * (what `begin({ readOnly: true })` does so that `reclaim` keeps its snapshot). `fn` must not
   * return a promise (use `begin` to read across awaits); it may return any value it read.
   * Nothing is recorded: no read log, no read roots, no views (each read is a lookup in the
   * snapshot), so many point reads cost no memory that grows with their number.
   * @example
   * const visits = db.read((tx) => tx.get<number>('visits') ?? 0);
   */
  read<T>(fn: (tx: Transaction<Roots>) => T): T {
    if (typeof fn !== 'function') throw invalidArgument('read() takes a function');
    const snapshot = this.#host.snapshot();
    const tx = new Transaction<Roots>(this.#host, this.name, snapshot, true, this.#host.now());
    try {
      const result = this.#host.switchesContext ? this.#host.blocking(() => fn(tx)) : fn(tx);
      if (typeof (result as { then?: unknown } | null)?.then === 'function')
        throw invalidArgument(
          'read() takes a synchronous function; use begin({ readOnly: true }) to read across awaits',
        );
      return result;
    } finally {
      tx.abort();
    }
  }

  /**
   * Starts a transaction on the newest committed state (or, with `asOf`, an earlier one).
   * The snapshot is fixed now; the transaction may await anything before committing.
   */
  begin(options: BeginOptions = {}): Transaction<Roots> {
    const snapshot = this.#host.snapshot(options.asOf);
    const readOnly = options.readOnly === true || options.asOf !== undefined;
    const time = options.asOf !== undefined ? snapshot.timestamp : this.#host.now();
    const tx = new Transaction<Roots>(this.#host, this.name, snapshot, readOnly, time);
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
  async transact<T>(
    fn: (tx: Transaction<Roots>) => T | Promise<T>,
    options: TransactOptions = {},
  ): Promise<T> {
    const retries = options.retries ?? 10;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new TransactionError({
        layer: 'atom',
        reason: 'invalid-argument',
        message: `retries must be a non-negative integer, got ${retries}`,
      });
    }
    // Reads of atoms not in memory (a backend without synchronous reads) fail with
    // `not-loaded`: the atom is loaded in one batched read and `fn` runs again, without counting
    // as a retry. Every rerun loads at least one more atom, held until this call ends.
    let misses: Misses | undefined;
    try {
      for (let attempt = 0; ; ) {
        const tx = this.begin();
        try {
          const result = await (this.#host.switchesContext
            ? this.#host.rerunnable(() => fn(tx))
            : this.#host.keeping(() => fn(tx)));
          if (tx.active) await tx.commit();
          return result;
        } catch (error) {
          tx.abort();
          if (
            hasReason(error, 'not-loaded') &&
            (await this.#host.loadMissing(error, (misses ??= newMisses())))
          )
            continue;
          if (!isConflict(error) || attempt >= retries) throw error;
          await backoff(attempt++);
        }
      }
    } finally {
      if (misses !== undefined && misses.held.size > 0) this.#host.release(misses);
    }
  }

  /** The commit this database's transactions would read now. */
  get sequence(): number {
    return this.#host.sequence;
  }

  /**
   * What changed in this database from commit `from` to commit `to` (default: the newest),
   * both still kept (`space.history()`): the roots added, removed and changed, sorted by name,
   * each with its entries' diff (`RootDiff.entries()`, lazy, visiting only what changed).
   * Throws `not-found` for a commit no longer kept.
   * @example
   * for (const root of db.diff(40, 90)) {
   *   for (const e of root.entries()) console.log(root.root, e.kind, e.key, e.oldValue, e.newValue);
   * }
   */
  diff(from: number, to?: number, options: DiffOptions<RootName<Roots>> = {}): RootDiff[] {
    for (const [name, value] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
        throw invalidArgument(`diff(): ${name} must be a commit sequence number, got ${String(value)}`);
    }
    const roots = options.roots;
    if (roots !== undefined && (!Array.isArray(roots) || roots.some((r) => typeof r !== 'string')))
      throw invalidArgument('diff(): roots must be an array of root names');
    const older = from === 0 ? undefined : this.#host.snapshot(from).state.database(this.name);
    const newer = to === 0 ? undefined : this.#host.snapshot(to).state.database(this.name);
    return diffDatabases(older, newer, roots === undefined ? undefined : new Set(roots));
  }

  /**
   * Calls `listener` after each commit that changes this database (with `roots`, one of those
   * roots), local or, on a multi-process backend, from another process: once per commit, in
   * commit order, each call awaited before the next, with the commit's sequence and diff. See
   * `changes.ts` for the guarantees; `close()` the subscription to stop.
   * @example
   * const sub = db.subscribe((change) => {
   *   for (const root of change.roots) console.log(change.sequence, root.root, root.kind);
   * }, { roots: ['cart'] });
   */
  subscribe(
    listener: (change: Change) => void | Promise<void>,
    options: SubscribeOptions<RootName<Roots>> = {},
  ): Subscription {
    return this.#host.subscribe(this.name, listener, options);
  }

  /**
   * This database's commits as an async iterator, from the newest commit on, or after commit
   * `since` (still kept). Changes wait in a bounded buffer until pulled; a consumer that falls
   * further behind than the kept history gets a `ChangeFeedError`.
   * @example
   * for await (const change of db.changes({ roots: ['orders'] })) console.log(change.sequence);
   */
  changes(options: ChangesOptions<RootName<Roots>> = {}): ChangeStream {
    return this.#host.changes(this.name, options);
  }
}

function invalidArgument(message: string): TransactionError {
  return new TransactionError({ layer: 'atom', reason: 'invalid-argument', message });
}

/** Randomized exponential back-off between conflict retries, capped at ~50 ms. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
