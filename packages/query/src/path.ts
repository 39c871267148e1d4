/**
 * Field paths: `a.b.c` (nested fields), `items[0]` (an array element by position) and `tags[]`
 * (any element). Paths are parsed once and compiled to getters. A path through a nested
 * collection reads it like a field (`Dictionary.get`), and `[]` over a collection walks its
 * values. A path with `[]` is multi-valued: predicates on it hold when they hold for some value.
 */
import { AtomRef, forEachElement } from '@proto/atom';
import { Dictionary, type Key } from '@proto/collections';
import { invalidArgument } from './errors.js';

/** One step of a parsed path. */
export type PathStep =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'each' };

/** A parsed path. */
export interface ParsedPath {
  readonly text: string;
  readonly steps: readonly PathStep[];
  /** True when the path has a `[]` step (it may yield several values or none). */
  readonly multi: boolean;
}

const cache = new Map<string, ParsedPath>();

/** Parses a path; throws `QueryError` (`invalid-argument`) on a malformed one. Cached. */
export function parsePath(text: string): ParsedPath {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  if (typeof text !== 'string' || text.length === 0)
    invalidArgument(`a field path is a non-empty string, got ${String(text)}`);
  const steps: PathStep[] = [];
  let i = 0;
  const n = text.length;
  let expectField = true;
  while (i < n) {
    const c = text[i];
    if (c === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) invalidArgument(`unclosed '[' in path '${text}'`);
      const inner = text.slice(i + 1, close);
      if (inner === '') steps.push({ kind: 'each' });
      else if (/^\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else invalidArgument(`'[${inner}]' in path '${text}': use [] for any element or [n] for position n`);
      i = close + 1;
      expectField = false;
      continue;
    }
    if (c === '.') {
      if (expectField) invalidArgument(`empty field name in path '${text}'`);
      i++;
      expectField = true;
      continue;
    }
    if (!expectField && steps.length > 0)
      invalidArgument(`missing '.' before a field name in path '${text}'`);
    let j = i;
    while (j < n && text[j] !== '.' && text[j] !== '[') j++;
    steps.push({ kind: 'field', name: text.slice(i, j) });
    i = j;
    expectField = false;
  }
  if (expectField) invalidArgument(`path '${text}' ends with '.'`);
  const parsed: ParsedPath = { text, steps, multi: steps.some((s) => s.kind === 'each') };
  cache.set(text, parsed);
  return parsed;
}

const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

let COLLECTION_NAMES: Set<string> | undefined;

/**
 * Property names a collection or a reference has (own fields and members up the prototype
 * chain): a path step with one of these names cannot use the plain-property fast path.
 */
function collectionNames(): Set<string> {
  if (COLLECTION_NAMES === undefined) {
    const names = new Set<string>();
    const add = (o: object | null) => {
      for (let p = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
        for (const n of Object.getOwnPropertyNames(p)) names.add(n);
      }
    };
    add(Dictionary.empty());
    add(AtomRef.prototype);
    for (const n of ['pointer', 'loader']) names.add(n);
    COLLECTION_NAMES = names;
  }
  return COLLECTION_NAMES;
}

function stepValue(value: unknown, step: PathStep): unknown {
  if (value instanceof AtomRef) value = value.get();
  if (typeof value !== 'object' || value === null) return undefined;
  if (step.kind === 'field') {
    if (value instanceof Dictionary) return value.get(step.name);
    if (PROTO_NAMES.has(step.name) && !Object.hasOwn(value, step.name)) return undefined;
    return (value as Record<string, unknown>)[step.name];
  }
  if (step.kind === 'index') {
    if (Array.isArray(value)) return value[step.index];
    if (value instanceof Dictionary) return value.get(step.index);
    return undefined;
  }
  return undefined;
}

function resolve(value: unknown): unknown {
  return value instanceof AtomRef ? value.get() : value;
}

/** Reads a single-valued path. Missing steps give `undefined`. */
export type Getter = (record: unknown) => unknown;

