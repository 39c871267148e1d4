/**
 * Expressions: predicates over field paths and named key functions, as plain data the
 * optimizer can inspect (to pick indexes) and compile (to evaluate).
 *
 * Semantics, shared by the filters and the indexes (the oracle tests check they agree):
 * - `eq`/`in`: equal in the key order (`-0` is `0`, NaN is NaN, Dates by time, arrays by
 *   elements; `2` is not `2n`); values that are not keys (plain objects) compare structurally.
 * - `lt`/`lte`/`gt`/`gte`/`between`: only values of the operand's type class match (numbers and
 *   bigints together, strings, Dates, ...), compared in the key order (NaN sorts first).
 *   `null`, missing fields and other types never match a comparison.
 * - `ne`: the value exists and is not equal. `not(eq(...))` also matches missing values.
 * - `contains`: an array holding an equal element, or a string holding a substring.
 * - `startsWith`: a string with that prefix.
 * - `exists`: the value is not `undefined` (null exists). `isNull`: null or missing.
 * - On a multi-valued path (`tags[]`), a predicate holds when it holds for some value.
 */
import { invalidArgument, show } from './errors.js';
import { registerKeyFunction } from './key-function.js';
import { type ParsedPath, type PathOf, type PathValue, parsePath } from './path.js';

/** What an expression tests: a field path or a named key function. */
export type Accessor = PathAccessor | FnAccessor;

export interface PathAccessor {
  readonly kind: 'path';
  readonly path: ParsedPath;
  /** Identifies the accessor for index matching: the path text. */
  readonly id: string;
}

export interface FnAccessor {
  readonly kind: 'fn';
  readonly name: string;
  readonly fn: (record: unknown) => unknown;
  /** `fn:<name>`. */
  readonly id: string;
}

/** Comparison operators. */
export type Comparison = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte';

/** The expression tree (untyped). */
export type ExprNode =
  | { readonly op: Comparison; readonly on: Accessor; readonly value: unknown }
  | {
      readonly op: 'between';
      readonly on: Accessor;
      readonly low: unknown;
      readonly high: unknown;
      readonly lowInclusive: boolean;
      readonly highInclusive: boolean;
    }
  | { readonly op: 'in'; readonly on: Accessor; readonly values: readonly unknown[] }
  | { readonly op: 'contains'; readonly on: Accessor; readonly value: unknown }
  | { readonly op: 'startsWith'; readonly on: Accessor; readonly prefix: string }
  | { readonly op: 'exists' | 'isNull'; readonly on: Accessor }
  | { readonly op: 'and' | 'or'; readonly args: readonly ExprNode[] }
  | { readonly op: 'not'; readonly arg: ExprNode }
  | { readonly op: 'const'; readonly value: boolean }
  | { readonly op: 'predicate'; readonly fn: (record: unknown) => boolean; readonly label: string };

declare const recordType: unique symbol;

/**
 * An expression over records of type `T`. `T` only guides type checking: an expression built
 * without a record type (`field('age').gte(18)`) fits any query.
 */
export type Expr<T = unknown> = ExprNode & { readonly [recordType]?: (record: T) => void };

/** Bound of `between`: `[]` both inclusive (default), `[)`, `(]`, `()`. */
export type Bounds = '[]' | '[)' | '(]' | '()';

/** The element type tested by `contains`. */
export type ElementOf<V> =
  NonNullable<V> extends readonly (infer E)[] ? E : NonNullable<V> extends string ? string : unknown;

export function pathAccessor(path: string): PathAccessor {
  const parsed = parsePath(path);
  return { kind: 'path', path: parsed, id: parsed.text };
}

export function fnAccessor(name: string, fn: (record: unknown) => unknown): FnAccessor {
  return { kind: 'fn', name, fn, id: `fn:${name}` };
}

/** The display name of an accessor. */
export function accessorName(on: Accessor): string {
  return on.kind === 'path' ? on.path.text : `${on.name}()`;
}

/**
 * A field (or key function) of records of type `T` with values of type `V`: the place
 * predicates start from.
 * @example
 * field('age').gte(18)
 * field('tags').contains('sale')
 * field('price').between(10, 20, '[)')
 */
export class Field<T = unknown, V = unknown> {
  constructor(readonly accessor: Accessor) {}
  eq(value: V): Expr<T> {
    return { op: 'eq', on: this.accessor, value };
  }
  ne(value: V): Expr<T> {
    return { op: 'ne', on: this.accessor, value };
  }
  lt(value: V): Expr<T> {
    return { op: 'lt', on: this.accessor, value };
  }
  lte(value: V): Expr<T> {
    return { op: 'lte', on: this.accessor, value };
  }
  gt(value: V): Expr<T> {
    return { op: 'gt', on: this.accessor, value };
  }
  gte(value: V): Expr<T> {
    return { op: 'gte', on: this.accessor, value };
  }
  /** Between `low` and `high`; `bounds` says which ends are included (default both). */
  between(low: V, high: V, bounds: Bounds = '[]'): Expr<T> {
    if (!['[]', '[)', '(]', '()'].includes(bounds))
      invalidArgument(`between bounds are '[]', '[)', '(]' or '()', got '${bounds}'`);
    return {
      op: 'between',
      on: this.accessor,
      low,
      high,
      lowInclusive: bounds[0] === '[',
      highInclusive: bounds[1] === ']',
    };
  }
  in(values: readonly V[]): Expr<T> {
    if (!Array.isArray(values)) invalidArgument('in() takes an array of values');
    return { op: 'in', on: this.accessor, values: [...values] };
  }
  /** An array field holding `value`, or a string field containing the substring `value`. */
  contains(value: ElementOf<V>): Expr<T> {
    return { op: 'contains', on: this.accessor, value };
  }
  startsWith(prefix: string): Expr<T> {
    if (typeof prefix !== 'string') invalidArgument('startsWith() takes a string prefix');
    return { op: 'startsWith', on: this.accessor, prefix };
  }
  exists(): Expr<T> {
    return { op: 'exists', on: this.accessor };
  }
  isNull(): Expr<T> {
    return { op: 'isNull', on: this.accessor };
  }
}

