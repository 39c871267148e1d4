/**
 * Value helpers shared by expressions, plans and indexes: the key ranks of `@proto/collections`'
 * total order, a total order over every value (for sorting), and value-keyed hash maps (for
 * distinct, group by and hash joins).
 */
import { Atom, AtomRef, forEachElement, pointerOf } from '@proto/atom';
import { compareKeys, type Key } from '@proto/collections';

/** Key ranks, in the order `compareKeys` ranks types. `NOT_A_KEY` for every other value. */
export const RANK_NULL = 0;
export const RANK_BOOLEAN = 1;
export const RANK_NUMERIC = 2;
export const RANK_STRING = 3;
export const RANK_DATE = 4;
export const RANK_BYTES = 5;
export const RANK_ARRAY = 6;
export const NOT_A_KEY = -1;

/** The rank of `value` in the key order, or `NOT_A_KEY` (undefined, plain objects, atoms ...). */
export function keyRank(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return RANK_STRING;
    case 'number':
    case 'bigint':
      return RANK_NUMERIC;
    case 'boolean':
      return RANK_BOOLEAN;
    case 'object':
      if (value === null) return RANK_NULL;
      if (value instanceof Date) return RANK_DATE;
      if (value instanceof Uint8Array) return RANK_BYTES;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++)
          if (!(i in value) || keyRank(value[i]) === NOT_A_KEY) return NOT_A_KEY;
        return RANK_ARRAY;
      }
      return NOT_A_KEY;
    default:
      return NOT_A_KEY;
  }
}

/** True when `value` can be a key of an ordered collection (and so of an index). */
export function isKey(value: unknown): value is Key {
  return keyRank(value) !== NOT_A_KEY;
}

/** The smallest key of a rank: where an index walk over that type starts. */
export function rankMin(rank: number): Key {
  switch (rank) {
    case RANK_NULL:
      return null;
    case RANK_BOOLEAN:
      return false;
    case RANK_NUMERIC:
      return Number.NaN;
    case RANK_STRING:
      return '';
    case RANK_DATE:
      return new Date(Number.NaN);
    case RANK_BYTES:
      return new Uint8Array(0);
    default:
      return [];
  }
}

/**
 * The smallest string greater than every string starting with `prefix`, or undefined when
 * there is none (the prefix is empty or all U+FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

/** Equality of two keys in the key order (`-0` equals `0`, NaN equals NaN, Dates by time). */
export function keysEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ra = keyRank(a);
  if (ra === NOT_A_KEY || ra !== keyRank(b)) return false;
  return compareKeys(a, b) === 0;
}

/**
 * A total order over all values, used by sorts: keys first in the key order, then other
 * defined values (plain objects, atoms) by their canonical form, then `undefined` (missing)
 * last. Ascending sorts therefore put missing values last and descending sorts first.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    return compareKeys(a, b);
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  const ka = isKey(a);
  const kb = isKey(b);
  if (ka && kb) return compareKeys(a, b);
  if (ka) return -1;
  if (kb) return 1;
  const ca = canonical(a);
  const cb = canonical(b);
  return ca < cb ? -1 : ca > cb ? 1 : 0;
}

const atomIds = new WeakMap<object, number>();
let nextAtomId = 1;

function atomId(value: Atom | AtomRef): string {
  const pointer = pointerOf(value);
  if (pointer !== undefined) return `p${pointer}`;
  let id = atomIds.get(value);
  if (id === undefined) {
    id = nextAtomId++;
    atomIds.set(value, id);
  }
  return `o${id}`;
}

/**
 * A string that is equal for two values exactly when they are the same value: keys by the key
 * order, arrays and plain objects by their entries, atoms by identity. Used to hash composite
 * values; primitives are hashed as themselves (see `hashOf`).
 */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `s${JSON.stringify(value)}`;
    case 'number':
      return value === 0 ? 'n0' : `n${value}`;
    case 'bigint':
      return `b${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (value === null) return 'z';
      if (value instanceof Date) return `d${value.getTime()}`;
      if (value instanceof Uint8Array) return `y${Array.prototype.join.call(value, ',')}`;
      if (value instanceof Atom || value instanceof AtomRef) return `a${atomId(value)}`;
      if (Array.isArray(value)) {
        // A run of holes is one item, `_` and its length.
        const items: string[] = [];
        let next = 0;
        forEachElement(value as unknown[], (item, index) => {
          if (index > next) items.push(`_${index - next}`);
          items.push(canonical(item));
          next = index + 1;
        });
        if (value.length > next) items.push(`_${value.length - next}`);
        return `[${items.join(',')}]`;
      }
      let out = '{';
      let first = true;
      for (const key of Object.keys(value)) {
        out += `${first ? '' : ','}${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return `?${String(value)}`;
  }
}

/**
 * A map keyed by value: primitives are keys of one `Map` as themselves (a `Map` already
 * compares them as the key order does: `-0` is `0`, NaN is NaN, `2` is not `2n`), composite
 * values (Dates, arrays, plain objects, atoms) are keys of a second `Map` by their canonical
 * string, so they never collide with real strings.
 */
export class ValueMap<V> {
  readonly #prim = new Map<unknown, V>();
  readonly #comp = new Map<string, V>();

  get size(): number {
    return this.#prim.size + this.#comp.size;
  }

  get(key: unknown): V | undefined {
    return typeof key === 'object' && key !== null ? this.#comp.get(canonical(key)) : this.#prim.get(key);
  }

  has(key: unknown): boolean {
    return typeof key === 'object' && key !== null ? this.#comp.has(canonical(key)) : this.#prim.has(key);
  }

  set(key: unknown, value: V): void {
    if (typeof key === 'object' && key !== null) this.#comp.set(canonical(key), value);
    else this.#prim.set(key, value);
  }

  /** The values, primitives' keys' first, each group in insertion order. */
  values(): V[] {
    return [...this.#prim.values(), ...this.#comp.values()];
  }

  /** Adds `key` if absent; true when it was added. */
  add(key: unknown, value: V): boolean {
    if (typeof key === 'object' && key !== null) {
      const c = canonical(key);
      if (this.#comp.has(c)) return false;
      this.#comp.set(c, value);
      return true;
    }
    if (this.#prim.has(key)) return false;
    this.#prim.set(key, value);
    return true;
  }
}

/** A set of values with value semantics (see `ValueMap`). */
export class ValueSet {
  readonly #map = new ValueMap<true>();
  get size(): number {
    return this.#map.size;
  }
  has(value: unknown): boolean {
    return this.#map.has(value);
  }
  /** True when `value` was not in the set yet. */
  add(value: unknown): boolean {
    return this.#map.add(value, true);
  }
}
