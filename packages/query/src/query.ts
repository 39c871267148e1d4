/**
 * The fluent query API, in the LINQ / Kysely tradition: `from(source)` starts an immutable,
 * lazy query; each method returns a new query; nothing runs until the query is iterated or a
 * terminal method (`toArray`, `first`, `count`, `toDictionary`, `explain`) is called. The
 * leading `where` / `orderBy` / `offset` / `limit` of a query over an `IndexedCollection` are
 * planned together by the optimizer (indexes, AND/OR merges, index order, top-k); later steps
 * run as row operators in the order written.
 *
 * Order: rows come out in the order asked for with `orderBy`; rows equal on every sort key
 * come out in primary-key order (array position for arrays, key order for dictionaries; after
 * a join or a group, in the order they were produced). Without `orderBy` the order is
 * unspecified (it follows the chosen plan).
 */
import { Database } from '@proto/atom';
import { Dictionary, type Dictionary as DictionaryType, type Key, List } from '@proto/collections';
import {
  type Aggregate,
  type AggregateResult,
  type Aggregates,
  aggregates,
  type Selector,
  selectorFn,
} from './aggregate.js';
import { invalidArgument } from './errors.js';
import { type ExplainOptions, type Explanation, explanation } from './explain.js';
import {
  compare,
  type ElementOf,
  type Expr,
  type ExprNode,
  type Field,
  field,
  type OperandOf,
  type Operator,
  pathAccessor,
} from './expr.js';
import { IndexedCollection } from './indexed-collection.js';
import { type LiveOptions, type LiveQuery, type LiveUpdate, RootSource, startLive } from './live.js';
import { type NearestOptions, NearestSource, type Neighbor, nearestRequest } from './nearest.js';
import { getterOf, type PathOf, type PathValue, parsePath } from './path.js';
import { buildPlan, QUERY_PLAN, type Step } from './plan/build.js';
import type { NamedAggregate } from './plan/group.js';
import type { JoinKind } from './plan/join.js';
import { ExecContext, type PlanNode } from './plan/node.js';
import type { SortKey } from './plan/sort.js';

/** Anything a query can read. */
export type SourceLike =
  | IndexedCollection<never, Key>
  | DictionaryType<never, unknown>
  | Query<unknown>
  | readonly unknown[]
  | Iterable<unknown>;

/** The row type of a source. */
export type RowOf<S> =
  S extends IndexedCollection<infer V, infer _K>
    ? V
    : S extends DictionaryType<infer _K, infer V>
      ? V
      : S extends Query<infer T>
        ? T
        : S extends readonly (infer E)[]
          ? E
          : S extends Iterable<infer E>
            ? E
            : never;

/** A typed field builder for rows of `T`. */
export type FieldFn<T> = <P extends PathOf<T> & string>(path: P) => Field<T, PathValue<T, P>>;

/** The value a selector picks from rows of `T`. */
export type Selected<T, S> = S extends (row: T) => infer R ? R : S extends string ? PathValue<T, S> : unknown;

/** Rows of an inner join without a selector. */
export interface Joined<L, R> {
  readonly left: L;
  readonly right: R;
}

function selectorText(s: unknown): string {
  return typeof s === 'string' ? s : 'fn';
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0)
    invalidArgument(`${what} takes a non-negative integer, got ${String(n)}`);
}

/** A lazy, immutable query producing rows of type `T`. Start one with `from(...)`. */
export class Query<T> implements Iterable<T>, AsyncIterable<T> {
  /** @internal */
  constructor(
    private readonly source: SourceLike,
    private readonly label: string,
    private readonly steps: readonly Step[],
  ) {}

