/**
 * Collection access operators: full scans, primary-key lookups and ranges, `Fetch` (primary
 * keys from an index access → records), the size count, and `Observe`, which records a
 * transaction's read of a query. Index operators are in `index-access.ts`.
 */
import { valuesEqual } from '@proto/atom';
import { cursorOf, type Dictionary, type EntryCursor, type Key, type KeyRange } from '@proto/collections';
import type { CollectionState } from '../collection-state.js';
import { queryError, show } from '../errors.js';
import type { IndexData } from '../index-data.js';
import type { IndexedCollection } from '../indexed-collection.js';
import { keyRank, keysEqual, rankMin } from '../values.js';
import { ArrayCursor, type Cursor, EMPTY_CURSOR, ExecContext, PlanNode } from './node.js';

/** A collection a plan reads; `state` is swapped while a transaction's read is re-checked. */
export class CollectionRef {
  constructor(
    readonly collection: IndexedCollection<unknown, Key>,
    public state: CollectionState,
    readonly label: string,
  ) {}

  index(name: string): IndexData {
    const ix = this.state.orderedIndex(name);
    if (ix === undefined)
      queryError('not-found', `index '${name}' no longer exists in this version of the collection`);
    return ix;
  }
}

/**
 * Readable form of a key range. A range from a comparison stays inside the type of its
 * operand, so `x < 3` starts at the smallest number and `x > 3` ends before the smallest
 * string: those bounds print as `-∞` and `+∞` (issue 9, finding 13).
 */
export function describeRange(range: KeyRange | undefined): string {
  if (range === undefined) return 'all';
  const { from, to } = range;
  const openBelow =
    from === undefined ||
    (range.fromInclusive !== false && to !== undefined && isSmallest(from, keyRank(to)));
  const openAbove =
    to === undefined ||
    (range.toInclusive !== true && from !== undefined && isSmallest(to, keyRank(from) + 1));
  const lo = openBelow ? '(-∞' : `${range.fromInclusive === false ? '(' : '['}${show(from)}`;
  const hi = openAbove ? '+∞)' : `${show(to)}${range.toInclusive === true ? ']' : ')'}`;
  return `${lo}, ${hi}`;
}

/** True when `key` is the smallest key of type rank `rank`. */
function isSmallest(key: Key, rank: number): boolean {
  return keyRank(key) === rank && keysEqual(key, rankMin(rank));
}

class EntryRows implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(private readonly c: EntryCursor) {}
  next(): boolean {
    const c = this.c;
    if (!c.next()) return false;
    this.key = c.key;
    this.value = c.value;
    return true;
  }
}

/** Every record of a collection, in primary-key order (or reversed). */
export class FullScan extends PlanNode {
  readonly name = 'FullScan';
  constructor(
    readonly src: CollectionRef,
    readonly reverse = false,
  ) {
    super();
  }
  estimate(): number {
    return this.src.state.size;
  }
  override detail(): string {
    return `${this.src.label}${this.reverse ? ' reverse' : ''}`;
  }
  override keyOrdered(): boolean {
    return !this.reverse;
  }
  open(): Cursor {
    return new EntryRows(cursorOf(this.src.state.data, undefined, this.reverse));
  }
}

/** Records whose primary key is in a range, in key order (or reversed). */
export class PrimaryKeyRange extends PlanNode {
  readonly name = 'PrimaryKeyRange';
  constructor(
    readonly src: CollectionRef,
    readonly range: KeyRange,
    readonly reverse: boolean,
    readonly rows: number,
  ) {
    super();
  }
  estimate(): number {
    return this.rows;
  }
  override detail(): string {
    return `${this.src.label} ${describeRange(this.range)}${this.reverse ? ' reverse' : ''}`;
  }
  override keyOrdered(): boolean {
    return !this.reverse;
  }
  open(): Cursor {
    return new EntryRows(cursorOf(this.src.state.data, this.range, this.reverse));
  }
}

class LookupCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  #i = -1;
  constructor(
    private readonly data: Dictionary,
    private readonly keys: readonly Key[],
  ) {}
  next(): boolean {
    const keys = this.keys;
    while (++this.#i < keys.length) {
      const k = keys[this.#i] as Key;
      const v = this.data.get(k);
      if (v !== undefined) {
        this.key = k;
        this.value = v;
        return true;
      }
    }
    return false;
  }
}

