/**
 * Transactions: a fixed snapshot to read from, a private set of root changes, and a record of
 * what was read, so the commit can be validated (and rebased) against whatever committed in
 * between. A transaction may await anything between its operations.
 */
import { TransactionError } from './errors.js';
import type { DatabaseState, SpaceState } from './state.js';
import type { AtomPointer } from './storage/backend.js';
import { bindScope, derivationOf, isTrackable, type ReadScope } from './track.js';
import { valuesEqual } from './values.js';

/** What a successful commit produced. */
export interface CommitInfo {
  /** The commit's position in the space's history; the snapshot's for a read-only commit. */
  readonly sequence: number;
  /** When the commit was made (ms since the epoch). */
  readonly timestamp: number;
}

/** @internal The committed state a transaction reads from. */
export interface Snapshot {
  readonly sequence: number;
  readonly timestamp: number;
  readonly state: SpaceState;
  /** A stored atom that reaches everything `state` refers to: what `reclaim` keeps for it. */
  readonly anchor?: AtomPointer | undefined;
}

/** @internal A recorded read: `holds` is asked about the newer value of root `root`. */
export interface ReadRecord {
  readonly root: string;
  readonly holds: (newer: unknown) => boolean;
}

/** @internal Marks a root deleted by the transaction. */
export const DELETED: unique symbol = Symbol('deleted') as never;

/**
 * @internal Where a transaction commits (its object space's commit pipeline). `commit`
 * resolves once the transaction's writes are durable, or rejects with its conflict or the
 * error that stopped the commit; it is called at most once per transaction, with writes.
 */
export interface CommitHost {
  commit(tx: Transaction): Promise<CommitInfo>;
}

const ROOT_NAMES = '\u0000names';

/** What read-only transactions share, never changed (see the constructor). */
const NO_READS: ReadRecord[] = [];
const NO_ROOTS = new Set<string>();
const NO_VALUES = new Map<string, unknown>();

/** A unit of work on one database. Obtain one with `database.begin()`. */
export class Transaction {
  /** @internal */ readonly reads: ReadRecord[];
  /** @internal Roots read in any way (a plain read or a bound view). */
  readonly readRoots: Set<string>;
  /** @internal Root name → new value (or DELETED). */
  readonly writes: Map<string, unknown>;
  /** @internal Root name → the view `get` handed out (the base of derivations). */
  readonly views: Map<string, unknown>;
  readonly #host: CommitHost;
  #state: 'active' | 'committing' | 'committed' | 'aborted' = 'active';

  /** @internal */
  constructor(
    host: CommitHost,
    readonly database: string,
    /** @internal */ readonly snapshot: Snapshot,
    readonly readOnly: boolean,
    /**
     * The transaction's time (ms since the epoch): the space's clock when it began, or, for a
     * transaction `asOf` an earlier commit, that commit's time. Fixed for its whole life, so
     * what it decides by time (an entry's expiry) stays stable while it runs.
     */
    readonly time: number = snapshot.timestamp,
  ) {
    this.#host = host;
    // A read-only transaction records nothing and writes nothing: it shares empty collections
    // that it never changes (writes are rejected before they reach them), so beginning one
    // allocates little.
    if (readOnly) {
      this.reads = NO_READS;
      this.readRoots = NO_ROOTS;
      this.writes = NO_VALUES;
      this.views = NO_VALUES;
    } else {
      this.reads = [];
      this.readRoots = new Set();
      this.writes = new Map();
      this.views = new Map();
    }
  }

  /** The sequence number of the commit this transaction reads. */
  get sequence(): number {
    return this.snapshot.sequence;
  }

  /** True until `commit()` or `abort()` is called. */
  get active(): boolean {
    return this.#state === 'active';
  }

  /** @internal The database's state in the snapshot. */
  get snapshotDatabase(): DatabaseState | undefined {
    return this.snapshot.state.database(this.database);
  }

