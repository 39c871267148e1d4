/**
 * Index operators: probes and range scans of a secondary index (they yield primary keys), the
 * membership check of an equality term against an index, AND-merges by intersection, OR-merges,
 * counts and distinct keys read from an index.
 */
import { cursorOf, Dictionary, type EntryCursor, type Key, type KeyRange } from '@proto/collections';
import type { CollectionState } from '../collection-state.js';
import { queryError, show } from '../errors.js';
import { countKey, IndexCursor, KeyProbeCursor } from '../index-data.js';
import type { IndexAccessPath } from '../index-kind.js';
import { KindIndex } from '../kind-index.js';
import { ValueSet } from '../values.js';
import { type CollectionRef, describeRange } from './access.js';
import { ArrayCursor, type Cursor, EMPTY_CURSOR, type ExecContext, PlanNode } from './node.js';

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

/** A set of primary keys: a plain `Set` is exact for primitive keys, `ValueSet` otherwise. */
function keySet(primitive: boolean): Set<unknown> | ValueSet {
  return primitive ? new Set<unknown>() : new ValueSet();
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
    let set = keySet(primitive);
    collectKeys((this.parts[0] as PlanNode).run(ctx), set);
    for (let i = 1; i < this.parts.length - 1; i++) {
      if (set.size === 0) return EMPTY_CURSOR;
      const next = keySet(primitive);
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
    return new UnionCursor(this.parts, ctx, keySet(this.primitiveKeys));
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

class IterCursor implements Cursor {
  key: unknown = undefined;
  readonly value = undefined;
  constructor(private readonly it: Iterator<Key>) {}
  next(): boolean {
    const r = this.it.next();
    if (r.done === true) return false;
    this.key = r.value;
    return true;
  }
}

/**
 * Primary keys from an access path offered by an index kind (`IndexKind.accessPaths`): what a
 * third-party kind's index contributes to a plan. Opened on the index of the state being read.
 */
export class KindAccess extends PlanNode {
  readonly name: string;
  constructor(
    readonly src: CollectionRef,
    readonly index: string,
    readonly path: IndexAccessPath,
  ) {
    super();
    this.name = path.operator;
  }
  estimate(): number {
    return this.path.rows;
  }
  override indexName(): string {
    return this.index;
  }
  override detail(): string {
    return `${this.index} ${this.path.detail}`;
  }
  open(): Cursor {
    const ix = this.src.state.index(this.index);
    if (!(ix instanceof KindIndex))
      queryError('not-found', `index '${this.index}' no longer exists in this version of the collection`);
    return new IterCursor(this.path.keys(ix.instance)[Symbol.iterator]());
  }
}
