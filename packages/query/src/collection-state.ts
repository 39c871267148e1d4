/**
 * The immutable contents of an `IndexedCollection`: the primary dictionary, the secondary
 * indexes and the primary-key path. Every operation returns a new state; the index changes of
 * an operation are computed from the state it is applied to, so replaying an operation on a
 * newer state recomputes the indexes there (nothing is merged).
 */
import { sameAtom } from '@proto/atom';
import { assertKey, cursorOf, type Dictionary, type Key } from '@proto/collections';
import { ChangeLog, deferred } from './change-log.js';
import { invalidArgument, show } from './errors.js';
import { IndexCursor, IndexData, normalizePk, sameDefinition } from './index-data.js';
import {
  type IndexDeclaration,
  KindIndex,
  NO_KEY,
  type StoredIndex,
  sameDeclaration,
  sameKindIndex,
} from './kind-index.js';
import { orderedIndexKind } from './ordered-kind.js';
import { getterOf, parsePath } from './path.js';
import { isKey, keyRank, keysEqual, RANK_STRING } from './values.js';

export class CollectionState {
  #pkOf: ((record: unknown) => unknown) | undefined;
  /** The indexes; the deferred ones as of the start of `#log` while it is set. */
  #indexes: readonly StoredIndex[];
  /** Record changes not in the deferred indexes yet: the first `#logged` of the log's. */
  #log: ChangeLog | undefined;
  #logged: number;

  constructor(
    readonly data: Dictionary,
    /** Every secondary index, in creation order. */
    indexes: readonly StoredIndex[],
    /** The path of the primary key inside records, when records carry it (for `put`). */
    readonly keyPath: string | undefined,
    log?: ChangeLog,
    logged = 0,
  ) {
    this.#indexes = indexes;
    this.#log = logged > 0 ? log : undefined;
    this.#logged = logged;
  }

