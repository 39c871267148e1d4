/**
 * `@proto/atom/extension`: the seam for collection authors. Everything a package needs to
 * define a new stored data structure (a collection, an index, a vector store) on the kernel,
 * and nothing of the kernel's own machinery. `@proto/collections` is built on it alone.
 *
 * A collection atom is a subclass of `Atom` registered with `registerAtomType`; a collection
 * is a tree of them. Every atom type guarantees:
 * 1. Immutability: once constructed, an atom's payload never changes. An update builds new
 *    atoms on the changed path and shares the rest (copy on write); the kernel shares stored
 *    atoms between snapshots, transactions and history on this promise.
 * 2. Payload: `toPayload()` returns a codec value (see the `@proto/atom` README) in which each
 *    child appears as an `Atom` or an `AtomRef`. It is pure: called at each commit that stores
 *    the atom (and possibly more often), it returns the same value each time. A value wrapped
 *    in `LazyValue.of(value)` is stored as a segment that loads undecoded and is copied as
 *    bytes when written back unchanged.
 * 3. Children: `childAtoms()`, when implemented, yields exactly the `Atom`s and `AtomRef`s in
 *    the payload; the kernel then skips walking the payload. A child it leaves out is not
 *    written: if it is not stored yet, the commit rejects with `invalid-argument`.
 * 4. Decoding: the decoder registered for the type name gets the payload as stored, children
 *    as `AtomRef`s (loaded on demand, never eagerly), segments as `LazyValue`s. It checks the
 *    shape and throws an error with reason `corrupt` for anything else; it reads no storage.
 * 5. Names: a type name is part of the storage format; never rename or reuse one. The module
 *    that registers types must run before anything is read (list it in `sideEffects`).
 *
 * Stamps and references (`refOf`, `unpinSlot`, `resolveChild`, `copyStamp`, `pointerOf`): see
 * `extension/stamps.ts`. The kernel alone writes stamps; there is no other way to reach them.
 *
 * Tracking (`bindScope`, `derivation`, `ReadScope`, `Derivation`): see `track.ts`. A type that
 * does not implement it is a plain value: a transaction records "read the whole root", and
 * two transactions that both read and write it conflict. A type that implements it records
 * reads per key or range and replays its changes on a newer version, and guarantees:
 * 6. Reads: every read of a bound view that a result depends on is recorded with a `holds`
 *    check that is pure, synchronous and true of the version read.
 * 7. Replay: `derivation.replay(newer)` applies to `newer` the same changes that produced the
 *    value from `derivation.base`, and is called only after every recorded read held.
 *
 * The op log and the read log (`OpNode`, `appendOp`, `OpReplay`, `ReadLog`, `LoggedRead`): see
 * `extension/logs.ts`. A tracked type records its updates as a typed operation chain and its
 * reads in a flat typed log, and replays and checks them with these; `@proto/collections` and
 * `@proto/query` keep theirs this way.
 *
 * What "missing" does: an unstored atom has no pointer (`pointerOf` and `refOf` give
 * `undefined`); an unregistered type name read back rejects with a `CodecError`, reason
 * `unsupported`, naming the type; a missing atom behind a reference is a `StorageError`,
 * reason `not-found`. Registering an empty or duplicate type name throws `invalid-argument`.
 *
 * `docs/write-a-collection.md` walks through a complete collection.
 *
 * @module @proto/atom/extension
 */

export { forEachElement } from './arrays.js';
export {
  Atom,
  type AtomDecoder,
  type AtomLoader,
  AtomRef,
  type AtomSlot,
  pointerOf,
  registerAtomType,
  resolveSlot,
  sameAtom,
} from './atom.js';
export { LazyValue } from './codec/lazy.js';
export {
  CodecError,
  hasReason,
  isProtoError,
  ProtoError,
  type ProtoErrorOptions,
  type ProtoErrorReason,
} from './errors.js';
export {
  appendOp,
  type LoggedRead,
  type Operation,
  type OpNode,
  OpReplay,
  type ReadKinds,
  ReadLog,
} from './extension/logs.js';
export { copyStamp, refOf, resolveChild, unpinSlot } from './extension/stamps.js';
export type { AtomPointer } from './storage/backend.js';
export {
  bindScope,
  type Derivation,
  derivation,
  derivationOf,
  isTrackable,
  type ReadScope,
  type Trackable,
} from './track.js';
export { resolveRefs, valuesEqual } from './values.js';
