/**
 * `List<T>`: a persistent positional sequence on a counted B-tree (rope), stored as atoms.
 */
import { type Atom, AtomRef, type EntryChange, registerAtomType } from '@proto/atom';
import { type ChildOp, detach, type RawScan, TrackedCollection } from './collection.js';
import { nodeCapacity } from './config.js';
import { collectionError, invalidArgument } from './errors.js';
import { ABSENT } from './internal/keyed-tree.js';
import { applyListDelta, diffLists, isListDelta, listChanges } from './internal/list-delta.js';
import type { LSlot } from './internal/list-node.js';
import {
  insertItem,
  itemAt,
  join,
  LScan,
  lbuild,
  lheight,
  lload,
  removeItem,
  setItem,
  split,
} from './internal/list-tree.js';
import { badPayload } from './internal/slots.js';
import type { Tracker } from './internal/tracking.js';

/**
 * The updates a list records on a tracked lineage, replayed on a newer version. Positions are
 * replayed as positions (a position that no longer exists is a conflict); `append` replays at
 * the newer end.
 */
type ListOp =
  | { readonly kind: 'set'; readonly index: number; readonly value: unknown }
  | { readonly kind: 'insert'; readonly index: number; readonly value: unknown }
  | { readonly kind: 'append'; readonly value: unknown }
  | { readonly kind: 'remove'; readonly index: number }
  | { readonly kind: 'slice'; readonly start: number; readonly end: number }
  | { readonly kind: 'concat'; readonly other: List }
  | ChildOp;

/** Positions to iterate: `[start, end)`, optionally from the end. */
export interface ListRangeOptions {
  /** Default 0. */
  readonly start?: number;
  /** Exclusive; default the end of the list. */
  readonly end?: number;
  readonly reverse?: boolean;
}

interface ListRange {
  readonly start: number;
  readonly end: number;
  readonly reverse: boolean;
}

function sameIndex(a: unknown, b: unknown): boolean {
  return a === b;
}

function resolve(value: unknown): unknown {
  return value instanceof AtomRef ? value.get() : value;
}

/**
 * A persistent list: index access, set, insert and remove at any position, append, prepend,
 * slice and concat, all O(log n). Every update returns a new list; this one stays valid.
 *
 * Inside a transaction, reads are recorded per position (and per iterated range) and updates
 * as positional operations replayed on a newer version.
 *
 * @example
 * const l = List.from(['a', 'c']).insert(1, 'b').append('d');
 * l.get(1);           // 'b'
 * [...l.slice(1, 3)]; // ['b', 'c']
 */
export class List<T = unknown> extends TrackedCollection {
  static readonly typeName = 'proto.list';

  /** @internal Use `List.empty()` or `List.from()`. */
  constructor(root: Atom | AtomRef | undefined, size: number) {
    super(root, size);
  }

  static empty<T = unknown>(): List<T> {
    return new List<T>(undefined, 0);
  }

  static from<T>(items: Iterable<T>): List<T> {
    const array: unknown[] = [];
    for (const item of items) array.push(detach(item));
    return new List<T>(lbuild(array, nodeCapacity()), array.length);
  }

  get atomType(): string {
    return List.typeName;
  }

  toPayload(): unknown {
    return [this._settledRoot(), this._size];
  }

  /** The number of items. Recorded as a read. */
  get size(): number {
    return this._readSize(0);
  }

  /** The item at `index` (negative counts from the end), or undefined when out of range. */
  get(index: number): T | undefined {
    const i = index < 0 ? this._size + index : index;
    const raw = this._rawGet(i);
    if (this._track === undefined) return raw === ABSENT ? undefined : (resolve(raw) as T);
    if (raw === ABSENT) {
      this._read('get', i, ABSENT);
      return undefined;
    }
    return this._valueOut(i, raw) as T;
  }

  /** A list with the item at `index` (0..size-1, negative from the end) replaced. */
  set(index: number, value: T): List<T> {
    const i = this._index(index, false);
    const child = this._childUpdate(i, value, sameIndex);
    if (child !== undefined) return child;
    const v = detach(value);
    return this._derive(this._coreSet(i, v), { kind: 'set', index: i, value: v });
  }

