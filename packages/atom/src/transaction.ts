/**
 * Transactions: a fixed snapshot to read from, a private set of root changes, and a record of
 * what was read, so the commit can be validated (and rebased) against whatever committed in
 * between. A transaction may await anything between its operations.
 */
import { TransactionError } from './errors.js';
import type { ExplicitRootType, RootCreated, RootInput, RootName, RootRead, UntypedRoots } from './roots.js';
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

/**
 * A unit of work on one database. Obtain one with `database.begin()`, `transact` or `read`.
 * `Roots` is the database's declared roots type (see `roots.ts`); without one, root names are
 * any string and values are typed by the caller (`tx.get<number>('visits')`).
 */
export class Transaction<Roots extends object = UntypedRoots> {
  /** @internal */ readonly reads: ReadRecord[];
  /** @internal Roots read in any way (a plain read or a bound view). */
  readonly readRoots: Set<string>;
  /** @internal Root name → new value (or DELETED). */
  readonly writes: Map<string, unknown>;
  /** @internal Root name → the view `get` handed out (the base of derivations). */
  readonly views: Map<string, unknown>;
  readonly #host: CommitHost;
  /** Root name → the collection `getOrCreate` created for an absent root (and wrote unchanged). */
  #created: Map<string, unknown> | undefined = undefined;
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
   * Collections come back bound to the transaction, so their reads are recorded per key. With
   * declared roots the type is the declared one; untyped, pass it: `tx.get<number>('visits')`.
   */
  get<
    T extends ExplicitRootType<Roots> = ExplicitRootType<Roots>,
    Name extends RootName<Roots> = RootName<Roots>,
  >(name: Name): RootRead<Roots, Name, T> {
    return this.#get(name) as RootRead<Roots, Name, T>;
  }

  #get(name: string): unknown {
    checkName(name);
    if (this.writes.has(name)) {
      const written = this.writes.get(name);
      if (written === DELETED) return undefined;
      // A collection getOrCreate made: the bound view, so that updates to it are replayable.
      return this.#created?.get(name) === written ? this.views.get(name) : written;
    }
    if (this.views.has(name)) return this.views.get(name);
    const value = this.snapshotDatabase?.cell(name)?.value;
    // A read-only transaction never validates, so it records nothing and hands out raw values.
    if (this.readOnly) return value;
    this.readRoots.add(name);
    let view: unknown = value;
    if (isTrackable(value)) {
      view = value[bindScope](this.#scope(name));
    } else {
      this.reads.push({ root: name, holds: (newer) => valuesEqual(newer, value) });
    }
    this.views.set(name, view);
    return view;
  }

  /**
   * The value of root `name`, or, when the root is absent, `create()`'s value, which becomes
   * the root (written at commit) and is returned bound to the transaction like `get`'s.
   *
   * Parallel first writers do not conflict when the value is a collection: if another
   * transaction created the root first (with a value of the same class), this transaction's
   * reads and updates of the value it created are checked against and replayed on that one, as
   * if it had found the root present; so two transactions that both find `carts` absent, create
   * it and insert different keys both commit. A plain value created here (a number, an object)
   * follows the usual rule: if another commit created the root first, the commit conflicts.
   * @example
   * await db.transact((tx) => {
   *   const carts = tx.getOrCreate('carts', () => Dictionary.empty<string, Cart>());
   *   tx.set('carts', carts.set('c1', { items: [] }));
   * });
   */
  getOrCreate<Name extends RootName<Roots>, V extends RootInput<Roots, Name> = RootInput<Roots, Name>>(
    name: Name,
    create: () => V,
  ): RootCreated<Roots, Name, V> {
    return this.#getOrCreate(name, create) as RootCreated<Roots, Name, V>;
  }

  #getOrCreate(name: string, create: () => unknown): unknown {
    checkName(name);
    this.#checkWritable('getOrCreate');
    if (typeof create !== 'function')
      throw invalidArgument('getOrCreate() takes a function that creates the value');
    const fresh =
      !this.writes.has(name) && !this.views.has(name) && this.snapshotDatabase?.cell(name) === undefined;
    if (!fresh) {
      const existing = this.#get(name);
      if (existing !== undefined) return existing;
    }
    const created = create();
    if (created === undefined) throw invalidArgument(`getOrCreate('${name}') was given undefined to create`);
    if (!fresh || !isTrackable(created)) {
      if (fresh) {
        // Read as absent: a commit that created the root first makes this one conflict.
        this.readRoots.add(name);
        this.views.set(name, undefined);
        this.reads.push({ root: name, holds: (newer) => newer === undefined });
      }
      this.writes.set(name, created);
      return created;
    }
    // The root is read as "absent, or a value of the created class" and the created value is
    // bound like a root read by `get`: while the root stays absent its reads hold (they are
    // facts about the value created here), and once another commit created it they are
    // checked against, and its updates replayed on, that commit's value.
    const prototype: unknown = Object.getPrototypeOf(created);
    this.readRoots.add(name);
    this.reads.push({
      root: name,
      holds: (newer) =>
        newer === undefined ||
        (typeof newer === 'object' && newer !== null && Object.getPrototypeOf(newer) === prototype),
    });
    const view = created[bindScope]({
      recordRead: (holds) =>
        this.reads.push({ root: name, holds: (newer) => newer === undefined || holds(newer) }),
    });
    this.views.set(name, view);
    (this.#created ??= new Map()).set(name, created);
    this.writes.set(name, created);
    return view;
  }

  /** True when root `name` exists (its own writes included). Recorded as a read. */
  has(name: RootName<Roots>): boolean {
    return this.#get(name) !== undefined;
  }

  /**
   * The names of the roots that exist, sorted (its own writes included). Recorded as a read.
   * Plain strings even with declared roots: the stored database may hold roots that untyped
   * code wrote under other names.
   */
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

  /**
   * Sets root `name` to `value`: with declared roots, a value of the declared type (checked to be
   * storable, see `StorableValue`); untyped, any storable value (usually a collection), checked
   * by the codec at commit.
   */
  set<Name extends RootName<Roots>>(name: Name, value: RootInput<Roots, Name>): void {
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
  delete(name: RootName<Roots>): void {
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
    // Created by getOrCreate and not changed: another commit created the root first (its class
    // was checked by `validate`), so that value stays, as if this transaction had found it.
    if (this.#created !== undefined && this.#created.get(name) === value) return newer ?? value;
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

function invalidArgument(message: string): TransactionError {
  return new TransactionError({ layer: 'atom', reason: 'invalid-argument', message });
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