  #with<U>(step: Step): Query<U> {
    return new Query<U>(this.source, this.label, [...this.steps, step]);
  }

  /** What the plan reads: a root named by `from(db, root)` is read in the newest commit. */
  #source(): SourceLike {
    const source = this.source as unknown;
    if (!(source instanceof RootSource)) return this.source;
    return RootSource.sourceOf(source.read().value, source.root, source.database.name) as SourceLike;
  }

  /**
   * Keeps the rows matching an expression, a `(field) => expression` callback, or `path op value`.
   * @example
   * q.where('age', '>=', 18)
   * q.where((f) => or(f('country').eq('ES'), f('tags').contains('vip')))
   * q.where(field('name').startsWith('A'))
   */
  where(expr: Expr<T>): Query<T>;
  where(build: (field: FieldFn<T>) => Expr<T>): Query<T>;
  where<P extends PathOf<T> & string, O extends Operator>(
    path: P,
    op: O,
    value: OperandOf<PathValue<T, P>, O>,
  ): Query<T>;
  where(a: unknown, op?: Operator, value?: unknown): Query<T> {
    let expr: ExprNode;
    if (typeof a === 'string') {
      if (op === undefined) invalidArgument(`where('${a}', op, value) needs an operator`);
      expr = compare(pathAccessor(a), op, value);
    } else if (typeof a === 'function') {
      expr = (a as (f: FieldFn<T>) => ExprNode)((path) => field(path as string) as never);
    } else if (typeof a === 'object' && a !== null && 'op' in a) {
      expr = a as ExprNode;
    } else {
      return invalidArgument('where() takes an expression, a callback or (path, op, value)');
    }
    return this.#with<T>({ kind: 'where', expr });
  }

  /**
   * Sorts by a path or a function; call again for further keys (ties of the earlier ones).
   * Missing values sort last ascending, first descending.
   */
  orderBy(key: (PathOf<T> & string) | ((row: T) => unknown), direction: 'asc' | 'desc' = 'asc'): Query<T> {
    if (direction !== 'asc' && direction !== 'desc')
      invalidArgument(`orderBy direction is 'asc' or 'desc', got '${String(direction)}'`);
    let sortKey: SortKey;
    if (typeof key === 'string') {
      const path = parsePath(key);
      if (path.multi) invalidArgument(`cannot order by '${key}': a [] path holds several values`);
      sortKey = { get: getterOf(path), desc: direction === 'desc', label: key, accessorId: path.text };
    } else if (typeof key === 'function') {
      sortKey = { get: key as (row: unknown) => unknown, desc: direction === 'desc', label: 'fn' };
    } else {
      return invalidArgument('orderBy() takes a path or a function');
    }
    return this.#with<T>({ kind: 'orderBy', key: sortKey });
  }

  /** At most `n` rows. */
  limit(n: number): Query<T> {
    checkCount(n, 'limit()');
    return this.#with<T>({ kind: 'limit', n });
  }

  /** Skips `n` rows. */
  offset(n: number): Query<T> {
    checkCount(n, 'offset()');
    return this.#with<T>({ kind: 'offset', n });
  }

  /** Maps each row (a function), or picks the value at a path. */
  select<P extends PathOf<T> & string>(path: P): Query<PathValue<T, P>>;
  select<U>(fn: (row: T) => U): Query<U>;
  select<U>(s: unknown): Query<U> {
    if (typeof s === 'string') {
      const path = parsePath(s);
      if (path.multi)
        invalidArgument(
          `select('${s}'): a [] path holds several values; use flatten('${s.replace(/\[\]$/, '')}')`,
        );
      return this.#with({ kind: 'select', fn: getterOf(path), text: s, path: s });
    }
    if (typeof s !== 'function') invalidArgument('select() takes a path or a function');
    return this.#with({ kind: 'select', fn: s as (row: unknown) => unknown, text: 'fn' });
  }

  /** Keeps only the named fields of each row. */
  pick<F extends keyof T & string>(...names: F[]): Query<Pick<T, F>> {
    const fn = (row: unknown) => {
      const out: Record<string, unknown> = {};
      for (const n of names) {
        const v = (row as Record<string, unknown>)[n];
        if (v !== undefined) out[n] = v;
      }
      return out;
    };
    return this.#with({ kind: 'select', fn, text: `{${names.join(', ')}}` });
  }

  /** Drops repeated rows (value equality), or rows with a repeated `by` value; the first is kept. */
  distinct(by?: Selector<T>): Query<T> {
    return this.#with<T>({
      kind: 'distinct',
      by: by === undefined ? undefined : (selectorFn(by) as (row: unknown) => unknown),
      text: by === undefined ? 'rows' : `by ${selectorText(by)}`,
    });
  }

  /**
   * Groups rows by a key (value equality) into `{ key, rows }`, or with aggregates into
   * `{ key, ...aggregates }`; groups come out in order of first appearance.
   * @example
   * from(users).groupBy('country', (a) => ({ n: a.count(), age: a.avg('age') }))
   */
  groupBy<S extends Selector<T>>(key: S): Query<{ key: Selected<T, S>; rows: T[] }>;
  groupBy<S extends Selector<T>, A extends Record<string, Aggregate<T, unknown>>>(
    key: S,
    aggs: (a: Aggregates<T>) => A,
  ): Query<{ key: Selected<T, S> } & { [N in keyof A]: AggregateResult<A[N]> }>;
  groupBy<U>(key: Selector<T>, aggs?: (a: Aggregates<T>) => Record<string, Aggregate<T, unknown>>): Query<U> {
    let named: NamedAggregate[] | undefined;
    if (aggs !== undefined) {
      const spec = aggs(aggregates<T>());
      named = Object.entries(spec).map(([name, agg]) => {
        if (name === 'key') invalidArgument("an aggregate cannot be named 'key'");
        return { name, agg: agg as Aggregate<unknown, unknown> };
      });
    }
    return this.#with({
      kind: 'groupBy',
      by: selectorFn(key) as (row: unknown) => unknown,
      text: selectorText(key),
      aggs: named,
    });
  }

  #join<R>(
    kind: JoinKind,
    right: SourceLike,
    lk: Selector<never>,
    rk: Selector<never>,
    select?: (l: never, r: never) => unknown,
  ): Query<R> {
    return this.#with<R>({
      kind: 'join',
      join: kind,
      right,
      leftKey: selectorFn(lk) as (row: unknown) => unknown,
      rightKey: selectorFn(rk) as (row: unknown) => unknown,
      select:
        (select as ((l: unknown, r: unknown) => unknown) | undefined) ?? ((left, right) => ({ left, right })),
      text: `${selectorText(lk)} = ${selectorText(rk)}`,
    });
  }

  /**
   * Inner hash join on `leftKey(row) = rightKey(other)` (value equality; null and missing keys
   * never match). Rows are `{ left, right }` unless `select` builds them.
   */
  join<S extends SourceLike, R = Joined<T, RowOf<S>>>(
    right: S,
    leftKey: Selector<T>,
    rightKey: Selector<RowOf<S>>,
    select?: (left: T, right: RowOf<S>) => R,
  ): Query<R> {
    return this.#join('inner', right, leftKey as never, rightKey as never, select as never);
  }

  /** Left outer join: every left row, with `right` undefined when nothing matches. */
  leftJoin<S extends SourceLike, R = Joined<T, RowOf<S> | undefined>>(
    right: S,
    leftKey: Selector<T>,
    rightKey: Selector<RowOf<S>>,
    select?: (left: T, right: RowOf<S> | undefined) => R,
  ): Query<R> {
    return this.#join('left', right, leftKey as never, rightKey as never, select as never);
  }

  /** Right outer join: every right row, with `left` undefined when nothing matches. */
  rightJoin<S extends SourceLike, R = Joined<T | undefined, RowOf<S>>>(
    right: S,
    leftKey: Selector<T>,
    rightKey: Selector<RowOf<S>>,
    select?: (left: T | undefined, right: RowOf<S>) => R,
  ): Query<R> {
    return this.#join('right', right, leftKey as never, rightKey as never, select as never);
  }

  /** Full outer join: matched pairs, then unmatched rows of either side with the other undefined. */
  fullJoin<S extends SourceLike, R = Joined<T | undefined, RowOf<S> | undefined>>(
    right: S,
    leftKey: Selector<T>,
    rightKey: Selector<RowOf<S>>,
    select?: (left: T | undefined, right: RowOf<S> | undefined) => R,
  ): Query<R> {
    return this.#join('full', right, leftKey as never, rightKey as never, select as never);
  }

  /** Replaces each row by the elements of the array or collection at `path`. */
  flatten<P extends PathOf<T> & string>(path: P): Query<ElementOf<PathValue<T, P>>> {
    const p = parsePath(path);
    return this.#with({ kind: 'flatten', of: getterOf(p), text: path });
  }

  /** Replaces each row by the elements `fn(row)` returns. */
  flatMap<U>(fn: (row: T) => Iterable<U> | readonly U[] | undefined): Query<U> {
    return this.#with({ kind: 'flatten', of: fn as (row: unknown) => unknown, text: 'fn' });
  }

  /**
   * The `options.k` rows nearest to `vector` by the vector at `path`, as `{ record, key, distance }`,
   * nearest first (ties by key). The `where` steps before it filter the candidates (the planner
   * picks pre-filtering or a filtering index scan); steps after it see the neighbours.
   * @example
   * from(products).where('category', '=', 'shoes').nearest('embedding', query, { k: 10 })
   */
  nearest<P extends PathOf<T> & string>(
    path: P,
    vector: Float32Array | readonly number[],
    options: NearestOptions,
  ): Query<Neighbor<T>> {
    const source = new NearestSource(
      this.source,
      this.label,
      this.steps,
      nearestRequest(path, vector, options),
    );
    return new Query<Neighbor<T>>(source as unknown as SourceLike, 'nearest', []);
  }

  // --- planning ---------------------------------------------------------------------

  /** The physical plan this query runs (see `explain()` for a readable form). */
  plan(): PlanNode {
    return buildPlan(this.#source(), this.label, this.steps, false, false);
  }

  /** @internal The plan, as a source of another query. */
  [QUERY_PLAN](fresh: boolean): PlanNode {
    return buildPlan(this.#source(), this.label, this.steps, false, fresh);
  }

  // --- execution --------------------------------------------------------------------

  /** Runs the query lazily: rows are produced as the iterator is pulled. */
  *[Symbol.iterator](): Iterator<T> {
    const c = this.plan().run(new ExecContext());
    while (c.next()) yield c.value as T;
  }

  /** Async iteration over the same rows (`for await`). */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const c = this.plan().run(new ExecContext());
    while (c.next()) yield c.value as T;
  }

  /** All rows. */
  toArray(): T[] {
    const c = this.plan().run(new ExecContext());
    const out: T[] = [];
    while (c.next()) out.push(c.value as T);
    return out;
  }

  /** The first row, or undefined. */
  first(): T | undefined {
    const c = this.limit(1).plan().run(new ExecContext());
    return c.next() ? (c.value as T) : undefined;
  }

  /** The number of rows; answered from an index when one covers the whole predicate. */
  count(): number {
    const c = buildPlan(this.#source(), this.label, this.steps, true, false).run(new ExecContext());
    return c.next() ? (c.value as number) : 0;
  }

  /**
   * The rows as a `Dictionary` keyed by `key(row)` (a path or a function); a later row wins on a
   * repeated key.
   */
  toDictionary<S extends Selector<T>>(key: S): DictionaryType<Selected<T, S> & Key, T> {
    const get = selectorFn(key);
    const entries: [Key, T][] = [];
    for (const row of this) entries.push([get(row) as Key, row]);
    return Dictionary.from(entries) as DictionaryType<Selected<T, S> & Key, T>;
  }

  /** The rows as a `List` (a persistent collection that can be stored). */
  toList(): List<T> {
    return List.from(this.toArray());
  }

  /**
   * Keeps this query's rows current as commits change its root (a query started with
   * `from(db, root)`): `callback` gets the first rows at once, then, after each commit that
   * changed what the query shows, the rows now and those that entered, left or changed. Each
   * update is computed from the commit's diff, looking only at the records it changed (see
   * `live.ts`). Without a callback, the live query is an async iterator of the same updates.
   * Supports `where`, `orderBy`, `offset`, `limit`, then `select` / `pick`; close it with `close()`.
   * @example
   * const top = from<Player>(db, 'players').orderBy('score', 'desc').limit(5)
   *   .live((u) => render(u.rows));
   * // later
   * top.close();
   */
  live(callback?: (update: LiveUpdate<T>) => void, options: LiveOptions = {}): LiveQuery<T> {
    const source = this.source as unknown;
    if (!(source instanceof RootSource))
      invalidArgument('live() needs a query over a root of a database: start it with from(db, root)');
    return startLive<T>(
      source,
      this.steps,
      (value, steps) => buildPlan(value, this.label, steps, false, false).run(new ExecContext()),
      callback,
      options,
    );
  }

  /**
   * The chosen plan: the tree as data and text, the indexes it reads and its estimates. With
   * `{ analyze: true }` the query runs and every node reports the rows it produced.
   */
  explain(options: ExplainOptions = {}): Explanation {
    // explain() plans afresh (no plan cache), so its estimates are those of these constants.
    const plan = buildPlan(this.#source(), this.label, this.steps, options.count === true, true);
    if (options.analyze !== true) return explanation(plan.info());
    const ctx = new ExecContext(true);
    const c = plan.run(ctx);
    while (c.next()) {
      /* drain */
    }
    return explanation(plan.info(ctx));
  }
}

/**
 * Starts a query over root `root` of a database: each run reads the root in the newest commit
 * (`not-found` when it does not exist), and `live()` keeps the rows current. `T` is the row
 * type (the root's records).
 * @example
 * const top = from<Player>(db, 'players').orderBy('score', 'desc').limit(5);
 * top.toArray();
 */
export function from<T = unknown>(database: Database, root: string): Query<T>;
/**
 * Starts a query over an `IndexedCollection`, a `Dictionary` (its values), an array, another
 * query or any iterable. `name` labels the source in `explain()`.
 * @example
 * from(users).where('age', '>=', 18).orderBy('lastLogin', 'desc').select((u) => u.id).limit(50).toArray()
 */
export function from<S extends SourceLike>(source: S, name?: string): Query<RowOf<S>>;
export function from(source: unknown, name?: string): Query<unknown> {
  if (source instanceof Database) {
    if (typeof name !== 'string' || name.length === 0)
      invalidArgument('from(database, root) needs a root name');
    return new Query<unknown>(new RootSource(source, name) as never, name, []);
  }
  if (source === null || typeof source !== 'object')
    invalidArgument('from() takes a collection, an array or an iterable');
  const label =
    name ??
    (source instanceof IndexedCollection
      ? 'collection'
      : source instanceof Dictionary
        ? 'dictionary'
        : Array.isArray(source)
          ? 'array'
          : source instanceof Query
            ? 'query'
            : 'iterable');
  if (
    !(source instanceof IndexedCollection) &&
    !(source instanceof Query) &&
    typeof (source as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  ) {
    invalidArgument('from() takes a collection, an array or an iterable');
  }
  return new Query<unknown>(source as SourceLike, label, []);
}
