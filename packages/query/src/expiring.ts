/**
 * Expiring entries: a root of a database used as a persistent, transactional cache (sessions,
 * computed values), with expiry per entry, a size bound with eviction, background sweeps and
 * `getOrCompute`.
 *
 * Why not `Dictionary` itself: expiry needs an order of the entries by expiry time (for sweeps
 * that do bounded work) and one by recency (for eviction), kept in the same transaction as the
 * entries. `IndexedCollection` already keeps secondary indexes that way, so a cache is an
 * `IndexedCollection` of entry records `{ key, value, expiresAt?, usedAt }` with ordered indexes
 * on `expiresAt` and `usedAt`, and `Dictionary` stays as lean as it is.
 *
 * Guarantees:
 * 1. Snapshot time: an entry is live in a transaction while `expiresAt > tx.time` (the space's
 *    clock when the transaction began; an `asOf` transaction's time is that commit's). A held
 *    transaction's view never changes as the clock moves; time travel shows what was live then.
 * 2. Invisible when expired: `get`, `has`, `size`, `keys`, `entries` and queries through
 *    `live()` count only live entries, whether or not a sweep has removed the expired ones yet.
 * 3. Sweeps: `sweep` removes expired entries for real, at most `limit` per step, in an ordinary
 *    transaction that reads only the expired range of the expiry index: it conflicts only with
 *    a concurrent commit that writes one of the keys it deletes (then it runs again).
 * 4. Bound: with `maxEntries`, a `set` that grows the cache past the bound evicts, in the same
 *    transaction, the entries least recently used (see "recency"), as one operation that runs
 *    again when the transaction rebases (`IndexedCollection.trim`): concurrent `set`s never
 *    conflict over it, and no commit leaves more than `maxEntries` entries stored (expired ones
 *    not yet swept count; they are usually the least recently used).
 * 5. Recency (an approximate LRU): an entry's `usedAt` is the time it was last set; reads are
 *    remembered in memory per process and written to `usedAt` by the next sweep (bounded per
 *    step), so between sweeps, and for reads in other processes, recency lags.
 * 6. `getOrCompute`: at most one `compute` per key in flight per process (the other callers
 *    await it); its value and expiry are committed in one transaction; a failing compute stores
 *    nothing and rejects every caller waiting on it.
 * 7. Clocks: each process judges expiry by its own clock. Processes sharing a database should
 *    keep their clocks in sync; `graceMs` makes a sweep delete only entries expired that long
 *    ago, so a process whose clock runs ahead does not delete entries others still read as live.
 */
import type { Database, Transaction } from '@proto/atom';
import { isProtoError } from '@proto/atom';
import type { Key } from '@proto/collections';
import { invalidArgument } from './errors.js';
import { field, not, or } from './expr.js';
import { IndexedCollection } from './indexed-collection.js';
import { from } from './query.js';
import { canonical } from './values.js';

/** How a cache behaves. */
export interface CacheOptions {
  /** Time to live (ms) of entries set without `ttl` or `expiresAt`; default: they never expire. */
  readonly ttl?: number;
  /** At most this many entries are stored; beyond it the least recently used are evicted. */
  readonly maxEntries?: number;
}

/** When one entry expires: after `ttl` ms from the transaction's time, or at `expiresAt`. */
export interface SetOptions {
  readonly ttl?: number;
  readonly expiresAt?: number | Date;
}

/** The record a cache stores per entry (what its root's `IndexedCollection` holds). */
export interface CacheRecord<K extends Key = Key, V = unknown> {
  readonly key: K;
  readonly value: V;
  /** ms since the epoch; absent: never expires. */
  readonly expiresAt?: number;
  /** When it was last set, or read as far as a sweep has recorded. */
  readonly usedAt: number;
}

/** What one sweep step did. */
export interface SweepReport {
  /** Expired entries deleted. */
  readonly removed: number;
  /** Entries whose recency was written from the reads remembered. */
  readonly touched: number;
  /** True when expired entries remain past `limit` (another step will take them). */
  readonly more: boolean;
}

/** Options of a sweep. */
export interface SweepOptions {
  /** Most entries deleted (and, separately, touched) per step (default 1,000). */
  readonly limit?: number;
  /** Delete only entries expired at least this long ago (default 0). */
  readonly graceMs?: number;
}

