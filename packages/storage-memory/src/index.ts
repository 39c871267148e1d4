/**
 * `@proto/storage-memory`: the in-memory ProtoBase storage backend. The reference
 * implementation of the storage contract, and the backend other packages test against
 * (with fault injection through `MemoryFaults`).
 *
 * @example
 * import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
 * const backend = await openMemoryBackend({ location: createMemoryLocation() });
 */
export { createMemoryLocation, type MemoryLocation } from './location.js';
export {
  DEFAULT_MAX_ATOM_BYTES,
  MemoryBackend,
  type MemoryBackendOptions,
  type MemoryFaults,
  openMemoryBackend,
} from './memory-backend.js';
