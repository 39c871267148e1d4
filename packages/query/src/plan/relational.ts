/**
 * Row operators: residual filters, projections, sorts (full or top-k), limit/offset, distinct,
 * hash group-by with aggregates, hash joins (inner, left, right, full), flattening and count.
 */
import { type Accumulator, type Aggregate, finish, updater } from '../aggregate.js';
import type { Test } from '../compile.js';
import { compareValues, ValueMap, ValueSet } from '../values.js';
import { ArrayCursor, type Cursor, type ExecContext, PlanNode } from './node.js';

/** Keeps the rows that pass a predicate. */
export class Filter extends PlanNode {
  readonly name: string;
  constructor(
    readonly child: PlanNode,
    readonly test: Test,
    /** The predicate in readable form (computed when explained). */
    readonly text: string | (() => string),
    readonly selectivity: number,
    /** `Filter`, or `Residual` when it completes an index access. */
    name = 'Filter',
  ) {
    super();
    this.name = name;
  }
  estimate(): number {
    return this.child.estimate() * this.selectivity;
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    return typeof this.text === 'string' ? this.text : this.text();
  }
  override keyOrdered(): boolean {
    return this.child.keyOrdered();
  }
  open(ctx: ExecContext): Cursor {
    return new FilterCursor(this.child.run(ctx), this.test);
  }
}

class FilterCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly test: Test,
  ) {}
  next(): boolean {
    const inner = this.inner;
    const test = this.test;
    while (inner.next()) {
      const v = inner.value;
      if (test(v)) {
        this.key = inner.key;
        this.value = v;
        return true;
      }
    }
    return false;
  }
}

/** Maps each row (its key is kept). */
export class Project extends PlanNode {
  readonly name = 'Project';
  constructor(
    readonly child: PlanNode,
    readonly fn: (row: unknown) => unknown,
    readonly text: string,
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
    return this.text;
  }
  override keyOrdered(): boolean {
    return this.child.keyOrdered();
  }
  open(ctx: ExecContext): Cursor {
    return new ProjectCursor(this.child.run(ctx), this.fn);
  }
}

class ProjectCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(
    private readonly inner: Cursor,
    private readonly fn: (row: unknown) => unknown,
  ) {}
  next(): boolean {
    if (!this.inner.next()) return false;
    this.key = this.inner.key;
    this.value = this.fn(this.inner.value);
    return true;
  }
}

/** One sort key. */
export interface SortKey {
  readonly get: (row: unknown) => unknown;
  readonly desc: boolean;
  readonly label: string;
  /** The accessor id, when the key is a path (lets an index provide the order). */
  readonly accessorId?: string | undefined;
}

/**
 * Sorts by the keys, ties broken by the row key (the primary key) and then by arrival. With a
 * bound (`offset + limit`) it keeps only the best rows in a heap (top-k) instead of sorting all.
 */
