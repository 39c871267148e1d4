/**
 * `Dictionary<K, V>`: a persistent ordered map on a wide B+ tree, stored as atoms.
 */
import { Atom, AtomRef, type EntryChange, registerAtomType } from '@proto/atom';
import { detach, incrementedValue, type KeyedMapOp, type RawScan, TrackedCollection } from './collection.js';
import { nodeCapacity } from './config.js';
import { invalidArgument } from './errors.js';
import { mergeChanges, REMOVED } from './internal/keyed-merge.js';
import type { KSlot } from './internal/keyed-node.js';
import { countRange, type KRange, KScan } from './internal/keyed-scan.js';
import {
  ABSENT,
  build,
  entryAt,
  heightOf,
  insert,
  lookup,
  lookupString,
  remove,
  removeRange,
  treeSize,
  updateString,
} from './internal/keyed-tree.js';
import { badPayload, leafValue } from './internal/slots.js';
import type { Tracker } from './internal/tracking.js';
import { assertKey, compareKeys, type Key, normalizeKey } from './order.js';
import { type RangeOptions, toKRange } from './range.js';

/** The updates a dictionary records on a tracked lineage: a keyed map's, plus ranged deletes. */
type DictionaryOp =
  | KeyedMapOp
  | { readonly kind: 'deleteRange'; readonly range: KRange }
  /** `withChanges`: keys strictly ascending, each with its value or `REMOVED`. */
  | { readonly kind: 'changes'; readonly keys: readonly unknown[]; readonly vals: readonly unknown[] };

function keysEqual(a: unknown, b: unknown): boolean {
  return compareKeys(a, b) === 0;
}

/**
 * A persistent ordered map: every update returns a new dictionary and leaves this one valid;
 * unchanged subtrees are shared in memory and never written again. Keys follow the total
 * order documented in `compareKeys`. Iteration yields `[key, value]` in key order.
 *
 * Inside a transaction (`tx.get`), reads are recorded per key or range and updates as
 * operations, so transactions touching different keys commit side by side.
 *
 * @example
 * const d = Dictionary.empty<string, number>().set('b', 2).set('a', 1);
 * d.get('a');          // 1
 * [...d.keys()];       // ['a', 'b']
 */
export class Dictionary<K extends Key = Key, V = unknown> extends TrackedCollection {
  static readonly typeName = 'proto.dictionary';

  /** @internal Use `Dictionary.empty()` or `Dictionary.from()`. */
  constructor(root: Atom | AtomRef | undefined, size: number) {
    super(root, size);
  }

  /** An empty dictionary. */
  static empty<K extends Key = Key, V = unknown>(): Dictionary<K, V> {
    return new Dictionary<K, V>(undefined, 0);
  }

  /** A dictionary of `entries` (for a repeated key, the last value wins). Builds bottom-up. */
  static from<K extends Key, V>(entries: Iterable<readonly [K, V]>): Dictionary<K, V> {
    // Entries already in strictly ascending key order (a bulk build from sorted data) go
    // straight into the tree; anything else is sorted first, later entries winning on a repeat.
    const inKeys: unknown[] = [];
    const inVals: unknown[] = [];
    let ascending = true;
    for (const [k, v] of entries) {
      const key = normalizeKey(k);
      if (ascending && inKeys.length > 0 && compareKeys(inKeys[inKeys.length - 1], key) >= 0)
        ascending = false;
      inKeys.push(key);
      inVals.push(detach(v));
    }
    if (ascending) return new Dictionary<K, V>(build(inKeys, inVals, nodeCapacity()), inKeys.length);
    const pairs: [unknown, unknown][] = inKeys.map((k, i) => [k, inVals[i]]);
    pairs.sort((x, y) => compareKeys(x[0], y[0]));
    const keys: unknown[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of pairs) {
      if (keys.length > 0 && compareKeys(keys[keys.length - 1], k) === 0) vals[vals.length - 1] = v;
      else {
        keys.push(k);
        vals.push(v);
      }
    }
    return new Dictionary<K, V>(build(keys, vals, nodeCapacity()), keys.length);
  }