/** Visits every value of a path; `visit` returns true to stop. Returns true when stopped. */
export type Visitor = (record: unknown, visit: (value: unknown) => boolean) => boolean;

const getterCache = new Map<string, Getter>();

/**
 * `(r) => r[name]` as a function compiled for `name` alone. A closure over `name` would share
 * one feedback vector among every field's reader (they come from one function literal), so a
 * query reading three fields would make that load megamorphic; a compiled reader per name keeps
 * each load site monomorphic. `name` enters the source only as a JSON string literal.
 */
function fieldReader(name: string): (r: object) => unknown {
  try {
    return new Function('r', `return r[${JSON.stringify(name)}];`) as (r: object) => unknown;
  } catch {
    // Code generation is disallowed (`--disallow-code-generation-from-strings`): a closure.
    return (r) => (r as Record<string, unknown>)[name];
  }
}

/** A getter for a path without `[]`. Fast paths for one and two plain fields. */
export function getterOf(path: ParsedPath): Getter {
  if (path.multi)
    invalidArgument(`path '${path.text}' has [] and can hold several values; it cannot be read as one value`);
  const hit = getterCache.get(path.text);
  if (hit !== undefined) return hit;
  const steps = path.steps;
  let getter: Getter;
  const plain = steps.every(
    (s) => s.kind === 'field' && !PROTO_NAMES.has(s.name) && !collectionNames().has(s.name),
  );
  if (plain && steps.length === 1) {
    const a = (steps[0] as { name: string }).name;
    const slow = (r: unknown) => resolve(stepValue(r, steps[0] as PathStep));
    // A plain property read; collections and references (which never have a property of that
    // name, see COLLECTION_NAMES) read as undefined and take the slow path. The read is a
    // function of its own per field name (see `fieldReader`), so that each one stays
    // monomorphic instead of all sharing one megamorphic keyed load.
    const read = fieldReader(a);
    getter = (r) => {
      if (typeof r !== 'object' || r === null) return undefined;
      const v = read(r);
      if (v === undefined) return r instanceof Dictionary || r instanceof AtomRef ? slow(r) : undefined;
      return typeof v === 'object' && v !== null && v instanceof AtomRef ? v.get() : v;
    };
  } else if (plain && steps.length === 2) {
    const a = (steps[0] as { name: string }).name;
    const b = (steps[1] as { name: string }).name;
    const slow = (r: unknown) => resolve(stepValue(stepValue(r, steps[0] as PathStep), steps[1] as PathStep));
    const readA = fieldReader(a);
    const readB = fieldReader(b);
    getter = (r) => {
      if (typeof r !== 'object' || r === null) return undefined;
      const m = readA(r);
      if (typeof m !== 'object' || m === null) {
        return m === undefined && (r instanceof Dictionary || r instanceof AtomRef) ? slow(r) : undefined;
      }
      const v = readB(m);
      if (v === undefined) return m instanceof Dictionary || m instanceof AtomRef ? slow(r) : undefined;
      return typeof v === 'object' && v !== null && v instanceof AtomRef ? v.get() : v;
    };
  } else {
    getter = (r) => {
      let v: unknown = r;
      for (let i = 0; i < steps.length; i++) {
        v = stepValue(v, steps[i] as PathStep);
        if (v === undefined) return undefined;
      }
      return resolve(v);
    };
  }
  getterCache.set(path.text, getter);
  return getter;
}

function elementsOf(value: unknown, visit: (v: unknown) => boolean): boolean {
  value = resolve(value);
  if (Array.isArray(value)) return forEachElement(value as unknown[], visit);
  if (value instanceof Dictionary) {
    for (const v of value.values()) if (visit(v)) return true;
    return false;
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  ) {
    for (const v of value as Iterable<unknown>) if (visit(v)) return true;
  }
  return false;
}

