/**
 * One secondary index: its definition and its tree. The tree is a `Dictionary` from index key
 * to the primary key of the record that has it, or, when several records share the key, to a
 * `Dictionary` of their primary keys (a key → set-of-keys map, so a key shared by many records
 * costs one small set, and a unique value costs one entry). Index keys are the values at the
 * indexed path (every element, for a `[]` path) or the key function's result, when they are
 * keys; records whose value is missing, `undefined` or not a key (plain objects) have no entry.
 */
import {
  compareKeys,
  cursorOf,
  Dictionary,
  type EntryCursor,
  type Key,
  type KeyRange,
  leafKeysOf,
} from '@proto/collections';
import { invalidArgument, UniqueConstraintError } from './errors.js';
import { type Accessor, fnAccessor, pathAccessor } from './expr.js';
import { type IndexKind, indexKind } from './index-kind.js';
import { registeredKeyFunction } from './key-function.js';
import { NO_KEY, type StoredIndex } from './kind-index.js';
import { getterOf, parsePath, type Visitor, visitorOf } from './path.js';
import { isKey, keysEqual, ValueMap } from './values.js';

/** What an index is built on, as stored. */
export type IndexTarget = { readonly path: string } | { readonly fn: string };

/** A stored index definition. */
export interface IndexDefinition {
  readonly name: string;
  readonly on: IndexTarget;
  readonly unique: boolean;
}

export { NO_KEY };

const EMPTY: readonly Key[] = [];

/** Normalizes a key the way the trees store it (so inline primary keys compare exactly). */
export function normalizePk<K>(pk: K): K {
  return (typeof pk === 'number' && pk === 0 ? 0 : pk) as K;
}

/** An immutable ordered index (the kind `ordered`, see `ordered-kind.ts`): definition, tree and counts. */
export class IndexData implements StoredIndex {
  /** The accessor the index answers for. */
  readonly accessor: Accessor;
  /** True for a `[]` path: a record may have several keys. */
  readonly multi: boolean;
  #keyOf: ((record: unknown) => unknown) | undefined;
  #parent: Visitor | undefined;

  constructor(
    readonly def: IndexDefinition,
    readonly tree: Dictionary,
    /** Number of (key, primary key) entries. */
    readonly entries: number,
    /** Number of records with at least one entry. */
    readonly covered: number,
    /**
     * For a path ending in `[]`: records whose value at the path without the `[]` is a string
     * (`contains` matches substrings of those, which the index does not hold).
     */
    readonly strings = 0,
  ) {
    if ('path' in def.on) {
      const acc = pathAccessor(def.on.path);
      this.accessor = acc;
      this.multi = acc.path.multi;
      const text = def.on.path;
      if (text.endsWith('[]')) this.#parent = visitorOf(parsePath(text.slice(0, -2)));
    } else {
      const name = def.on.fn;
      this.accessor = fnAccessor(name, (r) => registeredKeyFunction(name)(r));
      this.multi = false;
    }
  }

  get name(): string {
    return this.def.name;
  }

  get kind(): IndexKind {
    return indexKind('ordered') as IndexKind;
  }

  get definition(): IndexDefinition {
    return this.def;
  }

  get instance(): IndexData {
    return this;
  }

  /** Distinct index keys in the tree. */
  get keyCount(): number {
    return this.tree.size;
  }

  #counts: Map<unknown, number> | undefined;
  #members: Map<unknown, Membership> | undefined;
  #materialized = 0;

  #membership(key: Key): Membership {
    if (typeof key === 'object' && key !== null) {
      return { value: this.tree.get(key), probes: 0, set: undefined, filter: undefined };
    }
    const memo = (this.#members ??= new Map());
    let m = memo.get(key);
    if (m === undefined) {
      if (memo.size >= 4096) memo.clear();
      m = { value: this.tree.get(key), probes: 0, set: undefined, filter: undefined };
      memo.set(key, m);
    }
    return m;
  }

  /** True when testing membership under `key` costs a hash lookup (see `member`). */
  memberIsCheap(key: Key): boolean {
    const m = this.#membership(key);
    return !(m.value instanceof Dictionary) || m.set !== undefined || m.probes >= 1;
  }