  /**
   * The value of root `name` as of this transaction (its own writes included), or undefined.
   * Collections come back bound to the transaction, so their reads are recorded per key.
   */
  get<T = unknown>(name: string): T | undefined {
    checkName(name);
    if (this.writes.has(name)) {
      const written = this.writes.get(name);
      return (written === DELETED ? undefined : written) as T | undefined;
    }
    if (this.views.has(name)) return this.views.get(name) as T | undefined;
    const value = this.snapshotDatabase?.cell(name)?.value;
    // A read-only transaction never validates, so it records nothing and hands out raw values.
    if (this.readOnly) return value as T | undefined;
    this.readRoots.add(name);
    let view: unknown = value;
    if (isTrackable(value)) {
      view = value[bindScope](this.#scope(name));
    } else {
      this.reads.push({ root: name, holds: (newer) => valuesEqual(newer, value) });
    }
    this.views.set(name, view);
    return view as T | undefined;
  }

  /** True when root `name` exists (its own writes included). Recorded as a read. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The names of the roots that exist, sorted (its own writes included). Recorded as a read. */
  rootNames(): string[] {
    const names = new Set(this.snapshotDatabase?.roots.keys() ?? []);
    const seen = [...names].sort();
    if (!this.readOnly) this.reads.push({ root: ROOT_NAMES, holds: (newer) => valuesEqual(newer, seen) });
    for (const [name, value] of this.writes) {
      if (value === DELETED) names.delete(name);
      else names.add(name);
    }
    return [...names].sort();
  }

  /** Sets root `name` to `value` (any storable value; usually a collection). */
  set(name: string, value: unknown): void {
    checkName(name);
    this.#checkWritable('set');
    if (value === undefined) {
      throw new TransactionError({
        layer: 'atom',
        reason: 'invalid-argument',
        message: `cannot set root '${name}' to undefined; use delete('${name}') to remove a root`,
      });
    }
    this.writes.set(name, value);
  }

  /** Removes root `name`. */
  delete(name: string): void {
    checkName(name);
    this.#checkWritable('delete');
    this.writes.set(name, DELETED);
  }

  /**
   * Commits the changes. Resolves once they are durable (after the backend's barrier); a
   * transaction that wrote nothing resolves at once and writes nothing. Rejects with reason
   * `conflict` (retryable) when a read no longer holds against a newer commit.
   */
  async commit(): Promise<CommitInfo> {
    this.#checkActive('commit');
    this.#state = 'committing';
    if (this.writes.size === 0) {
      this.#state = 'committed';
      return { sequence: this.snapshot.sequence, timestamp: this.snapshot.timestamp };
    }
    try {
      const info = await this.#host.commit(this);
      this.#state = 'committed';
      return info;
    } catch (error) {
      this.#state = 'aborted';
      throw error;
    }
  }

  /** Discards the changes. Safe to call more than once, and after a failed commit. */
  abort(): void {
    if (this.#state === 'active') this.#state = 'aborted';
  }

  /** @internal The value to store for root `name` when it changed since the snapshot. */
  rebaseWrite(name: string, value: unknown, newer: unknown): unknown {
    const derived = derivationOf(value);
    if (derived !== undefined && this.views.has(name) && derived.base === this.views.get(name)) {
      return derived.replay(newer);
    }
    if (this.readRoots.has(name)) throw conflict(this.database, name);
    return value; // a blind write: ordered after the other commit
  }

  /** @internal Checks every recorded read against a newer database state. */
  validate(newer: DatabaseState | undefined): void {
    for (const read of this.reads) {
      const value =
        read.root === ROOT_NAMES ? [...(newer?.roots.keys() ?? [])].sort() : newer?.cell(read.root)?.value;
      let holds: boolean;
      try {
        holds = read.holds(value);
      } catch {
        holds = false;
      }
      if (!holds) throw conflict(this.database, read.root === ROOT_NAMES ? '(root names)' : read.root);
    }
  }

  #scope(root: string): ReadScope {
    return { recordRead: (holds) => this.reads.push({ root, holds }) };
  }

  #checkActive(operation: string): void {
    if (this.#state !== 'active') {
      throw new TransactionError({
        layer: 'atom',
        reason: 'closed',
        message: `${operation}() on a transaction that is already ${this.#state}; begin a new transaction`,
      });
    }
  }

  #checkWritable(operation: string): void {
    this.#checkActive(operation);
    if (this.readOnly) {
      throw new TransactionError({
        layer: 'atom',
        reason: 'invalid-argument',
        message: `${operation}() on a read-only transaction (opened with asOf or readOnly); begin a writable one`,
      });
    }
  }
}

/** @internal */
export function conflict(database: string, root: string): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'conflict',
    message: `transaction on database '${database}' conflicts with a newer commit to root '${root}'; run it again on a fresh snapshot (database.transact retries automatically)`,
    details: { database, root },
  });
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.startsWith('\u0000')) {
    throw new TransactionError({
      layer: 'atom',
      reason: 'invalid-argument',
      message: `root names are non-empty strings not starting with U+0000; got ${JSON.stringify(name)}`,
    });
  }
}