/** A visitor over all values of a path (one value, or none when missing, for a path without `[]`). */
export function visitorOf(path: ParsedPath): Visitor {
  const steps = path.steps;
  if (!path.multi) {
    const get = getterOf(path);
    return (r, visit) => {
      const v = get(r);
      return v === undefined ? false : visit(v);
    };
  }
  const walk = (value: unknown, from: number, visit: (v: unknown) => boolean): boolean => {
    let v = value;
    for (let i = from; i < steps.length; i++) {
      const step = steps[i] as PathStep;
      if (step.kind === 'each') return elementsOf(v, (e) => walk(e, i + 1, visit));
      v = stepValue(v, step);
      if (v === undefined) return false;
    }
    v = resolve(v);
    return v === undefined ? false : visit(v);
  };
  return (r, visit) => walk(r, 0, visit);
}

/** All values of a path in a record, in order (duplicates kept). */
export function valuesAt(path: ParsedPath, record: unknown): unknown[] {
  const out: unknown[] = [];
  visitorOf(path)(record, (v) => {
    out.push(v);
    return false;
  });
  return out;
}

// --- types ------------------------------------------------------------------------------

type Leaf =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | Date
  | Uint8Array
  | ((...a: never[]) => unknown);
type Prev = [never, 0, 1, 2, 3, 4, 5];

/** The paths of `T` (to depth 5): `a`, `a.b`, `list[]`, `list[0]`, `list[].x`. */
export type Path<T, D extends number = 5> = [D] extends [never]
  ? never
  : T extends Leaf
    ? never
    : T extends readonly unknown[]
      ? never
      : { [K in keyof T & string]-?: K | SubPath<NonNullable<T[K]>, K, Prev[D]> }[keyof T & string];

type SubPath<V, K extends string, D extends number> = V extends Leaf
  ? never
  : V extends readonly (infer E)[]
    ?
        | `${K}[]`
        | `${K}[${number}]`
        | `${K}[].${Path<NonNullable<E>, D>}`
        | `${K}[${number}].${Path<NonNullable<E>, D>}`
    : `${K}.${Path<V, D>}`;

/** The paths accepted for records of type `T`: any string when `T` is unknown. */
export type PathOf<T> = unknown extends T ? string : Path<T>;

type SplitBrackets<S extends string> = S extends `${infer H}[${infer I}]${infer R}`
  ? [...(H extends '' ? [] : [H]), `[${I}]`, ...SplitBrackets<R>]
  : S extends ''
    ? []
    : [S];
type SplitPath<P extends string> = P extends `${infer H}.${infer R}`
  ? [...SplitBrackets<H>, ...SplitPath<R>]
  : SplitBrackets<P>;
type Walk<T, S extends readonly string[]> = S extends readonly [
  infer H extends string,
  ...infer R extends string[],
]
  ? H extends `[${string}]`
    ? NonNullable<T> extends readonly (infer E)[]
      ? Walk<E, R> | (H extends '[]' ? never : undefined)
      : unknown
    : H extends keyof NonNullable<T>
      ? Walk<NonNullable<T>[H], R> | (T extends null | undefined ? undefined : never)
      : unknown
  : T;

/**
 * The type of the value at path `P` of `T` (for `[]` paths, the element type: predicates hold
 * when some element matches). `unknown` when `T` is unknown.
 */
export type PathValue<T, P extends string> = unknown extends T ? unknown : Walk<T, SplitPath<P>>;

/**
 * The primary-key type of records `T` keyed by path `P`: the type at `P` (`undefined` and
 * non-key types removed), or `Key` when nothing is known (`T` unknown, or `P` any string).
 * What `IndexedCollection.from(records, { key })` and `IndexedCollection.empty<T, P>({ key })`
 * infer for `get(key)`, `has`, `delete` and the rest.
 */
export type KeyAtPath<T, P extends string> = string extends P
  ? Key
  : unknown extends PathValue<T, P>
    ? Key
    : Extract<PathValue<T, P>, Key>;
