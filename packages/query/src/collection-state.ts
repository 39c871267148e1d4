/**
 * The immutable contents of an `IndexedCollection`: the primary dictionary, the secondary
 * indexes and the primary-key path. Every operation returns a new state; the index changes of
 * an operation are computed from the state it is applied to, so replaying an operation on a
 * newer state recomputes the indexes there (nothing is merged).
 */
import { sameAtom } from '@proto/atom';
import { assertKey, cursorOf, type Dictionary, type Key } from '@proto/collections';
import { invalidArgument, show } from './errors.js';
import { IndexData, type IndexDefinition, NO_KEY, normalizePk, sameDefinition } from './index-data.js';
import { getterOf, parsePath } from './path.js';
import { isKey, keyRank, keysEqual, RANK_STRING } from './values.js';

export class CollectionState {
  #pkOf: ((record: unknown) => unknown) | undefined;

  constructor(
    readonly data: Dictionary,
    readonly indexes: readonly IndexData[],
    /** The path of the primary key inside records, when records carry it (for `put`). */
    readonly keyPath: string | undefined,
  ) {}

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

  index(name: string): IndexData | undefined {
    for (const ix of this.indexes) if (ix.def.name === name) return ix;
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
    const indexes = this.indexes;
    let next = indexes;
    if (indexes.length > 0) {
      const old = this.data.get(pk);
      const before = old === undefined ? NO_KEY : old;
      let copy: IndexData[] | undefined;
      for (let i = 0; i < indexes.length; i++) {
        const ix = indexes[i] as IndexData;
        const updated = ix.update(pk, before, record);
        if (updated !== ix) {
          copy ??= indexes.slice();
          copy[i] = updated;
        }
      }
      if (copy !== undefined) next = copy;
    }
    return new CollectionState(this.data.set(pk, record), next, this.keyPath);
  }

  delete(pk: Key): CollectionState {
    assertKey(pk);
    pk = normalizePk(pk);
    const old = this.data.get(pk);
    if (old === undefined) return this;
    const indexes = this.indexes.map((ix) => ix.update(pk, old, NO_KEY));
    return new CollectionState(this.data.delete(pk), indexes, this.keyPath);
  }

  createIndex(def: IndexDefinition): CollectionState {
    const existing = this.index(def.name);
    if (existing !== undefined) {
      if (sameDefinition(existing.def, def)) return this;
      invalidArgument(`index '${def.name}' already exists with another definition; drop it first`);
    }
    const built = IndexData.build(def, this.#entries());
    return new CollectionState(this.data, [...this.indexes, built], this.keyPath);
  }

  dropIndex(name: string): CollectionState {
    if (this.index(name) === undefined) return this;
    return new CollectionState(
      this.data,
      this.indexes.filter((ix) => ix.def.name !== name),
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
      const a = this.indexes[i] as IndexData;
      const b = other.indexes[i] as IndexData;
      if (a !== b && (!sameDefinition(a.def, b.def) || !same(a.tree, b.tree))) return false;
    }
    return true;
  }
}

function same(a: Dictionary, b: Dictionary): boolean {
  return a === b || sameAtom(a, b);
}
