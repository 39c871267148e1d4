/**
 * The total order over keys shared by every ordered collection (`Dictionary`, `OrderedSet`,
 * `CountedSet`, `RepeatedKeysDictionary`).
 *
 * Keys are ranked by type first, then compared within the type:
 *
 * 1. `null`
 * 2. booleans: `false < true`
 * 3. numbers and bigints, one numeric scale: compared by mathematical value (`1 < 1.5n`
 *    is not expressible, but `1 < 2n < 2.5`); a number and a bigint of equal value are
 *    different keys, the number first (`2 < 2n`). `NaN` is a key and sorts below `-Infinity`;
 *    `-0` and `0` are the same key (stored as `0`).
 * 4. strings, by UTF-16 code units (JavaScript's `<`, not locale order)
 * 5. `Date`s, by time; an invalid Date sorts first
 * 6. `Uint8Array`s, bytewise, a prefix before its extensions
 * 7. arrays of keys, lexicographically by this same order, a prefix before its extensions
 *
 * Anything else (`undefined`, plain objects, functions, symbols, atoms) is not a key and is
 * rejected with a `CollectionError` (`invalid-argument`).
 */
import { invalidArgument } from './errors.js';

/** A value usable as a key of an ordered collection. */
export type Key = null | boolean | number | bigint | string | Date | Uint8Array | readonly Key[];

const RANK_NULL = 0;
const RANK_BOOLEAN = 1;
const RANK_NUMERIC = 2;
const RANK_STRING = 3;
const RANK_DATE = 4;
const RANK_BYTES = 5;
const RANK_ARRAY = 6;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}

function rankOf(value: unknown): number {
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
      if (Array.isArray(value)) return RANK_ARRAY;
      if (value instanceof Date) return RANK_DATE;
      if (value instanceof Uint8Array) return RANK_BYTES;
      break;
  }
  return invalidArgument(
    `${describe(value)} is not a key; keys are null, booleans, numbers, bigints, strings, Dates, Uint8Arrays or arrays of keys`,
  );
}

/** Numbers with NaN first; -0 equals 0. */
function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  return aNaN === bNaN ? 0 : aNaN ? -1 : 1;
}

/** A number against a bigint by mathematical value; on a tie the number comes first. */
function compareNumberBigint(a: number, b: bigint): number {
  if (Number.isNaN(a) || a === Number.NEGATIVE_INFINITY) return -1;
  if (a === Number.POSITIVE_INFINITY) return 1;
  const floor = Math.floor(a);
  const big = BigInt(floor);
  if (big < b) return -1;
  if (big > b) return 1;
  return a === floor ? -1 : 1;
}

function compareNumeric(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number') {
    return typeof b === 'number' ? compareNumbers(a, b) : compareNumberBigint(a, b);
  }
  if (typeof b === 'number') return -compareNumberBigint(b, a);
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Compares two keys by the documented total order: negative, zero or positive.
 * Throws `CollectionError` (`invalid-argument`) when either is not a key.
 */
export function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return compareNumbers(a, b);
  // Composite keys (a composite index's): element by element, without ranking the arrays.
  if (Array.isArray(a) && Array.isArray(b)) return compareArrays(a, b);
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case RANK_NULL:
      return 0;
    case RANK_BOOLEAN:
      return a === b ? 0 : a === false ? -1 : 1;
    case RANK_NUMERIC:
      return compareNumeric(a as number | bigint, b as number | bigint);
    case RANK_STRING:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case RANK_DATE:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case RANK_BYTES:
      return compareBytes(a as Uint8Array, b as Uint8Array);
    default:
      return compareArrays(a as readonly unknown[], b as readonly unknown[]);
  }
}

function compareArrays(x: readonly unknown[], y: readonly unknown[]): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareKeys(x[i], y[i]);
    if (c !== 0) return c;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/**
 * Validates a key and returns the form that is stored: `-0` becomes `0`; Dates, byte arrays
 * and arrays are copied (arrays frozen) so later changes by the caller cannot reorder a tree.
 * Byte keys are stored as plain `Uint8Array`s, whatever subclass they came as (a Node.js
 * `Buffer`), so a key reads back the same before and after a reopen.
 */
export function normalizeKey<K>(key: K): K {
  switch (typeof key) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return key;
    case 'number':
      return (key === 0 ? 0 : key) as K;
    default:
      break;
  }
  const rank = rankOf(key);
  if (rank === RANK_NULL) return key;
  if (rank === RANK_DATE) return new Date((key as Date).getTime()) as K;
  if (rank === RANK_BYTES) return new Uint8Array(key as Uint8Array) as K;
  const source = key as readonly unknown[];
  // Pushed, not preallocated: a sparse array may declare billions of slots.
  const copy: unknown[] = [];
  for (let i = 0; i < source.length; i++) {
    if (!(i in source)) invalidArgument('array keys may not have holes');
    copy.push(normalizeKey(source[i]));
  }
  return Object.freeze(copy) as K;
}

/** Throws `CollectionError` (`invalid-argument`) unless `key` is a key. Allocates nothing. */
export function assertKey(key: unknown): void {
  const t = typeof key;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') return;
  if (rankOf(key) === RANK_ARRAY) {
    const items = key as readonly unknown[];
    for (let i = 0; i < items.length; i++) {
      if (!(i in items)) invalidArgument('array keys may not have holes');
      assertKey(items[i]);
    }
  }
}