  /**
   * A dictionary of `keys[i]` → `values[i]` (or of every key → `values`, when it is not an
   * array), for keys already in strictly ascending order: built bottom-up straight from the
   * arrays, without the entries `from` takes or its sort. Throws `invalid-argument` when two
   * keys are out of order or equal, or the arrays differ in length. The arrays are not kept.
   * @example
   * const d = Dictionary.fromSorted(['a', 'b', 'c'], [1, 2, 3]);
   * const set = Dictionary.fromSorted([1, 5, 9], true); // a key set: every value true
   */
  static fromSorted<K extends Key, V>(keys: readonly K[], values: readonly V[] | V): Dictionary<K, V> {
    const n = keys.length;
    const each = !Array.isArray(values);
    if (!each && (values as readonly V[]).length !== n)
      invalidArgument(`fromSorted: ${n} keys but ${(values as readonly V[]).length} values`);
    // Filled by `push`: packed arrays (a preallocated `new Array(n)` is holey, and the leaves
    // sliced from it would check for holes on every read).
    const ks: unknown[] = [];
    const vs: unknown[] = [];
    const one = each ? detach(values) : undefined;
    for (let i = 0; i < n; i++) {
      const k = keys[i] as K;
      if (typeof k !== 'string' && typeof k !== 'number') assertKey(k);
      const key = normalizeKey(k);
      if (i > 0 && compareKeys(ks[i - 1], key) >= 0)
        invalidArgument(`fromSorted: keys must be strictly ascending; key ${i} is not after key ${i - 1}`);
      ks.push(key);
      vs.push(each ? one : detach((values as readonly V[])[i]));
    }
    return new Dictionary<K, V>(build(ks, vs, nodeCapacity()), n);
  }

  get atomType(): string {
    return Dictionary.typeName;
  }

  toPayload(): unknown {
    return [this._settledRoot(), this._size];
  }

  /** The number of entries. Recorded as a read of the size. */
  get size(): number {
    return this._readSize(0);
  }

  /** The value of `key`, or `undefined`. Nested collections come back bound to the same transaction. */
  get(key: K): V | undefined {
    const root = this._slot() as KSlot | undefined;
    let raw: unknown;
    if (typeof key === 'string') raw = root === undefined ? ABSENT : lookupString(root, key);
    else {
      if (typeof key !== 'number') assertKey(key);
      raw = lookup(root, key);
    }
    const tracker = this._track;
    if (tracker === undefined) {
      if (raw === ABSENT) return undefined;
      return (raw instanceof AtomRef ? raw.get() : raw) as V;
    }
    if (this._ops === undefined && !(raw instanceof Atom) && !(raw instanceof AtomRef)) {
      tracker.baseKeys.push(key);
      if (!tracker.registered) tracker.register();
      return raw === ABSENT ? undefined : (raw as V);
    }
    if (raw === ABSENT) {
      this._read('get', key, ABSENT);
      return undefined;
    }
    return this._valueOut(key, raw) as V;
  }

  /** True when `key` is present. */
  has(key: K): boolean {
    assertKey(key);
    const present = lookup(this._slot() as KSlot | undefined, key) !== ABSENT;
    this._read('has', key, present);
    return present;
  }

  /** A dictionary with `key` set to `value`. Records no read. */
  set(key: K, value: V): Dictionary<K, V> {
    let v: unknown = value;
    if (value instanceof TrackedCollection) {
      const child = this._childUpdate(key, value, keysEqual);
      if (child !== undefined) return child;
      v = detach(value);
    }
    const k = typeof key === 'string' ? key : normalizeKey(key);
    return this._derive(this._coreSet(k, v), { kind: 'set', key: k, value: v });
  }

  /** A dictionary without `key`. Records no read. */
  delete(key: K): Dictionary<K, V> {
    assertKey(key);
    return this._derive(this._coreDelete(key), { kind: 'delete', key });
  }

