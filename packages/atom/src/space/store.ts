/**
 * The atom store of an object space: the guarded backend, the decoded-atom and raw-byte
 * caches, and the loader that atoms and references of this space load through. Everything
 * else in the space reads and writes atoms through it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ATOM_LOADER,
  ATOM_POINTER,
  type Atom,
  type AtomLoader,
  AtomRef,
  type AtomSlot,
  atomDecoder,
} from '../atom.js';
import { BoundedCache } from '../cache.js';
import { decodeAtom } from '../codec.js';
import { hasReason, isProtoError, type ProtoError, StorageError, TransactionError } from '../errors.js';
import type { AtomPointer, StorageBackend } from '../storage/backend.js';

/** Cache bounds of an atom store (see `ObjectSpaceOptions.cache`). */
export interface AtomStoreLimits {
  readonly maxAtoms?: number;
  readonly maxBytes?: number;
  readonly maxRawBytes?: number;
}

/** Atoms read and written through a store, and its cache use. */
export interface AtomStoreStats {
  readonly atomsWritten: number;
  readonly bytesWritten: number;
  readonly atomsLoaded: number;
  readonly cachedAtoms: number;
  readonly cachedBytes: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Batched reads (`readAtoms` calls) made to load what a transaction met unloaded. */
  readonly batchedReads: number;
  /** Blocking reads (`readAtomsBlocking` calls) made for reads outside `transact` that missed. */
  readonly blockingReads: number;
}

/**
 * What one `transact` call met unloaded so far: the parents of the atoms it missed (a second
 * miss under one parent is a scan), the batch size a scan has grown to, and the atoms it holds.
 */
export interface Misses {
  readonly parents: Set<AtomPointer>;
  scanBudget: number;
  readonly held: Set<AtomPointer>;
}

/** Bookkeeping for one caller that loads what it misses. */
export function newMisses(): Misses {
  return { parents: new Set(), scanBudget: 0, held: new Set() };
}

/** The most atoms one batched read asks for while a transaction scans. */
const MAX_BATCH = 1024;

/**
 * Decoded atoms take about three times their encoded size on the heap (object headers,
 * pointers, strings): the decoded-atom cache charges each entry that estimate, so `maxBytes`
 * bounds memory rather than encoded bytes.
 */
const DECODED_SIZE_FACTOR = 3;

/** The most leaves remembered as loaded once (see `AtomStore.#admit`): about 40 B each. */
const MAX_SEEN = 65_536;

/** Atoms up to this many encoded bytes enter the decoded-atom cache on their first load. */
const ADMIT_BYTES = 1024;

let nextSpaceId = 1;

/**
 * Loads atoms by pointer (from the caches, else from the backend) and takes in atoms just
 * written. Once `close()` is called every load that misses the cache throws `closed`; atoms
 * already cached stay readable until `evict()`.
 */
export class AtomStore {
  readonly backend: StorageBackend;
  /** The loader stamped on every atom of this space; its `spaceId` tells this space's atoms apart. */
  readonly loader: AtomLoader;
  readonly #atoms: BoundedCache<Atom>;
  readonly #raw: BoundedCache<Uint8Array>;
  readonly #loading = new Map<AtomPointer, Promise<Atom>>();
  /**
   * The leaves loaded once and not kept (see `#admit`), oldest first, at most `#maxSeen`.
   * Only for backends with synchronous reads, where a leaf not kept is read again on demand.
   */
  readonly #seen = new Set<AtomPointer>();
  /** Depth of `keeping` calls running: while above 0, every loaded atom is kept. */
  #keeping = 0;
  /**
   * The last leaf loaded and not kept, still decoded, with the size the cache charges (see
   * `#admit`): read again before the next load, it is kept then, without a second load. One
   * leaf: a longer window costs cold reads more than it gives writers (measured at 1, 4 and 64
   * in `apps/bench/README.md`, cold reads).
   */
  #last: { readonly pointer: AtomPointer; readonly atom: Atom; readonly size: number } | undefined;
  readonly #maxSeen: number;
  #closed = false;
  #atomsWritten = 0;
  #bytesWritten = 0;
  #atomsLoaded = 0;
  #batchedReads = 0;
  #blockingReads = 0;
  /** The backend reads synchronously: no atom is ever missing, none of the bookkeeping below runs. */
  readonly #syncReads: boolean;
  /** The backend checks a checksum of its own on every read (`checkedReads`): the frame's is skipped. */
  readonly #checkedReads: boolean;
  /**
   * Child pointer → parent pointer, for atoms decoded from a backend without synchronous
   * reads: where a scan goes next. Cleared when it grows past the decoded-atom bound.
   */
  readonly #parents = new Map<AtomPointer, AtomPointer>();
  readonly #maxParents: number;
  /** Atoms loaded for running `transact` calls, kept from eviction until each of them ends. */
  readonly #held = new Map<AtomPointer, { readonly atom: Atom; holders: number }>();
  /** The backend's `readAtomsBlocking`, when it lacks synchronous reads and has one. */
  readonly #readBlocking: ((pointers: readonly AtomPointer[]) => readonly Uint8Array[]) | undefined;
  /**
   * With `#readBlocking`: true inside the calls whose misses are repaired by loading and running
   * again (`rerunnable`), where a miss throws `not-loaded` instead of blocking. Followed through
   * awaits, so it covers the whole of a `transact` function and nothing outside it.
   */
  readonly #rerun: AsyncLocalStorage<boolean> | undefined;
  /**
   * What the blocking reads of the current event-loop turn missed (a second miss under one
   * parent reads ahead, as a transaction's scan does); a new turn starts afresh.
   */
  #turn: Misses | undefined;

