/**
 * `CountedSet<T>`: a persistent multiset (element → count) in the documented key order.
 */
import { type Atom, type AtomRef, type EntryChange, registerAtomType } from '@proto/atom';
import { type RawScan, TrackedCollection } from './collection.js';
import { nodeCapacity } from './config.js';
import { invalidArgument } from './errors.js';
import type { KSlot } from './internal/keyed-node.js';
import { type KRange, KScan } from './internal/keyed-scan.js';
import { ABSENT, insert, lookup, remove, treeSize } from './internal/keyed-tree.js';
import { badPayload } from './internal/slots.js';
import { assertKey, type Key, normalizeKey } from './order.js';
import { type RangeOptions, toKRange } from './range.js';

/** The updates a counted set records on a tracked lineage: commutative, replayed on a newer version. */
type CountedSetOp =
  | { readonly kind: 'add'; readonly value: unknown; readonly times: number }
  | { readonly kind: 'remove'; readonly value: unknown; readonly times: number };
const SIZE_DISTINCT = 0;
const SIZE_TOTAL = 1;

function checkTimes(times: number): void {
  if (!Number.isSafeInteger(times) || times < 0)
    invalidArgument(`counts are non-negative integers, got ${String(times)}`);
}

/**
 * A persistent multiset. `add` and `remove` are commutative counter updates: they record no
 * read, so concurrent transactions adding the same element all commit and their counts sum.
 *
 * @example
 * const tags = CountedSet.empty<string>().add('red').add('red').add('blue');
 * tags.count('red'); // 2
 * tags.size;         // 3 (with multiplicity); tags.distinctSize === 2
 */
export class CountedSet<T extends Key = Key> extends TrackedCollection {
  static readonly typeName = 'proto.counted-set';
  /** @internal Sum of all counts. */
  readonly _total: number;

  /** @internal Use `CountedSet.empty()` or `CountedSet.from()`. */
  constructor(root: Atom | AtomRef | undefined, distinct: number, total: number) {
    super(root, distinct);
    this._total = total;
  }

  static empty<T extends Key = Key>(): CountedSet<T> {
    return new CountedSet<T>(undefined, 0, 0);
  }

  /** A multiset holding each item of `items` as often as it occurs. */
  static from<T extends Key>(items: Iterable<T>): CountedSet<T> {
    let s = CountedSet.empty<T>();
    for (const item of items) s = s.add(item);
    return s;
  }

  get atomType(): string {
    return CountedSet.typeName;
  }

  toPayload(): unknown {
    return [this._settledRoot(), this._size, this._total];
  }

  /** Number of elements counted with multiplicity (recorded as a read). */
  get size(): number {
    return this._readSize(SIZE_TOTAL);
  }

  /** Number of distinct elements (recorded as a read). */
  get distinctSize(): number {
    return this._readSize(SIZE_DISTINCT);
  }

  /** How many times `value` is present (0 when absent). */
  count(value: T): number {
    assertKey(value);
    const raw = lookup(this._slot() as KSlot | undefined, value);
    this._read('get', value, raw);
    return raw === ABSENT ? 0 : (raw as number);
  }

  has(value: T): boolean {
    assertKey(value);
    const present = lookup(this._slot() as KSlot | undefined, value) !== ABSENT;
    this._read('has', value, present);
    return present;
  }

  /** Adds `value` `times` times (default 1). Records no read. */
  add(value: T, times = 1): CountedSet<T> {
    checkTimes(times);
    const v = normalizeKey(value);
    if (times === 0) return this;
    return this._derive(this._coreAdd(v, times), { kind: 'add', value: v, times });
  }

  /** Removes `value` up to `times` times (default 1); the count never goes below 0. Records no read. */
  remove(value: T, times = 1): CountedSet<T> {
    checkTimes(times);
    assertKey(value);
    if (times === 0) return this;
    return this._derive(this._coreRemove(value, times), { kind: 'remove', value, times });
  }

