/**
 * Aggregates for `groupBy`: count, sum, avg, min, max over a path or a function of the row.
 * - `count()` counts rows; `count(x)` counts rows where `x` is not undefined.
 * - `sum`/`avg` use the numbers among the values (others are skipped); `sum` of none is 0,
 *   `avg` of none is undefined.
 * - `min`/`max` compare the defined values in the total order of `compareValues`; undefined
 *   when there are none.
 */
import { getterOf, type PathOf, type PathValue, parsePath } from './path.js';
import { compareValues } from './values.js';

/** An aggregate over rows of type `T` producing `R`. */
export interface Aggregate<T, R> {
  readonly kind: 'count' | 'sum' | 'avg' | 'min' | 'max';
  readonly of: ((row: T) => unknown) | undefined;
  readonly label: string;
  /** Type marker only. */
  readonly result?: R;
}

/** A row-value selector: a path of `T` or a function. */
export type Selector<T, R = unknown> = PathOf<T> | ((row: T) => R);

/** @internal */
export function selectorFn<T>(s: Selector<T>): (row: T) => unknown {
  if (typeof s === 'function') return s;
  return getterOf(parsePath(s as string)) as (row: T) => unknown;
}

function label<T>(s: Selector<T> | undefined): string {
  if (s === undefined) return '*';
  return typeof s === 'function' ? 'fn' : (s as string);
}

/** The aggregates, typed for rows of `T` (the callback argument of `groupBy`). */
export interface Aggregates<T> {
  count(of?: Selector<T>): Aggregate<T, number>;
  sum(of: Selector<T>): Aggregate<T, number>;
  avg(of: Selector<T>): Aggregate<T, number | undefined>;
  min<P extends PathOf<T> & string>(of: P): Aggregate<T, PathValue<T, P> | undefined>;
  min<R>(of: (row: T) => R): Aggregate<T, R | undefined>;
  max<P extends PathOf<T> & string>(of: P): Aggregate<T, PathValue<T, P> | undefined>;
  max<R>(of: (row: T) => R): Aggregate<T, R | undefined>;
}

class AggregateBuilder<T> {
  #make<R>(kind: Aggregate<T, R>['kind'], of: Selector<T> | undefined): Aggregate<T, R> {
    return { kind, of: of === undefined ? undefined : selectorFn(of), label: `${kind}(${label(of)})` };
  }
  count(of?: Selector<T>): Aggregate<T, number> {
    return this.#make('count', of);
  }
  sum(of: Selector<T>): Aggregate<T, number> {
    return this.#make('sum', of);
  }
  avg(of: Selector<T>): Aggregate<T, number | undefined> {
    return this.#make('avg', of);
  }
  min(of: Selector<T>): Aggregate<T, unknown> {
    return this.#make('min', of);
  }
  max(of: Selector<T>): Aggregate<T, unknown> {
    return this.#make('max', of);
  }
}

/** @internal */
export function aggregates<T>(): Aggregates<T> {
  return new AggregateBuilder<T>() as Aggregates<T>;
}

/** @internal Running state of one aggregate in one group. */
export interface Accumulator {
  n: number;
  sum: number;
  best: unknown;
}

/** @internal A specialized `accumulate` for one aggregate. */
export function updater(agg: Aggregate<unknown, unknown>): (acc: Accumulator, row: unknown) => void {
  const of = agg.of;
  if (agg.kind === 'count') {
    if (of === undefined) {
      return (acc) => {
        acc.n++;
      };
    }
    return (acc, row) => {
      if (of(row) !== undefined) acc.n++;
    };
  }
  const get = of as (r: unknown) => unknown;
  if (agg.kind === 'sum' || agg.kind === 'avg') {
    return (acc, row) => {
      const v = get(row);
      if (typeof v === 'number') {
        acc.sum += v;
        acc.n++;
      }
    };
  }
  return (acc, row) => accumulate(agg, acc, row);
}

/** @internal */
export function accumulate(agg: Aggregate<unknown, unknown>, acc: Accumulator, row: unknown): void {
  const of = agg.of;
  switch (agg.kind) {
    case 'count':
      if (of === undefined || of(row) !== undefined) acc.n++;
      return;
    case 'sum':
    case 'avg': {
      const v = (of as (r: unknown) => unknown)(row);
      if (typeof v === 'number') {
        acc.sum += v;
        acc.n++;
      }
      return;
    }
    default: {
      const v = (of as (r: unknown) => unknown)(row);
      if (v === undefined) return;
      if (acc.n === 0) acc.best = v;
      else {
        const c = compareValues(v, acc.best);
        if (agg.kind === 'min' ? c < 0 : c > 0) acc.best = v;
      }
      acc.n++;
    }
  }
}

/** @internal */
export function finish(agg: Aggregate<unknown, unknown>, acc: Accumulator): unknown {
  switch (agg.kind) {
    case 'count':
      return acc.n;
    case 'sum':
      return acc.sum;
    case 'avg':
      return acc.n === 0 ? undefined : acc.sum / acc.n;
    default:
      return acc.n === 0 ? undefined : acc.best;
  }
}

/** The result type of an aggregate. */
export type AggregateResult<A> =
  A extends Aggregate<unknown, infer R> ? R : A extends Aggregate<never, infer R> ? R : never;