  constructor(backend: StorageBackend, limits: AtomStoreLimits) {
    this.backend = backend;
    this.#atoms = new BoundedCache(limits.maxAtoms ?? 200_000, limits.maxBytes ?? 256 * 1024 * 1024);
    this.#raw = new BoundedCache(Number.POSITIVE_INFINITY, limits.maxRawBytes ?? 32 * 1024 * 1024);
    this.#syncReads = backend.capabilities.syncReads;
    this.#checkedReads = backend.capabilities.checkedReads === true;
    this.#maxSeen = Math.max(1_024, Math.min(MAX_SEEN, limits.maxAtoms ?? 200_000));
    // At least enough for the children of many wide nodes, however small the cache.
    this.#maxParents = Math.max(65_536, 4 * (limits.maxAtoms ?? 200_000));
    const blocking = backend.capabilities.syncReads ? undefined : backend.readAtomsBlocking;
    this.#readBlocking = blocking?.bind(backend);
    this.#rerun = blocking === undefined ? undefined : new AsyncLocalStorage<boolean>();
    this.loader = {
      spaceId: nextSpaceId++,
      loadSync: (pointer) => this.loadSync(pointer),
      load: (pointer) => this.load(pointer),
      cacheEntry: (pointer) => this.#atoms.entry(pointer),
    };
  }

  /**
   * Runs `fn`; what its synchronous part loads is kept at once, past the doorkeeper (see
   * `#admit`). For `transact` functions: the commit that follows reads the leaves they read
   * again (measured: without this, TX-SMALL at 1M with 256 writers loads every missed leaf twice).
   */
  keeping<T>(fn: () => T): T {
    this.#keeping++;
    try {
      return fn();
    } finally {
      this.#keeping--;
    }
  }

  /** From now on, loads that miss the cache throw `closed`. */
  close(): void {
    this.#closed = true;
  }

