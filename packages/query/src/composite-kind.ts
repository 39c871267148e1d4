/**
 * The composite index (`composite`): one ordered index over several fields, so that a
 * conjunction of equalities on a prefix of its fields, with a range (or nothing) on the next
 * one, is answered by one walk of one tree. Declared with `createIndex(name, { paths: ['a',
 * 'b', 'c'] })` (or `{ kind: compositeIndexKind, options: { paths } }`); it is an `IndexKind`
 * like any other, so it changes in the same transaction as its records, is replayed on rebase
 * and is stored with the collection.
 *
 * What is indexed: the record's values at the paths, in order, as one key (an array). A
 * record's key stops before the first path whose value is missing, `undefined`, not a key or an
 * array (so `{ a: 1 }` has the key `[1]` in an index on `a, b`); a record without a key value at
 * the first path has no entry. Keys order as arrays do, element by element, a shorter key
 * before the longer keys it starts.
 *
 * Which terms it answers (`accessPaths`): `eq` and `in` terms on its first fields, in order
 * (one term per field; `in` lists multiply into at most `MAX_PREFIXES` walks), then optionally
 * the range terms (`lt`, `lte`, `gt`, `gte`, `between`, `startsWith`) on the next field, merged
 * when they are of one key type. Values that are arrays are not answered (a key element is
 * never an array). Every walk covers exactly the keys that start with its prefix and whose next
 * element is in the range, so each record is yielded once and only when it satisfies every
 * covered term:
 *
 *   prefix P only:             [P] inclusive  to  [P, []] exclusive
 *   then lo (inclusive):       [P, lo]        (exclusive lo: [P, lo, []] inclusive)
 *   then hi (exclusive):       [P, hi]        (inclusive hi: [P, hi, []] exclusive)
 *
 * where `[]` sorts after every non-array element, so `[P, x, ...]` < `[P, []]` for any key x.
 *
 * Unique: `{ unique: true }` rejects a second record with the same full key (every path a
 * key) with `UniqueConstraintError`; records with a shorter key do not count, as records that
 * lack a unique field do not in a single-field index.
 */
import { type Atom, resolveSlot } from '@proto/atom';
import { Dictionary, type Key, type KeyRange } from '@proto/collections';
import { invalidArgument, QueryError, show } from './errors.js';
import { type ExprNode, pathAccessor } from './expr.js';
import { addEntry, buildTree, IndexCursor, normalizePk, removeEntry } from './index-data.js';
import { type IndexAccessPath, type IndexKind, type IndexStats, registerIndexKind } from './index-kind.js';
import { getterOf } from './path.js';
import { describeRange } from './plan/access.js';
import { intersectRanges, rangeOf, rangeRows, sortedKeys, WALK_AHEAD } from './plan/candidates.js';
import { C_INDEX, C_SEEK } from './plan/cost.js';
import { isKey, keysEqual } from './values.js';

/** The stored definition of a composite index. */
export interface CompositeDefinition {
  /** The index's name (in unique-violation errors). */
  readonly name: string;
  readonly paths: readonly string[];
  readonly unique: boolean;
}

/** Options of `createIndex(name, { paths, unique })`. */
export interface CompositeOptions {
  /** Two to eight field paths (no `[]`), in the order the key is made of. */
  readonly paths: readonly string[];
  /** Reject two records with the same full key. */
  readonly unique?: boolean;
}

const MAX_PATHS = 8;
/** At most this many prefixes (the product of the `in` lists) are walked by one access. */
const MAX_PREFIXES = 64;
/** Sorts after every key that is not an array. */
const AFTER: Key = Object.freeze([]) as readonly Key[];

/** An immutable composite index: its definition, its tree (key → pk, or → set of pks) and counts. */
export class CompositeIndex {
  readonly #getters: readonly ((record: unknown) => unknown)[];
  /** The accessor id of each path, as terms name them. */
  readonly ids: readonly string[];

  constructor(
    readonly def: CompositeDefinition,
    readonly tree: Dictionary,
    /** (key, primary key) entries: one per indexed record. */
    readonly entries: number,
    getters?: readonly ((record: unknown) => unknown)[],
    ids?: readonly string[],
  ) {
    if (getters !== undefined && ids !== undefined) {
      this.#getters = getters;
      this.ids = ids;
    } else {
      const accessors = def.paths.map((p) => pathAccessor(p));
      this.#getters = accessors.map((a) => getterOf(a.path));
      this.ids = accessors.map((a) => a.id);
    }
  }

  #with(tree: Dictionary, entries: number): CompositeIndex {
    return new CompositeIndex(this.def, tree, entries, this.#getters, this.ids);
  }

