/**
 * Ordered access to a `Dictionary` for code that walks many entries at a time: a query engine,
 * an index, a merge. `cursorOf` streams the entries of a key range without a generator or a
 * tuple per entry; `leafKeysOf` hands over the keys of a small dictionary as one array.
 * `@proto/query` reads its primary data and its indexes through these two functions only.
 *
 * Guarantees:
 * 1. Order: a cursor yields each entry of the range once, in key order (`compareKeys`), or in
 *    reverse key order when asked.
 * 2. Snapshot: a dictionary never changes, so a cursor sees exactly the entries of the
 *    dictionary it was opened on, whatever is derived from that dictionary meanwhile.
 * 3. Values: a cursor's `value` is what `get` returns on an unbound dictionary: a stored
 *    reference is loaded (synchronously, through the kernel's cache), never handed out as an
 *    `AtomRef`. Nested collections come back unbound.
 * 4. Allocation: on an unbound dictionary, opening a cursor allocates the cursor, its
 *    root-to-leaf path and the bound tests; `next()` allocates nothing (it may load nodes).
 *    `leafKeysOf` allocates nothing.
 * 5. Reads: on a view bound to a transaction (`tx.get`), the cursor records its range read as
 *    `entries()` does (it steps through `entries()`, so each step allocates an entry), and
 *    `leafKeysOf` returns undefined (it could not record the read), so callers fall back to a
 *    cursor and stay correct.
 */
import { AtomRef } from '@proto/atom';
import type { Dictionary } from './dictionary.js';
import { KLeaf, type KSlot } from './internal/keyed-node.js';
import { FULL_RANGE, FULL_RANGE_REVERSE, type KRange, KScan } from './internal/keyed-scan.js';
import type { Key } from './order.js';
import { type RangeOptions, toKRange } from './range.js';

/**
 * A key range. An absent (or `undefined`) bound is open. As in `RangeOptions`, `from` is
 * inclusive and `to` exclusive unless told otherwise: `{ from: 1, to: 5 }` is `[1, 5)`.
 * A range whose start is past its end is empty.
 */
export interface KeyRange<K extends Key = Key> {
  readonly from?: K | undefined;
  /** Default true. */
  readonly fromInclusive?: boolean | undefined;
  readonly to?: K | undefined;
  /** Default false. */
  readonly toInclusive?: boolean | undefined;
}

/**
 * A position in a stream of entries. `next()` moves to the next entry and says whether there
 * is one; `key` and `value` then hold it, until the next call. Before the first `next()` and
 * after it returned false, `key` and `value` mean nothing. Once `next()` returned false it
 * keeps returning false.
 *
 * @example
 * const c = cursorOf(dict, { from: 'b', to: 'd' });
 * while (c.next()) console.log(c.key, c.value);
 */
export interface EntryCursor<K = Key, V = unknown> {
  next(): boolean;
  readonly key: K;
  readonly value: V;
}

/** The tree cursor with references resolved (guarantee 3). */
class DictionaryCursor extends KScan {
  override next(): boolean {
    if (!super.next()) return false;
    const value = this.value;
    if (value instanceof AtomRef) this.value = value.get();
    return true;
  }
}

/** A cursor over a bound view: steps through `entries()`, which records the read. */
class RecordingCursor<K, V> implements EntryCursor<K, V> {
  key = undefined as K;
  value = undefined as V;
  constructor(private readonly entries: Iterator<[K, V]>) {}
  next(): boolean {
    const step = this.entries.next();
    if (step.done === true) return false;
    this.key = step.value[0];
    this.value = step.value[1];
    return true;
  }
}

function treeRange<K extends Key>(range: KeyRange<K> | undefined, reverse: boolean): KRange {
  if (range === undefined || (range.from === undefined && range.to === undefined))
    return reverse ? FULL_RANGE_REVERSE : FULL_RANGE;
  const { below, above } = toKRange(range as RangeOptions<K>);
  return { below, above, reverse };
}

function rangeOptions<K extends Key>(range: KeyRange<K> | undefined, reverse: boolean): RangeOptions<K> {
  if (range === undefined) return { reverse };
  const { from, to } = range;
  return {
    ...(from === undefined ? {} : { from, fromInclusive: range.fromInclusive !== false }),
    ...(to === undefined ? {} : { to, toInclusive: range.toInclusive === true }),
    reverse,
  };
}

/**
 * A cursor over the entries of `dict` whose keys are in `range` (all entries when omitted), in
 * key order, or from the end of the range to its start when `reverse` is true. Bounds are
 * compared with `compareKeys`; an invalid bound throws `CollectionError` here, not on `next()`.
 *
 * @example
 * const c = cursorOf(scores, { from: 10, to: 20, toInclusive: true }, true); // 20 down to 10
 * while (c.next()) total += c.value;
 */
export function cursorOf<K extends Key, V>(
  dict: Dictionary<K, V>,
  range?: KeyRange<K>,
  reverse = false,
): EntryCursor<K, V> {
  if (dict._track !== undefined) return new RecordingCursor(dict.entries(rangeOptions(range, reverse)));
  const cursor = new DictionaryCursor(dict._slot() as KSlot | undefined, treeRange(range, reverse));
  return cursor as unknown as EntryCursor<K, V>;
}

const NO_KEYS: readonly never[] = Object.freeze([]);

/**
 * The keys of `dict` in key order when its whole tree is one leaf (at most `nodeCapacity()`
 * entries; an empty dictionary gives `[]`), else undefined: use `cursorOf` then. Lets a caller
 * walk many small dictionaries (the per-key sets of an index) without opening a cursor for each.
 * The array is the dictionary's own: read it, never modify it. Records no read, so on a view
 * bound to a transaction it returns undefined.
 */
export function leafKeysOf<K extends Key>(dict: Dictionary<K, unknown>): readonly K[] | undefined {
  if (dict._track !== undefined) return undefined;
  const root = dict._slot() as KSlot | undefined;
  if (root === undefined) return NO_KEYS;
  const node = root instanceof AtomRef ? root.get() : root;
  return node instanceof KLeaf ? (node.keys as readonly K[]) : undefined;
}
