/**
 * `@proto/collections`: persistent copy-on-write collections for ProtoBase, stored as wide
 * B+ tree nodes (atoms) and tracked per key inside transactions.
 *
 * @example
 * import { Dictionary } from '@proto/collections';
 * await db.transact((tx) => {
 *   const scores = tx.get<Dictionary<string, number>>('scores') ?? Dictionary.empty<string, number>();
 *   tx.set('scores', scores.increment('alice', 10));
 * });
 */
export { TrackedCollection } from './collection.js';
export { branchCapacity, nodeCapacity, setNodeCapacity } from './config.js';
export { CountedSet } from './counted-set.js';
export { Dictionary } from './dictionary.js';
export { CollectionError } from './errors.js';
export { HashDictionary } from './hash-dictionary.js';
export { List, type ListRangeOptions } from './list.js';
export { assertKey, compareKeys, type Key } from './order.js';
export { cursorOf, type EntryCursor, type KeyRange, leafKeysOf } from './ordered.js';
export { OrderedSet } from './ordered-set.js';
export type { RangeOptions } from './range.js';
export { RepeatedKeysDictionary } from './repeated-keys-dictionary.js';
