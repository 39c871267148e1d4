/**
 * `OrderedSet<T>`: a persistent set of keys in the documented key order (named so it does
 * not shadow the global `Set`).
 */
import { type Atom, type AtomRef, type EntryChange, registerAtomType } from '@proto/atom';
import { type RawScan, TrackedCollection } from './collection.js';
import { nodeCapacity } from './config.js';
import { invalidArgument } from './errors.js';
import type { KSlot } from './internal/keyed-node.js';
import { countRange, type KRange, KScan } from './internal/keyed-scan.js';
import {
  ABSENT,
  build,
  entryAt,
  insert,
  lookup,
  remove,
  removeRange,
  treeSize,
} from './internal/keyed-tree.js';
import { badPayload } from './internal/slots.js';
import { assertKey, compareKeys, type Key, normalizeKey } from './order.js';
import { type RangeOptions, toKRange } from './range.js';

/** The updates an ordered set records on a tracked lineage, replayed on a newer version. */
type OrderedSetOp =
  | { readonly kind: 'add'; readonly value: unknown }
  | { readonly kind: 'delete'; readonly value: unknown }
  | { readonly kind: 'deleteRange'; readonly range: KRange };

/**
 * A persistent ordered set. `add` and `delete` record no read (they are idempotent and replay
 * on a newer version); `has`, `size` and iteration are recorded.
 *
 * @example
 * const s = OrderedSet.from([3, 1, 2]).add(0).delete(2);
 * [...s]; // [0, 1, 3]
 */
export class OrderedSet<T extends Key = Key> extends TrackedCollection {
  static readonly typeName = 'proto.ordered-set';

  /** @internal Use `OrderedSet.empty()` or `OrderedSet.from()`. */
  constructor(root: Atom | AtomRef | undefined, size: number) {
    super(root, size);
  }

  static empty<T extends Key = Key>(): OrderedSet<T> {
    return new OrderedSet<T>(undefined, 0);
  }

  static from<T extends Key>(items: Iterable<T>): OrderedSet<T> {
    const keys = [...items].map((k) => normalizeKey(k) as unknown).sort(compareKeys);
    const unique: unknown[] = [];
    for (const k of keys)
      if (unique.length === 0 || compareKeys(unique[unique.length - 1], k) !== 0) unique.push(k);
    return new OrderedSet<T>(build(unique, null, nodeCapacity()), unique.length);
  }

  get atomType(): string {
    return OrderedSet.typeName;
  }

  toPayload(): unknown {
    return [this._settledRoot(), this._size];
  }

  /** The number of elements (recorded as a read). */
  get size(): number {
    return this._readSize(0);
  }

  has(value: T): boolean {
    assertKey(value);
    const present = lookup(this._slot() as KSlot | undefined, value) !== ABSENT;
    this._read('has', value, present);
    return present;
  }

  add(value: T): OrderedSet<T> {
    const v = normalizeKey(value);
    return this._derive(this._coreAdd(v), { kind: 'add', value: v });
  }

  delete(value: T): OrderedSet<T> {
    assertKey(value);
    return this._derive(this._coreDelete(value), { kind: 'delete', value });
  }

  /**
   * A set without the elements in `range` (see `Dictionary.deleteRange`: whole subtrees in range
   * are dropped; records no read and replays on a newer version).
   */
  deleteRange(range: RangeOptions<T> = {}): OrderedSet<T> {
    const bounds = toKRange(range);
    return this._derive(this._coreDeleteRange(bounds), { kind: 'deleteRange', range: bounds });
  }

  /** The element at position `index` in order (negative from the end), or undefined. */
  at(index: number): T | undefined {
    const i = index < 0 ? this._size + index : index;
    const raw = this._rawAt(i);
    this._read('at', i, raw);
    return raw === ABSENT ? undefined : (raw[0] as T);
  }

  first(): T | undefined {
    for (const v of this.values()) return v;
    return undefined;
  }

  last(): T | undefined {
    for (const v of this.values({ reverse: true })) return v;
    return undefined;
  }

  countRange(options: RangeOptions<T>): number {
    const range = toKRange(options);
    const n = countRange(this._slot() as KSlot | undefined, range);
    this._read('count', range, n);
    return n;
  }

  /** Elements in order, optionally within a range or reversed. */
  values(options?: RangeOptions<T>): Generator<T, void, undefined> {
    return this._iterate(toKRange(options), (k) => k as T);
  }

  /** Same as `values(options)`. */
  range(options: RangeOptions<T>): Generator<T, void, undefined> {
    return this.values(options);
  }

  [Symbol.iterator](): Generator<T, void, undefined> {
    return this.values();
  }

  /** The elements added and removed since `older` (a delta commit, see `Atom.deltaSince`). */
  override deltaSince(older: Atom): unknown {
    return older instanceof OrderedSet ? this._treeDelta(older, true) : undefined;
  }

  /** The elements added and removed since `older` (`undefined`: empty), in order; values are `true` (see `diff`). */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<T, true>> | undefined {
    if (older !== undefined && !(older instanceof OrderedSet)) return undefined;
    return this._treeChanges(older, true) as Iterable<EntryChange<T, true>>;
  }

  /** This set with a delta from `deltaSince` applied (see `Atom.withDelta`). */
  override withDelta(delta: unknown): OrderedSet<T> {
    const [root] = this._treeWithDelta(delta, true, 'set');
    return new OrderedSet<T>(root, treeSize(root));
  }

  /** @internal */
  _plain(): this {
    return new OrderedSet<T>(this._root, this._size) as this;
  }
  /** @internal */
  _empty(): this {
    return new OrderedSet<T>(undefined, 0) as this;
  }
  /** @internal */
  _rawGet(key: unknown): unknown {
    return lookup(this._slot() as KSlot | undefined, key);
  }
  /** @internal */
  override _rawAt(index: number): readonly [unknown, unknown] | typeof ABSENT {
    if (!Number.isInteger(index) || index < 0 || index >= this._size) return ABSENT;
    const [leaf, i] = entryAt(this._slot() as KSlot, index);
    return [leaf.keys[i], true];
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
  _coreAdd(v: unknown): OrderedSet<T> {
    const root = this._slot() as KSlot | undefined;
    const next = insert(root, v, true, true, nodeCapacity());
    return next === root ? this : new OrderedSet<T>(next, treeSize(next));
  }
  /** @internal */
  _coreDelete(v: unknown): OrderedSet<T> {
    const root = this._slot() as KSlot | undefined;
    const next = remove(root, v, nodeCapacity());
    return next === root ? this : new OrderedSet<T>(next, treeSize(next));
  }
  /** @internal */
  _coreDeleteRange(range: KRange): OrderedSet<T> {
    const root = this._slot() as KSlot | undefined;
    const next = removeRange(root, range, nodeCapacity());
    return next === root ? this : new OrderedSet<T>(next, treeSize(next));
  }
  /** @internal */
  protected override _derive(next: TrackedCollection, op: OrderedSetOp): this {
    return super._derive(next, op);
  }
  /** @internal */
  _applyOp(op: OrderedSetOp): TrackedCollection {
    if (op.kind === 'add') return this._coreAdd(op.value);
    if (op.kind === 'delete') return this._coreDelete(op.value);
    if (op.kind === 'deleteRange') return this._coreDeleteRange(op.range);
    return invalidArgument(`unknown set operation ${(op as { kind: string }).kind}`);
  }
}

registerAtomType(OrderedSet.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 2 || typeof payload[1] !== 'number')
    return badPayload('ordered set');
  return new OrderedSet((payload[0] as Atom | AtomRef | null) ?? undefined, payload[1]);
});
