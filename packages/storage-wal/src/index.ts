/**
 * `@proto/storage-wal`: the crash-safe file backend of ProtoBase.
 *
 * A database is a directory of append-only segment files holding checksummed atom and commit
 * records, a manifest naming the live segments, and a lock file. Commits are durable (fsync)
 * before they are acknowledged, concurrent commits share one fsync, recovery finds the last
 * complete commit from the end of the log and discards a torn tail, and `compactWal` copies
 * what is live into new segments offline.
 *
 * @example
 * ```ts
 * import { openWalBackend } from '@proto/storage-wal';
 * const backend = await openWalBackend({ path: './data/db' });
 * const [pointer] = await backend.writeAtoms([new TextEncoder().encode('hello')]);
 * await backend.compareAndSetRoot(await backend.readRoot(), pointer!);
 * await backend.close();
 * ```
 */
import type { StorageBackend } from '@proto/atom/storage';
import { openStore, type WalOptions } from './open.js';

export { type CompactOptions, type CompactReport, compactWal } from './compact.js';
export { nodeFileSystem, type WalFileSystem } from './fs.js';
export { DEFAULT_MAX_ATOM_BYTES, DEFAULT_SEGMENT_BYTES, type WalOptions } from './open.js';

/**
 * Opens (creating if needed) the database in the directory `options.path` and returns the raw
 * backend; the kernel wraps it with `guardBackend`. Rejects with `locked` when another process
 * (or another open in this process) holds the database, and with `corrupt` when acknowledged
 * data fails its checks.
 */
export async function openWalBackend(options: WalOptions): Promise<StorageBackend> {
  return openStore(options);
}
