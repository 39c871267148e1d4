/**
 * Row operators: residual filters, projections, limit/offset, distinct, flattening and count.
 * Sorting is in `sort.ts`, grouping in `group.ts`, joins in `join.ts`.
 */
import type { Test } from '../compile.js';
import { ValueSet } from '../values.js';
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