  /**
   * A test "is `pk` one of the records under `key`", to filter a stream of primary keys by an
   * equality term without fetching records. Once a key's set has been probed by two queries
   * (and is not huge), its primitive primary keys are copied into a JS `Set` kept with this
   * (immutable) index version, so later tests cost one hash lookup; at most
   * `MATERIALIZE_BUDGET` keys are copied per version.
   */
  member(key: Key): (pk: unknown) => boolean {
    const m = this.#membership(key);
    const v = m.value;
    if (v === undefined) return () => false;
    if (!(v instanceof Dictionary)) {
      if (typeof v !== 'object' || v === null) return (pk) => pk === v;
      return (pk) => typeof pk === 'object' && pk !== null && compareKeys(pk, v) === 0;
    }
    if (m.set === undefined) {
      m.probes++;
      const size = v.size;
      if (m.probes >= 2 && size <= MATERIALIZE_LIMIT && this.#materialized + size <= MATERIALIZE_BUDGET) {
        const keys = new Set<unknown>();
        const c = cursorOf(v);
        let primitive = true;
        let strings = true;
        while (c.next()) {
          const k = c.key;
          if (typeof k === 'object' && k !== null) {
            primitive = false;
            break;
          }
          if (typeof k !== 'string') strings = false;
          keys.add(k);
        }
        if (primitive) {
          m.set = keys;
          if (strings) m.filter = stringFilter(keys as Set<string>, keys.size);
          this.#materialized += size;
        }
      }
    }
    const set = m.set;
    const filter = m.filter;
    if (set !== undefined && filter !== undefined) {
      return (pk) => (typeof pk === 'string' ? mayContain(filter, pk) && set.has(pk) : false);
    }
    if (set !== undefined) return (pk) => set.has(pk);
    return (pk) => v.has(pk as Key);
  }

