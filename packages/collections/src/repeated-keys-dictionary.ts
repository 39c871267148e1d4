/**
 * `RepeatedKeysDictionary<K, V>`: key → ordered set of values, the structure secondary indexes
 * use. Stored as one B+ tree of composite keys `[key, value]` (key-only leaves), so `values(k)`
 * is a range scan and `count(k)` comes from subtree counts in O(log n).
 */
import { type Atom, type AtomRef, type EntryChange, registerAtomType } from '@proto/atom';
import { type RawScan, TrackedCollection } from './collection.js';
import { nodeCapacity } from './config.js';
import { invalidArgument } from './errors.js';
import type { KSlot } from './internal/keyed-node.js';
import { countRange, type KRange, KScan } from './internal/keyed-scan.js';
import { ABSENT, insert, lookup, remove, treeSize } from './internal/keyed-tree.js';
import { badPayload } from './internal/slots.js';
import { assertKey, compareKeys, type Key, normalizeKey } from './order.js';
import { type RangeOptions, toKRange } from './range.js';

/**
 * The updates a repeated-keys dictionary records on a tracked lineage, replayed on a newer
 * version; `pair` is the composite key `[key, value]`.
 */
type RepeatedKeysOp =
  | { readonly kind: 'add'; readonly pair: readonly [unknown, unknown] }
  | { readonly kind: 'remove'; readonly pair: readonly [unknown, unknown] }
  | { readonly kind: 'remove-key'; readonly key: unknown };

function head(composite: unknown): unknown {
  return (composite as readonly unknown[])[0];
}

function prefixRange(key: unknown, reverse: boolean): KRange {
  return {
    below: (k) => compareKeys(head(k), key) < 0,
    above: (k) => compareKeys(head(k), key) > 0,
    reverse,
  };
}

/**
 * A persistent multimap: each key maps to an ordered set of distinct values (both keys and
 * values follow the documented key order). `add`/`remove` record no read; `values(k)`,
 * `count(k)`, `has(k, v)` and iteration are recorded per key or range.
 *
 * @example
 * const byCategory = RepeatedKeysDictionary.empty<string, number>().add('tools', 7).add('tools', 3).add('toys', 1);
 * [...byCategory.values('tools')]; // [3, 7]
 * byCategory.count('tools');       // 2
 */
export class RepeatedKeysDictionary<K extends Key = Key, V extends Key = Key> extends TrackedCollection {
  static readonly typeName = 'proto.repeated-keys-dictionary';

  /** @internal Use `RepeatedKeysDictionary.empty()`. */
  constructor(root: Atom | AtomRef | undefined, size: number) {
    super(root, size);
  }

  static empty<K extends Key = Key, V extends Key = Key>(): RepeatedKeysDictionary<K, V> {
    return new RepeatedKeysDictionary<K, V>(undefined, 0);
  }

  static from<K extends Key, V extends Key>(pairs: Iterable<readonly [K, V]>): RepeatedKeysDictionary<K, V> {
    let d = RepeatedKeysDictionary.empty<K, V>();
    for (const [k, v] of pairs) d = d.add(k, v);
    return d;
  }

  get atomType(): string {
    return RepeatedKeysDictionary.typeName;
  }

  toPayload(): unknown {
    return [this._settledRoot(), this._size];
  }

  /** Number of (key, value) pairs (recorded as a read). */
  get size(): number {
    return this._readSize(0);
  }

  /** Adds `value` to the values of `key` (no effect when present). Records no read. */
  add(key: K, value: V): RepeatedKeysDictionary<K, V> {
    const c = Object.freeze([normalizeKey(key), normalizeKey(value)] as const);
    return this._derive(this._coreAdd(c), { kind: 'add', pair: c });
  }

  /** Removes `value` from the values of `key`. Records no read. */
  remove(key: K, value: V): RepeatedKeysDictionary<K, V> {
    assertKey(key);
    assertKey(value);
    const c = [key, value] as const;
    return this._derive(this._coreRemove(c), { kind: 'remove', pair: c });
  }

  /** Removes `key` with all its values (replayed as "remove every value of key"). */
  removeKey(key: K): RepeatedKeysDictionary<K, V> {
    assertKey(key);
    return this._derive(this._coreRemoveKey(key), { kind: 'remove-key', key });
  }

  has(key: K, value: V): boolean {
    assertKey(key);
    assertKey(value);
    const c = [key, value];
    const present = lookup(this._slot() as KSlot | undefined, c) !== ABSENT;
    this._read('has', c, present);
    return present;
  }

  /** How many values `key` has: O(log n). */
  count(key: K): number {
    assertKey(key);
    const range = prefixRange(key, false);
    const n = countRange(this._slot() as KSlot | undefined, range);
    this._read('count', range, n);
    return n;
  }

