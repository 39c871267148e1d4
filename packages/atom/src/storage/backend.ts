/**
 * The storage contract: the narrow interface every ProtoBase backend implements.
 *
 * A backend stores opaque byte strings ("atoms") under pointers it issues, and one mutable
 * value: the root pointer. Everything else (transactions, history, caches, collections) is
 * derived by the kernel. The kernel wraps every backend in a lifecycle guard (`guardBackend`),
 * so a backend need not defend against use after close or double close itself.
 *
 * Every backend guarantees:
 * 1. Atomicity: after any crash, a root set by `compareAndSetRoot` is either entirely visible
 *    (the root and every atom written before that call) or not at all.
 * 2. Durability: when `compareAndSetRoot` resolves `true` and `capabilities.durable` is true,
 *    the new root and every atom written before the call survive a process kill (and, for
 *    file backends, a power loss: fsync before resolving).
 * 3. Compare-and-set: of two calls racing on the same `expected` root, at most one resolves
 *    `true`; a call whose `expected` is not the current root resolves `false` and changes nothing.
 * 4. Integrity: `readAtom` returns exactly the bytes written under that pointer, or rejects
 *    with a `StorageError` whose reason is `corrupt`; never other bytes.
 *
 * Errors: reject with `StorageError` (from `@proto/atom`) and a reason: `not-found` for an
 * unknown pointer, `corrupt` for failed checks, `io` for medium failures, `too-large` for an
 * atom above `maxAtomBytes`, `locked` when another process holds the location. The guard turns
 * any other thrown value into a `StorageError` with reason `io`.
 *
 * `@proto/storage-conformance` checks all of this; run it on every backend.
 */

/**
 * Where an atom lives. Issued by the backend that stored it, opaque to everyone else, stable
 * across restarts. A non-empty string of at most 255 UTF-16 code units.
 */
export type AtomPointer = string;

/** What a backend can do. Code and tests branch on these, never on a backend's name. */
export interface StorageCapabilities {
  /** A resolved `compareAndSetRoot` survives a process kill (file backends: and a power loss). */
  readonly durable: boolean;
  /** Data survives `close()` and a later open of the same location. */
  readonly persistent: boolean;
  /** `readAtomSync` is implemented; the kernel's hot read path uses it. */
  readonly syncReads: boolean;
  /** Several processes may open the same location at once; `compareAndSetRoot` arbitrates. */
  readonly multiProcess: boolean;
  /** The largest atom `writeAtoms` accepts, in bytes. */
  readonly maxAtomBytes: number;
  /** `reclaim` is implemented. */
  readonly reclaim: boolean;
  /**
   * Every read (`readAtom`, `readAtomSync`, `readAtoms`, `readAtomsBlocking`) checks the bytes
   * against a checksum stored with them and rejects with `corrupt` on a mismatch (guarantee 4
   * by a check, not only by the medium). The kernel then skips the checksum of the codec frame
   * inside the bytes: one check per read instead of two. Optional; absent means false.
   */
  readonly checkedReads?: boolean;
}

/** One step of a space-reclaiming run (compaction, vacuum), for progress bars. */
export interface ReclaimProgress {
  readonly phase: 'scan' | 'copy' | 'switch' | 'cleanup' | 'done';
  /** Units (atoms in `scan` and `copy`, files or rows otherwise) finished in this phase. */
  readonly done: number;
  /** Units in this phase when known in advance. */
  readonly total?: number;
}

export interface ReclaimOptions {
  readonly onProgress?: (progress: ReclaimProgress) => void;
  /**
   * Atoms to keep besides what the current root reaches, with everything they reach: the
   * kernel passes the snapshots its open transactions still read, so that reclaim never frees
   * what an open snapshot reaches. Each must exist (else `not-found`, and nothing is deleted).
   */
  readonly keep?: readonly AtomPointer[];
}

export interface ReclaimReport {
  /** Atoms reachable from the current root, kept. */
  readonly liveAtoms: number;
  /** Bytes the location occupied before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/**
 * The primitives a backend implements. All methods but `readAtomSync` return promises so that
 * network backends fit; none is called after `close()` has been called (the guard ensures it).
 */
export interface StorageBackend {
  /** A short name for messages (`memory`, `wal:/path/to/db`). Never used to branch on. */
  readonly name: string;
  readonly capabilities: StorageCapabilities;