  /**
   * A dictionary with many changes made at once: the keys of `delete` removed, then the entries
   * of `set` stored (a key in both ends up set; a key set twice keeps the later value). The
   * result is what the same `delete` and `set` calls give, one by one. Outside a transaction
   * the changes are sorted and merged into the tree in one walk, so each node on the way to a
   * change is copied once however many changes fall under it, where one call per change
   * copies a whole path per change: for a batch that touches many entries, much less work.
   * Inside a transaction it is recorded as one operation that reads nothing, replayed on a
   * newer version like the `delete` and `set` calls (with nested collections among the values,
   * it makes those calls, so that each is tracked per key).
   * @example
   * const d = Dictionary.from<string, number>([['a', 1], ['b', 2]]);
   * [...d.withChanges({ set: [['c', 3]], delete: ['a'] })]; // [['b', 2], ['c', 3]]
   */
  withChanges(changes: {
    readonly set?: Iterable<readonly [K, V]>;
    readonly delete?: Iterable<K>;
  }): Dictionary<K, V> {
    const removals = changes.delete ?? [];
    let sets = changes.set ?? [];
    if (this._track !== undefined) {
      // A nested collection set in a transaction is tracked per key (`set`): one by one then.
      const given = [...sets];
      if (given.some(([, value]) => value instanceof TrackedCollection)) {
        let out: Dictionary<K, V> = this;
        for (const key of removals) out = out.delete(key);
        for (const [key, value] of given) out = out.set(key, value);
        return out;
      }
      sets = given;
    }
    const gone = sortedChanges(removals, (key) => {
      assertKey(key);
      return [normalizeKey(key), REMOVED];
    });
    const made = sortedChanges(sets, ([key, value]) => {
      assertKey(key);
      return [normalizeKey(key), detach(value)];
    });
    if (gone.length === 0 && made.length === 0) return this;
    // The two runs merged by key; on a key in both, the set (it comes after the delete).
    const keys: unknown[] = [];
    const vals: unknown[] = [];
    let i = 0;
    let j = 0;
    while (i < gone.length || j < made.length) {
      const c =
        i === gone.length
          ? 1
          : j === made.length
            ? -1
            : compareKeys((gone[i] as [unknown, unknown])[0], (made[j] as [unknown, unknown])[0]);
      const [key, value] = (c < 0 ? gone[i++] : made[j++]) as [unknown, unknown];
      if (c === 0) i++;
      keys.push(key);
      vals.push(value);
    }
    return this._derive(this._coreMerge(keys, vals), { kind: 'changes', keys, vals });
  }

  /**
   * A dictionary without the keys in `range` (the shape of `range()`'s options; `reverse` does
   * not matter; no bounds: every key). Records no read: inside a transaction it is replayed on a
   * newer version like `delete`, removing the keys in range there. Subtrees that lie wholly
   * inside the range are dropped without being loaded, so the cost grows with the tree's
   * height and the number of subtrees dropped, not with the number of keys removed.
   * @example
   * const d = Dictionary.from([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]);
   * [...d.deleteRange({ from: 2, to: 4 }).keys()]; // [1, 4]
   */
  deleteRange(range: RangeOptions<K> = {}): Dictionary<K, V> {
    const bounds = toKRange(range);
    return this._derive(this._coreDeleteRange(bounds), { kind: 'deleteRange', range: bounds });
  }

  /**
   * Adds `delta` to the number stored under `key` (absent counts as 0). Commutative: records
   * no read, so concurrent increments of one key all commit and sum.
   */
  increment(key: K, delta = 1): Dictionary<K, V> {
    if (typeof delta !== 'number') invalidArgument(`increment delta must be a number, got ${typeof delta}`);
    const k = typeof key === 'string' ? key : normalizeKey(key);
    return this._derive(this._coreIncrement(k, delta), { kind: 'increment', key: k, delta });
  }

  /** Sets `key` to `fn(current)`: a read of `key` followed by a write. */
  update(key: K, fn: (current: V | undefined) => V): Dictionary<K, V> {
    return this.set(key, fn(this.get(key)));
  }