  /** The values of `key`, in order (or reversed). Streams nodes. */
  values(key: K, options?: { readonly reverse?: boolean }): Generator<V, void, undefined> {
    assertKey(key);
    return this._iterate(
      prefixRange(key, options?.reverse === true),
      (c) => (c as readonly unknown[])[1] as V,
    );
  }

  /** `[key, value]` pairs ordered by key then value, with keys optionally within a range. */
  entries(options?: RangeOptions<K>): Generator<[K, V], void, undefined> {
    return this._iterate(toKRange(options, head), (c) => {
      const pair = c as readonly unknown[];
      return [pair[0] as K, pair[1] as V];
    });
  }

  /** Distinct keys in order, optionally within a range (recorded as a read of that range). */
  *keys(options?: RangeOptions<K>): Generator<K, void, undefined> {
    let previous: unknown = ABSENT;
    for (const [k] of this.entries(options)) {
      if (previous !== ABSENT && compareKeys(previous, k) === 0) continue;
      previous = k;
      yield k;
    }
  }

  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /** The pairs added and removed since `older` (a delta commit, see `Atom.deltaSince`). */
  override deltaSince(older: Atom): unknown {
    return older instanceof RepeatedKeysDictionary ? this._treeDelta(older, true) : undefined;
  }

  /**
   * The pairs added and removed since `older` (`undefined`: empty), in key then value order:
   * each change's `key` is the pair's key and its value the pair's value (see `diff`).
   */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<K, V>> | undefined {
    if (older !== undefined && !(older instanceof RepeatedKeysDictionary)) return undefined;
    return pairChanges<K, V>(this._treeChanges(older, true));
  }

  /** This multimap with a delta from `deltaSince` applied (see `Atom.withDelta`). */
  override withDelta(delta: unknown): RepeatedKeysDictionary<K, V> {
    const [root] = this._treeWithDelta(delta, true, 'multimap');
    return new RepeatedKeysDictionary<K, V>(root, treeSize(root));
  }

  /** @internal */
  _plain(): this {
    return new RepeatedKeysDictionary<K, V>(this._root, this._size) as this;
  }
  /** @internal */
  _empty(): this {
    return new RepeatedKeysDictionary<K, V>(undefined, 0) as this;
  }
  /** @internal */
  _rawGet(key: unknown): unknown {
    return lookup(this._slot() as KSlot | undefined, key);
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
  _coreAdd(c: unknown): RepeatedKeysDictionary<K, V> {
    const root = this._slot() as KSlot | undefined;
    const next = insert(root, c, true, true, nodeCapacity());
    return next === root ? this : new RepeatedKeysDictionary<K, V>(next, treeSize(next));
  }
  /** @internal */
  _coreRemove(c: unknown): RepeatedKeysDictionary<K, V> {
    const root = this._slot() as KSlot | undefined;
    const next = remove(root, c, nodeCapacity());
    return next === root ? this : new RepeatedKeysDictionary<K, V>(next, treeSize(next));
  }
  /** @internal */
  _coreRemoveKey(key: unknown): RepeatedKeysDictionary<K, V> {
    const doomed: unknown[] = [];
    const scan = new KScan(this._slot() as KSlot | undefined, prefixRange(key, false));
    while (scan.next()) doomed.push(scan.key);
    let out: RepeatedKeysDictionary<K, V> = this;
    for (const c of doomed) out = out._coreRemove(c);
    return out;
  }
  /** @internal */
  protected override _derive(next: TrackedCollection, op: RepeatedKeysOp): this {
    return super._derive(next, op);
  }
  /** @internal */
  _applyOp(op: RepeatedKeysOp): TrackedCollection {
    switch (op.kind) {
      case 'add':
        return this._coreAdd(op.pair);
      case 'remove':
        return this._coreRemove(op.pair);
      case 'remove-key':
        return this._coreRemoveKey(op.key);
      default:
        return invalidArgument(`unknown repeated-keys dictionary operation ${(op as { kind: string }).kind}`);
    }
  }
}

registerAtomType(RepeatedKeysDictionary.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 2 || typeof payload[1] !== 'number') {
    return badPayload('repeated-keys dictionary');
  }
  return new RepeatedKeysDictionary((payload[0] as Atom | AtomRef | null) ?? undefined, payload[1]);
});

function* pairChanges<K, V>(changes: Iterable<EntryChange>): Generator<EntryChange<K, V>> {
  for (const c of changes) {
    const [key, value] = c.key as [K, V];
    yield {
      kind: c.kind,
      key,
      oldValue: c.kind === 'removed' ? value : undefined,
      newValue: c.kind === 'added' ? value : undefined,
    };
  }
}