export class Sort extends PlanNode {
  readonly name: string;
  constructor(
    readonly child: PlanNode,
    readonly keys: readonly SortKey[],
    readonly bound: number | undefined,
    readonly byRowKey: boolean,
  ) {
    super();
    this.name = bound === undefined ? 'Sort' : 'TopK';
  }
  estimate(): number {
    const n = this.child.estimate();
    return this.bound === undefined ? n : Math.min(n, this.bound);
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    const keys = this.keys.map((k) => `${k.label} ${k.desc ? 'desc' : 'asc'}`).join(', ');
    return this.bound === undefined ? keys : `${keys} (keep ${this.bound})`;
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    const keys = this.keys;
    const nk = keys.length;
    const rowKeys: unknown[] = [];
    const values: unknown[] = [];
    const sortVals: unknown[][] = keys.map(() => []);
    const byRowKey = this.byRowKey;
    const cmp = (i: number, j: number): number => {
      for (let k = 0; k < nk; k++) {
        const col = sortVals[k] as unknown[];
        const a = col[i];
        const b = col[j];
        let c: number;
        if (typeof a === 'number' && typeof b === 'number' && a < b) c = -1;
        else if (typeof a === 'number' && typeof b === 'number' && a > b) c = 1;
        else c = compareValues(a, b);
        if (c !== 0) return (keys[k] as SortKey).desc ? -c : c;
      }
      if (byRowKey) {
        const c = compareValues(rowKeys[i], rowKeys[j]);
        if (c !== 0) return c;
      }
      return i - j;
    };
    const bound = this.bound;
    let order: number[];
    if (bound !== undefined && bound === 0) {
      while (inner.next()) {
        /* drain nothing: a bound of 0 keeps no row */
        break;
      }
      order = [];
    } else if (bound !== undefined) {
      // A max-heap of the best `bound` rows (the worst of them on top).
      const heap: number[] = [];
      const up = (i: number) => {
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (cmp(heap[p] as number, heap[i] as number) >= 0) break;
          [heap[p], heap[i]] = [heap[i] as number, heap[p] as number];
          i = p;
        }
      };
      const down = (i: number) => {
        const n = heap.length;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < n && cmp(heap[l] as number, heap[m] as number) > 0) m = l;
          if (r < n && cmp(heap[r] as number, heap[m] as number) > 0) m = r;
          if (m === i) break;
          [heap[m], heap[i]] = [heap[i] as number, heap[m] as number];
          i = m;
        }
      };
      let i = 0;
      let free: number[] = [];
      while (inner.next()) {
        const slot = free.length > 0 ? (free.pop() as number) : i++;
        rowKeys[slot] = inner.key;
        values[slot] = inner.value;
        for (let k = 0; k < nk; k++) (sortVals[k] as unknown[])[slot] = (keys[k] as SortKey).get(inner.value);
        if (heap.length < bound) {
          heap.push(slot);
          up(heap.length - 1);
        } else if (cmp(slot, heap[0] as number) < 0) {
          free.push(heap[0] as number);
          heap[0] = slot;
          down(0);
        } else {
          free.push(slot);
        }
      }
      free = [];
      order = heap.sort(cmp);
    } else {
      let i = 0;
      while (inner.next()) {
        rowKeys[i] = inner.key;
        values[i] = inner.value;
        for (let k = 0; k < nk; k++) (sortVals[k] as unknown[])[i] = (keys[k] as SortKey).get(inner.value);
        i++;
      }
      order = new Array<number>(i);
      for (let j = 0; j < i; j++) order[j] = j;
      order.sort(cmp);
    }
    const sortedValues = order.map((j) => values[j]);
    const sortedKeys = order.map((j) => rowKeys[j]);
    return new ArrayCursor(sortedValues, sortedKeys);
  }
}

/** Skips `offset` rows and stops after `limit` more: the child is not pulled further. */
export class Limit extends PlanNode {
  readonly name = 'Limit';
  constructor(
    readonly child: PlanNode,
    readonly offset: number,
    readonly limit: number | undefined,
  ) {
    super();
  }
  estimate(): number {
    const n = Math.max(0, this.child.estimate() - this.offset);
    return this.limit === undefined ? n : Math.min(n, this.limit);
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    const parts: string[] = [];
    if (this.limit !== undefined) parts.push(`${this.limit}`);
    if (this.offset > 0) parts.push(`offset ${this.offset}`);
    return parts.join(' ');
  }
  override keyOrdered(): boolean {
    return this.child.keyOrdered();
  }
  open(ctx: ExecContext): Cursor {
    return new LimitCursor(this.child.run(ctx), this.offset, this.limit ?? Number.POSITIVE_INFINITY);
  }
}

class LimitCursor implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  constructor(
    private readonly inner: Cursor,
    private skip: number,
    private left: number,
  ) {}
  next(): boolean {
    if (this.left <= 0) return false;
    const inner = this.inner;
    while (this.skip > 0) {
      if (!inner.next()) return false;
      this.skip--;
    }
    if (!inner.next()) return false;
    this.left--;
    this.key = inner.key;
    this.value = inner.value;
    return true;
  }
}