  /** Records under one key (memoized for primitive keys: the tree never changes). */
  count(key: Key): number {
    if (typeof key === 'object' && key !== null) return countKey(this.tree, key);
    const memo = (this.#counts ??= new Map());
    let n = memo.get(key);
    if (n === undefined) {
      if (memo.size >= 4096) memo.clear();
      n = countKey(this.tree, key);
      memo.set(key, n);
    }
    return n;
  }

  /** The single key of a record for a single-valued index, or `NO_KEY`. */
  keyOf(record: unknown): unknown {
    let get = this.#keyOf;
    if (get === undefined) {
      const acc = this.accessor;
      get = acc.kind === 'path' ? getterOf(acc.path) : registeredKeyFunction(acc.name);
      this.#keyOf = get;
    }
    const v = get(record);
    return v !== undefined && isKey(v) ? v : NO_KEY;
  }

  /** 1 when the record's value at the parent path (see `strings`) is a string, else 0. */
  stringsOf(record: unknown): number {
    const parent = this.#parent;
    if (parent === undefined) return 0;
    return parent(record, (v) => typeof v === 'string') ? 1 : 0;
  }

  /** The distinct keys of a record (any index kind). */
  keysOf(record: unknown): readonly Key[] {
    if (!this.multi) {
      const k = this.keyOf(record);
      return k === NO_KEY ? EMPTY : [k as Key];
    }
    const out: Key[] = [];
    const acc = this.accessor;
    if (acc.kind !== 'path') return EMPTY;
    visitorOf(acc.path)(record, (v) => {
      if (isKey(v) && !out.some((k) => keysEqual(k, v))) out.push(v);
      return false;
    });
    return out;
  }

  /**
   * The index after record `pk` changed from `before` to `after` (`NO_KEY` for absent).
   * Throws `UniqueConstraintError` (before changing anything) when a unique key is taken.
   */
  update(pk: Key, before: unknown, after: unknown): IndexData {
    if (!this.multi) {
      const ko = before === NO_KEY ? NO_KEY : this.keyOf(before);
      const kn = after === NO_KEY ? NO_KEY : this.keyOf(after);
      if (ko === kn || (ko !== NO_KEY && kn !== NO_KEY && keysEqual(ko, kn))) return this;
      let tree = this.tree;
      let delta = 0;
      if (kn !== NO_KEY) {
        tree = addEntry(tree, kn as Key, pk, this.def.unique, this.def.name);
        delta++;
      }
      if (ko !== NO_KEY) {
        tree = removeEntry(tree, ko as Key, pk);
        delta--;
      }
      return new IndexData(this.def, tree, this.entries + delta, this.covered + delta, this.strings);
    }
    const old = before === NO_KEY ? EMPTY : this.keysOf(before);
    const next = after === NO_KEY ? EMPTY : this.keysOf(after);
    let tree = this.tree;
    let entries = this.entries;
    for (const k of next) {
      if (old.some((o) => keysEqual(o, k))) continue;
      tree = addEntry(tree, k, pk, this.def.unique, this.def.name);
      entries++;
    }
    for (const k of old) {
      if (next.some((n) => keysEqual(n, k))) continue;
      tree = removeEntry(tree, k, pk);
      entries--;
    }
    const strings =
      this.strings +
      (after === NO_KEY ? 0 : this.stringsOf(after)) -
      (before === NO_KEY ? 0 : this.stringsOf(before));
    if (tree === this.tree && strings === this.strings) return this;
    const covered = this.covered + (next.length > 0 ? 1 : 0) - (old.length > 0 ? 1 : 0);
    return new IndexData(this.def, tree, entries, covered, strings);
  }

  /**
   * The index after many records changed, record `pks[i]` from `befores[i]` to `afters[i]`
   * (`NO_KEY` for absent; each primary key at most once): what `update` gives for each in
   * turn, made in one pass. The entries to add and remove are grouped by index key, the keys
   * sorted, and the tree changed in one `Dictionary.withChanges` walk, so a tree node is
   * copied once per batch instead of once per change under it. Throws
   * `UniqueConstraintError` (before changing anything) when two records would hold a key of
   * a unique index.
   */
  updateAll(pks: readonly Key[], befores: readonly unknown[], afters: readonly unknown[]): IndexData {
    const touched = new ValueMap<KeyChanges>();
    const note = (key: Key, pk: Key, add: boolean) => {
      let t = touched.get(key);
      if (t === undefined) {
        t = { key, removes: [], adds: [] };
        touched.set(key, t);
      }
      (add ? t.adds : t.removes).push(pk);
    };
    let entries = this.entries;
    let covered = this.covered;
    let strings = this.strings;
    for (let i = 0; i < pks.length; i++) {
      const pk = pks[i] as Key;
      const before = befores[i];
      const after = afters[i];
      if (!this.multi) {
        const ko = before === NO_KEY ? NO_KEY : this.keyOf(before);
        const kn = after === NO_KEY ? NO_KEY : this.keyOf(after);
        if (ko === kn || (ko !== NO_KEY && kn !== NO_KEY && keysEqual(ko, kn))) continue;
        if (kn !== NO_KEY) {
          note(kn as Key, pk, true);
          entries++;
          covered++;
        }
        if (ko !== NO_KEY) {
          note(ko as Key, pk, false);
          entries--;
          covered--;
        }
        continue;
      }
      const old = before === NO_KEY ? EMPTY : this.keysOf(before);
      const next = after === NO_KEY ? EMPTY : this.keysOf(after);
      for (const k of next) {
        if (old.some((o) => keysEqual(o, k))) continue;
        note(k, pk, true);
        entries++;
      }
      for (const k of old) {
        if (next.some((n) => keysEqual(n, k))) continue;
        note(k, pk, false);
        entries--;
      }
      covered += (next.length > 0 ? 1 : 0) - (old.length > 0 ? 1 : 0);
      strings +=
        (after === NO_KEY ? 0 : this.stringsOf(after)) - (before === NO_KEY ? 0 : this.stringsOf(before));
    }
    if (touched.size === 0 && strings === this.strings) return this;
    const groups = touched.values();
    // Strings sort by UTF-16 code units, as `compareKeys` orders them, without its dispatch.
    if (groups.every((g) => typeof g.key === 'string'))
      groups.sort((a, b) => ((a.key as string) < (b.key as string) ? -1 : 1));
    else groups.sort((a, b) => compareKeys(a.key, b.key));
    const sets: [Key, unknown][] = [];
    const removals: Key[] = [];
    for (const g of groups) {
      const current = this.tree.get(g.key);
      const next = entryAfter(current, g, this.def.unique, this.def.name);
      if (next === current) continue;
      if (next === undefined) removals.push(g.key);
      else sets.push([g.key, next]);
    }
    const tree = this.tree.withChanges({ set: sets, delete: removals });
    return new IndexData(this.def, tree, entries, covered, strings);
  }

  /** Builds the index over `records` (entries in primary-key order) in one pass: sort, then bulk-build. */
  static build(def: IndexDefinition, records: Iterable<readonly [Key, unknown]>): IndexData {
    const empty = new IndexData(def, Dictionary.empty(), 0, 0);
    const keys: Key[] = [];
    const pks: Key[] = [];
    let covered = 0;
    let strings = 0;
    if (!empty.multi) {
      for (const [pk, record] of records) {
        const k = empty.keyOf(record);
        if (k === NO_KEY) continue;
        keys.push(k as Key);
        pks.push(pk);
        covered++;
      }
    } else {
      for (const [pk, record] of records) {
        const ks = empty.keysOf(record);
        if (ks.length > 0) covered++;
        strings += empty.stringsOf(record);
        for (const k of ks) {
          keys.push(k);
          pks.push(pk);
        }
      }
    }
    const tree = buildTree(keys, pks, def.unique ? () => true : undefined, def.name);
    return new IndexData(def, tree, keys.length, covered, strings);
  }

  /** An empty index with the same definition. */
  cleared(): IndexData {
    return new IndexData(this.def, Dictionary.empty(), 0, 0);
  }
}

/**
 * An index tree built bottom-up from (key, primary key) pairs given in primary-key order: each
 * key maps to its record's primary key, or to a `Dictionary` of them when several share it.
 * Throws `UniqueConstraintError` for the first key shared by two records when `unique(key)`
 * says it must not be (for a unique index, every key; for a composite one, its full keys).
 */
export function buildTree(
  keys: readonly Key[],
  pks: readonly Key[],
  unique: ((key: Key) => boolean) | undefined,
  name: string,
): Dictionary {
  const { order, ends } = sortedRuns(keys);
  // Keys and values straight into `fromSorted`: the runs come in key order, and a run's
  // primary keys in input (primary-key) order, so neither needs sorting again.
  const treeKeys: Key[] = [];
  const treeVals: unknown[] = [];
  let i = 0;
  for (let run = 0; run < ends.length; run++) {
    const first = order[i] as number;
    const key = keys[first] as Key;
    const j = ends[run] as number;
    treeKeys.push(key);
    if (j - i === 1) treeVals.push(normalizePk(pks[first]));
    else {
      if (unique?.(key) === true)
        throw new UniqueConstraintError(name, key, pks[first], pks[order[i + 1] as number]);
      const members: Key[] = [];
      for (let m = i; m < j; m++) members.push(normalizePk(pks[order[m] as number] as Key));
      treeVals.push(Dictionary.fromSorted(members, true));
    }
    i = j;
  }
  return Dictionary.fromSorted(treeKeys, treeVals);
}

/**
 * The positions of `keys` in ascending key order, equal keys in their input order (the
 * primary-key order, since builds read the records in that order), and where each run of equal
 * keys ends in `order` (the last end is `keys.length`).
 *
 * When every key is a string, or every key a number (no NaN), the distinct keys are found with
 * a `Map` (which identifies equal strings and numbers as `compareKeys` does, -0 with 0) and only
 * they are sorted, natively (`Array.prototype.sort` without a comparator orders strings by
 * UTF-16 code units, as `compareKeys` does; a `Float64Array` sorts numbers), then the positions
 * are placed run by run: no comparator call per pair, and a key of few values (a category) sorts
 * a handful of keys. Strings that a sample shows nearly all distinct skip the `Map`: their
 * positions are sorted with a comparator on the strings. Other keys take a comparator sort.
 */
function sortedRuns(keys: readonly Key[]): { order: number[]; ends: number[] } {
  const n = keys.length;
  let allStrings = true;
  let allNumbers = true;
  for (let i = 0; i < n && (allStrings || allNumbers); i++) {
    const k = keys[i];
    if (typeof k !== 'string') allStrings = false;
    if (typeof k !== 'number' || Number.isNaN(k)) allNumbers = false;
  }
  const order = new Array<number>(n);
  const ends: number[] = [];
  if (n > 0 && allStrings && mostlyDistinct(keys as readonly string[])) {
    // Keys nearly all distinct (ids, emails): the positions sorted by key directly, with a
    // comparator on the strings, cost less than a `Map` of every key plus a sort of them.
    for (let i = 0; i < n; i++) order[i] = i;
    const ks = keys as readonly string[];
    order.sort((a, b) => {
      const x = ks[a] as string;
      const y = ks[b] as string;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    for (let i = 1; i <= n; i++)
      if (i === n || ks[order[i] as number] !== ks[order[i - 1] as number]) ends.push(i);
    return { order, ends };
  }
  if (n > 0 && (allStrings || allNumbers)) {
    const runOf = new Map<Key, number>();
    const runKeys: Key[] = [];
    const counts: number[] = [];
    const runs = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i] as Key;
      let run = runOf.get(k);
      if (run === undefined) {
        run = runKeys.length;
        runOf.set(k, run);
        runKeys.push(k);
        counts.push(0);
      }
      runs[i] = run;
      counts[run] = (counts[run] as number) + 1;
    }
    const sorted: readonly Key[] = allStrings
      ? (runKeys as string[]).sort()
      : Array.from(Float64Array.from(runKeys as number[]).sort());
    // Where each run starts in `order`, in key order.
    const start = new Int32Array(runKeys.length);
    let at = 0;
    for (const k of sorted) {
      const run = runOf.get(k) as number;
      start[run] = at;
      at += counts[run] as number;
      ends.push(at);
    }
    for (let i = 0; i < n; i++) {
      const run = runs[i] as number;
      order[start[run] as number] = i;
      start[run] = (start[run] as number) + 1;
    }
    return { order, ends };
  }
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => compareKeys(keys[a], keys[b]) || a - b);
  for (let i = 1; i <= n; i++) {
    if (i === n || compareKeys(keys[order[i] as number], keys[order[i - 1] as number]) !== 0) ends.push(i);
  }
  return { order, ends };
}