  /**
   * Every secondary index, in creation order, with every change made. `set` and `delete`
   * keep the deferrable ordered indexes (see `deferred`) out of date and log the record
   * changes instead; the first read of `indexes` (a query, an encode, a delta) makes them in
   * one batch per index (`IndexData.updateAll`) and keeps the result.
   */
  get indexes(): readonly StoredIndex[] {
    const log = this.#log;
    if (log === undefined) return this.#indexes;
    const made = log.applyTo(this.#indexes, this.#logged);
    this.#indexes = made;
    this.#log = undefined;
    this.#logged = 0;
    return made;
  }

  get size(): number {
    return this.data.size;
  }

  #primitive: boolean | undefined;

  /** True when every primary key is a primitive (so a plain `Set` dedupes them exactly). */
  get primitiveKeys(): boolean {
    if (this.#primitive === undefined) {
      const last = this.data.last();
      this.#primitive = last === undefined || keyRank(last[0]) <= RANK_STRING;
    }
    return this.#primitive;
  }

  #ordered: readonly IndexData[] | undefined;
  #others: readonly KindIndex[] | undefined;

  /** The ordered indexes (the planner's fast paths read these). */
  get ordered(): readonly IndexData[] {
    let o = this.#ordered;
    if (o === undefined) {
      const all = this.indexes;
      o = all.every((ix) => ix instanceof IndexData)
        ? (all as readonly IndexData[])
        : all.filter((ix): ix is IndexData => ix instanceof IndexData);
      this.#ordered = o;
    }
    return o;
  }

  /** The indexes of other kinds (the planner asks their kinds for access paths). */
  get others(): readonly KindIndex[] {
    let o = this.#others;
    if (o === undefined) {
      o = this.indexes.filter((ix): ix is KindIndex => ix instanceof KindIndex);
      this.#others = o;
    }
    return o;
  }

  /** The index named `name`, of any kind. */
  index(name: string): StoredIndex | undefined {
    for (const ix of this.indexes) if (ix.name === name) return ix;
    return undefined;
  }

  /** The ordered index named `name`. */
  orderedIndex(name: string): IndexData | undefined {
    for (const ix of this.ordered) if (ix.def.name === name) return ix;
    return undefined;
  }

  /** The primary key a record carries at `keyPath`. */
  primaryKeyOf(record: unknown): Key {
    if (this.keyPath === undefined) {
      invalidArgument(
        'this collection has no key path; create it with { key: "<path>" } to use put(), or use set(key, record)',
      );
    }
    this.#pkOf ??= getterOf(parsePath(this.keyPath));
    const pk = this.#pkOf(record);
    if (!isKey(pk)) {
      invalidArgument(
        `record has no usable primary key at '${this.keyPath}' (got ${show(pk)}); keys are numbers, strings, Dates, ...`,
      );
    }
    return pk;
  }

  set(pk: Key, record: unknown): CollectionState {
    assertKey(pk);
    if (record === undefined) invalidArgument('cannot store undefined as a record; use delete(key)');
    pk = normalizePk(pk);
    if (this.keyPath !== undefined && !keysEqual(this.primaryKeyOf(record), pk)) {
      invalidArgument(
        `record's '${this.keyPath}' is ${show(this.primaryKeyOf(record))} but it is stored under ${show(pk)}; they must match (use put(record))`,
      );
    }
    const old = this.data.get(pk);
    return this.#changed(this.data.set(pk, record), pk, old === undefined ? NO_KEY : old, record);
  }

  delete(pk: Key): CollectionState {
    assertKey(pk);
    pk = normalizePk(pk);
    const old = this.data.get(pk);
    if (old === undefined) return this;
    return this.#changed(this.data.delete(pk), pk, old, NO_KEY);
  }

  /**
   * The state with `data` after record `pk` changed from `before` to `after` (`NO_KEY`:
   * absent): the indexes that are not deferred updated now, the change logged for the
   * deferred ones. Unique keys are checked now either way, before anything changes.
   */
  #changed(data: Dictionary, pk: Key, before: unknown, after: unknown): CollectionState {
    const indexes = this.#indexes;
    if (indexes.length === 0) return new CollectionState(data, indexes, this.keyPath);
    let log = this.#log;
    let deferring = false;
    let copy: StoredIndex[] | undefined;
    for (let i = 0; i < indexes.length; i++) {
      const ix = indexes[i] as StoredIndex;
      if (deferred(ix)) {
        deferring = true;
        continue;
      }
      const updated = ix.update(pk, before, after);
      if (updated !== ix) {
        copy ??= indexes.slice();
        copy[i] = updated;
      }
    }
    if (!deferring) return new CollectionState(data, copy ?? indexes, this.keyPath);
    // This state's log, extended in place when no other state extended it already (the
    // states before it see their prefix only); else a copy of this state's prefix.
    if (log === undefined) log = new ChangeLog(indexes);
    else if (log.length !== this.#logged) log = log.prefix(this.#logged);
    log.checkUnique(pk, before, after);
    log.push(pk, before, after);
    return new CollectionState(data, copy ?? indexes, this.keyPath, log, log.length);
  }

  /**
   * At most `max` records: the first ones in the order of ordered index `by` (smallest key
   * first; ties in primary-key order) are deleted, then, if records without an entry in it
   * remain above the bound, the first ones in primary-key order.
   */
  trim(max: number, by: string): CollectionState {
    let excess = this.size - max;
    if (excess <= 0) return this;
    const index = this.orderedIndex(by);
    if (index === undefined) invalidArgument(`trim(): no ordered index named '${by}'`);
    if (index.multi)
      invalidArgument(`trim(): index '${by}' holds several keys per record; trim by a single-valued index`);
    const victims: unknown[] = [];
    const c = new IndexCursor(index.tree, undefined, false);
    while (victims.length < excess && c.next()) victims.push(c.key);
    let state: CollectionState = this;
    for (const pk of victims) state = state.delete(pk as Key);
    excess = state.size - max;
    if (excess > 0) {
      const rest: unknown[] = [];
      const all = cursorOf(state.data);
      while (rest.length < excess && all.next()) rest.push(all.key);
      for (const pk of rest) state = state.delete(pk as Key);
    }
    return state;
  }

  /** Adds an index built over the records: through its kind (`build`), whatever the kind. */
  createIndex(decl: IndexDeclaration): CollectionState {
    const existing = this.index(decl.name);
    if (existing !== undefined) {
      if (sameDeclaration(existing, decl)) return this;
      invalidArgument(`index '${decl.name}' already exists with another definition; drop it first`);
    }
    const built = decl.kind.build(decl.definition, this.#entries());
    return new CollectionState(this.data, [...this.indexes, held(decl, built)], this.keyPath);
  }

  dropIndex(name: string): CollectionState {
    if (this.index(name) === undefined) return this;
    return new CollectionState(
      this.data,
      this.indexes.filter((ix) => ix.name !== name),
      this.keyPath,
    );
  }

  /** The same definitions without data. */
  emptied(empty: Dictionary): CollectionState {
    return new CollectionState(
      empty,
      this.indexes.map((ix) => ix.cleared()),
      this.keyPath,
    );
  }

  *#entries(): Generator<readonly [Key, unknown]> {
    const c = cursorOf(this.data);
    while (c.next()) yield [c.key as Key, c.value];
  }

  /** True when `other` holds exactly the same trees (cheap identity test, no scan). */
  sameAs(other: CollectionState): boolean {
    if (other === this) return true;
    if (!same(other.data, this.data) || other.indexes.length !== this.indexes.length) return false;
    for (let i = 0; i < this.indexes.length; i++) {
      const a = this.indexes[i] as StoredIndex;
      const b = other.indexes[i] as StoredIndex;
      if (a === b) continue;
      if (a instanceof IndexData && b instanceof IndexData) {
        if (!sameDefinition(a.def, b.def) || !same(a.tree, b.tree)) return false;
      } else if (!(a instanceof KindIndex && b instanceof KindIndex && sameKindIndex(a, b))) return false;
    }
    return true;
  }
}

/** How a state holds a kind's index value: the ordered kind's value is its own holder. */
export function held(decl: IndexDeclaration, instance: unknown): StoredIndex {
  if (decl.kind === orderedIndexKind) return instance as IndexData;
  return new KindIndex(decl.name, decl.kind, decl.definition, instance);
}

function same(a: Dictionary, b: Dictionary): boolean {
  return a === b || sameAtom(a, b);
}