  /** `[element, count]` pairs in order, optionally within a range or reversed. */
  entries(options?: RangeOptions<T>): Generator<[T, number], void, undefined> {
    return this._iterate(toKRange(options), (k, v) => [k as T, v as number]);
  }

  /** Distinct elements in order. */
  keys(options?: RangeOptions<T>): Generator<T, void, undefined> {
    return this._iterate(toKRange(options), (k) => k as T);
  }

  /** Every element as often as it is counted, in order. */
  *elements(options?: RangeOptions<T>): Generator<T, void, undefined> {
    for (const [k, n] of this.entries(options)) for (let i = 0; i < n; i++) yield k;
  }

  [Symbol.iterator](): Generator<[T, number], void, undefined> {
    return this.entries();
  }

  /** The counts changed since `older` (a delta commit, see `Atom.deltaSince`). */
  override deltaSince(older: Atom): unknown {
    return older instanceof CountedSet ? this._treeDelta(older, false) : undefined;
  }

  /** The elements whose counts differ from `older` (`undefined`: empty), in order; values are counts (see `diff`). */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<T, number>> | undefined {
    if (older !== undefined && !(older instanceof CountedSet)) return undefined;
    return this._treeChanges(older, false) as Iterable<EntryChange<T, number>>;
  }

  /** This multiset with a delta from `deltaSince` applied (see `Atom.withDelta`). */
  override withDelta(delta: unknown): CountedSet<T> {
    const before = this._slot() as KSlot | undefined;
    const countOf = (key: unknown) => {
      const raw = lookup(before, key);
      return raw === ABSENT ? 0 : (raw as number);
    };
    const [root, [keys, counts, removed]] = this._treeWithDelta(delta, false, 'counted set');
    let total = this._total;
    for (const key of removed) total -= countOf(key);
    for (let i = 0; i < keys.length; i++) {
      const count = counts?.[i];
      if (typeof count !== 'number') return badPayload('counted set delta');
      total += count - countOf(keys[i]);
    }
    return new CountedSet<T>(root, treeSize(root), total);
  }

  /** @internal */
  _plain(): this {
    return new CountedSet<T>(this._root, this._size, this._total) as this;
  }
  /** @internal */
  _empty(): this {
    return new CountedSet<T>(undefined, 0, 0) as this;
  }
  /** @internal */
  override _sizeOf(which: number): number {
    return which === SIZE_TOTAL ? this._total : this._size;
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
  _coreAdd(v: unknown, times: number): CountedSet<T> {
    const root = this._slot() as KSlot | undefined;
    const raw = lookup(root, v);
    const current = raw === ABSENT ? 0 : (raw as number);
    const next = insert(root, v, current + times, false, nodeCapacity());
    return new CountedSet<T>(next, treeSize(next), this._total + times);
  }
  /** @internal */
  _coreRemove(v: unknown, times: number): CountedSet<T> {
    const root = this._slot() as KSlot | undefined;
    const raw = lookup(root, v);
    if (raw === ABSENT) return this;
    const current = raw as number;
    const cap = nodeCapacity();
    if (current <= times) {
      return new CountedSet<T>(remove(root, v, cap), this._size - 1, this._total - current);
    }
    return new CountedSet<T>(insert(root, v, current - times, false, cap), this._size, this._total - times);
  }
  /** @internal */
  protected override _derive(next: TrackedCollection, op: CountedSetOp): this {
    return super._derive(next, op);
  }
  /** @internal */
  _applyOp(op: CountedSetOp): TrackedCollection {
    if (op.kind === 'add') return this._coreAdd(op.value, op.times);
    if (op.kind === 'remove') return this._coreRemove(op.value, op.times);
    return invalidArgument(`unknown counted set operation ${(op as { kind: string }).kind}`);
  }
}

registerAtomType(CountedSet.typeName, (payload) => {
  if (
    !Array.isArray(payload) ||
    payload.length !== 3 ||
    typeof payload[1] !== 'number' ||
    typeof payload[2] !== 'number'
  ) {
    return badPayload('counted set');
  }
  return new CountedSet((payload[0] as Atom | AtomRef | null) ?? undefined, payload[1], payload[2]);
});