  /** A list with `value` inserted before position `index` (0..size; `size` appends). */
  insert(index: number, value: T): List<T> {
    const i = this._index(index, true);
    const v = detach(value);
    return this._derive(this._coreInsert(i, v), { kind: 'insert', index: i, value: v });
  }

  /** A list with `value` at the end. Replays as an append (after concurrent appends). */
  append(value: T): List<T> {
    const v = detach(value);
    return this._derive(this._coreInsert(this._size, v), { kind: 'append', value: v });
  }

  /** A list with `value` at the start. */
  prepend(value: T): List<T> {
    const v = detach(value);
    return this._derive(this._coreInsert(0, v), { kind: 'insert', index: 0, value: v });
  }

  /** A list without the item at `index` (0..size-1, negative from the end). */
  remove(index: number): List<T> {
    const i = this._index(index, false);
    return this._derive(this._coreRemove(i), { kind: 'remove', index: i });
  }

  /** Items `[start, end)` with `Array.prototype.slice` semantics (negative from the end). O(log n). */
  slice(start = 0, end?: number): List<T> {
    const s = clampSlice(start, this._size);
    const e = end === undefined ? this._size : clampSlice(end, this._size);
    const stop = Math.max(s, e);
    return this._derive(this._coreSlice(s, stop), { kind: 'slice', start: s, end: stop });
  }

  /** This list followed by `other`. O(log n). */
  concat(other: List<T>): List<T> {
    if (!(other instanceof List)) invalidArgument('concat takes a List');
    const plain = detach(other) as List<T>;
    return this._derive(this._coreConcat(plain), { kind: 'concat', other: plain });
  }

  /** Items in order, optionally within `[start, end)` or reversed. Streams nodes. */
  values(options?: ListRangeOptions): Generator<T, void, undefined> {
    return this._iterate(this._range(options), (_i, v) => resolve(v) as T);
  }

  /** `[index, item]` pairs in order, optionally within a range or reversed. */
  entries(options?: ListRangeOptions): Generator<[number, T], void, undefined> {
    return this._iterate(this._range(options), (i, v) => [i as number, resolve(v) as T]);
  }

  [Symbol.iterator](): Generator<T, void, undefined> {
    return this.values();
  }

  /** All items as an array (materializes the list). */
  toArray(): T[] {
    return [...this.values()];
  }

  /** Tree height in levels (diagnostics). */
  get depth(): number {
    return this._root === undefined ? 0 : lheight(lload(this._slot() as LSlot));
  }

  // --- internals -------------------------------------------------------------------------

  private _index(index: number, allowEnd: boolean): number {
    if (!Number.isInteger(index)) invalidArgument(`list index must be an integer, got ${String(index)}`);
    const i = index < 0 ? this._size + index : index;
    if (i < 0 || i > this._size || (!allowEnd && i === this._size)) {
      invalidArgument(`list index ${index} is out of range for a list of ${this._size} items`);
    }
    return i;
  }

  private _range(options: ListRangeOptions | undefined): ListRange {
    const start = Math.max(0, options?.start ?? 0);
    return { start, end: options?.end ?? Number.POSITIVE_INFINITY, reverse: options?.reverse === true };
  }

  /**
   * The one splice that turns `older` (an earlier version of this list) into this one: what a
   * delta commit stores (see `Atom.deltaSince`); `undefined` when it would hold more than half
   * the items (the commit then stores the whole list).
   */
  override deltaSince(older: Atom): unknown {
    return older instanceof List
      ? diffLists(older._slot() as LSlot | undefined, this._slot() as LSlot | undefined)
      : undefined;
  }

  /**
   * The items that differ from `older` (`undefined`: empty) to this list, by index: after the
   * common prefix and suffix, `changed` positions, then `added` (newer indexes) or `removed`
   * (older indexes) ones (see `diff` in `@proto/atom`).
   */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<number, T>> | undefined {
    if (older !== undefined && !(older instanceof List)) return undefined;
    return listChanges(older?._slot() as LSlot | undefined, this._slot() as LSlot | undefined) as Iterable<
      EntryChange<number, T>
    >;
  }