/** The primary keys leaving and joining one index key in a batch (`IndexData.updateAll`). */
interface KeyChanges {
  readonly key: Key;
  readonly removes: Key[];
  readonly adds: Key[];
}

/** Changes per batch under one key above which its set of primary keys is changed in one walk. */
const SET_BATCH = 8;

/**
 * What an index key maps to after a batch: the one primary key, a `Dictionary` of several,
 * or `undefined` for none (the forms `addEntry` and `removeEntry` keep); `current` itself
 * when nothing changed.
 */
function entryAfter(current: unknown, changes: KeyChanges, unique: boolean, name: string): unknown {
  const { key, removes, adds } = changes;
  if (current instanceof Dictionary) {
    let d = current as Dictionary<Key, true>;
    if (removes.length + adds.length > SET_BATCH)
      d = d.withChanges({ delete: removes, set: adds.map((pk) => [pk, true] as const) });
    else {
      for (const pk of removes) d = d.delete(pk);
      for (const pk of adds) d = d.set(pk, true);
    }
    if (d === current) return current;
    if (d.size === 0) return undefined;
    if (d.size === 1) return (d.first() as [Key, true])[0];
    if (unique) {
      const [a, b] = [...d.keys()];
      throw new UniqueConstraintError(name, key, a, b);
    }
    return d;
  }
  const kept = current !== undefined && !removes.some((pk) => compareKeys(pk, current) === 0);
  if (adds.length > SET_BATCH) {
    // Many records joining one key (a batch of records with one value): a set built in one
    // sort, not one scan of the members per record.
    const d = Dictionary.from<Key, true>(
      (kept ? [current as Key, ...adds] : adds).map((pk) => [pk, true] as const),
    );
    if (unique && d.size > 1) {
      const [a, b] = [...d.keys()];
      throw new UniqueConstraintError(name, key, a, b);
    }
    return d.size === 1 ? (d.first() as [Key, true])[0] : d;
  }
  const members: Key[] = kept ? [current as Key] : [];
  for (const pk of adds) if (!members.some((m) => compareKeys(m, pk) === 0)) members.push(pk);
  if (members.length === 0) return undefined;
  if (members.length === 1) {
    const only = members[0] as Key;
    return current !== undefined && compareKeys(current, only) === 0 ? current : only;
  }
  if (unique) throw new UniqueConstraintError(name, key, members[0], members[1]);
  return Dictionary.from(members.map((pk) => [pk, true] as const));
}

