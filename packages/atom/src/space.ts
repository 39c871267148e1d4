/**
 * The object space: one storage backend, its caches, and the commit pipeline that turns
 * transactions into durable commits. Databases and transactions are views onto it.
 *
 * Commits are folded in arrival order onto the newest state (validating and, when another
 * commit came first, rebasing each transaction), the new atoms are written once, and one
 * compare-and-set of the root (the backend's durability barrier) acknowledges the whole group.
 */

import { forEachElement } from './arrays.js';
import {
  ATOM_LOADER,
  ATOM_POINTER,
  Atom,
  type AtomLoader,
  AtomRef,
  type AtomSlot,
  atomDecoder,
  resolveSlot,
  sameAtom,
} from './atom.js';
import { BoundedCache } from './cache.js';
import { decodeAtom, encodeAtom, LazyValue } from './codec.js';
import { Database } from './database.js';
import { hasReason, isProtoError, StorageError, TransactionError } from './errors.js';
import { CommitRecord, DatabaseState, RootCell, SpaceState } from './state.js';
import type {
  AtomPointer,
  ReclaimOptions,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from './storage/backend.js';
import { guardBackend } from './storage/guard.js';
import { type CommitInfo, conflict, DELETED, type Snapshot, type Transaction } from './transaction.js';

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
  /** How often a group of commits is re-tried when another process moved the root (default 20). */
  readonly casRetries?: number;
}

/** Counters for tests, tools and benchmarks. */
export interface SpaceStats {
  readonly sequence: number;
  readonly commits: number;
  readonly conflicts: number;
  readonly rebases: number;
  /** Compare-and-set calls made: one per group of commits. */
  readonly barriers: number;
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
}

interface Head {
  readonly pointer: AtomPointer | null;
  readonly record: CommitRecord;
}

interface Pending {
  readonly tx: Transaction;
  readonly resolve: (info: CommitInfo) => void;
  readonly reject: (error: unknown) => void;
  /** Times this transaction's group lost the root to another writer. */
  attempts: number;
}

interface InFlight {
  /** The head once this group's compare-and-set succeeds. */
  readonly after: Head;
  /** Settles after the group's promises are settled. */
  done: Promise<void>;
}

/**
 * Decoded atoms take about three times their encoded size on the heap (object headers,
 * pointers, strings): the decoded-atom cache charges each entry that estimate, so `maxBytes`
 * bounds memory rather than encoded bytes.
 */
const DECODED_SIZE_FACTOR = 3;

/** Barriers outstanding at once: the next group is prepared while the previous one syncs. */
const MAX_IN_FLIGHT = 2;

let nextSpaceId = 1;