  /** The entry at position `index` in key order (negative counts from the end), or undefined. */
  at(index: number): [K, V] | undefined {
    const i = index < 0 ? this._size + index : index;
    const raw = this._rawAt(i);
    this._read('at', i, raw);
    if (raw === ABSENT) return undefined;
    const [k, v] = raw;
    return [k as K, (this._track === undefined ? resolve(v) : this._valueOut(k, v)) as V];
  }

  /** The first entry in key order, or undefined. */
  first(): [K, V] | undefined {
    for (const e of this.entries()) return e;
    return undefined;
  }

  /** The last entry in key order, or undefined. */
  last(): [K, V] | undefined {
    for (const e of this.entries({ reverse: true })) return e;
    return undefined;
  }

  /** The number of entries in a range, from subtree counts (O(log n)). */
  countRange(options: RangeOptions<K>): number {
    const range = toKRange(options);
    const n = countRange(this._slot() as KSlot | undefined, range);
    this._read('count', range, n);
    return n;
  }

  /** Entries `[key, value]` in key order, optionally within a range or reversed. Streams nodes. */
  entries(options?: RangeOptions<K>): Generator<[K, V], void, undefined> {
    return this._iterate(toKRange(options), (k, v) => [k as K, resolve(v) as V]);
  }

  /** Same as `entries(options)`. */
  range(options: RangeOptions<K>): Generator<[K, V], void, undefined> {
    return this.entries(options);
  }

  /** Keys in key order, optionally within a range or reversed. */
  keys(options?: RangeOptions<K>): Generator<K, void, undefined> {
    return this._iterate(toKRange(options), (k) => k as K);
  }

  /** Values in key order, optionally within a range or reversed. */
  values(options?: RangeOptions<K>): Generator<V, void, undefined> {
    return this._iterate(toKRange(options), (_k, v) => resolve(v) as V);
  }

  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /** Tree height in levels (for diagnostics and tests). Not recorded as a read. */
  get depth(): number {
    return heightOf(this._slot() as KSlot | undefined);
  }

  /**
   * The entries set and removed since `older`, an earlier version of this dictionary: what a
   * delta commit stores for it (see `Atom.deltaSince`). `undefined` when more than half the
   * entries changed (the commit then stores the whole dictionary).
   */
  override deltaSince(older: Atom): unknown {
    return older instanceof Dictionary ? this._treeDelta(older, false) : undefined;
  }

  /**
   * The entries that differ from `older` (an earlier version; `undefined`: empty) to this
   * one, in key order, visiting only the subtrees the two do not share (see `diff` in
   * `@proto/atom`).
   */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<K, V>> | undefined {
    if (older !== undefined && !(older instanceof Dictionary)) return undefined;
    return this._treeChanges(older, false) as Iterable<EntryChange<K, V>>;
  }

  /** This dictionary with a delta from `deltaSince` applied (see `Atom.withDelta`). */
  override withDelta(delta: unknown): Dictionary<K, V> {
    const [root] = this._treeWithDelta(delta, false, 'dictionary');
    return new Dictionary<K, V>(root, treeSize(root));
  }

  // --- internals -------------------------------------------------------------------------

