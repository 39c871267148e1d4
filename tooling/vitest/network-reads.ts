/**
 * Setup file of the `network reads` vitest project: it runs the collections and query test
 * suites again, unchanged, as if on a network backend. Every memory backend a test opens
 * without saying otherwise has no synchronous reads (`syncReads: false`): each batched read is
 * a macrotask and 1 ms away, and `readAtomsBlocking`, for reads outside `transact`, blocks for
 * 1 ms. Every object space opened without cache bounds keeps only a few atoms decoded, so
 * reads keep missing: through `db.transact` (loaded in batches, the function run again), and
 * through `db.read`, `begin()` transactions, live queries and diffs (blocking reads). A test
 * passes here only if the program it runs works unchanged on such a backend.
 */
import { ObjectSpace } from '@proto/atom';
import { MemoryBackend } from '@proto/storage-memory';

/** The wait of every read call, batched or blocking, as a round trip to a server nearby. */
const READ_LATENCY_MS = 1;

/** Decoded atoms kept: small enough that any collection of a few hundred entries misses. */
const MAX_ATOMS = 24;

const openBackend = MemoryBackend.open.bind(MemoryBackend);
MemoryBackend.open = (options = {}) =>
  openBackend({ syncReads: false, readLatencyMs: READ_LATENCY_MS, ...options });

const openSpace = ObjectSpace.open.bind(ObjectSpace);
ObjectSpace.open = (backend, options = {}) =>
  openSpace(backend, options.cache === undefined ? { ...options, cache: { maxAtoms: MAX_ATOMS } } : options);