/** True when a sample of `keys` (up to 1,024, spread over them) is at least 90% distinct. */
function mostlyDistinct(keys: readonly string[]): boolean {
  const n = keys.length;
  const sample = Math.min(n, 1024);
  const step = n / sample;
  const seen = new Set<string>();
  for (let i = 0; i < sample; i++) seen.add(keys[Math.floor(i * step)] as string);
  return seen.size >= sample * 0.9;
}

/** Adds (key, pk) to a tree; throws for a unique index whose key is held by another record. */
export function addEntry(tree: Dictionary, key: Key, pk: Key, unique: boolean, name: string): Dictionary {
  const current = tree.get(key);
  if (current === undefined) return tree.set(key, pk);
  if (current instanceof Dictionary) return current.has(pk) ? tree : tree.set(key, current.set(pk, true));
  if (compareKeys(current, pk) === 0) return tree;
  if (unique) throw new UniqueConstraintError(name, key, current, pk);
  const a = current as Key;
  const pair: [Key, true][] =
    compareKeys(a, pk) < 0
      ? [
          [a, true],
          [pk, true],
        ]
      : [
          [pk, true],
          [a, true],
        ];
  return tree.set(key, Dictionary.from(pair));
}

/** Removes (key, pk) from a tree (no change when absent). */
export function removeEntry(tree: Dictionary, key: Key, pk: Key): Dictionary {
  const current = tree.get(key);
  if (current === undefined) return tree;
  if (current instanceof Dictionary) {
    const next = current.delete(pk);
    if (next.size === current.size) return tree;
    if (next.size === 1) return tree.set(key, (next.first() as [Key, unknown])[0]);
    if (next.size === 0) return tree.delete(key);
    return tree.set(key, next);
  }
  return compareKeys(current, pk) === 0 ? tree.delete(key) : tree;
}

