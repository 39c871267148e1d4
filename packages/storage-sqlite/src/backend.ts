/**
 * The SQLite `StorageBackend`: atoms are rows, the root is one row, and queued
 * compare-and-set calls are committed together in one write transaction (group commit).
 */
import type {
  AtomPointer,
  ReclaimOptions,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from '@proto/atom/storage';
import { storageError, translate } from './errors.js';
import { idOf, pointerOf } from './pointer.js';
import { runReclaim } from './reclaim.js';
import { referencesOf } from './references.js';
import type { AtomStore } from './store.js';

interface PendingSwap {
  readonly expected: AtomPointer | null;
  readonly next: AtomPointer;
  readonly resolve: (swapped: boolean) => void;
  readonly reject: (error: unknown) => void;
}

export interface SqliteBackendConfig {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /** Closes the connection on `close()`; false when the caller passed their own. */
  readonly ownsDatabase: boolean;
  /** The database file, to report sizes; `undefined` for in-memory databases. */
  readonly file: string | undefined;
  /** How often `watchRoot` asks for `PRAGMA data_version` (ms). */
  readonly watchIntervalMs: number;
}

export class SqliteBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  private queue: PendingSwap[] = [];
  private flushScheduled = false;
  private closed = false;
  private reclaims: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: AtomStore,
    private readonly config: SqliteBackendConfig,
  ) {
    this.name = config.name;
    this.capabilities = config.capabilities;
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
      return this.store.insert(atoms).map(pointerOf);
    } catch (error) {
      throw translate(error, `writing ${atoms.length} atom(s) to ${this.store.where}`);
    }
  }

  readAtomSync(pointer: AtomPointer): Uint8Array {
    const id = idOf(pointer);
    let bytes: Uint8Array | undefined;
    try {
      bytes = id === undefined ? undefined : this.store.read(id, pointer);
    } catch (error) {
      throw translate(error, `reading atom ${pointer} from ${this.store.where}`);
    }
    if (bytes === undefined) {
      throw storageError('not-found', `no atom ${JSON.stringify(pointer)} in ${this.store.where}`, {
        details: { pointer },
      });
    }
    return bytes;
  }

  async readAtom(pointer: AtomPointer): Promise<Uint8Array> {
    return this.readAtomSync(pointer);
  }

  async readRoot(): Promise<AtomPointer | null> {
    try {
      return this.store.state().root;
    } catch (error) {
      throw translate(error, `reading the root of ${this.store.where}`);
    }
  }

  compareAndSetRoot(expected: AtomPointer | null, next: AtomPointer): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ expected, next, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // A tick queued from a promise job runs once the whole microtask queue has drained, so
        // every call made by the commits progressing in this turn shares one transaction and one
        // sync (group commit), without waiting for another turn of the event loop.
        process.nextTick(() => this.flush());
      }
    });
  }

  /**
   * Notices other connections' commits: SQLite's `PRAGMA data_version` changes when another
   * connection commits (never for this connection's own), so asking for it on a timer is a
   * cheap way to know, without reading a table. The first tick always reports, so a commit made
   * just before watching began is not missed.
   */
  watchRoot(onChange: () => void): () => void {
    const statement = this.store.db.prepare('PRAGMA data_version');
    let last: unknown;
    const timer = setInterval(() => {
      if (this.closed) return;
      let version: unknown;
      try {
        version = Object.values((statement.get() as Record<string, unknown> | undefined) ?? {})[0];
      } catch {
        version = undefined; // the reader of the root finds out what failed
      }
      if (version === undefined || version !== last) onChange();
      last = version;
    }, this.config.watchIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  reclaim(options: ReclaimOptions = {}): Promise<ReclaimReport> {
    const run = this.reclaims.then(() => runReclaim(this.store, this.config.file, options));
    this.reclaims = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    await this.reclaims;
    this.closed = true;
    if (this.config.ownsDatabase) {
      try {
        this.store.db.close();
      } catch (error) {
        throw translate(error, `closing ${this.store.where}`);
      }
    }
  }

  /** Commits every queued compare-and-set in one write transaction, in arrival order. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const swap of batch) swap.reject(storageError('closed', `${this.store.where} was closed`));
      return;
    }
    let outcomes: (boolean | Error)[];
    try {
      outcomes = this.store.writeTransaction(true, () => {
        const state = this.store.state();
        let current = state.root;
        const results = batch.map((swap): boolean | Error => {
          if (swap.expected !== current) return false;
          let lost: Error | undefined;
          try {
            lost = this.missingAfterReclaim(swap, state.fence);
          } catch (error) {
            lost = translate(
              error,
              `checking the atoms of commit ${swap.next} in ${this.store.where}`,
            ) as Error;
          }
          if (lost !== undefined) return lost;
          current = swap.next;
          return true;
        });
        if (current !== null && current !== state.root) this.store.setRoot(current);
        return results;
      });
    } catch (error) {
      const failure = translate(error, `committing a new root to ${this.store.where}`);
      for (const swap of batch) swap.reject(failure);
      return;
    }
    batch.forEach((swap, index) => {
      const outcome = outcomes[index];
      if (outcome instanceof Error) swap.reject(outcome);
      else swap.resolve(outcome === true);
    });
  }

  /**
   * A commit whose atoms were written before a reclaim started and whose compare-and-set arrives
   * after that reclaim deleted them (they were unreachable from every root it saw) must not make
   * a dangling root. Reclaim records its fence (the highest id it could delete); a commit's new
   * atoms are written after its expected root's atom, so only when the fence is at or above
   * the expected root's id can any of them be gone. Then the atoms above the fence reachable
   * from `next` (exactly this commit's new atoms) are walked and every reference at or below the
   * fence must still exist: such an atom survived the reclaim only by being live, so its own
   * subtree is whole. Returns the error to reject this call with, or `undefined`.
   */
  private missingAfterReclaim(swap: PendingSwap, fence: number): Error | undefined {
    if (fence <= 0) return undefined;
    const expectedId = swap.expected === null ? 0 : (idOf(swap.expected) ?? 0);
    if (expectedId > fence) return undefined;
    const stack: AtomPointer[] = [swap.next];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const pointer = stack.pop() as AtomPointer;
      const id = idOf(pointer);
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      if (id <= fence) {
        if (this.store.exists(id)) continue;
        return storageError(
          'conflict',
          `a reclaim of ${this.store.where} deleted atom ${pointer}, which this commit refers to, before the commit arrived (its atoms were written before the reclaim started); run the transaction again`,
          { details: { pointer, next: swap.next } },
        );
      }
      const bytes = this.store.read(id, pointer);
      if (bytes !== undefined) stack.push(...referencesOf(bytes));
    }
    return undefined;
  }
}