/** Keeps the first row of each distinct value (or of each distinct `by(row)`). */
export class Distinct extends PlanNode {
  readonly name = 'Distinct';
  constructor(
    readonly child: PlanNode,
    readonly by: ((row: unknown) => unknown) | undefined,
    readonly text: string,
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
    return this.text;
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    const seen = new ValueSet();
    const by = this.by;
    const c = {
      key: undefined as unknown,
      value: undefined as unknown,
      next(): boolean {
        while (inner.next()) {
          const v = inner.value;
          if (seen.add(by === undefined ? v : by(v))) {
            c.key = inner.key;
            c.value = v;
            return true;
          }
        }
        return false;
      },
    };
    return c;
  }
}

/** One named aggregate of a group-by. */
export interface NamedAggregate {
  readonly name: string;
  readonly agg: Aggregate<unknown, unknown>;
}

/**
 * Hash aggregation: rows are grouped by `by(row)` (value equality; `undefined` is a group of its
 * own) and each group becomes `{ key, ...aggregates }` (or `{ key, rows }` without aggregates),
 * in order of first appearance.
 */
export class GroupBy extends PlanNode {
  readonly name = 'GroupBy';
  constructor(
    readonly child: PlanNode,
    readonly by: (row: unknown) => unknown,
    readonly byText: string,
    readonly aggs: readonly NamedAggregate[] | undefined,
  ) {
    super();
  }
  estimate(): number {
    return Math.max(1, Math.sqrt(this.child.estimate()));
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    const aggs =
      this.aggs === undefined ? 'rows' : this.aggs.map((a) => `${a.name}=${a.agg.label}`).join(', ');
    return `${this.byText}: ${aggs}`;
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    const groups = new ValueMap<number>();
    const keys: unknown[] = [];
    const aggs = this.aggs;
    const by = this.by;
    if (aggs === undefined) {
      const rows: unknown[][] = [];
      while (inner.next()) {
        const k = by(inner.value);
        let g = groups.get(k);
        if (g === undefined) {
          g = keys.length;
          groups.set(k, g);
          keys.push(k);
          rows.push([]);
        }
        (rows[g] as unknown[]).push(inner.value);
      }
      return new ArrayCursor(keys.map((key, i) => ({ key, rows: rows[i] })));
    }
    const na = aggs.length;
    const update = aggs.map((a) => updater(a.agg));
    const groupAccs: Accumulator[][] = [];
    let lastKey: unknown;
    let last: Accumulator[] | undefined;
    while (inner.next()) {
      const row = inner.value;
      const k = by(row);
      let accs: Accumulator[];
      if (last !== undefined && k === lastKey && (typeof k !== 'object' || k === null)) accs = last;
      else {
        let g = groups.get(k);
        if (g === undefined) {
          g = keys.length;
          groups.set(k, g);
          keys.push(k);
          const fresh: Accumulator[] = [];
          for (let a = 0; a < na; a++) fresh.push({ n: 0, sum: 0, best: undefined });
          groupAccs.push(fresh);
        }
        accs = groupAccs[g] as Accumulator[];
        lastKey = k;
        last = accs;
      }
      for (let a = 0; a < na; a++)
        (update[a] as (acc: Accumulator, row: unknown) => void)(accs[a] as Accumulator, row);
    }
    const out = keys.map((key, g) => {
      const row: Record<string, unknown> = { key };
      const accs = groupAccs[g] as Accumulator[];
      for (let a = 0; a < na; a++) {
        const named = aggs[a] as NamedAggregate;
        row[named.name] = finish(named.agg, accs[a] as Accumulator);
      }
      return row;
    });
    return new ArrayCursor(out);
  }
}

/** Join kinds. */
export type JoinKind = 'inner' | 'left' | 'right' | 'full';

/**
 * Hash join on equality of `leftKey(l)` and `rightKey(r)` (value equality; `null` and missing
 * keys never match). The right side is hashed; the left side streams. Output: for each left row
 * its matches in right order (or one unmatched row for left/full joins), then the unmatched
 * right rows for right/full joins.
 */