  /** The record's key (see the module comment), or undefined when it has no entry. */
  keyOf(record: unknown): Key | undefined {
    const getters = this.#getters;
    let key: unknown[] | undefined;
    for (let i = 0; i < getters.length; i++) {
      const v = (getters[i] as (record: unknown) => unknown)(record);
      if (v === undefined || Array.isArray(v) || !isKey(v)) break;
      (key ??= []).push(v);
    }
    return key as Key | undefined;
  }

  update(pk: Key, before: unknown, after: unknown): CompositeIndex {
    const ko = before === undefined ? undefined : this.keyOf(before);
    const kn = after === undefined ? undefined : this.keyOf(after);
    if (ko === kn || (ko !== undefined && kn !== undefined && keysEqual(ko, kn))) return this;
    const full = this.def.paths.length;
    let tree = this.tree;
    let entries = this.entries;
    if (kn !== undefined) {
      const unique = this.def.unique && (kn as unknown[]).length === full;
      tree = addEntry(tree, kn, normalizePk(pk), unique, this.def.name);
      entries++;
    }
    if (ko !== undefined) {
      tree = removeEntry(tree, ko, normalizePk(pk));
      entries--;
    }
    return this.#with(tree, entries);
  }

  static build(def: CompositeDefinition, records: Iterable<readonly [Key, unknown]>): CompositeIndex {
    const empty = new CompositeIndex(def, Dictionary.empty(), 0);
    const keys: Key[] = [];
    const pks: Key[] = [];
    for (const [pk, record] of records) {
      const k = empty.keyOf(record);
      if (k === undefined) continue;
      keys.push(k);
      pks.push(pk);
    }
    const full = def.paths.length;
    const unique = def.unique ? (key: Key) => (key as readonly unknown[]).length === full : undefined;
    return empty.#with(buildTree(keys, pks, unique, def.name), keys.length);
  }

  /**
   * Entries in a key range: counted exactly when there are fewer than `WALK_AHEAD` (`complete`,
   * their primary keys appended to `found`), else estimated as distinct keys × entries per key.
   */
  estimate(range: KeyRange, found: Key[]): { rows: number; complete: boolean } {
    const walked: Key[] = [];
    const rows = rangeRows(this, range, walked);
    // `rangeRows` empties `walked` when it stopped before the end of the range.
    if (walked.length === rows) {
      for (const pk of walked) found.push(pk);
      return { rows, complete: true };
    }
    return { rows: Math.max(WALK_AHEAD, rows), complete: false };
  }
}

function corrupt(): never {
  throw new QueryError({
    layer: 'query',
    reason: 'corrupt',
    message: 'a stored composite index has an unexpected shape; the data is not trusted',
  });
}

function define(index: string, options: unknown): CompositeDefinition {
  const o = options as CompositeOptions | undefined;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.paths))
    invalidArgument(`composite index '${index}': give { paths: ['a', 'b', ...] }`);
  const paths = o.paths as unknown[];
  if (paths.length < 2 || paths.length > MAX_PATHS)
    invalidArgument(
      `composite index '${index}': give 2 to ${MAX_PATHS} paths (got ${paths.length}); a single path is an ordered index: createIndex(name, 'path')`,
    );
  const seen = new Set<string>();
  for (const p of paths) {
    if (typeof p !== 'string' || p.length === 0)
      invalidArgument(`composite index '${index}': every path must be a non-empty string (got ${show(p)})`);
    const acc = pathAccessor(p);
    if (acc.path.multi)
      invalidArgument(
        `composite index '${index}': '${p}' has a [] step; a composite key holds one value per path (index the elements with createIndex(name, '${p}'))`,
      );
    if (seen.has(acc.id)) invalidArgument(`composite index '${index}': '${p}' is given twice`);
    seen.add(acc.id);
  }
  if (o.unique !== undefined && typeof o.unique !== 'boolean')
    invalidArgument(`composite index '${index}': unique must be true or false`);
  return { name: index, paths: paths as string[], unique: o.unique === true };
}

/** The values an `eq` or `in` term allows (sorted, distinct), when the index can answer it. */
function equalities(e: ExprNode): readonly Key[] | undefined {
  if (e.op !== 'eq' && e.op !== 'in') return undefined;
  const values = e.op === 'in' ? e.values : [e.value];
  if (values.length === 0 || !values.every((v) => isKey(v) && !Array.isArray(v))) return undefined;
  return sortedKeys(values, false);
}

/** The key range of one walk: the prefix, then the range on the next field (or all of it). */
export function prefixRange(prefix: readonly Key[], range: KeyRange | undefined): KeyRange {
  if (range === undefined)
    return { from: [...prefix], fromInclusive: true, to: [...prefix, AFTER], toInclusive: false };
  const lo = range.from;
  const hi = range.to;
  return {
    from:
      lo === undefined
        ? [...prefix]
        : range.fromInclusive === false
          ? [...prefix, lo, AFTER]
          : [...prefix, lo],
    fromInclusive: true,
    to:
      hi === undefined
        ? [...prefix, AFTER]
        : range.toInclusive === true
          ? [...prefix, hi, AFTER]
          : [...prefix, hi],
    toInclusive: false,
  } as KeyRange;
}

