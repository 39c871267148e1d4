/**
 * Access operators: how rows leave a source. Scans of collections, dictionaries and arrays;
 * primary-key lookups and ranges; index probes and index range scans (which yield primary keys,
 * turned into records by `Fetch`); AND-merges (`Intersect`) and OR-merges (`Union`); counts
 * answered from an index; and `Observe`, which records a transaction's read of a query.
 */
import { valuesEqual } from '@proto/atom';
import { Dictionary, type Key } from '@proto/collections';
import type { CollectionState } from '../collection-state.js';
import { show } from '../errors.js';
import { countKey, IndexCursor, type IndexData, KeyProbeCursor } from '../index-data.js';
import type { IndexedCollection } from '../indexed-collection.js';
import { cursorOf, type EntryCursor, type KeyRange } from '../internal/dict.js';
import { ValueSet } from '../values.js';
import { ArrayCursor, type Cursor, EMPTY_CURSOR, ExecContext, PlanNode } from './node.js';

/** A collection a plan reads; `state` is swapped while a transaction's read is re-checked. */
export class CollectionRef {
  constructor(
    readonly collection: IndexedCollection<unknown, Key>,
    public state: CollectionState,
    readonly label: string,
  ) {}

  index(name: string): IndexData {
    const ix = this.state.index(name);
    if (ix === undefined) throw new Error(`index '${name}' disappeared`);
    return ix;
  }
}

