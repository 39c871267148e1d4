/**
 * A memory location: the place a memory backend keeps its atoms and root. It outlives the
 * backends opened on it, so closing a backend and opening another on the same location finds
 * the same data (the memory backend is persistent within the process).
 */
import type { AtomPointer } from '@proto/atom/storage';

/**
 * An opaque handle to in-process storage, created by `createMemoryLocation()` and passed to
 * `openMemoryBackend({ location })`. At most one backend has a location open at a time.
 * The read-only properties let tests observe what was stored without opening a backend.
 */
export interface MemoryLocation {
  /** Atoms currently stored, committed or not. */
  readonly atomCount: number;
  /** Total payload bytes of the stored atoms. */
  readonly byteLength: number;
  /** The committed root, or `null` before the first commit. */
  readonly root: AtomPointer | null;
  /** True while a backend has this location open. */
  readonly isOpen: boolean;
}

/** @internal What a location holds; reachable only through `stateOf` inside this package. */
export interface LocationState {
  readonly atoms: Map<AtomPointer, Uint8Array>;
  byteLength: number;
  root: AtomPointer | null;
  /** Next pointer number; never reused, so a pointer names one atom for the location's life. */
  nextId: number;
  /** The backend holding the location, if any (a location is exclusive). */
  holder: object | undefined;
}

const states = new WeakMap<MemoryLocation, LocationState>();

/**
 * Creates an empty location. Keep it to reopen the same data later; drop it to free the memory.
 *
 * @example
 * const location = createMemoryLocation();
 * const first = await openMemoryBackend({ location });
 * await first.close();
 * const again = await openMemoryBackend({ location }); // same atoms, same root
 */
export function createMemoryLocation(): MemoryLocation {
  const state: LocationState = { atoms: new Map(), byteLength: 0, root: null, nextId: 0, holder: undefined };
  const location: MemoryLocation = Object.freeze({
    get atomCount() {
      return state.atoms.size;
    },
    get byteLength() {
      return state.byteLength;
    },
    get root() {
      return state.root;
    },
    get isOpen() {
      return state.holder !== undefined;
    },
  });
  states.set(location, state);
  return location;
}

/** @internal The state behind a location; undefined for objects not made by `createMemoryLocation`. */
export function stateOf(location: MemoryLocation): LocationState | undefined {
  return states.get(location);
}