  /**
   * Stores atoms and returns their pointers, in order. An empty batch resolves `[]`.
   * The atoms are readable by pointer once this resolves but are durable only after a later
   * successful `compareAndSetRoot` (which makes durable every atom written before it).
   * Atoms never referenced from a committed root may be discarded by `reclaim` or a restart.
   * Rejects with `too-large` (writing nothing) if an atom exceeds `maxAtomBytes`.
   */
  writeAtoms(atoms: readonly Uint8Array[]): Promise<readonly AtomPointer[]>;

  /** The bytes stored under `pointer`; `not-found` if none, `corrupt` if they fail checks. */
  readAtom(pointer: AtomPointer): Promise<Uint8Array>;

  /**
   * Optional: the bytes of several atoms in one request, in the order asked (a pointer asked
   * twice is returned twice; `[]` resolves `[]`). A network backend reads them in one round
   * trip. The same guarantees and errors as `readAtom`: it rejects (`not-found`, `corrupt` ...)
   * when any of them cannot be returned, and never returns other bytes. The kernel reads with
   * it what a transaction needs next (the children of a node, in one batch); when a backend
   * lacks it, the guard derives it from concurrent `readAtom` calls.
   */
  readAtoms?(pointers: readonly AtomPointer[]): Promise<readonly Uint8Array[]>;

  /** Synchronous `readAtom`, present exactly when `capabilities.syncReads` is true. */
  readAtomSync?(pointer: AtomPointer): Uint8Array;

  /**
   * Optional, for a backend without `syncReads`: `readAtoms` that blocks the calling thread until
   * the bytes are there (a network backend sends the request from a worker thread and waits for
   * its answer). The kernel calls it only where a read cannot wait: code outside `db.transact`
   * (`db.read`, a `begin()` transaction, a live query, a diff's entries) that meets an atom not
   * in memory, and the commit pipeline's rebase of a commit onto nodes not in memory. Inside a
   * `transact` function a miss is loaded with `readAtoms` and the function runs again, so its
   * reads never block the event loop. The same guarantees and errors as `readAtoms`
   * (thrown, not rejected); it must not wait without bound: when the backend cannot answer in
   * its own time limit it throws `io`. Without it, such reads fail with `not-loaded`. Ignored
   * when `capabilities.syncReads` is true.
   */
  readAtomsBlocking?(pointers: readonly AtomPointer[]): readonly Uint8Array[];

  /** The current root pointer; `null` for a location that was never committed to. */
  readRoot(): Promise<AtomPointer | null>;

  /**
   * If the current root is `expected`, makes `next` the root, durably (see guarantee 2), and
   * resolves `true`. Otherwise changes nothing and resolves `false`. Concurrent calls are
   * serialized by the backend; commits that arrive together may share one durability barrier.
   */
  compareAndSetRoot(expected: AtomPointer | null, next: AtomPointer): Promise<boolean>;

  /**
   * Frees space held by atoms unreachable from the current root and from `options.keep`,
   * while the backend stays open and pointers stay valid. Present exactly when `capabilities.reclaim` is true. A backend
   * traces what is live with `atomReferences` from `@proto/atom/codec`. Safe to crash at any
   * point: afterwards the location opens with the same root and contents. (A backend whose
   * pointers move when data is copied offers an offline compaction function of its own instead,
   * with the same progress events and report.)
   */
  reclaim?(options?: ReclaimOptions): Promise<ReclaimReport>;

  /**
   * Optional, for backends other processes write to (`capabilities.multiProcess`): calls
   * `onChange` soon after another process may have moved the root (a spurious call is
   * allowed; a missed one is not), until the returned function is called. It must not keep
   * the process alive (unref its timers) and must not call `onChange` after `close()`. The
   * kernel calls it only while someone subscribes to changes. When a multi-process backend
   * lacks it, the guard derives it by reading the root every 100 ms.
   */
  watchRoot?(onChange: () => void): () => void;

  /** Waits for work in flight, makes everything acknowledged durable, releases the location. */
  close(): Promise<void>;
}
