/**
 * The object space: one storage backend and the databases on it. This class is the public
 * facade over the parts that do the work, each in `space/`:
 * - `AtomStore` (`store.ts`): the guarded backend, the caches, loading and decoding atoms;
 * - `persist` (`persist.ts`): writing the new atoms of a commit, children first;
 * - `History` (`history.ts`): the newest durable commit, kept history, snapshots to read;
 * - `CommitPipeline` (`pipeline.ts`, folding with `fold.ts`): group commit with barriers in
 *   flight, rebase and compare-and-set retries;
 * - `ActiveReaders` (`readers.ts`): the snapshots `reclaim` keeps.
 *
 * Databases get a narrow `DatabaseHost` from the space, never the space itself.
 */

import type { BackupOptions, BackupReport } from './backup.js';
import { Database, type DatabaseHost } from './database.js';
import { hasReason, StorageError, TransactionError } from './errors.js';
import type { StorableRoots, UntypedRoots } from './roots.js';
import { AheadWriter } from './space/ahead.js';
import { backupSnapshot } from './space/backup.js';
import { ChangeFeed } from './space/feed.js';
import { History, type Step } from './space/history.js';
import { persist } from './space/persist.js';
import { CommitPipeline } from './space/pipeline.js';
import { ActiveReaders } from './space/readers.js';
import { AtomStore } from './space/store.js';
import { verifyFrom } from './space/verify.js';
import { SpaceState } from './state.js';
import type {
  ReclaimOptions,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from './storage/backend.js';
import { guardBackend } from './storage/guard.js';
import { type CommitInfo, Transaction } from './transaction.js';
import type { VerifyOptions, VerifyReport } from './verify.js';

export interface ObjectSpaceOptions {
  readonly cache?: {
    /** Decoded atoms kept in memory (default 200,000). */
    readonly maxAtoms?: number;
    /** Estimated heap size of the decoded atoms kept: three times their encoded size (default 256 MiB). */
    readonly maxBytes?: number;
    /** Raw atom bytes kept for backends without synchronous reads (default 32 MiB). */
    readonly maxRawBytes?: number;
  };
  /** Earlier commits kept readable for time travel (default 32). */
  readonly historyLimit?: number;
  /**
   * The clock (ms since the epoch) that stamps commits and gives each transaction its `time`
   * (default `Date.now`). Tests inject one to control expiry; commit times never go back even
   * if it does.
   */
  readonly clock?: () => number;
  /**
   * Opens the space for reading only: a commit that writes rejects with `unsupported` and
   * writes nothing, `checkpoint()` and `reclaim()` reject the same way, and `close()` writes no
   * checkpoint. For tools that must leave a database as they found it, and for backends opened
   * read-only (the file backend's `{ readOnly: true }`). Default false.
   */
  readonly readOnly?: boolean;
  /** How often a group of commits is re-tried when another process moved the root (default 20). */
  readonly casRetries?: number;
  /**
   * When a commit is written whole (a checkpoint) instead of as a delta record: after
   * `commits` delta records (default 10,000; 0 writes every commit whole) or once they add up
   * to `bytes` (default 16 MiB). Between checkpoints, commits changed since the last one stay
   * in memory as well, and opening the space replays their delta records: both are bounded by
   * this policy. See the README, "What a commit writes".
   */
  readonly checkpoint?: {
    readonly commits?: number;
    readonly bytes?: number;
  };
}

/** Counters for tests, tools and benchmarks. */
export interface SpaceStats {
  readonly sequence: number;
  readonly commits: number;
  readonly conflicts: number;
  readonly rebases: number;
  /** Compare-and-set calls made: one per group of commits (and one per explicit checkpoint). */
  readonly barriers: number;
  /** Checkpoints written: commits written whole, not as delta records. */
  readonly checkpoints: number;
  /**
   * Tree nodes a checkpoint wrote in the background: when one falls due, the state of that
   * moment is written in slices between commits, and the checkpoint follows once it is (for
   * checkpoints that fall due after at least 5,000 delta records, as the default's 10,000). See the README,
   * "What a commit writes".
   */
  readonly atomsWrittenAhead: number;
  /** Backend calls (slices of about 128 KiB) that wrote them. */
  readonly aheadSlices: number;
  /** Slices whose write failed; the checkpoint then writes its nodes in the commit path. */
  readonly aheadFailures: number;
  readonly atomsWritten: number;
  readonly bytesWritten: number;
  readonly atomsLoaded: number;
  readonly cachedAtoms: number;
  readonly cachedBytes: number;
  /**
   * Lookups by pointer that found the atom cached. A reference that already found its atom
   * reuses the cache entry without a lookup, and that is not counted here.
   */
  readonly cacheHits: number;
  /** Lookups by pointer that had to load the atom. */
  readonly cacheMisses: number;
  /**
   * Batched reads made because a transaction met an atom not in memory (backends without
   * synchronous reads: `transact` loads it and runs again; see the README, "Backends without
   * synchronous reads").
   */
  readonly batchedReads: number;
  /**
   * Blocking reads (`readAtomsBlocking`) made because a read outside `transact` (`db.read`, a
   * `begin()` transaction, a live query, a diff) met an atom not in memory.
   */
  readonly blockingReads: number;
}

/** A set of named databases on one storage backend. Open with `ObjectSpace.open(backend)`. */
export class ObjectSpace {
  readonly #store: AtomStore;
  readonly #history: History;
  readonly #pipeline: CommitPipeline;
  readonly #ahead: AheadWriter;
  readonly #readers = new ActiveReaders();
  readonly #host: DatabaseHost;
  readonly #databases = new Map<string, Database>();
  readonly #feed: ChangeFeed;
  /** The refresh a notice from `watchRoot` started, and whether another notice came meanwhile. */
  #noticing: Promise<void> | undefined;
  #noticedAgain = false;
  #closing: Promise<void> | undefined;
  readonly #readOnly: boolean;

  private constructor(backend: StorageBackend, options: ObjectSpaceOptions) {
    const store = new AtomStore(backend, options.cache ?? {});
    const readOnly = options.readOnly === true;
    this.#readOnly = readOnly;
    const clock = options.clock ?? Date.now;
    const policy = {
      commits: options.checkpoint?.commits ?? 10_000,
      bytes: options.checkpoint?.bytes ?? 16 * 1024 * 1024,
    };
    const ahead = new AheadWriter(store, policy);
    const history = new History(
      store,
      options.historyLimit ?? 32,
      policy,
      clock,
      readOnly ? undefined : ahead,
    );
    this.#store = store;
    this.#history = history;
    this.#ahead = ahead;
    this.#pipeline = new CommitPipeline(
      history,
      {
        persist: (record) => persist(record, store),
        compareAndSetRoot: (expected, next) => backend.compareAndSetRoot(expected, next),
      },
      options.casRetries ?? 20,
    );
    const readers = this.#readers;
    const pipeline = this.#pipeline;
    const feed = new ChangeFeed({
      head: () => history.head,
      kept: (sequence) => keptStep(history, sequence),
      oldest: () => history.list().at(-1)?.sequence ?? history.sequence,
      watch: () => {
        history.observer = (steps) => feed.publish(steps);
        const unwatch = store.backend.watchRoot?.(() => this.#notice());
        return () => {
          history.observer = undefined;
          unwatch?.();
        };
      },
      syncReads: backend.capabilities.syncReads,
      loadMissing: (error, misses) => store.repair(error, misses),
      release: (misses) => store.release(misses),
      rerunnable: (fn) => store.rerunnable(fn),
      blocking: (fn) => store.blocking(fn),
    });
    this.#feed = feed;
    this.#host = {
      get sequence() {
        return history.sequence;
      },
      snapshot: (asOf) => {
        store.checkOpen('begin');
        return history.snapshot(asOf);
      },
      track: (tx) => readers.track(tx),
      now: clock,
      commit: (tx) =>
        this.#closing !== undefined
          ? Promise.reject(closedWhileRunning(tx))
          : readOnly
            ? Promise.reject(readOnlyError(`a commit to database ${tx.database}`))
            : // The commit pipeline is the space's, not the caller's: what it reads (a rebase's
              // nodes) blocks where the backend can, even for a commit made inside `transact`.
              store.switchesContext
              ? store.blocking(() => pipeline.enqueue(tx))
              : pipeline.enqueue(tx),
      subscribe: (database, listener, options) => {
        store.checkOpen('subscribe');
        return feed.subscribe(database, listener, options);
      },
      changes: (database, options) => {
        store.checkOpen('changes');
        return feed.changes(database, options);
      },
      loadMissing: (error, misses) => store.repair(error, misses),
      release: (misses) => store.release(misses),
      rerunnable: (fn) => store.rerunnable(fn),
      blocking: (fn) => store.blocking(fn),
      switchesContext: store.switchesContext,
      keeping: (fn) => store.keeping(fn),
    };
  }

  /**
   * Opens a space on a backend (which it guards and owns from now on: `close()` closes it).
   * @example
   * const space = await ObjectSpace.open(await openMemoryBackend());
   * const db = space.database('shop');
   * await db.transact((tx) => tx.set('greeting', 'hello'));
   */
  static async open(backend: StorageBackend, options: ObjectSpaceOptions = {}): Promise<ObjectSpace> {
    if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean')
      throw invalid('readOnly must be a boolean');
    if (options.clock !== undefined && typeof options.clock !== 'function')
      throw invalid('clock must be a function returning ms since the epoch');
    const limit = options.historyLimit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw invalid(`historyLimit must be a non-negative integer, got ${limit}`);
    }
    for (const field of ['commits', 'bytes'] as const) {
      const value = options.checkpoint?.[field];
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
        throw invalid(`checkpoint.${field} must be a non-negative integer, got ${value}`);
    }
    const space = new ObjectSpace(guardBackend(backend), options);
    try {
      space.#history.advance(await space.#history.read());
    } catch (error) {
      await space.#store.backend.close().catch(() => undefined);
      throw error;
    }
    return space;
  }

  /** The backend's declared capabilities. */
  get capabilities(): StorageCapabilities {
    return this.#store.backend.capabilities;
  }

  /** The sequence number of the newest commit this space knows. */
  get sequence(): number {
    return this.#history.sequence;
  }

  /**
   * A handle on database `name` (created by its first commit). With `Roots`, an interface of
   * root names and their value types, its transactions type every root (see `roots.ts`).
   * @example
   * interface ShopRoots {
   *   carts: Dictionary<string, Cart>;
   *   visits: number;
   * }
   * const shop = space.database<ShopRoots>('shop');
   * await shop.transact((tx) => tx.set('visits', (tx.get('visits') ?? 0) + 1));
   */
  database<Roots extends StorableRoots<Roots> = UntypedRoots>(name: string): Database<Roots> {
    this.#store.checkOpen('database');
    if (typeof name !== 'string' || name.length === 0)
      throw invalid(`database names are non-empty strings; got ${JSON.stringify(name)}`);
    let db = this.#databases.get(name);
    if (db === undefined) {
      db = new Database(this.#host, name);
      this.#databases.set(name, db);
    }
    return db as Database<Roots>;
  }

  /** Names of the databases that have committed at least once, sorted. */
  databaseNames(): string[] {
    return [...this.#history.head.state.databases.keys()].sort();
  }

  /** The commits still readable with `begin({ asOf })`, newest first. */
  history(): CommitInfo[] {
    return this.#history.list();
  }

  /** Counters: commits, conflicts, barriers, atoms written and loaded, cache use. */
  stats(): SpaceStats {
    return {
      sequence: this.#history.sequence,
      ...this.#pipeline.stats(),
      ...this.#store.stats(),
      ...this.#ahead.stats(),
    };
  }

  /** Drops every cached atom; later reads load from the backend again. */
  evictCaches(): void {
    this.#store.evict();
  }

  /** Picks up commits made by other processes (multi-process backends). */
  async refresh(): Promise<void> {
    this.#store.checkOpen('refresh');
    await this.#history.refresh();
  }

  /** Another process may have committed (the backend's `watchRoot`): pick it up, one refresh at a time. */
  #notice(): void {
    if (this.#noticing !== undefined) {
      this.#noticedAgain = true;
      return;
    }
    this.#noticing = (async () => {
      do {
        this.#noticedAgain = false;
        if (this.#closing !== undefined) return;
        try {
          await this.#history.refresh();
        } catch (error) {
          if (this.#closing === undefined && !hasReason(error, 'closed')) this.#feed.fail(error);
          return;
        }
      } while (this.#noticedAgain);
    })().finally(() => {
      this.#noticing = undefined;
    });
  }

  /**
   * Frees storage no longer reachable. The current state, the kept history and the snapshot of
   * every active transaction of this space stay (a read-only transaction is active until
   * `commit()` or `abort()`, or until nothing refers to it any more), so an open snapshot never
   * meets a freed atom. Snapshots held by other processes on a shared backend are not known
   * here and are not kept. Writes a checkpoint first (see `checkpoint()`). Needs
   * `capabilities.reclaim`.
   */
  async reclaim(options?: Omit<ReclaimOptions, 'keep'>): Promise<ReclaimReport> {
    this.#store.checkOpen('reclaim');
    if (this.#readOnly) throw readOnlyError('reclaim');
    const backend = this.#store.backend;
    const reclaim = backend.reclaim;
    if (reclaim === undefined) {
      throw new StorageError({
        layer: 'atom',
        reason: 'unsupported',
        message: `backend ${backend.name} cannot reclaim space while open; use its offline compaction`,
      });
    }
    await this.#pipeline.flushing;
    // Nothing is written ahead while the reclaim runs, and what was written ahead is kept.
    const release = await this.#ahead.hold();
    try {
      // A chain of delta records reaches back to its checkpoint: checkpoint first, so that what
      // only the chain kept alive can go.
      await this.#pipeline.checkpoint();
      return await reclaim({
        ...options,
        keep: [...this.#readers.snapshotsToKeep(), ...this.#ahead.pending()],
      });
    } finally {
      release();
    }
  }

  /**
   * Copies the newest commit into `target`, an empty location of any backend (the same kind or
   * another: also the way to migrate between backends), while this space stays open and in use:
   * every atom reachable from that commit's state is copied once, re-encoded with the target's
   * pointers, then a checkpoint of the same sequence and time is committed there, so the target
   * opens as exactly that commit (without the earlier history). Commits made meanwhile are not
   * in the copy; `reclaim` keeps what the copy still reads. `onProgress` reports atoms and bytes
   * copied. The caller owns `target` and closes it. Throws `invalid-argument` for a target that
   * already holds data.
   * @example
   * const target = await openSqliteBackend({ path: 'copy.sqlite' });
   * const report = await space.backup(target, { onProgress: (p) => console.log(p.atoms) });
   * await target.close();
   */
  async backup(target: StorageBackend, options: BackupOptions = {}): Promise<BackupReport> {
    this.#store.checkOpen('backup');
    const guarded = guardBackend(target);
    const snapshot = this.#history.snapshot();
    // A read-only transaction on the snapshot, registered so that `reclaim` keeps what the copy reads.
    const holder = new Transaction(this.#host, '(backup)', snapshot, true);
    this.#readers.track(holder);
    try {
      return await backupSnapshot(snapshot, guarded, options);
    } finally {
      holder.abort();
    }
  }

  /**
   * Reads and decodes every atom reachable from the backend's root: the newest commit, the kept
   * history and delta records, every value of every state, stored segments included. Each atom
   * is read from storage once (not from the caches), so damage on disk is found even when a
   * copy is cached. A damaged or missing atom is reported (`problems`, with the atom referring
   * to it and the backend's message, which for the file backend names segment file and offset)
   * and the walk goes on with the rest, up to `maxProblems`. Commits may go on meanwhile; the
   * walk reads the root as it is when it starts. Atoms of a type whose package was not imported
   * are reported as `unsupported`: import every package whose collections the space holds.
   * @example
   * const report = await space.verify();
   * if (report.problems.length > 0) console.error(report.problems[0]?.message);
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    this.#store.checkOpen('verify');
    const max = options.maxProblems;
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 1))
      throw invalid(`maxProblems must be a positive integer, got ${max}`);
    const store = this.#store;
    return verifyFrom(
      { readRoot: () => store.backend.readRoot(), load: (pointer) => store.readUncached(pointer) },
      this.#history.sequence,
      options,
    );
  }

  /**
   * Writes a checkpoint, so that opening the space replays no delta records: the next group
   * of commits is written whole (commits keep flowing), or, when none is queued, the newest
   * commit once every barrier in flight settled. Checkpoints are written
   * automatically (see `ObjectSpaceOptions.checkpoint`) and by `close()`; call this before
   * copying the files of a space that stays open, or to bound the replay at the next open
   * yourself. Resolves without writing when the newest commit is a checkpoint already.
   */
  async checkpoint(): Promise<void> {
    this.#store.checkOpen('checkpoint');
    if (this.#readOnly) throw readOnlyError('checkpoint');
    await this.#pipeline.checkpoint();
  }

  /**
   * Waits for commits in flight, writes a checkpoint when the newest commit is a delta record
   * (so the next open replays nothing), then closes the backend. Idempotent. A checkpoint that
   * fails loses nothing (the delta records are durable); its error rejects `close()` after
   * the backend is closed.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#store.close();
      this.#closing = (async () => {
        while (this.#pipeline.flushing !== undefined) await this.#pipeline.flushing;
        await this.#ahead.close();
        // Subscriptions deliver what they hold, then end.
        this.#feed.close();
        await this.#noticing;
        // Writes nothing when the newest commit is a checkpoint already.
        let failure: unknown;
        if (!this.#readOnly)
          await this.#pipeline.checkpoint().catch((error: unknown) => {
            failure = error;
          });
        this.evictCaches();
        await this.#store.backend.close();
        if (failure !== undefined) throw failure;
      })();
    }
    return this.#closing;
  }
}

/** Commit `sequence` while it is kept (commit 0 is the empty space), else undefined. */
function keptStep(history: History, sequence: number): Step | undefined {
  if (sequence === 0) return { sequence: 0, timestamp: 0, state: SpaceState.empty };
  try {
    const snapshot = history.snapshot(sequence);
    return { sequence, timestamp: snapshot.timestamp, state: snapshot.state };
  } catch (error) {
    if (hasReason(error, 'not-found')) return undefined;
    throw error;
  }
}

function readOnlyError(operation: string): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'unsupported',
    message: `${operation} on a space opened with { readOnly: true }; open it without readOnly to write`,
  });
}

function invalid(message: string): TransactionError {
  return new TransactionError({ layer: 'atom', reason: 'invalid-argument', message });
}

function closedWhileRunning(tx: Transaction): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'closed',
    message: `the object space was closed while this transaction on database '${tx.database}' was running, so its writes were not committed; open the space again and run the transaction again (close() waits only for commits already queued)`,
  });
}