/** Options of the background sweeper. */
export interface SweeperOptions extends SweepOptions {
  /** ms between steps (default 1,000); a step that found more runs the next one at once. */
  readonly intervalMs?: number;
  /** Called with an error a step met (the sweeper goes on, except when the space closed). */
  readonly onError?: (error: unknown) => void;
}

/** Counters of a background sweeper. */
export interface SweeperStats {
  readonly steps: number;
  readonly removed: number;
  readonly touched: number;
  /** Time spent in steps (ms). */
  readonly busyMs: number;
  readonly errors: number;
  /** False once stopped (by `stop()` or because the space closed). */
  readonly running: boolean;
}

/** A background sweeper; `stop()` ends it. */
export interface Sweeper {
  stats(): SweeperStats;
  stop(): Promise<void>;
}

const BY_EXPIRY = 'byExpiry';
const BY_USE = 'byUse';
/** Reads remembered per database for the next sweep, at most. */
const MAX_PENDING_READS = 100_000;

/** Computations in flight, per database: at most one per cache root and key. */
const inFlight = new WeakMap<Database, Map<string, Promise<unknown>>>();

function checkTime(value: unknown, what: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0))
    invalidArgument(`${what} must be a non-negative number of ms, got ${String(value)}`);
}

/**
 * A cache kept under root `root` of a database. The handle holds no data: every process
 * creates the same handle and reads and writes the root through transactions.
 * @example
 * const sessions = new ExpiringCache<string, Session>('sessions', { ttl: 30 * 60_000, maxEntries: 100_000 });
 * await db.transact((tx) => sessions.in(tx).set(id, session));
 * const s = sessions.in(db.begin({ readOnly: true })).get(id);
 */
export class ExpiringCache<K extends Key = Key, V = unknown> {
  readonly root: string;
  readonly options: CacheOptions;
  /** Reads per database name, waiting for a sweep to write their recency: key id → [key, time]. */
  readonly #pending = new Map<string, Map<string, [K, number]>>();

