/**
 * `indexValue(collection, name)`: the value an index kind built for one index of a collection,
 * for the kind's own tools (statistics, retraining an approximate index) that need more than
 * `indexes()` reports. Not a tracked read: inside a transaction, use it on a snapshot.
 */
import type { Key } from '@proto/collections';
import type { IndexKind } from './index-kind.js';
import type { IndexedCollection } from './indexed-collection.js';

/** The kind of index `name` of `collection`, its definition and its index value; `undefined` if there is none. */
export function indexValue<V, K extends Key>(
  collection: IndexedCollection<V, K>,
  name: string,
): { readonly kind: IndexKind; readonly definition: unknown; readonly value: unknown } | undefined {
  const ix = (collection as unknown as IndexedCollection<unknown, Key>)._state().index(name);
  return ix === undefined ? undefined : { kind: ix.kind, definition: ix.definition, value: ix.instance };
}