/** The field at `path` (untyped; see `fields<T>()` for a typed builder). */
export function field<T = unknown, P extends PathOf<T> & string = PathOf<T> & string>(
  path: P,
): Field<T, PathValue<T, P>> {
  return new Field<T, PathValue<T, P>>(pathAccessor(path));
}

/**
 * A field builder typed against records of type `T`: paths and values are checked.
 * @example
 * const u = fields<User>();
 * from(users).where(and(u('age').gte(18), u('country').in(['ES', 'AR'])))
 */
export function fields<T>(): <P extends PathOf<T> & string>(path: P) => Field<T, PathValue<T, P>> {
  return (path) => field<T, typeof path>(path);
}

/** A named key function, registered so indexes built on it can be maintained; usable like a field. */
export class KeyFunctionField<T = unknown, R = unknown> extends Field<T, R> {
  constructor(
    readonly name: string,
    readonly fn: (record: T) => R,
  ) {
    super(fnAccessor(name, fn as (record: unknown) => unknown));
  }
}

/**
 * Defines (and registers) a named key function: a computed value that predicates can test and
 * indexes can be built on (`createIndex(name, { key: fullName })`).
 * @example
 * const fullName = keyFn('user.fullName', (u: User) => `${u.first} ${u.last}`);
 * from(users).where(fullName.eq('Ada Lovelace'))
 */
export function keyFn<T, R>(name: string, fn: (record: T) => R): KeyFunctionField<T, R> {
  registerKeyFunction(name, fn);
  return new KeyFunctionField(name, fn);
}

/** All of `args` (true when empty). */
export function and<T>(...args: Expr<T>[]): Expr<T> {
  return { op: 'and', args };
}

/** Any of `args` (false when empty). */
export function or<T>(...args: Expr<T>[]): Expr<T> {
  return { op: 'or', args };
}

export function not<T>(arg: Expr<T>): Expr<T> {
  return { op: 'not', arg };
}

/** An opaque predicate: evaluated per record, never answered by an index. */
export function predicate<T>(fn: (record: T) => boolean, label = 'predicate'): Expr<T> {
  return { op: 'predicate', fn: fn as (record: unknown) => boolean, label };
}

/** Operators of the `where(path, op, value)` form. */
export type Operator =
  | '='
  | '=='
  | '!='
  | '<>'
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | 'contains'
  | 'startsWith'
  | 'between';

/** The value an operator takes for a field of type `V`. */
export type OperandOf<V, O extends Operator> = O extends 'in'
  ? readonly V[]
  : O extends 'contains'
    ? ElementOf<V>
    : O extends 'startsWith'
      ? string
      : O extends 'between'
        ? readonly [V, V]
        : V;

/** Builds the expression for `path op value` (`between` takes `[low, high]`, both inclusive). */
export function compare(on: Accessor, op: Operator, value: unknown): ExprNode {
  const f = new Field(on);
  switch (op) {
    case '=':
    case '==':
      return f.eq(value);
    case '!=':
    case '<>':
      return f.ne(value);
    case '<':
      return f.lt(value);
    case '<=':
      return f.lte(value);
    case '>':
      return f.gt(value);
    case '>=':
      return f.gte(value);
    case 'in':
      return f.in(value as readonly unknown[]);
    case 'contains':
      return f.contains(value);
    case 'startsWith':
      return f.startsWith(value as string);
    case 'between': {
      if (!Array.isArray(value) || value.length !== 2) invalidArgument("'between' takes [low, high]");
      return f.between(value[0], value[1]);
    }
    default:
      return invalidArgument(`unknown operator '${String(op)}'`);
  }
}

const SYMBOL: Record<Comparison, string> = { eq: '=', ne: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** A readable form of an expression, as shown by `explain()`. */
export function describeExpr(e: ExprNode): string {
  switch (e.op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return `${accessorName(e.on)} ${SYMBOL[e.op]} ${show(e.value)}`;
    case 'between':
      return `${accessorName(e.on)} in ${e.lowInclusive ? '[' : '('}${show(e.low)}, ${show(e.high)}${e.highInclusive ? ']' : ')'}`;
    case 'in':
      return `${accessorName(e.on)} IN (${e.values.map(show).join(', ')})`;
    case 'contains':
      return `${accessorName(e.on)} CONTAINS ${show(e.value)}`;
    case 'startsWith':
      return `${accessorName(e.on)} STARTS WITH ${show(e.prefix)}`;
    case 'exists':
      return `${accessorName(e.on)} EXISTS`;
    case 'isNull':
      return `${accessorName(e.on)} IS NULL`;
    case 'and':
      return e.args.length === 0 ? 'TRUE' : e.args.map((a) => wrap(a, 'and')).join(' AND ');
    case 'or':
      return e.args.length === 0 ? 'FALSE' : e.args.map((a) => wrap(a, 'or')).join(' OR ');
    case 'not':
      return `NOT ${wrap(e.arg, 'not')}`;
    case 'const':
      return e.value ? 'TRUE' : 'FALSE';
    case 'predicate':
      return `${e.label}(record)`;
  }
}

function wrap(e: ExprNode, parent: 'and' | 'or' | 'not'): string {
  const text = describeExpr(e);
  const compound = (e.op === 'and' || e.op === 'or') && e.args.length > 1;
  return compound && e.op !== parent ? `(${text})` : text;
}
