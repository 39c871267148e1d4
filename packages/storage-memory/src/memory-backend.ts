/**
 * The in-memory storage backend: the reference implementation of the storage contract and the
 * test double of every other package. Atoms live in a `MemoryLocation`, so data survives
 * `close()` and a later open of the same location, but not the process.
 */
import { atomReferences } from '@proto/atom/codec';
import type {
  AtomPointer,
  ReclaimOptions,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from '@proto/atom/storage';
import { StorageError } from '@proto/atom/storage';
import { createMemoryLocation, type LocationState, type MemoryLocation, stateOf } from './location.js';

/** The default `maxAtomBytes`: 64 MiB. */
export const DEFAULT_MAX_ATOM_BYTES: number = 64 * 1024 * 1024;

const LAYER = 'storage-memory';
/** Progress events are reported every this many atoms, plus once at the end of each phase. */
const PROGRESS_EVERY = 1024;

/**
 * Hooks that let tests make the backend fail or wait at chosen points. Each hook may throw (or
 * reject) to make the operation reject with that error, having changed nothing. Hooks are
 * looked up on every call, so a test may set or replace them on the same object later.
 *
 * @example
 * // Hold every commit at its durability barrier until the test releases it.
 * let release!: () => void;
 * const barrier = new Promise<void>((resolve) => (release = resolve));
 * const backend = await openMemoryBackend({ faults: { beforeSetRoot: () => barrier } });
 * const committed = backend.compareAndSetRoot(null, pointer); // still pending
 * release(); // now it resolves
 */
export interface MemoryFaults {
  /** Called at the start of every `writeAtoms`, before anything is stored. */
  beforeWrite?(atoms: readonly Uint8Array[]): void | Promise<void>;
  /**
   * Called by `compareAndSetRoot` once `expected` matched, before the root changes: this is
   * the backend's durability barrier. Other `compareAndSetRoot` and `reclaim` calls wait
   * behind it, and `readRoot` keeps returning the old root until it settles.
   */
  beforeSetRoot?(expected: AtomPointer | null, next: AtomPointer): void | Promise<void>;
}

export interface MemoryBackendOptions {
  /** Where the data lives; a fresh location when omitted (nothing to reopen then). */
  readonly location?: MemoryLocation;
  /** The largest atom accepted, in bytes; defaults to `DEFAULT_MAX_ATOM_BYTES` (64 MiB). */
  readonly maxAtomBytes?: number;
  /** Failure and delay injection for tests; see `MemoryFaults`. */
  readonly faults?: MemoryFaults;
  /**
   * False: behave like a network backend, to test code against one. `capabilities.syncReads`
   * is false (the kernel then loads what transactions meet through `readAtoms`), and every
   * `readAtom` or `readAtoms` call waits `readLatencyMs` first, as one round trip would.
   * Default true.
   */
  readonly syncReads?: boolean;
  /** The wait of each read call when `syncReads` is false, in ms (default 0: one macrotask). */
  readonly readLatencyMs?: number;
  /**
   * With `syncReads: false`: offer `readAtomsBlocking` (each call blocks the thread for
   * `readLatencyMs`, as a network backend's blocking read waits for its round trip), so that
   * reads outside `transact` load what they miss. False: such reads fail with `not-loaded`.
   * Default true.
   */
  readonly blockingReads?: boolean;
}

function storageError(
  reason: 'not-found' | 'closed' | 'locked' | 'too-large' | 'invalid-argument' | 'corrupt',
  message: string,
  details?: Record<string, unknown>,
): StorageError {
  return new StorageError({ layer: LAYER, reason, message, ...(details === undefined ? {} : { details }) });
}

/**
 * A storage backend over a `MemoryLocation`. Open it with `openMemoryBackend` (or
 * `MemoryBackend.open`); the kernel wraps it in its lifecycle guard.
 *
 * Bytes are copied on write and on read, so callers may reuse or mutate their buffers.
 * Pointers are base-36 counters, never reused within a location. `compareAndSetRoot` and
 * `reclaim` run one at a time in call order; reads never wait.
 */
export class MemoryBackend implements StorageBackend {
  readonly name = 'memory';
  readonly capabilities: StorageCapabilities;

  readonly #state: LocationState;
  readonly #faults: MemoryFaults | undefined;
  /** Tail of the queue that serializes `compareAndSetRoot` and `reclaim`. */
  #queue: Promise<unknown> = Promise.resolve();
  /** `writeAtoms` calls not yet settled (they may be waiting in `faults.beforeWrite`). */
  readonly #writes = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  /** The wait before each read when reads are asynchronous; undefined when they are synchronous. */
  readonly #readLatencyMs: number | undefined;
  /** Present with `syncReads: false` unless `blockingReads: false` (see `MemoryBackendOptions`). */
  readonly readAtomsBlocking?: (pointers: readonly AtomPointer[]) => readonly Uint8Array[];

  private constructor(
    state: LocationState,
    maxAtomBytes: number,
    faults: MemoryFaults | undefined,
    readLatencyMs: number | undefined,
    blockingReads: boolean,
  ) {
    this.#state = state;
    this.#faults = faults;
    this.#readLatencyMs = readLatencyMs;
    if (readLatencyMs !== undefined && blockingReads) {
      const wait = new Int32Array(new SharedArrayBuffer(4));
      this.readAtomsBlocking = (pointers) => {
        if (readLatencyMs > 0) Atomics.wait(wait, 0, 0, readLatencyMs);
        return pointers.map((pointer) => this.readAtomSync(pointer));
      };
    }
    this.capabilities = Object.freeze({
      durable: false,
      persistent: true,
      syncReads: readLatencyMs === undefined,
      multiProcess: false,
      maxAtomBytes,
      reclaim: true,
    });
  }

  /**
   * Opens a backend on `options.location` (or a new location). Rejects with reason `locked`
   * while another backend has the same location open, and `invalid-argument` for bad options.
   */
  static async open(options: MemoryBackendOptions = {}): Promise<MemoryBackend> {
    const maxAtomBytes = options.maxAtomBytes ?? DEFAULT_MAX_ATOM_BYTES;
    if (!Number.isSafeInteger(maxAtomBytes) || maxAtomBytes < 1) {
      throw storageError(
        'invalid-argument',
        `maxAtomBytes must be a positive integer, got ${String(maxAtomBytes)}`,
      );
    }
    const syncReads = options.syncReads ?? true;
    const latency = options.readLatencyMs ?? 0;
    const blockingReads = options.blockingReads ?? true;
    if (typeof syncReads !== 'boolean') throw storageError('invalid-argument', 'syncReads must be a boolean');
    if (typeof blockingReads !== 'boolean')
      throw storageError('invalid-argument', 'blockingReads must be a boolean');
    if (typeof latency !== 'number' || !(latency >= 0) || !Number.isFinite(latency))
      throw storageError(
        'invalid-argument',
        `readLatencyMs must be a non-negative number, got ${String(latency)}`,
      );
    const location = options.location ?? createMemoryLocation();
    const state = stateOf(location);
    if (state === undefined) {
      throw storageError('invalid-argument', 'location must come from createMemoryLocation()');
    }
    if (state.holder !== undefined) {
      throw storageError(
        'locked',
        'this memory location is already open in another backend; close that backend first (a location is exclusive)',
      );
    }
    const backend = new MemoryBackend(
      state,
      maxAtomBytes,
      options.faults,
      syncReads ? undefined : latency,
      blockingReads,
    );
    state.holder = backend;
    return backend;
  }

  writeAtoms(atoms: readonly Uint8Array[]): Promise<readonly AtomPointer[]> {
    try {
      this.#assertOpen('writeAtoms');
    } catch (error) {
      return Promise.reject(error);
    }
    const write = this.#write(atoms);
    this.#writes.add(write);
    const forget = () => this.#writes.delete(write);
    write.then(forget, forget);
    return write;
  }

  async #write(atoms: readonly Uint8Array[]): Promise<readonly AtomPointer[]> {
    await this.#faults?.beforeWrite?.(atoms);
    const { maxAtomBytes } = this.capabilities;
    for (const atom of atoms) {
      if (atom.byteLength > maxAtomBytes) {
        throw storageError(
          'too-large',
          `atom of ${atom.byteLength} bytes exceeds the maximum of ${maxAtomBytes}; split the value into smaller atoms`,
        );
      }
    }
    const state = this.#state;
    const pointers: AtomPointer[] = [];
    for (const atom of atoms) {
      const pointer = (state.nextId++).toString(36);
      state.atoms.set(pointer, atom.slice());
      state.byteLength += atom.byteLength;
      pointers.push(pointer);
    }
    return pointers;
  }

  async readAtom(pointer: AtomPointer): Promise<Uint8Array> {
    await this.#roundTrip();
    return this.readAtomSync(pointer);
  }

  async readAtoms(pointers: readonly AtomPointer[]): Promise<readonly Uint8Array[]> {
    await this.#roundTrip();
    return pointers.map((pointer) => this.readAtomSync(pointer));
  }

  /** With asynchronous reads, the wait of one round trip. */
  async #roundTrip(): Promise<void> {
    const latency = this.#readLatencyMs;
    if (latency !== undefined) await new Promise((resolve) => setTimeout(resolve, latency));
  }

  readAtomSync(pointer: AtomPointer): Uint8Array {
    this.#assertOpen('readAtom');
    const bytes = this.#state.atoms.get(pointer);
    if (bytes === undefined) {
      throw storageError('not-found', `no atom under pointer ${JSON.stringify(pointer)}`, { pointer });
    }
    return bytes.slice();
  }

  async readRoot(): Promise<AtomPointer | null> {
    this.#assertOpen('readRoot');
    return this.#state.root;
  }

  compareAndSetRoot(expected: AtomPointer | null, next: AtomPointer): Promise<boolean> {
    return this.#serialize('compareAndSetRoot', async () => {
      const state = this.#state;
      if (state.root !== expected) return false;
      if (!state.atoms.has(next)) {
        throw storageError(
          'not-found',
          `compareAndSetRoot: the new root ${JSON.stringify(next)} is not an atom of this location; write it first`,
          { pointer: next },
        );
      }
      await this.#faults?.beforeSetRoot?.(expected, next);
      state.root = next;
      return true;
    });
  }

  /**
   * Deletes every atom unreachable from the current root (tracing references with
   * `atomReferences`), including atoms written but not yet committed. Reports `scan` progress
   * per traced atom, `cleanup` progress per deleted atom, then `done`. If a live atom does not
   * decode or refers to a missing atom, rejects with `corrupt` and deletes nothing.
   */
  reclaim(options: ReclaimOptions = {}): Promise<ReclaimReport> {
    return this.#serialize('reclaim', async () => {
      const state = this.#state;
      const report = options.onProgress ?? (() => {});
      const bytesBefore = state.byteLength;
      const keep = options.keep ?? [];
      for (const pointer of keep) {
        if (!state.atoms.has(pointer))
          throw storageError(
            'not-found',
            `reclaim: atom ${JSON.stringify(pointer)} to keep does not exist; nothing was deleted`,
            { pointer },
          );
      }
      const live = this.#trace(report, keep);
      const garbage: AtomPointer[] = [];
      for (const pointer of state.atoms.keys()) if (!live.has(pointer)) garbage.push(pointer);
      report({ phase: 'cleanup', done: 0, total: garbage.length });
      let deleted = 0;
      for (const pointer of garbage) {
        state.byteLength -= state.atoms.get(pointer)?.byteLength ?? 0;
        state.atoms.delete(pointer);
        deleted += 1;
        if (deleted % PROGRESS_EVERY === 0)
          report({ phase: 'cleanup', done: deleted, total: garbage.length });
      }
      report({ phase: 'cleanup', done: deleted, total: garbage.length });
      report({ phase: 'done', done: live.size, total: live.size });
      return { liveAtoms: live.size, bytesBefore, bytesAfter: state.byteLength };
    });
  }

  /** Waits for writes and root changes in flight, then releases the location. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled([...this.#writes, this.#queue]).then(() => {
      if (this.#state.holder === this) this.#state.holder = undefined;
    });
    return this.#closing;
  }

  /** The set of pointers reachable from the root and from `keep`. */
  #trace(report: NonNullable<ReclaimOptions['onProgress']>, keep: readonly AtomPointer[]): Set<AtomPointer> {
    const { atoms, root } = this.#state;
    const live = new Set<AtomPointer>();
    const pending: AtomPointer[] = root === null ? [...keep] : [root, ...keep];
    report({ phase: 'scan', done: 0 });
    while (pending.length > 0) {
      const pointer = pending.pop() as AtomPointer;
      if (live.has(pointer)) continue;
      const bytes = atoms.get(pointer);
      if (bytes === undefined) {
        throw storageError(
          'corrupt',
          `reclaim: live atom ${JSON.stringify(pointer)} is missing; nothing was deleted`,
          {
            pointer,
          },
        );
      }
      let references: readonly AtomPointer[];
      try {
        references = atomReferences(bytes);
      } catch (cause) {
        throw new StorageError({
          layer: LAYER,
          reason: 'corrupt',
          message: `reclaim: live atom ${JSON.stringify(pointer)} does not decode; nothing was deleted`,
          cause,
          details: { pointer },
        });
      }
      live.add(pointer);
      for (const reference of references) if (!live.has(reference)) pending.push(reference);
      if (live.size % PROGRESS_EVERY === 0) report({ phase: 'scan', done: live.size });
    }
    report({ phase: 'scan', done: live.size, total: live.size });
    return live;
  }

  /** Runs `body` after every earlier queued call has settled; rejects with `closed` after close. */
  #serialize<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      this.#assertOpen(operation);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#queue.then(body);
    this.#queue = run.catch(() => {});
    return run;
  }

  #assertOpen(operation: string): void {
    if (this.#closing !== undefined) {
      throw storageError('closed', `${operation} called after close(); open the location again`);
    }
  }
}

/**
 * Opens an in-memory backend. Returns the raw backend: the kernel guards it when a space opens
 * on it. Rejects with `locked` while another backend has `options.location` open.
 *
 * @example
 * const location = createMemoryLocation();
 * const backend = await openMemoryBackend({ location });
 * const [pointer] = await backend.writeAtoms([new TextEncoder().encode('hello')]);
 * await backend.compareAndSetRoot(null, pointer!);
 */
export function openMemoryBackend(options: MemoryBackendOptions = {}): Promise<StorageBackend> {
  return MemoryBackend.open(options);
}