/** The number of records under one key. */
export function countKey(tree: Dictionary, key: Key): number {
  const v = tree.get(key);
  if (v === undefined) return 0;
  return v instanceof Dictionary ? v.size : 1;
}

/** The primary key under a unique key, or undefined. */
export function ownerOf(tree: Dictionary, key: Key): Key | undefined {
  const v = tree.get(key);
  if (v === undefined || v instanceof Dictionary) return undefined;
  return v as Key;
}

/**
 * Primary keys of the entries in a key range, key by key in the walk's direction and, under one
 * key, in ascending primary-key order. `key` is the primary key; `indexKey` the index key.
 */
export class IndexCursor {
  key: unknown = undefined;
  readonly value: undefined = undefined;
  indexKey: unknown = undefined;
  #inner: EntryCursor | undefined;
  /** The primary keys under the current index key when they fit in one leaf, and the next one. */
  #small: readonly unknown[] | undefined;
  #at = 0;
  readonly #outer: EntryCursor;

  constructor(tree: Dictionary, range: KeyRange | undefined, reverse: boolean) {
    this.#outer = cursorOf(tree, range, reverse);
  }

  next(): boolean {
    const small = this.#small;
    if (small !== undefined) {
      if (this.#at < small.length) {
        this.key = small[this.#at++];
        return true;
      }
      this.#small = undefined;
    }
    const inner = this.#inner;
    if (inner !== undefined) {
      if (inner.next()) {
        this.key = inner.key;
        return true;
      }
      this.#inner = undefined;
    }
    const outer = this.#outer;
    while (outer.next()) {
      const v = outer.value;
      this.indexKey = outer.key;
      if (v instanceof Dictionary) {
        const keys = leafKeysOf(v);
        if (keys !== undefined) {
          if (keys.length === 0) continue;
          this.#small = keys;
          this.#at = 1;
          this.key = keys[0];
          return true;
        }
        const c = cursorOf(v);
        if (!c.next()) continue;
        this.#inner = c;
        this.key = c.key;
        return true;
      }
      this.key = v;
      return true;
    }
    return false;
  }
}

/** Primary keys under one index key, ascending. */
export class KeyProbeCursor {
  key: unknown = undefined;
  readonly value: undefined = undefined;
  #inner: EntryCursor | undefined;
  #single: unknown;
  #state = 0;

