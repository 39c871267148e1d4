/**
 * `@proto/atom`: the ProtoBase kernel. Atoms and pointers, the codec, object spaces,
 * databases and ACID transactions with snapshot reads, optimistic commits, rebase on
 * conflict-free concurrency, group commit and time travel, over the storage contract in
 * `@proto/atom/storage`.
 *
 * @module @proto/atom
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
export type { BackupOptions, BackupProgress, BackupReport } from './backup.js';
export {
  type Change,
  ChangeFeedError,
  type ChangeStream,
  type ChangesOptions,
  type FeedOptions,
  type SubscribeOptions,
  type Subscription,
} from './changes.js';
export { LazyValue } from './codec/lazy.js';
export { type BeginOptions, Database, type DiffOptions, type TransactOptions } from './database.js';
export { type ChangeKind, diff, type EntryChange, type RootDiff } from './diff.js';
export {
  CodecError,
  hasReason,
  isConflict,
  isProtoError,
  ProtoError,
  type ProtoErrorOptions,
  type ProtoErrorReason,
  StorageError,
  TransactionError,
} from './errors.js';
export type {
  ExplicitRootType,
  IsUntypedRoots,
  NotStorable,
  RootCreated,
  RootInput,
  RootName,
  RootRead,
  RootValue,
  StorableRoots,
  StorableValue,
  UntypedRoots,
} from './roots.js';
export { ObjectSpace, type ObjectSpaceOptions, type SpaceStats } from './space.js';
export type { AtomPointer, StorageBackend, StorageCapabilities } from './storage/backend.js';
export {
  bindScope,
  type Derivation,
  derivation,
  derivationOf,
  isTrackable,
  type ReadScope,
  type Trackable,
} from './track.js';
export { type CommitInfo, Transaction } from './transaction.js';
export { resolveRefs, valuesEqual } from './values.js';
export type { VerifyOptions, VerifyProblem, VerifyProgress, VerifyReport } from './verify.js';