/** Records by primary key (equality or IN on the key path). */
export class PrimaryKeyLookup extends PlanNode {
  readonly name = 'PrimaryKeyLookup';
  constructor(
    readonly src: CollectionRef,
    /** Distinct keys, in the order to produce them. */
    readonly keys: readonly Key[],
  ) {
    super();
  }
  estimate(): number {
    return this.keys.length;
  }
  override detail(): string {
    return `${this.src.label} key ${this.keys.length === 1 ? `= ${show(this.keys[0])}` : `IN (${this.keys.map(show).join(', ')})`}`;
  }
  override keyOrdered(): boolean {
    return true;
  }
  open(): Cursor {
    return new LookupCursor(this.src.state.data, this.keys);
  }
}

class FetchCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly data: Dictionary,
  ) {}
  next(): boolean {
    const inner = this.inner;
    while (inner.next()) {
      const pk = inner.key as Key;
      const v = this.data.get(pk);
      if (v === undefined) continue;
      this.key = pk;
      this.value = v;
      return true;
    }
    return false;
  }
}

/** Turns primary keys into records. */
export class Fetch extends PlanNode {
  readonly name = 'Fetch';
  constructor(
    readonly src: CollectionRef,
    readonly child: PlanNode,
  ) {
    super();
  }
  estimate(): number {
    return this.child.estimate();
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    return this.src.label;
  }
  override keyOrdered(): boolean {
    return this.child.keyOrdered();
  }
  open(ctx: ExecContext): Cursor {
    return new FetchCursor(this.child.run(ctx), this.src.state.data);
  }
}

/** The number of records of a collection: one row. */
export class SizeCount extends PlanNode {
  readonly name = 'SizeCount';
  constructor(readonly src: CollectionRef) {
    super();
  }
  estimate(): number {
    return 1;
  }
  override detail(): string {
    return this.src.label;
  }
  open(): Cursor {
    return new ArrayCursor([this.src.state.size], [undefined]);
  }
}

/** No rows (a predicate that is always false). */
export class Empty extends PlanNode {
  readonly name = 'Empty';
  constructor(readonly reason: string) {
    super();
  }
  estimate(): number {
    return 0;
  }
  override detail(): string {
    return this.reason;
  }
  open(): Cursor {
    return EMPTY_CURSOR;
  }
}

class ObserveCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly seen: unknown[],
    private readonly state: { done: boolean },
  ) {}
  next(): boolean {
    if (!this.inner.next()) {
      this.state.done = true;
      return false;
    }
    this.key = this.inner.key;
    this.value = this.inner.value;
    this.seen.push(this.key, this.value);
    return true;
  }
}

/**
 * Records, in a transaction, the rows the subtree produced. If another commit changes the
 * collection first, the subtree is run again on the newer version (with this transaction's own
 * changes replayed) and must produce the same rows, as far as they were read; otherwise the
 * commit conflicts. This is a predicate-level read: changes elsewhere in the collection do not
 * conflict.
 */
export class Observe extends PlanNode {
  readonly name = 'Observe';
  constructor(
    readonly src: CollectionRef,
    readonly child: PlanNode,
  ) {
    super();
  }
  estimate(): number {
    return this.child.estimate();
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    return `read of ${this.src.label} recorded for commit`;
  }
  override keyOrdered(): boolean {
    return this.child.keyOrdered();
  }
  open(ctx: ExecContext): Cursor {
    const seen: unknown[] = [];
    const progress = { done: false };
    const src = this.src;
    const child = this.child;
    src.collection._observe((state) => {
      const saved = src.state;
      src.state = state;
      try {
        const c = child.open(new ExecContext());
        for (let i = 0; i < seen.length; i += 2) {
          if (!c.next() || !valuesEqual(c.key, seen[i]) || !valuesEqual(c.value, seen[i + 1])) return false;
        }
        return !(progress.done && c.next());
      } finally {
        src.state = saved;
      }
    });
    return new ObserveCursor(child.run(ctx), seen, progress);
  }
}