  /** @internal */
  _plain(): this {
    return new Dictionary<K, V>(this._root, this._size) as this;
  }
  /** @internal */
  _empty(): this {
    return new Dictionary<K, V>(undefined, 0) as this;
  }
  /** @internal */
  _rawGet(key: unknown): unknown {
    return lookup(this._slot() as KSlot | undefined, key);
  }
  /** @internal */
  override _rawAt(index: number): readonly [unknown, unknown] | typeof ABSENT {
    if (!Number.isInteger(index) || index < 0 || index >= this._size || this._root === undefined)
      return ABSENT;
    const [leaf, i] = entryAt(this._slot() as KSlot, index);
    return [leaf.keys[i], leafValue(leaf.vals as unknown[], i)];
  }
  /** @internal */
  _scan(range: unknown): RawScan {
    return new KScan(this._slot() as KSlot | undefined, range as KRange);
  }
  /** @internal */
  override _countRange(range: unknown): number {
    return countRange(this._slot() as KSlot | undefined, range as KRange);
  }
  /** @internal */
  _coreSet(key: unknown, value: unknown): Dictionary<K, V> {
    const root = this._slot() as KSlot | undefined;
    if (typeof key === 'string' && root !== undefined) {
      const updated = updateString(root, key, value);
      if (updated === null) return this;
      if (updated !== undefined) return new Dictionary<K, V>(updated, this._size);
    }
    const next = insert(root, key, value, false, nodeCapacity());
    if (next === root) return this;
    return new Dictionary<K, V>(next, treeSize(next));
  }
  /** @internal Changes sorted by key (`REMOVED`: delete), merged in one walk. */
  _coreMerge(keys: readonly unknown[], vals: readonly unknown[]): Dictionary<K, V> {
    const root = this._slot() as KSlot | undefined;
    const next = mergeChanges(root, keys, vals, false, nodeCapacity());
    if (next === root) return this;
    return new Dictionary<K, V>(next, treeSize(next));
  }
  /** @internal */
  _coreDelete(key: unknown): Dictionary<K, V> {
    const root = this._slot() as KSlot | undefined;
    const next = remove(root, key, nodeCapacity());
    if (next === root) return this;
    return new Dictionary<K, V>(next, treeSize(next));
  }
  /** @internal */
  _coreDeleteRange(range: KRange): Dictionary<K, V> {
    const root = this._slot() as KSlot | undefined;
    const next = removeRange(root, range, nodeCapacity());
    if (next === root) return this;
    return new Dictionary<K, V>(next, treeSize(next));
  }
  /** @internal */
  _coreIncrement(key: unknown, delta: number): Dictionary<K, V> {
    return this._coreSet(key, incrementedValue(lookup(this._slot() as KSlot | undefined, key), delta));
  }
  /** @internal */
  override _setChild(key: unknown, value: unknown): TrackedCollection {
    return this._coreSet(key, value);
  }
  /** @internal */
  protected override _derive(next: TrackedCollection, op: DictionaryOp): this {
    return super._derive(next, op);
  }
  /** @internal */
  _applyOp(op: DictionaryOp, tracker: Tracker): TrackedCollection {
    switch (op.kind) {
      case 'deleteRange':
        return this._coreDeleteRange(op.range);
      case 'set':
        return this._coreSet(op.key, op.value);
      case 'delete':
        return this._coreDelete(op.key);
      case 'increment':
        return this._coreIncrement(op.key, op.delta);
      case 'changes':
        return this._coreMerge(op.keys, op.vals);
      case 'child':
        return this._replayChild(op, tracker);
      default:
        return invalidArgument(`unknown dictionary operation ${(op as { kind: string }).kind}`);
    }
  }
}

/**
 * `items` as `[key, value]` changes strictly ascending by key: as given when they are, else
 * sorted (stably) with the later of two changes to one key kept.
 */
function sortedChanges<T>(items: Iterable<T>, change: (item: T) => [unknown, unknown]): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  let ascending = true;
  let strings = true;
  for (const item of items) {
    const c = change(item);
    if (typeof c[0] !== 'string') strings = false;
    if (ascending && out.length > 0 && compareKeys((out[out.length - 1] as [unknown, unknown])[0], c[0]) >= 0)
      ascending = false;
    out.push(c);
  }
  if (ascending) return out;
  // Strings sort by UTF-16 code units, as `compareKeys` orders them, without its dispatch.
  if (strings) out.sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : x[0] === y[0] ? 0 : 1));
  else out.sort((x, y) => compareKeys(x[0], y[0]));
  const kept: [unknown, unknown][] = [];
  for (const c of out) {
    const last = kept[kept.length - 1];
    if (last !== undefined && compareKeys(last[0], c[0]) === 0) kept[kept.length - 1] = c;
    else kept.push(c);
  }
  return kept;
}

function resolve(value: unknown): unknown {
  return value instanceof AtomRef ? value.get() : value;
}

registerAtomType(Dictionary.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 2 || typeof payload[1] !== 'number')
    return badPayload('dictionary');
  const root = payload[0] as Atom | AtomRef | null;
  return new Dictionary(root ?? undefined, payload[1]);
});