function* walks(index: CompositeIndex, ranges: readonly KeyRange[]): Generator<Key> {
  for (const range of ranges) {
    const c = new IndexCursor(index.tree, range, false);
    while (c.next()) yield c.key as Key;
  }
}

/** Every combination of one value per list, in order (the lists' product). */
function combinations(lists: readonly (readonly Key[])[]): Key[][] {
  let out: Key[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((v) => [...prefix, v]));
  return out;
}

function pathsOf(index: CompositeIndex, terms: readonly ExprNode[]): IndexAccessPath<CompositeIndex>[] {
  const ids = index.ids;
  const covers: number[] = [];
  const lists: Key[][] = [];
  let prefixes = 1;
  let at = 0;
  for (; at < ids.length; at++) {
    const id = ids[at];
    let found = -1;
    let values: readonly Key[] | undefined;
    for (let i = 0; i < terms.length; i++) {
      const e = terms[i] as ExprNode;
      if (!('on' in e) || e.on.id !== id) continue;
      const v = equalities(e);
      if (v === undefined) continue;
      // The term allowing fewest values narrows most.
      if (values === undefined || v.length < values.length) {
        values = v;
        found = i;
      }
    }
    if (values === undefined || prefixes * values.length > MAX_PREFIXES) break;
    prefixes *= values.length;
    covers.push(found);
    lists.push([...values]);
  }
  let range: KeyRange | undefined;
  if (at < ids.length) {
    const id = ids[at];
    let rank: number | undefined;
    for (let i = 0; i < terms.length; i++) {
      const e = terms[i] as ExprNode;
      if (!('on' in e) || e.on.id !== id) continue;
      const r = rangeOf(e);
      if (r === undefined || (r.range.from !== undefined && Array.isArray(r.range.from))) continue;
      if (r.range.to !== undefined && Array.isArray(r.range.to)) continue;
      if (rank !== undefined && r.rank !== rank) continue;
      rank = r.rank;
      range = range === undefined ? r.range : intersectRanges(range, r.range);
      covers.push(i);
    }
  }
  if (covers.length === 0) return [];
  const ranges = combinations(lists).map((prefix) => prefixRange(prefix, range));
  // Estimating walks each range up to `WALK_AHEAD` entries; when that found them all, the
  // walk the plan makes on this same version gives those keys again.
  const found: Key[] = [];
  let complete = true;
  let rows = 0;
  for (const r of ranges) {
    const e = index.estimate(r, found);
    complete &&= e.complete;
    rows += e.rows;
  }
  const known = complete ? found : undefined;
  return [
    {
      covers,
      rows,
      cost: ranges.length * C_SEEK + rows * C_INDEX,
      operator: range === undefined ? 'CompositeProbe' : 'CompositeRangeScan',
      get detail() {
        const parts = lists.map((values, i) =>
          values.length === 1
            ? `${ids[i]} = ${show(values[0])}`
            : `${ids[i]} IN (${values.map(show).join(', ')})`,
        );
        if (range !== undefined) parts.push(`${ids[at]} ${describeRange(range)}`);
        return parts.join(', ');
      },
      keys: (ix) => (ix === index && known !== undefined ? known : walks(ix, ranges)),
    },
  ];
}

function describe(index: CompositeIndex): IndexStats {
  return {
    on: index.def.paths.join(', '),
    unique: index.def.unique,
    multi: false,
    entries: index.entries,
    keys: index.tree.size,
    covered: index.entries,
  };
}

/**
 * The composite index kind: `createIndex(name, { paths: ['a', 'b'], unique? })`, or
 * `createIndex(name, { kind: compositeIndexKind, options: { paths } })`.
 */
export const compositeIndexKind: IndexKind<CompositeDefinition, CompositeIndex> = {
  name: 'composite',
  package: '@proto/query',
  define,
  build: (definition, records) => CompositeIndex.build(definition, records),
  update: (index, pk, before, after) => index.update(pk, before, after),
  encode: (index) => [index.tree, index.entries],
  decode: (definition, stored) => {
    if (!Array.isArray(stored) || stored.length !== 2) return corrupt();
    const [tree, entries] = stored as [unknown, unknown];
    const d = resolveSlot(tree as Atom);
    if (!(d instanceof Dictionary) || typeof entries !== 'number') return corrupt();
    return new CompositeIndex(definition, d, entries);
  },
  describe,
  accessPaths: (index, terms) => pathsOf(index, terms),
};

registerIndexKind(compositeIndexKind);
