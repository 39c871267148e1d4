/**
 * Setup file of the `network reads` vitest project: it runs the collections and query test
 * suites again, unchanged, as if on a network backend. Every memory backend a test opens
 * without saying otherwise has no synchronous reads (`syncReads: false`: each read call a
 * macrotask away, and `readAtomsBlocking` for reads outside `transact`), and every object space
 * opened without cache bounds keeps only a few atoms decoded, so reads keep missing: through
 * `db.transact` (loaded in batches, the function run again), and through `db.read`, `begin()`
 * transactions, live queries and diffs (blocking reads). A test passes here only if the
 * program it runs works unchanged on such a backend.
 */
import { ObjectSpace } from '@proto/atom';
import { MemoryBackend } from '@proto/storage-memory';

/** Decoded atoms kept: small enough that any collection of a few hundred entries misses. */
const MAX_ATOMS = 24;

const openBackend = MemoryBackend.open.bind(MemoryBackend);
MemoryBackend.open = (options = {}) => openBackend({ syncReads: false, ...options });

const openSpace = ObjectSpace.open.bind(ObjectSpace);
ObjectSpace.open = (backend, options = {}) =>
  openSpace(backend, options.cache === undefined ? { ...options, cache: { maxAtoms: MAX_ATOMS } } : options);