export class HashJoin extends PlanNode {
  readonly name = 'HashJoin';
  constructor(
    readonly left: PlanNode,
    readonly right: PlanNode,
    readonly leftKey: (row: unknown) => unknown,
    readonly rightKey: (row: unknown) => unknown,
    readonly kind: JoinKind,
    readonly select: (l: unknown, r: unknown) => unknown,
    readonly text: string,
  ) {
    super();
  }
  estimate(): number {
    return Math.max(this.left.estimate(), this.right.estimate());
  }
  override children(): readonly PlanNode[] {
    return [this.left, this.right];
  }
  override detail(): string {
    return `${this.kind} ${this.text}`;
  }
  open(ctx: ExecContext): Cursor {
    const table = new ValueMap<number[]>();
    const rights: unknown[] = [];
    const rc = this.right.run(ctx);
    const rightKey = this.rightKey;
    while (rc.next()) {
      const row = rc.value;
      const i = rights.length;
      rights.push(row);
      const k = rightKey(row);
      if (k === undefined || k === null) continue;
      const bucket = table.get(k);
      if (bucket === undefined) table.set(k, [i]);
      else bucket.push(i);
    }
    const matched = this.kind === 'right' || this.kind === 'full' ? new Uint8Array(rights.length) : undefined;
    const keepLeft = this.kind === 'left' || this.kind === 'full';
    const lc = this.left.run(ctx);
    const leftKey = this.leftKey;
    const select = this.select;
    let bucket: number[] | undefined;
    let bi = 0;
    let leftRow: unknown;
    let tail = -1;
    const c = {
      key: undefined as unknown,
      value: undefined as unknown,
      next(): boolean {
        for (;;) {
          if (tail >= 0) {
            while (tail < rights.length) {
              const i = tail++;
              if (matched !== undefined && matched[i] === 0) {
                c.value = select(undefined, rights[i]);
                return true;
              }
            }
            return false;
          }
          if (bucket !== undefined && bi < bucket.length) {
            const i = bucket[bi++] as number;
            if (matched !== undefined) matched[i] = 1;
            c.value = select(leftRow, rights[i]);
            return true;
          }
          bucket = undefined;
          if (!lc.next()) {
            if (matched === undefined) return false;
            tail = 0;
            continue;
          }
          leftRow = lc.value;
          const k = leftKey(leftRow);
          bucket = k === undefined || k === null ? undefined : table.get(k);
          bi = 0;
          if (bucket === undefined && keepLeft) {
            c.value = select(leftRow, undefined);
            return true;
          }
        }
      },
    };
    return c;
  }
}

/** Replaces each row by the elements of `of(row)` (arrays, collections, any iterable but strings). */
export class Flatten extends PlanNode {
  readonly name = 'Flatten';
  constructor(
    readonly child: PlanNode,
    readonly of: (row: unknown) => unknown,
    readonly text: string,
  ) {
    super();
  }
  estimate(): number {
    return this.child.estimate() * 3;
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    return this.text;
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    const of = this.of;
    let it: Iterator<unknown> | undefined;
    const c = {
      key: undefined as unknown,
      value: undefined as unknown,
      next(): boolean {
        for (;;) {
          if (it !== undefined) {
            const r = it.next();
            if (r.done !== true) {
              c.value = r.value;
              return true;
            }
            it = undefined;
          }
          if (!inner.next()) return false;
          const v = of(inner.value);
          if (
            typeof v === 'object' &&
            v !== null &&
            typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function'
          ) {
            it = elements(v as Iterable<unknown>);
          }
        }
      },
    };
    return c;
  }
}

function elements(v: Iterable<unknown>): Iterator<unknown> {
  const values = (v as { values?: () => Iterator<unknown> }).values;
  // Dictionaries (and maps) iterate entries; flattening walks their values.
  if (!Array.isArray(v) && typeof values === 'function' && !(v instanceof Set)) return values.call(v);
  return v[Symbol.iterator]();
}

/** Counts the child's rows: one row. */
export class Count extends PlanNode {
  readonly name = 'Count';
  constructor(readonly child: PlanNode) {
    super();
  }
  estimate(): number {
    return 1;
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    let n = 0;
    while (inner.next()) n++;
    return new ArrayCursor([n], [undefined]);
  }
}
