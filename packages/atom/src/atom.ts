/**
 * Atoms: the unit of storage. An atom is an immutable node whose content (its payload) is a
 * codec value that may refer to other atoms; collections are trees of atoms. Atom classes are
 * registered by name, and decoding instantiates only registered classes.
 */
import type { EntryChange } from './diff.js';
import { CodecError, TransactionError } from './errors.js';
import type { AtomPointer } from './storage/backend.js';

/** @internal Where a persisted atom lives and how to load its neighbours. */
export const ATOM_POINTER: unique symbol = Symbol.for('@proto/atom-pointer') as never;
/** @internal */
export const ATOM_LOADER: unique symbol = Symbol.for('@proto/atom-loader') as never;

/** Loads atoms by pointer for one object space. Implemented by the kernel. */
export interface AtomLoader {
  /** Identifies the space, so atoms from another space are never written by pointer. */
  readonly spaceId: number;
  /** Returns the atom, from cache or storage; throws `not-loaded` if the backend cannot read synchronously and the atom is not cached. */
  loadSync(pointer: AtomPointer): Atom;
  /** Returns the atom, from cache or storage; concurrent calls for one pointer share one read. */
  load(pointer: AtomPointer): Promise<Atom>;
  /**
   * @internal Optional: the cache entry holding the atom of `pointer`, if cached. An `AtomRef`
   * keeps it to skip the lookup next time; its `value` becomes undefined on eviction.
   */
  cacheEntry?(pointer: AtomPointer): AtomCacheEntry | undefined;
}

/** @internal What `AtomLoader.cacheEntry` returns. */
export interface AtomCacheEntry {
  readonly value: Atom | undefined;
  /** Set on each use, so eviction spares the entry once. */
  hot: boolean;
}

/**
 * Base class of every stored node. Subclasses are immutable after construction, implement
 * `toPayload()`, and are registered once with `registerAtomType`.
 *
 * @example
 * class Note extends Atom {
 *   static readonly typeName = 'example.note';
 *   constructor(readonly text: string) { super(); }
 *   get atomType() { return Note.typeName; }
 *   toPayload() { return { text: this.text }; }
 * }
 * registerAtomType(Note.typeName, (payload) => new Note((payload as { text: string }).text));
 */
export abstract class Atom {
  /** @internal Set by the kernel once the atom is stored. */
  [ATOM_POINTER]: AtomPointer | undefined = undefined;
  /** @internal Set by the kernel for atoms it stored or loaded. */
  [ATOM_LOADER]: AtomLoader | undefined = undefined;

  /** The name this class was registered under. */
  abstract get atomType(): string;

  /**
   * The atom's content as a codec value. It may contain other `Atom`s and `AtomRef`s, which
   * are stored as pointers (children are written before their parents). Called at commit.
   */
  abstract toPayload(): unknown;

  /**
   * Optional fast path: the child atoms referenced by the payload. When absent, the kernel
   * finds them by walking the payload.
   */
  childAtoms?(): Iterable<Atom | AtomRef>;

  /**
   * Optional, with `withDelta`: what changed from `older` (an earlier version of this value,
   * of the same atom type) to this one, as a small codec value, or `undefined` when the change
   * is better stored as the whole value (too large, or a different shape). A delta commit
   * stores it instead of the atoms this version rewrote (see the kernel README, "What a commit
   * writes"). It must not change either atom, and `older.withDelta(delta)` must rebuild this
   * version's contents exactly.
   */
  deltaSince?(older: Atom): unknown;

  /**
   * Optional, with `deltaSince`: this value with `delta` applied, a new atom equal in contents
   * to the version `deltaSince` was called on. Throws a `corrupt` error for a delta it cannot
   * apply. Runs when a space opens or picks up another process's commits.
   */
  withDelta?(delta: unknown): Atom;

  /**
   * Optional: the entries that differ from `older` (an earlier version of this value, of the
   * same atom type; `undefined` for an empty one, so that every entry is `added`) to this one,
   * lazily, in the collection's order, visiting only the subtrees the two versions do not share.
   * `undefined` when the two cannot be compared entry by entry (the diff is then the whole
   * value). It must not change either atom. See `diff` (`diff.ts`).
   */
  diffEntries?(older: Atom | undefined): Iterable<EntryChange> | undefined;
}

/** A reference to a stored atom that is loaded on demand. Cheap to hold; never pins memory. */
export class AtomRef<T extends Atom = Atom> {
  /** The cache entry the atom was last found in (see `AtomLoader.cacheEntry`). */
  #entry: AtomCacheEntry | undefined = undefined;

  constructor(
    readonly pointer: AtomPointer,
    /** @internal */ readonly loader: AtomLoader,
  ) {}

  /** The atom, loaded synchronously (from cache or a backend with synchronous reads). */
  get(): T {
    const entry = this.#entry;
    if (entry !== undefined) {
      const atom = entry.value;
      if (atom !== undefined) {
        entry.hot = true;
        return atom as T;
      }
    }
    const atom = this.loader.loadSync(this.pointer) as T;
    this.#entry = this.loader.cacheEntry?.(this.pointer);
    return atom;
  }

  /** The atom, loaded asynchronously: works on every backend. */
  load(): Promise<T> {
    return this.loader.load(this.pointer) as Promise<T>;
  }
}

/** Either an atom in memory or a reference to a stored one. */
export type AtomSlot<T extends Atom = Atom> = T | AtomRef<T>;

/** Resolves a slot to its atom, loading it synchronously if needed. */
export function resolveSlot<T extends Atom>(slot: AtomSlot<T>): T {
  return slot instanceof AtomRef ? slot.get() : slot;
}

/** The pointer of a stored atom or reference; undefined for an atom not yet written. */
export function pointerOf(value: Atom | AtomRef): AtomPointer | undefined {
  return value instanceof AtomRef ? value.pointer : value[ATOM_POINTER];
}

/** True when `a` and `b` are the same atom: the same object, or stored under the same pointer. */
export function sameAtom(a: Atom | AtomRef | undefined, b: Atom | AtomRef | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const pa = pointerOf(a);
  return pa !== undefined && pa === pointerOf(b);
}

/** Decodes a registered atom type's payload into an instance. */
export type AtomDecoder = (payload: unknown) => Atom;

const registry = new Map<string, AtomDecoder>();

/**
 * Registers an atom class under a stable name. Names are part of the storage format: never
 * rename a registered type. Registering the same name twice with different decoders throws.
 */
export function registerAtomType(typeName: string, decode: AtomDecoder): void {
  if (typeof typeName !== 'string' || typeName.length === 0) {
    throw new TransactionError({
      layer: 'atom',
      reason: 'invalid-argument',
      message: 'atom type names are non-empty strings',
    });
  }
  const existing = registry.get(typeName);
  if (existing !== undefined && existing !== decode) {
    throw new TransactionError({
      layer: 'atom',
      reason: 'invalid-argument',
      message: `atom type '${typeName}' is already registered; type names must be unique`,
    });
  }
  registry.set(typeName, decode);
}

/** @internal The decoder registered for a type name. */
export function atomDecoder(typeName: string, pointer: AtomPointer): AtomDecoder {
  const decode = registry.get(typeName);
  if (decode === undefined) {
    throw new CodecError({
      layer: 'atom',
      reason: 'unsupported',
      message: `atom ${pointer} has type '${typeName}', which is not registered; import the package that defines it (for example @proto/collections) before reading`,
      details: { pointer, typeName },
    });
  }
  return decode;
}
