/**
 * The atom store of an object space: the guarded backend, the decoded-atom and raw-byte
 * caches, and the loader that atoms and references of this space load through. Everything
 * else in the space reads and writes atoms through it.
 */
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
import { isProtoError, StorageError, TransactionError } from '../errors.js';
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
}

/**
 * Decoded atoms take about three times their encoded size on the heap (object headers,
 * pointers, strings): the decoded-atom cache charges each entry that estimate, so `maxBytes`
 * bounds memory rather than encoded bytes.
 */
const DECODED_SIZE_FACTOR = 3;

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
  #closed = false;
  #atomsWritten = 0;
  #bytesWritten = 0;
  #atomsLoaded = 0;

  constructor(backend: StorageBackend, limits: AtomStoreLimits) {
    this.backend = backend;
    this.#atoms = new BoundedCache(limits.maxAtoms ?? 200_000, limits.maxBytes ?? 256 * 1024 * 1024);
    this.#raw = new BoundedCache(Number.POSITIVE_INFINITY, limits.maxRawBytes ?? 32 * 1024 * 1024);
    this.loader = {
      spaceId: nextSpaceId++,
      loadSync: (pointer) => this.loadSync(pointer),
      load: (pointer) => this.load(pointer),
      cacheEntry: (pointer) => this.#atoms.entry(pointer),
    };
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
    };
  }

  /** Drops every cached atom and raw byte string. */
  evict(): void {
    this.#atoms.clear();
    this.#raw.clear();
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
    const cached = this.#atoms.get(pointer);
    if (cached !== undefined) return cached;
    this.checkOpen('read');
    let bytes = this.#raw.get(pointer);
    if (bytes === undefined) {
      const readSync = this.backend.readAtomSync;
      if (readSync === undefined) {
        throw new StorageError({
          layer: 'atom',
          reason: 'not-loaded',
          message: `atom ${pointer} is not in memory and backend ${this.backend.name} cannot read synchronously; await its load() first`,
          details: { pointer },
        });
      }
      bytes = readSync(pointer);
    }
    return this.#decode(pointer, bytes);
  }

  /** The atom at `pointer`; concurrent loads of one pointer share one read. */
  load(pointer: AtomPointer): Promise<Atom> {
    const cached = this.#atoms.get(pointer);
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
   * verification: what storage holds now, whatever is cached).
   */
  async readUncached(pointer: AtomPointer): Promise<Atom> {
    this.checkOpen('verify');
    return this.#decodeOnly(pointer, await this.backend.readAtom(pointer));
  }

  #decode(pointer: AtomPointer, bytes: Uint8Array): Atom {
    const atom = this.#decodeOnly(pointer, bytes);
    this.#atoms.set(pointer, atom, bytes.byteLength * DECODED_SIZE_FACTOR);
    this.#atomsLoaded++;
    return atom;
  }

  #decodeOnly(pointer: AtomPointer, bytes: Uint8Array): Atom {
    let decoded: { typeName: string; payload: unknown };
    try {
      decoded = decodeAtom(bytes, {
        reference: (p) => new AtomRef(p, this.loader),
        origin: this.loader,
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

/** The error of an operation on a closed object space. */
export function closed(operation: string): TransactionError {
  return new TransactionError({
    layer: 'atom',
    reason: 'closed',
    message: `${operation}() on a closed object space; open it again`,
  });
}