  /** This list with a delta from `deltaSince` applied (see `Atom.withDelta`). */
  override withDelta(delta: unknown): List<T> {
    if (!isListDelta(delta, this._size)) return badPayload('list delta');
    const root = applyListDelta(this._slot() as LSlot | undefined, delta, nodeCapacity());
    return new List<T>(root, this._size - delta[1] + delta[2].length);
  }

  /** @internal */
  _plain(): this {
    return new List<T>(this._root, this._size) as this;
  }
  /** @internal */
  _empty(): this {
    return new List<T>(undefined, 0) as this;
  }
  /** @internal */
  _rawGet(index: unknown): unknown {
    const i = index as number;
    if (!Number.isInteger(i) || i < 0 || i >= this._size) return ABSENT;
    return itemAt(this._slot() as LSlot, i);
  }
  /** @internal */
  _scan(range: unknown): RawScan {
    const r = range as ListRange;
    return new LScan(this._slot() as LSlot | undefined, r.start, Math.min(r.end, this._size), r.reverse);
  }
  /** @internal */
  _coreSet(i: number, v: unknown): List<T> {
    const root = setItem(lload(this._slot() as LSlot), i, v);
    return root === this._root ? this : new List<T>(root, this._size);
  }
  /** @internal */
  _coreInsert(i: number, v: unknown): List<T> {
    return new List<T>(insertItem(this._slot() as LSlot | undefined, i, v, nodeCapacity()), this._size + 1);
  }
  /** @internal */
  _coreRemove(i: number): List<T> {
    return new List<T>(removeItem(this._slot() as LSlot, i, nodeCapacity()), this._size - 1);
  }
  /** @internal */
  _coreSlice(s: number, e: number): List<T> {
    if (s === 0 && e === this._size) return this;
    const cap = nodeCapacity();
    const [left] = split(this._slot() as LSlot | undefined, e, cap);
    const [, mid] = split(left, s, cap);
    return new List<T>(mid, e - s);
  }
  /** @internal */
  _coreConcat(other: List<T>): List<T> {
    if (other._size === 0) return this;
    if (this._size === 0) return other;
    const cap = nodeCapacity();
    return new List<T>(
      join(lload(this._slot() as LSlot), lload(other._root as LSlot), cap),
      this._size + other._size,
    );
  }
  /** @internal */
  override _setChild(key: unknown, value: unknown): TrackedCollection {
    const i = key as number;
    if (i < 0 || i >= this._size)
      collectionError('conflict', 'a nested list item moved out of range in a newer version');
    return this._coreSet(i, value);
  }
  /** @internal */
  protected override _derive(next: TrackedCollection, op: ListOp): this {
    return super._derive(next, op);
  }
  /** @internal */
  _applyOp(op: ListOp, tracker: Tracker): TrackedCollection {
    switch (op.kind) {
      case 'set':
        this._replayPosition(op.index, false);
        return this._coreSet(op.index, op.value);
      case 'insert':
        this._replayPosition(op.index, true);
        return this._coreInsert(op.index, op.value);
      case 'append':
        return this._coreInsert(this._size, op.value);
      case 'remove':
        this._replayPosition(op.index, false);
        return this._coreRemove(op.index);
      case 'slice':
        return this._coreSlice(Math.min(op.start, this._size), Math.min(op.end, this._size));
      case 'concat':
        return this._coreConcat(op.other as List<T>);
      case 'child':
        return this._replayChild(op, tracker);
      default:
        return invalidArgument(`unknown list operation ${(op as { kind: string }).kind}`);
    }
  }
  /** A replayed position must exist in the newer version (`allowEnd`: or be its end). */
  private _replayPosition(i: number, allowEnd: boolean): void {
    if (i < 0 || i > this._size || (!allowEnd && i === this._size)) {
      collectionError(
        'conflict',
        `list position ${i} no longer exists in the newer version; run the transaction again`,
      );
    }
  }
}

function clampSlice(index: number, size: number): number {
  if (!Number.isInteger(index)) invalidArgument(`slice bounds must be integers, got ${String(index)}`);
  return index < 0 ? Math.max(0, size + index) : Math.min(index, size);
}

registerAtomType(List.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 2 || typeof payload[1] !== 'number')
    return badPayload('list');
  return new List((payload[0] as Atom | AtomRef | null) ?? undefined, payload[1]);
});