/** A set of named databases on one storage backend. Open with `ObjectSpace.open(backend)`. */
export class ObjectSpace {
  readonly #backend: StorageBackend;
  readonly #atoms: BoundedCache<Atom>;
  readonly #raw: BoundedCache<Uint8Array>;
  readonly #loading = new Map<AtomPointer, Promise<Atom>>();
  readonly #historyLimit: number;
  readonly #casRetries: number;
  readonly #loader: AtomLoader;
  readonly #databases = new Map<string, Database>();
  #head: Head;
  #queue: Pending[] = [];
  /** Transactions to fold again, in their original order, ahead of the queue. */
  #retry: Pending[] = [];
  /** Groups whose barrier is in flight, oldest first. */
  #inflight: InFlight[] = [];
  /** Set when a barrier failed: the next group is folded on the root re-read from the backend. */
  #resync = false;
  #flushing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /**
   * Transactions begun on this space, held weakly: while one is active, `reclaim` keeps what its
   * snapshot reaches. An entry goes when its transaction is garbage-collected.
   */
  readonly #readers = new Set<WeakRef<Transaction>>();
  readonly #collected = new FinalizationRegistry<WeakRef<Transaction>>((ref) => this.#readers.delete(ref));
  #stats = {
    commits: 0,
    conflicts: 0,
    rebases: 0,
    barriers: 0,
    atomsWritten: 0,
    bytesWritten: 0,
    atomsLoaded: 0,
  };

  private constructor(backend: StorageBackend, options: ObjectSpaceOptions) {
    this.#backend = backend;
    const cache = options.cache ?? {};
    this.#atoms = new BoundedCache(cache.maxAtoms ?? 200_000, cache.maxBytes ?? 256 * 1024 * 1024);
    this.#raw = new BoundedCache(Number.POSITIVE_INFINITY, cache.maxRawBytes ?? 32 * 1024 * 1024);
    this.#historyLimit = options.historyLimit ?? 32;
    this.#casRetries = options.casRetries ?? 20;
    const spaceId = nextSpaceId++;
    this.#loader = {
      spaceId,
      loadSync: (pointer) => this.#loadSync(pointer),
      load: (pointer) => this.#load(pointer),
      cacheEntry: (pointer) => this.#atoms.entry(pointer),
    };
    this.#head = { pointer: null, record: new CommitRecord(0, 0, SpaceState.empty, []) };
  }

  /**
   * Opens a space on a backend (which it guards and owns from now on: `close()` closes it).
   * @example
   * const space = await ObjectSpace.open(await openMemoryBackend());
   * const db = space.database('shop');
   * await db.transact((tx) => tx.set('greeting', 'hello'));
   */
  static async open(backend: StorageBackend, options: ObjectSpaceOptions = {}): Promise<ObjectSpace> {
    const limit = options.historyLimit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw invalid(`historyLimit must be a non-negative integer, got ${limit}`);
    }
    const space = new ObjectSpace(guardBackend(backend), options);
    try {
      space.#head = await space.#readHead();
    } catch (error) {
      await space.#backend.close().catch(() => undefined);
      throw error;
    }
    return space;
  }

  /** The backend's declared capabilities. */
  get capabilities(): StorageCapabilities {
    return this.#backend.capabilities;
  }

  /** The sequence number of the newest commit this space knows. */
  get sequence(): number {
    return this.#head.record.sequence;
  }

  /** A handle on database `name` (created by its first commit). */
  database(name: string): Database {
    this.#checkOpen('database');
    if (typeof name !== 'string' || name.length === 0)
      throw invalid(`database names are non-empty strings; got ${JSON.stringify(name)}`);
    let db = this.#databases.get(name);
    if (db === undefined) {
      db = new Database(this, name);
      this.#databases.set(name, db);
    }
    return db;
  }

  /** Names of the databases that have committed at least once, sorted. */
  databaseNames(): string[] {
    return [...resolveSlot(this.#head.record.state).databases.keys()].sort();
  }

  /** The commits still readable with `begin({ asOf })`, newest first. */
  history(): CommitInfo[] {
    const { record } = this.#head;
    const out: CommitInfo[] = [];
    if (record.sequence > 0) out.push({ sequence: record.sequence, timestamp: record.timestamp });
    for (const h of record.history) out.push({ sequence: h.sequence, timestamp: h.timestamp });
    return out;
  }

  /** Counters: commits, conflicts, barriers, atoms written and loaded, cache use. */
  stats(): SpaceStats {
    return {
      sequence: this.#head.record.sequence,
      ...this.#stats,
      cachedAtoms: this.#atoms.size,
      cachedBytes: this.#atoms.bytes,
      cacheHits: this.#atoms.hits,
      cacheMisses: this.#atoms.misses,
    };
  }

  /** Drops every cached atom; later reads load from the backend again. */
  evictCaches(): void {
    this.#atoms.clear();
    this.#raw.clear();
  }

  /** Picks up commits made by other processes (multi-process backends). */
  async refresh(): Promise<void> {
    this.#checkOpen('refresh');
    const head = await this.#readHead();
    if (head.record.sequence >= this.#head.record.sequence) this.#head = head;
  }

  /**
   * Frees storage no longer reachable. The current state, the kept history and the snapshot of
   * every active transaction of this space stay (a read-only transaction is active until
   * `commit()` or `abort()`, or until nothing refers to it any more), so an open snapshot never
   * meets a freed atom. Snapshots held by other processes on a shared backend are not known
   * here and are not kept. Needs `capabilities.reclaim`.
   */
  async reclaim(options?: Omit<ReclaimOptions, 'keep'>): Promise<ReclaimReport> {
    this.#checkOpen('reclaim');
    const reclaim = this.#backend.reclaim;
    if (reclaim === undefined) {
      throw new StorageError({
        layer: 'atom',
        reason: 'unsupported',
        message: `backend ${this.#backend.name} cannot reclaim space while open; use its offline compaction`,
      });
    }
    await this.#flushing;
    const keep = new Set<AtomPointer>();
    for (const ref of this.#readers) {
      const tx = ref.deref();
      if (tx === undefined || !tx.active) {
        this.#readers.delete(ref);
        continue;
      }
      const pointer = tx.snapshot.state[ATOM_POINTER];
      if (pointer !== undefined) keep.add(pointer);
    }
    return reclaim({ ...options, keep: [...keep] });
  }

  /** @internal Registers a transaction whose snapshot `reclaim` keeps while it is active. */
  track(tx: Transaction): void {
    const ref = new WeakRef(tx);
    this.#readers.add(ref);
    this.#collected.register(tx, ref);
  }

  /** Waits for commits in flight, then closes the backend. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = (async () => {
        while (this.#flushing !== undefined) await this.#flushing;
        this.evictCaches();
        await this.#backend.close();
      })();
    }
    return this.#closing;
  }

  /** @internal The newest committed state, for a new transaction. */
  snapshot(asOf?: number): Snapshot {
    this.#checkOpen('begin');
    const { record } = this.#head;
    if (asOf === undefined || asOf === record.sequence) {
      return { sequence: record.sequence, timestamp: record.timestamp, state: resolveSlot(record.state) };
    }
    const entry = record.history.find((h) => h.sequence === asOf);
    if (entry === undefined) {
      const kept = this.history().map((h) => h.sequence);
      throw new TransactionError({
        layer: 'atom',
        reason: 'not-found',
        message: `commit ${asOf} is not kept (kept: ${kept.length > 0 ? kept.join(', ') : 'none'}); raise historyLimit to keep more`,
      });
    }
    return { sequence: entry.sequence, timestamp: entry.timestamp, state: resolveSlot(entry.state) };
  }

  /** @internal Queues a transaction for the next group commit. */
  commit(tx: Transaction): Promise<CommitInfo> {
    if (this.#closing !== undefined) {
      return Promise.reject(
        new TransactionError({
          layer: 'atom',
          reason: 'closed',
          message: `the object space was closed while this transaction on database '${tx.database}' was running, so its writes were not committed; open the space again and run the transaction again (close() waits only for commits already queued)`,
        }),
      );
    }
    return new Promise<CommitInfo>((resolve, reject) => {
      this.#queue.push({ tx, resolve, reject, attempts: 0 });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#flushing !== undefined) return;
    this.#flushing = this.#pump().finally(() => {
      this.#flushing = undefined;
      // A commit queued after the loop's last check but before this callback.
      if (this.#queue.length > 0 || this.#retry.length > 0) this.#kick();
    });
  }

  /**
   * Drives the commit pipeline: folds the queued transactions into a group, writes its atoms
   * and issues its compare-and-set, and while that barrier is in flight prepares the next
   * group on top of it (at most `MAX_IN_FLIGHT` barriers outstanding).
   */
  async #pump(): Promise<void> {
    for (;;) {
      const oldest = this.#inflight[0];
      const waiting = this.#queue.length + this.#retry.length;
      if (oldest !== undefined && (waiting === 0 || this.#inflight.length >= MAX_IN_FLIGHT || this.#resync)) {
        await oldest.done;
        continue;
      }
      if (waiting === 0) return;
      const group = [...this.#retry, ...this.#queue];
      this.#retry = [];
      this.#queue = [];
      if (this.#resync) {
        this.#resync = false;
        try {
          this.#head = await this.#readHead();
        } catch (error) {
          for (const pending of group) pending.reject(error);
          continue;
        }
      }
      await this.#submit(group);
    }
  }

  /** Folds a group onto the newest state (durable or in flight), writes it and starts its barrier. */
  async #submit(group: Pending[]): Promise<void> {
    const base = this.#inflight.at(-1)?.after ?? this.#head;
    let state = resolveSlot(base.record.state);
    const accepted: Pending[] = [];
    for (const pending of group) {
      try {
        state = this.#apply(pending.tx, state);
        accepted.push(pending);
      } catch (error) {
        if (hasReason(error, 'conflict')) this.#stats.conflicts++;
        pending.reject(error);
      }
    }
    if (accepted.length === 0) return;
    const now = Math.max(Date.now(), base.record.timestamp);
    const history =
      this.#historyLimit === 0 || base.record.sequence === 0
        ? []
        : [
            { sequence: base.record.sequence, timestamp: base.record.timestamp, state: base.record.state },
            ...base.record.history,
          ]
            .slice(0, this.#historyLimit)
            .map((h) => ({ ...h, state: this.#unpin(h.state) }));
    const record = new CommitRecord(base.record.sequence + 1, now, state, history);
    let pointer: AtomPointer;
    try {
      pointer = await this.#persist(record);
    } catch (error) {
      if (accepted.length > 1 && hasReason(error, 'invalid-argument')) {
        // One transaction wrote something unstorable: commit the others without it.
        for (const pending of accepted) await this.#submit([pending]);
      } else {
        for (const pending of accepted) pending.reject(error);
      }
      return;
    }
    this.#stats.barriers++;
    const entry: InFlight = { after: { pointer, record }, done: Promise.resolve() };
    entry.done = this.#backend.compareAndSetRoot(base.pointer, pointer).then(
      (swapped) => this.#settle(entry, accepted, swapped, undefined),
      (error: unknown) => this.#settle(entry, accepted, false, error),
    );
    this.#inflight.push(entry);
  }

  /** A stored atom as a reference, so that history does not pin old trees in memory. */
  #unpin<T extends Atom>(slot: AtomSlot<T>): AtomSlot<T> {
    if (slot instanceof AtomRef) return slot;
    const pointer = slot[ATOM_POINTER];
    return pointer !== undefined && slot[ATOM_LOADER] === this.#loader
      ? new AtomRef<T>(pointer, this.#loader)
      : slot;
  }

  /** Handles a group's barrier result. Backends settle compare-and-sets in call order. */
  #settle(entry: InFlight, accepted: Pending[], swapped: boolean, error: unknown): void {
    const index = this.#inflight.indexOf(entry);
    if (index >= 0) this.#inflight.splice(index, 1);
    if (swapped) {
      this.#head = entry.after;
      this.#stats.commits += accepted.length;
      const info: CommitInfo = {
        sequence: entry.after.record.sequence,
        timestamp: entry.after.record.timestamp,
      };
      for (const pending of accepted) pending.resolve(info);
      return;
    }
    // Groups prepared on top of this one cannot commit either: fold them again once the
    // pipeline is empty, on the root the backend really holds.
    this.#resync = true;
    if (error !== undefined) {
      for (const pending of accepted) pending.reject(error);
      return;
    }
    // Another writer moved the root (or an earlier group of ours failed): retry the group.
    for (const pending of accepted) {
      pending.attempts++;
      if (pending.attempts > this.#casRetries) {
        this.#stats.conflicts++;
        pending.reject(conflict(pending.tx.database, '(space root: too many concurrent writers)'));
      } else {
        this.#retry.push(pending);
      }
    }
  }

  /** Folds one transaction onto `state`; throws a conflict if its reads no longer hold. */
  #apply(tx: Transaction, state: SpaceState): SpaceState {
    const name = tx.database;
    const snapshotDb = tx.snapshotDatabase;
    const slot = state.databases.get(name);
    const currentDb = slot === undefined ? undefined : resolveSlot(slot);
    const unchanged = sameAtom(currentDb, snapshotDb);
    if (!unchanged) {
      tx.validate(currentDb);
      this.#stats.rebases++;
    }
    const roots = new Map(currentDb?.roots ?? []);
    for (const [root, value] of tx.writes) {
      let next = value;
      if (!unchanged) {
        const before = snapshotDb?.roots.get(root);
        const now = currentDb?.roots.get(root);
        if (!sameAtom(before, now))
          next = value === DELETED ? value : tx.rebaseWrite(root, value, currentDb?.cell(root)?.value);
      }
      if (next === DELETED) roots.delete(root);
      else roots.set(root, new RootCell(next));
    }
    const databases = new Map(state.databases);
    databases.set(name, new DatabaseState(roots));
    return new SpaceState(databases);
  }

  /** Writes every atom reachable from `root` that is not stored yet, children first. */
  async #persist(root: Atom): Promise<AtomPointer> {
    const levels: Atom[][] = [];
    const heights = new Map<Atom, number>();
    const payloads = new Map<Atom, unknown>();
    const spaceId = this.#loader.spaceId;
    const visit = (atom: Atom): number => {
      if (atom[ATOM_POINTER] !== undefined && atom[ATOM_LOADER]?.spaceId === spaceId) return -1;
      const known = heights.get(atom);
      if (known !== undefined) return known;
      const payload = atom.toPayload();
      payloads.set(atom, payload);
      let height = 0;
      const children =
        atom.childAtoms !== undefined ? atom.childAtoms() : collectAtoms(payload, this.#loader);
      for (const child of children) {
        if (child instanceof AtomRef) {
          if (child.loader.spaceId !== spaceId) throw foreign();
          continue;
        }
        height = Math.max(height, visit(child) + 1);
      }
      heights.set(atom, height);
      (levels[height] ??= []).push(atom);
      return height;
    };
    visit(root);
    const reference = (value: object): AtomPointer | undefined => {
      if (value instanceof AtomRef) {
        if (value.loader.spaceId !== spaceId) throw foreign();
        return value.pointer;
      }
      if (value instanceof Atom) return value[ATOM_POINTER];
      return undefined;
    };
    for (const level of levels) {
      if (level === undefined) continue;
      // Segments written (encoded or copied): value, start, end, per atom.
      const segments: (LazyValue | number)[] = [];
      const segmentsUntil: number[] = [];
      const options = {
        reference,
        origin: this.#loader,
        segment: (value: LazyValue, start: number, end: number) => {
          segments.push(value, start, end);
        },
      };
      const encoded = level.map((atom) => {
        const bytes = encodeAtom(atom.atomType, payloads.get(atom), options);
        segmentsUntil.push(segments.length);
        return bytes;
      });
      const pointers = await this.#backend.writeAtoms(encoded);
      let next = 0;
      for (let i = 0; i < level.length; i++) {
        const atom = level[i] as Atom;
        const bytes = encoded[i] as Uint8Array;
        const pointer = pointers[i] as AtomPointer;
        // Stored now: writing these values to this space again copies their bytes. Copied ones
        // move to the new frame too, so a leaf keeps only its latest frame alive.
        for (; next < (segmentsUntil[i] as number); next += 3) {
          (segments[next] as LazyValue).bind(
            bytes,
            segments[next + 1] as number,
            segments[next + 2] as number,
            this.#loader,
          );
        }
        atom[ATOM_POINTER] = pointer;
        atom[ATOM_LOADER] = this.#loader;
        this.#atoms.set(pointer, atom, bytes.byteLength * DECODED_SIZE_FACTOR);
        this.#stats.atomsWritten++;
        this.#stats.bytesWritten += bytes.byteLength;
      }
    }
    const pointer = root[ATOM_POINTER];
    if (pointer === undefined)
      throw new StorageError({ layer: 'atom', reason: 'io', message: 'commit root was not written' });
    return pointer;
  }

  async #readHead(): Promise<Head> {
    const pointer = await this.#backend.readRoot();
    if (pointer === null) return { pointer: null, record: new CommitRecord(0, 0, SpaceState.empty, []) };
    const record = await this.#load(pointer);
    if (!(record instanceof CommitRecord)) {
      throw new StorageError({
        layer: 'atom',
        reason: 'corrupt',
        message: `the root of ${this.#backend.name} is a '${record.atomType}' atom, not a ProtoBase commit; this location was not written by ProtoBase`,
      });
    }
    return { pointer, record };
  }

  #decode(pointer: AtomPointer, bytes: Uint8Array): Atom {
    let decoded: { typeName: string; payload: unknown };
    try {
      decoded = decodeAtom(bytes, {
        reference: (p) => new AtomRef(p, this.#loader),
        origin: this.#loader,
      });
    } catch (error) {
      if (isProtoError(error)) {
        throw new StorageError({
          layer: 'atom',
          reason: error.reason,
          message: `atom ${pointer} from ${this.#backend.name} does not decode: ${error.message}`,
          cause: error,
          details: { pointer },
        });
      }
      throw error;
    }
    const atom = atomDecoder(decoded.typeName, pointer)(decoded.payload);
    atom[ATOM_POINTER] = pointer;
    atom[ATOM_LOADER] = this.#loader;
    this.#atoms.set(pointer, atom, bytes.byteLength * DECODED_SIZE_FACTOR);
    this.#stats.atomsLoaded++;
    return atom;
  }

  #loadSync(pointer: AtomPointer): Atom {
    const cached = this.#atoms.get(pointer);
    if (cached !== undefined) return cached;
    this.#checkOpen('read');
    let bytes = this.#raw.get(pointer);
    if (bytes === undefined) {
      const readSync = this.#backend.readAtomSync;
      if (readSync === undefined) {
        throw new StorageError({
          layer: 'atom',
          reason: 'not-loaded',
          message: `atom ${pointer} is not in memory and backend ${this.#backend.name} cannot read synchronously; await its load() first`,
          details: { pointer },
        });
      }
      bytes = readSync(pointer);
    }
    return this.#decode(pointer, bytes);
  }

  #load(pointer: AtomPointer): Promise<Atom> {
    const cached = this.#atoms.get(pointer);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.#loading.get(pointer);
    if (loading === undefined) {
      loading = (async () => {
        try {
          this.#checkOpen('read');
          let bytes = this.#raw.get(pointer);
          if (bytes === undefined) {
            bytes = await this.#backend.readAtom(pointer);
            this.#raw.set(pointer, bytes, bytes.byteLength);
          }
          return this.#decode(pointer, bytes);
        } finally {
          this.#loading.delete(pointer);
        }
      })();
      this.#loading.set(pointer, loading);
    }
    return loading;
  }

  #checkOpen(operation: string): void {
    if (this.#closing !== undefined) throw closed(operation);
  }
}

/** Objects `collectAtoms` visits before it remembers them. */
const REMEMBER_AFTER = 4096;

/**
 * The atoms and references a payload holds. A `LazyValue` stored in `origin` is skipped: its
 * bytes are copied as they are and refer only to atoms already stored there. Past the first
 * few thousand, each object is visited once (a cycle is left for the encoder to reject with its
 * path), and arrays are walked by the elements they hold, so a sparse array costs what it stores.
 */
function collectAtoms(payload: unknown, origin: AtomLoader): (Atom | AtomRef)[] {
  const found: (Atom | AtomRef)[] = [];
  const stack: unknown[] = [payload];
  const push = (item: unknown) => {
    stack.push(item);
  };
  let seen: Set<object> | undefined;
  let visited = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (value instanceof Atom || value instanceof AtomRef) {
      found.push(value);
      continue;
    }
    // Most payloads are small trees: objects are remembered only past the first thousands,
    // which is enough to end a cycle or to stop re-walking shared objects.
    if (++visited > REMEMBER_AFTER) {
      seen ??= new Set();
      if (seen.has(value)) continue;
      seen.add(value);
    }
    if (value instanceof LazyValue) {
      if (!value.storedIn(origin)) stack.push(value.get());
    } else if (Array.isArray(value)) forEachElement(value, push);
    else if (!(value instanceof Date) && !(value instanceof Uint8Array))
      for (const item of Object.values(value)) stack.push(item);
  }
  return found;
}

function invalid(message: string): TransactionError {
  return new TransactionError({ layer: 'atom', reason: 'invalid-argument', message });
}

function closed(operation: string): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'closed',
    message: `${operation}() on a closed object space; open it again`,
  });
}

function foreign(): TransactionError {
  return invalid(
    'a value refers to an atom stored in another object space; copy the data instead of sharing atoms between spaces',
  );
}