  constructor(root: string, options: CacheOptions = {}) {
    if (typeof root !== 'string' || root.length === 0) invalidArgument('ExpiringCache needs a root name');
    checkTime(options.ttl, 'ttl');
    const max = options.maxEntries;
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 1))
      invalidArgument(`maxEntries must be a positive integer, got ${String(max)}`);
    this.root = root;
    this.options = { ...options };
  }

  /** An empty cache value (what `set` creates under the root when it does not exist). */
  empty(): IndexedCollection<CacheRecord<K, V>, K> {
    return IndexedCollection.empty<CacheRecord<K, V>, K>({
      key: 'key',
      indexes: { [BY_EXPIRY]: 'expiresAt', [BY_USE]: 'usedAt' },
    });
  }

  /** The cache as transaction `tx` sees it, at `tx.time`. */
  in(tx: Transaction): CacheView<K, V> {
    return new CacheView<K, V>(this, tx, (key) => this.#remember(tx, key));
  }

  #remember(tx: Transaction, key: K): void {
    if (this.options.maxEntries === undefined) return;
    let reads = this.#pending.get(tx.database);
    if (reads === undefined) {
      reads = new Map();
      this.#pending.set(tx.database, reads);
    }
    const id = canonical(key);
    reads.delete(id);
    reads.set(id, [key, tx.time]);
    // Bounded: with no sweeper running, the oldest reads are forgotten.
    if (reads.size > MAX_PENDING_READS) reads.delete(reads.keys().next().value as string);
  }

  /** The value of `key` while it is live in the newest commit, read in one `db.read`. */
  get(db: Database, key: K): V | undefined {
    // What `in(tx).get(key)` does, without the view and its callback per read (the hot path).
    return db.read((tx) => {
      const record = storedIn<K, V>(tx, this.root)?.get(key);
      if (record === undefined || !live(record, tx.time)) return undefined;
      this.#remember(tx, key);
      return record.value;
    });
  }

  /**
   * The value of `key` when it is live; otherwise runs `compute` (at most once per key in
   * flight in this process: concurrent callers await the same run), stores its value with
   * `options` (or the cache's `ttl`) in one transaction, and returns it. A failing compute
   * stores nothing; every caller waiting on it gets its error.
   */
  async getOrCompute(
    db: Database,
    key: K,
    compute: () => V | Promise<V>,
    options: SetOptions = {},
  ): Promise<V> {
    if (typeof compute !== 'function')
      invalidArgument('getOrCompute(db, key, compute) needs a compute function');
    const hit = this.get(db, key);
    if (hit !== undefined) return hit;
    let flights = inFlight.get(db);
    if (flights === undefined) {
      flights = new Map();
      inFlight.set(db, flights);
    }
    const id = `${this.root}\u0000${canonical(key)}`;
    const running = flights.get(id);
    if (running !== undefined) return running as Promise<V>;
    const flight = (async () => {
      const value = await compute();
      await db.transact((tx) => this.in(tx).set(key, value, options));
      return value;
    })();
    flights.set(id, flight);
    try {
      return await flight;
    } finally {
      flights.delete(id);
    }
  }

  /** One sweep step on `db`: deletes expired entries and writes remembered recency (bounded). */
  async sweep(db: Database, options: SweepOptions = {}): Promise<SweepReport> {
    const limit = options.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1)
      invalidArgument(`sweep limit must be a positive integer, got ${String(limit)}`);
    const grace = options.graceMs ?? 0;
    checkTime(grace, 'graceMs');
    const reads = this.#pending.get(db.name);
    const batch = reads === undefined ? [] : [...reads.entries()].slice(0, limit);
    const report = await db.transact((tx) => {
      const cache = tx.get<IndexedCollection<CacheRecord<K, V>, K>>(this.root);
      if (cache === undefined) return { removed: 0, touched: 0, more: false };
      const cutoff = tx.time - grace;
      const expired = from(cache)
        .where('expiresAt', '<=', cutoff)
        .limit(limit + 1)
        .select((r) => r.key)
        .toArray();
      let next = cache;
      const doomed = expired.slice(0, limit);
      for (const key of doomed) next = next.delete(key);
      let touched = 0;
      for (const [, [key, at]] of batch) {
        const record = next.get(key);
        if (record === undefined || record.usedAt >= at || !live(record, tx.time)) continue;
        next = next.put({ ...record, usedAt: at });
        touched++;
      }
      if (doomed.length > 0 || touched > 0) tx.set(this.root, next);
      return { removed: doomed.length, touched, more: expired.length > limit };
    });
    if (reads !== undefined)
      for (const [id, [, at]] of batch) if (reads.get(id)?.[1] === at) reads.delete(id);
    return report;
  }

  /**
   * Sweeps `db` in the background: a step every `intervalMs` (at once again while a step
   * finds more), on an unref'd timer, until `stop()` or until the space closes.
   */
  startSweeper(db: Database, options: SweeperOptions = {}): Sweeper {
    const interval = options.intervalMs ?? 1000;
    if (!Number.isSafeInteger(interval) || interval < 1)
      invalidArgument(`intervalMs must be a positive integer, got ${String(interval)}`);
    const stats = { steps: 0, removed: 0, touched: 0, busyMs: 0, errors: 0, running: true };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current: Promise<void> = Promise.resolve();
    const schedule = (ms: number) => {
      if (!stats.running) return;
      timer = setTimeout(() => {
        current = step();
      }, ms);
      timer.unref();
    };
    const step = async () => {
      const t0 = performance.now();
      let again = false;
      try {
        const r = await this.sweep(db, options);
        stats.removed += r.removed;
        stats.touched += r.touched;
        again = r.more;
      } catch (error) {
        if (isProtoError(error) && error.reason === 'closed') {
          stats.running = false;
          return;
        }
        stats.errors++;
        options.onError?.(error);
      } finally {
        stats.steps++;
        stats.busyMs += performance.now() - t0;
      }
      schedule(again ? 0 : interval);
    };
    schedule(interval);
    return {
      stats: () => ({ ...stats }),
      stop: async () => {
        stats.running = false;
        if (timer !== undefined) clearTimeout(timer);
        await current;
      },
    };
  }
}

