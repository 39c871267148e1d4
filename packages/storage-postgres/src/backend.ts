/**
 * The PostgreSQL `StorageBackend`: atoms are rows, the root is one row, a compare-and-set is one
 * SQL transaction (see `RootSwapper`), sent in call order, and other processes' commits are
 * noticed by reading the root on a timer while someone watches.
 */
import type {
  AtomPointer,
  ReclaimOptions,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from '@proto/atom/storage';
import type { BlockingReader } from './blocking.js';
import { type CompareAndSetTimeouts, DEFAULT_TIMEOUTS, RootSwapper } from './commit.js';
import { storageError, translate } from './errors.js';
import { runReclaim } from './reclaim.js';
import { pruneCommits } from './schema.js';
import type { AtomStore } from './store.js';

export interface PostgresBackendConfig {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /** Ends the pool on `close()`; false when the caller passed their own. */
  readonly ownsPool: boolean;
  /** How often `watchRoot` reads the root (ms). */
  readonly watchIntervalMs: number;
  /** The worker behind `readAtomsBlocking`; without it the backend has no blocking reads. */
  readonly blocking?: BlockingReader;
  /** Bounds on what a compare-and-set waits for; `DEFAULT_TIMEOUTS` for those not given. */
  readonly timeouts?: Partial<CompareAndSetTimeouts>;
}

/** Successful commits of one backend between two prunes of the commits log. */
const PRUNE_EVERY = 1000;

export class PostgresBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  private readonly swapper: RootSwapper;
  private closed = false;
  private reclaims: Promise<unknown> = Promise.resolve();
  private commitsSincePrune = 0;
  private pruning: Promise<void> = Promise.resolve();
  /**
   * One statement on the blocking-read worker's own connection, the calling thread waiting for
   * it (see `blocking.ts`); present when the backend was opened with blocking reads.
   */
  readonly readAtomsBlocking?: (pointers: readonly AtomPointer[]) => readonly Uint8Array[];
  /** Settles when the last compare-and-set queued has settled; each starts after the one before. */
  private casTail: Promise<void> = Promise.resolve();
  private casInFlight = 0;

  constructor(
    private readonly store: AtomStore,
    private readonly config: PostgresBackendConfig,
  ) {
    this.name = config.name;
    this.capabilities = config.capabilities;
    this.swapper = new RootSwapper(store, { ...DEFAULT_TIMEOUTS, ...config.timeouts });
    const reader = config.blocking;
    if (reader !== undefined) {
      this.readAtomsBlocking = (pointers) => {
        if (pointers.length === 0) return [];
        try {
          return store.readBlocking(pointers, reader);
        } catch (error) {
          throw translate(error, `reading ${pointers.length} atom(s) from ${store.where}`);
        }
      };
    }
  }

  async writeAtoms(atoms: readonly Uint8Array[]): Promise<readonly AtomPointer[]> {
    if (atoms.length === 0) return [];
    const max = this.capabilities.maxAtomBytes;
    for (const atom of atoms) {
      if (atom.byteLength > max) {
        throw storageError(
          'too-large',
          `atom of ${atom.byteLength} bytes exceeds the maximum of ${max}; nothing was written`,
        );
      }
    }
    try {
      return await this.store.insert(atoms);
    } catch (error) {
      throw translate(error, `writing ${atoms.length} atom(s) to ${this.store.where}`);
    }
  }

  async readAtom(pointer: AtomPointer): Promise<Uint8Array> {
    const [bytes] = await this.readAtoms([pointer]);
    return bytes as Uint8Array;
  }

  /** One statement (`WHERE id = ANY($1)`) for the whole batch. */
  async readAtoms(pointers: readonly AtomPointer[]): Promise<readonly Uint8Array[]> {
    if (pointers.length === 0) return [];
    try {
      return await this.store.read(pointers);
    } catch (error) {
      throw translate(error, `reading ${pointers.length} atom(s) from ${this.store.where}`);
    }
  }

  async readRoot(): Promise<AtomPointer | null> {
    try {
      return await this.store.readRoot();
    } catch (error) {
      throw translate(error, `reading the root of ${this.store.where}`);
    }
  }

  /**
   * Serialized, as the contract says: each call starts once the one before it settled. The
   * kernel sends a group's compare-and-set before the one in flight resolved (expecting the
   * root that one sets); sent beside it on another pooled connection, it could reach the server
   * first and lose. Every call settles in bounded time (`CompareAndSetTimeouts`), so a call
   * whose server died fails, and the calls behind it go on, instead of waiting forever.
   */
  compareAndSetRoot(expected: AtomPointer | null, next: AtomPointer): Promise<boolean> {
    // With none in flight it starts at once, without a turn of the event loop.
    const run =
      this.casInFlight === 0 ? this.swap(expected, next) : this.casTail.then(() => this.swap(expected, next));
    this.casInFlight += 1;
    this.casTail = run.then(
      () => {
        this.casInFlight -= 1;
      },
      () => {
        this.casInFlight -= 1;
      },
    );
    return run;
  }

  private async swap(expected: AtomPointer | null, next: AtomPointer): Promise<boolean> {
    const swapped = await this.swapper.compareAndSet(expected, next);
    if (swapped && ++this.commitsSincePrune >= PRUNE_EVERY) {
      this.commitsSincePrune = 0;
      // Off the commit's path; a failure only postpones the prune to the next round.
      this.pruning = this.pruning.then(() =>
        this.store.pool.query(pruneCommits(this.store.tables)).then(
          () => undefined,
          () => undefined,
        ),
      );
    }
    return swapped;
  }

  /**
   * Reads the root every `watchIntervalMs` and reports when it changed (the first read always
   * reports, so a commit made just before watching began is not missed). A poll rather than
   * LISTEN/NOTIFY: it holds no connection of the pool, and works through transaction-pooling
   * proxies (PgBouncer) and PostgreSQL-compatible databases that lack LISTEN.
   */
  watchRoot(onChange: () => void): () => void {
    let last: AtomPointer | null | undefined;
    let reading = false;
    const timer = setInterval(() => {
      if (reading || this.closed) return;
      reading = true;
      this.store.readRoot().then(
        (root) => {
          reading = false;
          if (this.closed) return;
          if (root !== last) onChange();
          last = root;
        },
        () => {
          reading = false;
          if (!this.closed) onChange(); // the reader of the root finds out what failed
        },
      );
    }, this.config.watchIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  reclaim(options: ReclaimOptions = {}): Promise<ReclaimReport> {
    const run = this.reclaims.then(() => runReclaim(this.store, options));
    this.reclaims = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.casTail;
    await this.reclaims;
    await this.pruning;
    this.closed = true;
    await this.config.blocking?.close();
    if (this.config.ownsPool) {
      try {
        await this.store.pool.end();
      } catch (error) {
        throw translate(error, `closing the connections to ${this.store.where}`);
      }
    }
  }
}
