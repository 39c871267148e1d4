/**
 * `@proto/atom/storage`: the storage contract for backend authors, and the kernel's guard.
 *
 * @module @proto/atom/storage
 */

export { hasReason, isProtoError, StorageError } from './errors.js';
export type {
  AtomPointer,
  ReclaimOptions,
  ReclaimProgress,
  ReclaimReport,
  StorageBackend,
  StorageCapabilities,
} from './storage/backend.js';
export { guardBackend, isGuarded } from './storage/guard.js';