/** The cache stored under root `root` as `tx` sees it; `invalid-argument` when the root holds something else. */
function storedIn<K extends Key, V>(
  tx: Transaction,
  root: string,
): IndexedCollection<CacheRecord<K, V>, K> | undefined {
  const value = tx.get(root);
  if (value === undefined) return undefined;
  if (!(value instanceof IndexedCollection))
    invalidArgument(`root '${root}' does not hold a cache (an IndexedCollection of entries)`);
  return value as IndexedCollection<CacheRecord<K, V>, K>;
}

function live(record: CacheRecord, time: number): boolean {
  return record.expiresAt === undefined || record.expiresAt > time;
}

/** A cache as one transaction sees it. */
export class CacheView<K extends Key, V> {
  readonly #cache: ExpiringCache<K, V>;
  readonly #tx: Transaction;
  readonly #remember: (key: K) => void;

  /** @internal Use `cache.in(tx)`. */
  constructor(cache: ExpiringCache<K, V>, tx: Transaction, remember: (key: K) => void) {
    this.#cache = cache;
    this.#tx = tx;
    this.#remember = remember;
  }

  #stored(): IndexedCollection<CacheRecord<K, V>, K> | undefined {
    return storedIn<K, V>(this.#tx, this.#cache.root);
  }

  /** The time this view judges expiry by (the transaction's). */
  get time(): number {
    return this.#tx.time;
  }

  /** The value of `key` while it is live, else undefined. */
  get(key: K): V | undefined {
    const record = this.#stored()?.get(key);
    if (record === undefined || !live(record, this.#tx.time)) return undefined;
    this.#remember(key);
    return record.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** When `key` expires (ms since the epoch), undefined when it never does or is not live. */
  expiresAt(key: K): number | undefined {
    const record = this.#stored()?.get(key);
    return record === undefined || !live(record, this.#tx.time) ? undefined : record.expiresAt;
  }

  /**
   * Stores `value` under `key`, expiring after `ttl` ms from the transaction's time, at
   * `expiresAt`, or after the cache's default `ttl` (never, without one). With `maxEntries`,
   * evicts the least recently used entries beyond the bound in the same transaction.
   */
  set(key: K, value: V, options: SetOptions = {}): void {
    if (value === undefined) invalidArgument('a cache cannot store undefined; use delete(key)');
    checkTime(options.ttl, 'ttl');
    const at = options.expiresAt instanceof Date ? options.expiresAt.getTime() : options.expiresAt;
    checkTime(at, 'expiresAt');
    if (options.ttl !== undefined && at !== undefined) invalidArgument('give ttl or expiresAt, not both');
    const ttl = options.ttl ?? this.#cache.options.ttl;
    const expiresAt = at ?? (ttl === undefined ? undefined : this.#tx.time + ttl);
    const record: CacheRecord<K, V> =
      expiresAt === undefined
        ? { key, value, usedAt: this.#tx.time }
        : { key, value, expiresAt, usedAt: this.#tx.time };
    let next = (this.#stored() ?? this.#cache.empty()).put(record);
    const max = this.#cache.options.maxEntries;
    if (max !== undefined) next = next.trim(max, { by: BY_USE });
    this.#tx.set(this.#cache.root, next);
  }

  /** Removes `key` (live or expired). */
  delete(key: K): void {
    const stored = this.#stored();
    if (stored === undefined || !stored.has(key)) return;
    this.#tx.set(this.#cache.root, stored.delete(key));
  }

  /** Live entries. */
  get size(): number {
    const stored = this.#stored();
    if (stored === undefined) return 0;
    return stored.size - from(stored).where('expiresAt', '<=', this.#tx.time).count();
  }

  /** `[key, value]` of the live entries, in key order. */
  *entries(): Generator<[K, V], void, undefined> {
    const stored = this.#stored();
    if (stored === undefined) return;
    const time = this.#tx.time;
    for (const [key, record] of stored.entries()) if (live(record, time)) yield [key, record.value];
  }

  *keys(): Generator<K, void, undefined> {
    for (const [key] of this.entries()) yield key;
  }

  /** The live entries' records, as a query (`where`, `orderBy` ... on `key`, `value.*`, `expiresAt`). */
  records() {
    const stored = this.#stored() ?? this.#cache.empty();
    return from(stored).where(or(field('expiresAt').gt(this.#tx.time), not(field('expiresAt').exists())));
  }
}