  constructor(tree: Dictionary, indexKey: Key) {
    const v = tree.get(indexKey);
    if (v instanceof Dictionary) this.#inner = cursorOf(v);
    else if (v === undefined) this.#state = 2;
    else this.#single = v;
  }

  next(): boolean {
    const inner = this.#inner;
    if (inner !== undefined) {
      if (!inner.next()) return false;
      this.key = inner.key;
      return true;
    }
    if (this.#state !== 0) return false;
    this.#state = 1;
    this.key = this.#single;
    return true;
  }
}

/** Validates a user's index specification and turns it into a stored definition. */
export function defineIndex(
  name: string,
  spec:
    | string
    | { readonly path?: string; readonly key?: { readonly name: string }; readonly unique?: boolean },
): IndexDefinition {
  if (typeof name !== 'string' || name.length === 0) invalidArgument('an index needs a non-empty name');
  if (typeof spec === 'string') {
    pathAccessor(spec);
    return { name, on: { path: spec }, unique: false };
  }
  if (typeof spec !== 'object' || spec === null)
    invalidArgument(`index '${name}': give a path or { path | key, unique }`);
  const unique = spec.unique === true;
  if (spec.path !== undefined && spec.key !== undefined)
    invalidArgument(`index '${name}': give either path or key, not both`);
  if (spec.path !== undefined) {
    pathAccessor(spec.path);
    return { name, on: { path: spec.path }, unique };
  }
  if (spec.key !== undefined) {
    registeredKeyFunction(spec.key.name);
    return { name, on: { fn: spec.key.name }, unique };
  }
  return invalidArgument(`index '${name}': give a path or a key function`);
}

/** True when two definitions index the same thing the same way. */
export function sameDefinition(a: IndexDefinition, b: IndexDefinition): boolean {
  if (a.name !== b.name || a.unique !== b.unique) return false;
  if ('path' in a.on) return 'path' in b.on && a.on.path === b.on.path;
  return 'fn' in b.on && a.on.fn === b.on.fn;
}

/** Sets larger than this are never materialized (see `IndexData.member`). */
const MATERIALIZE_LIMIT = 65_536;
/** At most this many primary keys are materialized per index version. */
const MATERIALIZE_BUDGET = 1_000_000;

interface Membership {
  /** The records under the key: a dictionary of primary keys, one primary key, or none. */
  readonly value: unknown;
  probes: number;
  set: Set<unknown> | undefined;
  /** For string primary keys: an open-addressing table of their hashes (see `stringFilter`). */
  filter: Int32Array | undefined;
}

/** FNV-1a over UTF-16 code units, never 0 (0 marks an empty slot). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 1;
}

/**
 * A compact filter over string keys: their hashes in an open-addressing table twice as large.
 * Most probes of a non-member touch only this small array (and the probe string), not the hash
 * table and key strings of a large `Set`, which matters when many sets are probed in turn.
 */
function stringFilter(keys: Iterable<string>, size: number): Int32Array {
  const table = new Int32Array(1 << Math.ceil(Math.log2(size * 2 + 2)));
  const mask = table.length - 1;
  for (const k of keys) {
    const h = hashString(k);
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = h;
  }
  return table;
}

function mayContain(table: Int32Array, s: string): boolean {
  const h = hashString(s);
  const mask = table.length - 1;
  let i = h & mask;
  for (;;) {
    const v = table[i];
    if (v === 0) return false;
    if (v === h) return true;
    i = (i + 1) & mask;
  }
}