/** Readable form of a key range. */
export function describeRange(range: KeyRange | undefined): string {
  if (range === undefined) return 'all';
  const lo =
    range.from === undefined ? '(-∞' : `${range.fromInclusive === false ? '(' : '['}${show(range.from)}`;
  const hi = range.to === undefined ? '+∞)' : `${show(range.to)}${range.toInclusive === true ? ']' : ')'}`;
  return `${lo}, ${hi}`;
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

class ProbeCursor implements Cursor {
  key: unknown = undefined;
  readonly value = undefined;
  #i = -1;
  #inner: KeyProbeCursor | undefined;
  constructor(
    private readonly tree: Dictionary,
    private readonly keys: readonly Key[],
    private readonly seen: ValueSet | undefined,
  ) {}
  next(): boolean {
    for (;;) {
      const inner = this.#inner;
      if (inner?.next()) {
        const pk = inner.key;
        if (this.seen?.add(pk) === false) continue;
        this.key = pk;
        return true;
      }
      if (++this.#i >= this.keys.length) return false;
      this.#inner = new KeyProbeCursor(this.tree, this.keys[this.#i] as Key);
    }
  }
}

/** Primary keys of the records with an index key equal to one of `keys` (equality / IN). */
export class IndexProbe extends PlanNode {
  readonly name = 'IndexProbe';
  constructor(
    readonly src: CollectionRef,
    readonly index: string,
    /** Distinct keys, in the order to walk them. */
    readonly keys: readonly Key[],
    readonly rows: number,
    readonly dedupe: boolean,
  ) {
    super();
  }
  estimate(): number {
    return this.rows;
  }
  override indexName(): string {
    return this.index;
  }
  override detail(): string {
    return `${this.index} ${this.keys.length === 1 ? `= ${show(this.keys[0])}` : `IN (${this.keys.map(show).join(', ')})`}`;
  }
  override keyOrdered(): boolean {
    return this.keys.length <= 1;
  }
  open(): Cursor {
    const tree = this.src.index(this.index).tree;
    if (this.keys.length === 1) return new KeyProbeCursor(tree, this.keys[0] as Key);
    return new ProbeCursor(tree, this.keys, this.dedupe ? new ValueSet() : undefined);
  }
}

class DedupeCursor implements Cursor {
  key: unknown = undefined;
  readonly value = undefined;
  readonly #seen = new ValueSet();
  constructor(private readonly inner: Cursor) {}
  next(): boolean {
    while (this.inner.next()) {
      const k = this.inner.key;
      if (this.#seen.add(k)) {
        this.key = k;
        return true;
      }
    }
    return false;
  }
}

/**
 * Primary keys of the records whose index key is in a range, walking the ordered index from the
 * lower bound (or, reversed, from the upper) and stopping past the other: nothing is read ahead.
 * Without a range it walks the whole index (an ordered scan).
 */
export class IndexRangeScan extends PlanNode {
  readonly name: string;
  constructor(
    readonly src: CollectionRef,
    readonly index: string,
    readonly range: KeyRange | undefined,
    readonly reverse: boolean,
    readonly rows: number,
    readonly dedupe: boolean,
  ) {
    super();
    this.name = range === undefined ? 'IndexScan' : 'IndexRangeScan';
  }
  estimate(): number {
    return this.rows;
  }
  override indexName(): string {
    return this.index;
  }
  override detail(): string {
    return `${this.index} ${describeRange(this.range)}${this.reverse ? ' desc' : ''}`;
  }
  #prefetched: readonly unknown[] | undefined;
  #prefetchedFrom: CollectionState | undefined;

  /**
   * Hands over the primary keys of the whole range, already read (forward) while the planner
   * estimated it, so the walk is not done twice. Used only against that same state.
   */
  prefetch(state: CollectionState, keys: readonly unknown[]): void {
    this.#prefetched = keys;
    this.#prefetchedFrom = state;
  }

  open(): Cursor {
    let c: Cursor;
    if (this.#prefetched !== undefined && this.#prefetchedFrom === this.src.state && !this.reverse) {
      c = new ArrayCursor(this.#prefetched, this.#prefetched);
    } else c = new IndexCursor(this.src.index(this.index).tree, this.range, this.reverse);
    return this.dedupe ? new DedupeCursor(c) : c;
  }
}

class MemberCursor implements Cursor {
  key: unknown = undefined;
  readonly value = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly test: (pk: unknown) => boolean,
  ) {}
  next(): boolean {
    const inner = this.inner;
    while (inner.next()) {
      const pk = inner.key;
      if (this.test(pk)) {
        this.key = pk;
        return true;
      }
    }
    return false;
  }
}

/**
 * Keeps the primary keys that an index lists under a key: an equality term checked against the
 * index instead of the record, so the records it rejects are never fetched (the other half of
 * the AND-merge: probe the smallest access, filter by the others).
 */
export class IndexMember extends PlanNode {
  readonly name = 'IndexMember';
  constructor(
    readonly src: CollectionRef,
    readonly child: PlanNode,
    readonly index: string,
    readonly key: Key,
    readonly selectivity: number,
  ) {
    super();
  }
  estimate(): number {
    return this.child.estimate() * this.selectivity;
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override indexName(): string {
    return this.index;
  }
  override detail(): string {
    return `${this.index} = ${show(this.key)}`;
  }
  override keyOrdered(): boolean {
    return this.child.keyOrdered();
  }
  open(ctx: ExecContext): Cursor {
    return new MemberCursor(this.child.run(ctx), this.src.index(this.index).member(this.key));
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

function collectKeys(c: Cursor, into: ValueSet | Set<unknown>, keep?: ValueSet | Set<unknown>): void {
  while (c.next()) {
    const k = c.key;
    if (keep === undefined || keep.has(k)) into.add(k);
  }
}

class SetFilterCursor implements Cursor {
  key: unknown = undefined;
  readonly value = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly keep: { has(k: unknown): boolean },
  ) {}
  next(): boolean {
    const inner = this.inner;
    while (inner.next()) {
      if (this.keep.has(inner.key)) {
        this.key = inner.key;
        return true;
      }
    }
    return false;
  }
}

/**
 * AND-merge of primary-key streams: the smallest child (first) is collected into a set, each
 * further child narrows it, and the last child is streamed against it (so its order is kept).
 */
export class Intersect extends PlanNode {
  readonly name = 'Intersect';
  constructor(
    readonly parts: readonly PlanNode[],
    readonly rows: number,
    /** Primary keys are primitives (numbers, strings): a plain `Set` is exact. */
    readonly primitiveKeys: boolean,
  ) {
    super();
  }
  estimate(): number {
    return this.rows;
  }
  override children(): readonly PlanNode[] {
    return this.parts;
  }
  override detail(): string {
    return 'smallest first';
  }
  open(ctx: ExecContext): Cursor {
    const primitive = this.primitiveKeys;
    let set: Set<unknown> | ValueSet = primitive ? new Set<unknown>() : new ValueSet();
    collectKeys((this.parts[0] as PlanNode).run(ctx), set);
    for (let i = 1; i < this.parts.length - 1; i++) {
      if (set.size === 0) return EMPTY_CURSOR;
      const next = primitive ? new Set<unknown>() : new ValueSet();
      collectKeys((this.parts[i] as PlanNode).run(ctx), next, set);
      set = next;
    }
    if (set.size === 0) return EMPTY_CURSOR;
    return new SetFilterCursor((this.parts[this.parts.length - 1] as PlanNode).run(ctx), set);
  }
}

class UnionCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  #i = 0;
  #current: Cursor | undefined;
  constructor(
    private readonly parts: readonly PlanNode[],
    private readonly ctx: ExecContext,
    private readonly seen: ValueSet | Set<unknown>,
  ) {}
  next(): boolean {
    for (;;) {
      if (this.#current === undefined) {
        if (this.#i >= this.parts.length) return false;
        this.#current = (this.parts[this.#i++] as PlanNode).run(this.ctx);
      }
      const c = this.#current;
      if (!c.next()) {
        this.#current = undefined;
        continue;
      }
      const k = c.key;
      if (this.seen.has(k)) continue;
      this.seen.add(k);
      this.key = k;
      this.value = c.value;
      return true;
    }
  }
}

/** OR-merge: the rows of each branch in turn, each record once (by primary key). */
export class Union extends PlanNode {
  readonly name = 'Union';
  constructor(
    readonly parts: readonly PlanNode[],
    readonly rows: number,
    readonly primitiveKeys: boolean,
  ) {
    super();
  }
  estimate(): number {
    return this.rows;
  }
  override children(): readonly PlanNode[] {
    return this.parts;
  }
  override detail(): string {
    return 'distinct keys';
  }
  open(ctx: ExecContext): Cursor {
    return new UnionCursor(this.parts, ctx, this.primitiveKeys ? new Set() : new ValueSet());
  }
}

/** The number of index entries under some keys or in a range, read from the index: one row. */
export class IndexCount extends PlanNode {
  readonly name = 'IndexCount';
  constructor(
    readonly src: CollectionRef,
    readonly index: string,
    readonly keys: readonly Key[] | undefined,
    readonly range: KeyRange | undefined,
  ) {
    super();
  }
  estimate(): number {
    return 1;
  }
  override indexName(): string {
    return this.index;
  }
  override detail(): string {
    if (this.keys !== undefined)
      return `${this.index} ${this.keys.length === 1 ? `= ${show(this.keys[0])}` : `IN (${this.keys.map(show).join(', ')})`}`;
    return `${this.index} ${describeRange(this.range)}`;
  }
  open(): Cursor {
    const tree = this.src.index(this.index).tree;
    let n = 0;
    if (this.keys !== undefined) for (const k of this.keys) n += countKey(tree, k);
    else {
      const c = cursorOf(tree, this.range);
      while (c.next()) {
        const v = c.value;
        n += v instanceof Dictionary ? v.size : 1;
      }
    }
    return new ArrayCursor([n], [undefined]);
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

class KeysCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(private readonly c: EntryCursor) {}
  next(): boolean {
    if (!this.c.next()) return false;
    this.key = this.c.key;
    this.value = this.c.key;
    return true;
  }
}

/** The distinct values of an indexed path that every record has: the index's keys, in order. */
export class IndexKeys extends PlanNode {
  readonly name = 'IndexKeys';
  constructor(
    readonly src: CollectionRef,
    readonly index: string,
    readonly rows: number,
  ) {
    super();
  }
  estimate(): number {
    return this.rows;
  }
  override indexName(): string {
    return this.index;
  }
  override detail(): string {
    return this.index;
  }
  open(): Cursor {
    return new KeysCursor(cursorOf(this.src.index(this.index).tree));
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