  /** Throws `closed` (naming `operation`) once the store is closed. */
  checkOpen(operation: string): void {
    if (this.#closed) throw closed(operation);
  }

  stats(): AtomStoreStats {
    return {
      atomsWritten: this.#atomsWritten,
      bytesWritten: this.#bytesWritten,
      atomsLoaded: this.#atomsLoaded,
      cachedAtoms: this.#atoms.size,
      cachedBytes: this.#atoms.bytes,
      cacheHits: this.#atoms.hits,
      cacheMisses: this.#atoms.misses,
      batchedReads: this.#batchedReads,
      blockingReads: this.#blockingReads,
    };
  }

  /** Drops every cached atom and raw byte string. */
  evict(): void {
    this.#atoms.clear();
    this.#raw.clear();
    this.#last = undefined;
  }

  /** Writes encoded atoms in one backend call; pointers come back in the same order. */
  writeAtoms(encoded: readonly Uint8Array[]): Promise<readonly AtomPointer[]> {
    return this.backend.writeAtoms(encoded);
  }

  /** Stamps an atom just written as stored at `pointer` in this space, and caches it. */
  stored(atom: Atom, pointer: AtomPointer, bytes: Uint8Array): void {
    atom[ATOM_POINTER] = pointer;
    atom[ATOM_LOADER] = this.loader;
    this.#atoms.set(pointer, atom, bytes.byteLength * DECODED_SIZE_FACTOR);
    this.#atomsWritten++;
    this.#bytesWritten += bytes.byteLength;
  }

  /** A stored atom as a reference, so that a holder (history) does not pin its tree in memory. */
  unpin<T extends Atom>(slot: AtomSlot<T>): AtomSlot<T> {
    if (slot instanceof AtomRef) return slot;
    const pointer = slot[ATOM_POINTER];
    return pointer !== undefined && slot[ATOM_LOADER] === this.loader
      ? new AtomRef<T>(pointer, this.loader)
      : slot;
  }

  /** The atom at `pointer`, when it is cached or the backend reads synchronously; else throws `not-loaded`. */
  loadSync(pointer: AtomPointer): Atom {
    const cached = this.#atoms.get(pointer) ?? this.#fromLast(pointer);
    if (cached !== undefined) return cached;
    const held = this.#held.get(pointer);
    if (held !== undefined) return held.atom;
    this.checkOpen('read');
    let bytes = this.#raw.get(pointer);
    if (bytes === undefined) {
      const readSync = this.backend.readAtomSync;
      if (readSync !== undefined) bytes = readSync(pointer);
      else if (this.#readBlocking !== undefined && this.#rerun?.getStore() !== true)
        bytes = this.#loadBlocking(pointer);
      else {
        throw new StorageError({
          layer: 'atom',
          reason: 'not-loaded',
          message:
            this.#readBlocking === undefined
              ? `atom ${pointer} is not in memory and backend ${this.backend.name} cannot read synchronously; read inside db.transact(), which loads what it meets and runs the function again`
              : `atom ${pointer} is not in memory; db.transact() loads it and runs the function again`,
          details: { pointer },
        });
      }
    }
    const atom = this.#decode(pointer, bytes);
    // While a blocking scan runs, the nodes above the leaves stay in memory (to find what comes
    // next), whatever the cache bounds, until the event-loop turn ends.
    const turn = this.#turn;
    if (turn !== undefined && !turn.held.has(pointer) && atom.childAtoms !== undefined)
      this.#hold(pointer, atom, turn);
    return atom;
  }

  /**
   * True when misses may block (`readAtomsBlocking`): only then do `rerunnable` and `blocking`
   * change anything, and callers on hot paths may call `fn` directly otherwise.
   */
  get switchesContext(): boolean {
    return this.#rerun !== undefined;
  }

  /**
   * Runs `fn` (and what it awaits) so that a read of an atom not in memory throws `not-loaded`,
   * for the caller to load it (`repair`) and run `fn` again, rather than blocking on
   * `readAtomsBlocking`. For `transact` and the space's own asynchronous readers.
   */
  rerunnable<T>(fn: () => T): T {
    return this.#rerun === undefined ? fn() : this.#rerun.run(true, fn);
  }

  /** Runs `fn` so that its misses block (when the backend can) even inside a `rerunnable` call. */
  blocking<T>(fn: () => T): T {
    return this.#rerun === undefined || this.#rerun.getStore() !== true ? fn() : this.#rerun.run(false, fn);
  }

  /**
   * The bytes of `pointer`, read with `readAtomsBlocking`, with what a scan reads next (as
   * `loadMissing` chooses it, per event-loop turn) kept as raw bytes for the reads to come.
   */
  #loadBlocking(pointer: AtomPointer): Uint8Array {
    let turn = this.#turn;
    if (turn === undefined) {
      const started = (turn = this.#turn = newMisses());
      setImmediate(() => {
        this.#turn = undefined;
        this.release(started);
      }).unref();
    }
    const pointers = this.#batchOf(pointer, turn);
    const read = this.#readBlocking as (pointers: readonly AtomPointer[]) => readonly Uint8Array[];
    const bytes = read(pointers);
    this.#blockingReads++;
    for (let i = 1; i < pointers.length; i++) {
      const b = bytes[i] as Uint8Array;
      this.#raw.set(pointers[i] as AtomPointer, b, b.byteLength);
    }
    return bytes[0] as Uint8Array;
  }

  /** The atom at `pointer`; concurrent loads of one pointer share one read. */
  load(pointer: AtomPointer): Promise<Atom> {
    const cached = this.#atoms.get(pointer) ?? this.#fromLast(pointer);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.#loading.get(pointer);
    if (loading === undefined) {
      loading = (async () => {
        try {
          this.checkOpen('read');
          let bytes = this.#raw.get(pointer);
          if (bytes === undefined) {
            bytes = await this.backend.readAtom(pointer);
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

  /**
   * The atom at `pointer`, read from the backend and decoded without touching the caches (for
   * verification: what storage holds now, whatever is cached), its frame checksum checked
   * whatever the backend checks.
   */
  async readUncached(pointer: AtomPointer): Promise<Atom> {
    this.checkOpen('verify');
    return this.#decodeOnly(pointer, await this.backend.readAtom(pointer), true);
  }

  /**
   * Loads, in one batched read, the atom a transaction met unloaded (`pointer`) and, when it
   * is scanning (a second miss under one parent), the unloaded atoms that come after it in
   * tree order, in batches that double up to 1,024 atoms. A point read so costs one round
   * trip per tree level, and a scan a number of round trips logarithmic in what it reads. The
   * atoms stay held for the transaction (`misses.held`) until `release`.
   */
  async loadMissing(pointer: AtomPointer, misses: Misses): Promise<void> {
    this.checkOpen('read');
    const pointers = this.#batchOf(pointer, misses);
    const read = this.backend.readAtoms as NonNullable<StorageBackend['readAtoms']>;
    const bytes = await read(pointers);
    this.#batchedReads++;
    pointers.forEach((p, i) => {
      const b = bytes[i] as Uint8Array;
      const atom = this.#atoms.get(p) ?? this.#decode(p, b);
      this.#raw.set(p, b, b.byteLength);
      if (!misses.held.has(p)) this.#hold(p, atom, misses);
    });
  }

  /** Keeps `atom` in memory for `misses` until `release(misses)`. */
  #hold(pointer: AtomPointer, atom: Atom, misses: Misses): void {
    misses.held.add(pointer);
    const entry = this.#held.get(pointer);
    if (entry === undefined) this.#held.set(pointer, { atom, holders: 1 });
    else entry.holders++;
  }

  /**
   * After `error`: when it is a `not-loaded` read of an atom `misses` does not hold yet, loads
   * it (see `loadMissing`) and resolves true; resolves false for any other error (an atom held
   * already cannot be missing again: that error is not a miss to repair).
   */
  async repair(error: unknown, misses: Misses): Promise<boolean> {
    if (!hasReason(error, 'not-loaded')) return false;
    const pointer = (error as ProtoError).details.pointer;
    if (typeof pointer !== 'string' || misses.held.has(pointer)) return false;
    await this.loadMissing(pointer, misses);
    return true;
  }

  /** Ends what `loadMissing` held for one transaction. */
  release(misses: Misses): void {
    for (const p of misses.held) {
      const entry = this.#held.get(p);
      if (entry !== undefined && --entry.holders === 0) this.#held.delete(p);
    }
    misses.held.clear();
  }

  /**
   * `pointer` and, when `misses` shows a scan (a second miss under one parent), the unloaded
   * atoms after it in tree order, as many as the scan's doubling budget allows.
   */
  #batchOf(pointer: AtomPointer, misses: Misses): AtomPointer[] {
    const parent = this.#parents.get(pointer);
    let budget = 1;
    if (parent !== undefined) {
      if (misses.parents.has(parent)) {
        misses.scanBudget = Math.min(MAX_BATCH, Math.max(64, misses.scanBudget * 2));
        budget = misses.scanBudget;
      }
      misses.parents.add(parent);
    }
    const wanted = new Set<AtomPointer>([pointer]);
    if (budget > 1) for (const next of this.#after(pointer, budget - 1)) wanted.add(next);
    return [...wanted];
  }

  /** The atom at `pointer` if it is in memory, without counting a cache lookup. */
  #peek(pointer: AtomPointer): Atom | undefined {
    return this.#atoms.entry(pointer)?.value ?? this.#held.get(pointer)?.atom;
  }

  /**
   * Up to `budget` unloaded atoms after `pointer` in tree order: its later siblings (or, for a
   * sibling in memory, that sibling's unloaded children), then its parent's later siblings, and
   * so on up the tree.
   */
  #after(pointer: AtomPointer, budget: number): AtomPointer[] {
    const out: AtomPointer[] = [];
    let child = pointer;
    let parent = this.#parents.get(child);
    while (parent !== undefined && out.length < budget) {
      const atom = this.#peek(parent);
      if (atom === undefined) break;
      const siblings = childPointers(atom);
      for (let i = siblings.indexOf(child) + 1; i < siblings.length && out.length < budget; i++) {
        const sibling = siblings[i] as AtomPointer;
        const loaded = this.#peek(sibling);
        if (loaded === undefined) {
          if (this.#raw.entry(sibling) === undefined) out.push(sibling);
        } else
          for (const grandchild of childPointers(loaded)) {
            if (out.length >= budget) break;
            if (this.#peek(grandchild) === undefined && this.#raw.entry(grandchild) === undefined)
              out.push(grandchild);
          }
      }
      child = parent;
      parent = this.#parents.get(parent);
    }
    return out;
  }

  #decode(pointer: AtomPointer, bytes: Uint8Array): Atom {
    const atom = this.#decodeOnly(pointer, bytes);
    if (!this.#syncReads) {
      if (this.#parents.size > this.#maxParents) this.#parents.clear();
      for (const child of childPointers(atom)) this.#parents.set(child, pointer);
    }
    const size = bytes.byteLength * DECODED_SIZE_FACTOR;
    if (this.#admit(pointer, atom, bytes.byteLength)) this.#atoms.set(pointer, atom, size);
    else this.#last = { pointer, atom, size };
    this.#atomsLoaded++;
    return atom;
  }

  /** The last leaf not kept (`#last`), read again: it moves into the cache. */
  #fromLast(pointer: AtomPointer): Atom | undefined {
    const entry = this.#last;
    if (entry === undefined || entry.pointer !== pointer) return undefined;
    this.#last = undefined;
    this.#seen.delete(pointer);
    this.#atoms.set(pointer, entry.atom, entry.size);
    return entry.atom;
  }

  /**
   * Whether a loaded atom enters the decoded-atom cache. Atoms with children (the branches
   * every lookup walks) and small atoms (root cells, handles: at most `ADMIT_BYTES` encoded)
   * always do. On a backend with synchronous reads, any other atom enters on its second load
   * among the last `#maxSeen` atoms loaded and not kept (a doorkeeper, as in 2Q and TinyLFU),
   * or when it is read again before the next load (still decoded, `#last`: a window of one
   * leaf, as in W-TinyLFU): a leaf read once, by a random point read over a tree larger than the cache
   * or by a scan, is not worth its decoded form. Kept, it would push out atoms that are read
   * again, and its objects, promoted by the garbage collector while cached, would cost a copy
   * each; not kept, they die young. A leaf read again later is decoded again and then kept.
   * What a `transact` function loads is kept at once (`keeping`): its commit reads it again.
   * Backends without synchronous reads keep every atom they load: there a miss is a round trip.
   */
  #admit(pointer: AtomPointer, atom: Atom, size: number): boolean {
    if (!this.#syncReads || this.#keeping > 0 || size <= ADMIT_BYTES || atom.childAtoms !== undefined)
      return true;
    const seen = this.#seen;
    if (seen.delete(pointer)) return true;
    seen.add(pointer);
    if (seen.size > this.#maxSeen) seen.delete(seen.values().next().value as AtomPointer);
    return false;
  }

  /** Decodes `bytes`; the frame's checksum is checked unless the backend checked its own (or `verify`). */
  #decodeOnly(pointer: AtomPointer, bytes: Uint8Array, verify = false): Atom {
    let decoded: { typeName: string; payload: unknown };
    try {
      decoded = decodeAtom(bytes, {
        reference: (p) => new AtomRef(p, this.loader),
        origin: this.loader,
        checksum: verify || !this.#checkedReads,
      });
    } catch (error) {
      if (isProtoError(error)) {
        throw new StorageError({
          layer: 'atom',
          reason: error.reason,
          message: `atom ${pointer} from ${this.backend.name} does not decode: ${error.message}`,
          cause: error,
          details: { pointer },
        });
      }
      throw error;
    }
    const atom = atomDecoder(decoded.typeName, pointer)(decoded.payload);
    atom[ATOM_POINTER] = pointer;
    atom[ATOM_LOADER] = this.loader;
    return atom;
  }
}

/** The stored children of a decoded atom, in payload order (for collections: key order). */
function childPointers(atom: Atom): AtomPointer[] {
  const children = atom.childAtoms?.();
  if (children === undefined) return [];
  const out: AtomPointer[] = [];
  for (const child of children) {
    const pointer = child instanceof AtomRef ? child.pointer : child[ATOM_POINTER];
    if (pointer !== undefined) out.push(pointer);
  }
  return out;
}

/** The error of an operation on a closed object space. */
export function closed(operation: string): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'closed',
    message: `${operation}() on a closed object space; open it again`,
  });
}
