/**
 * `IndexedCollection<V, K>`: a primary `Dictionary` of records plus its secondary indexes,
 * stored and versioned as ONE value (an atom; usually a database root). Every update returns a
 * new collection whose indexes are already current, so an index never lags its data: they
 * change in the same transaction and commit (or not) together.
 *
 * Inside a transaction (`tx.get`), the collection takes part in the kernel's rebase: point
 * reads are recorded per key and queries per predicate (a query is re-run against the newer
 * version and must see the same rows), and updates are recorded as high-level operations
 * (set / delete record, create / drop index) that are replayed on the newer version, where the
 * index entries are recomputed from that version's records. Two transactions that change
 * different records both commit, with both records correctly indexed.
 */
import {
  Atom,
  type AtomRef,
  bindScope,
  type Derivation,
  derivation,
  type EntryChange,
  LazyValue,
  type ReadScope,
  registerAtomType,
  resolveSlot,
  valuesEqual,
} from '@proto/atom';
import { appendOp } from '@proto/atom/extension';
import { cursorOf, Dictionary, type Key } from '@proto/collections';
import { CollectionState, held } from './collection-state.js';
import { compositeIndexKind } from './composite-kind.js';
import { invalidArgument, QueryError, queryError } from './errors.js';
import type { KeyFunctionField } from './expr.js';
import { defineIndex, type IndexDefinition, type IndexTarget } from './index-data.js';
import { declaredKind, type IndexKind, storedKind } from './index-kind.js';
import {
  collectAtoms,
  type IndexDeclaration,
  KindIndex,
  type StoredIndex,
  sameDeclaration,
} from './kind-index.js';
import { orderedIndexKind } from './ordered-kind.js';
import type { KeyAtPath, PathOf } from './path.js';
import { type CollectionOp, type CollectionOps, Track } from './tracking.js';

/**
 * How an index is declared: a path, or `{ path | key, unique }` (an ordered index), or
 * `{ paths, unique }` (a composite index), or `{ kind, options }` (an index of a registered
 * kind, see `IndexKind`).
 */
export type IndexSpec<V> =
  | PathOf<V>
  | {
      readonly path?: PathOf<V>;
      /** A named key function (`keyFn(...)`). */
      readonly key?: KeyFunctionField<V, unknown>;
      /** Reject two records with the same key (`UniqueConstraintError`). */
      readonly unique?: boolean;
      readonly kind?: undefined;
    }
  | {
      /**
       * A composite index over these paths (2 to 8, no `[]`), in key order: equalities on a
       * prefix of them plus a range on the next one are one index walk (`compositeIndexKind`).
       */
      readonly paths: readonly PathOf<V>[];
      /** Reject two records with the same values at every path. */
      readonly unique?: boolean;
      readonly kind?: undefined;
    }
  | KindIndexSpec;

/** An index of a registered kind: `kind.define(name, options)` validates the options. */
export interface KindIndexSpec {
  /** The kind (registered with `registerIndexKind`). */
  readonly kind: IndexKind;
  /** What the kind's `define` validates, e.g. `{ path: 'name' }`. */
  readonly options?: unknown;
}

/** What `indexes()` reports about one index. */
export interface IndexInfo {
  readonly name: string;
  /** Its kind's name (`ordered` for path and key-function indexes). */
  readonly kind: string;
  /** The indexed path, or `fn:<name>` for a key function. */
  readonly on: string;
  readonly unique: boolean;
  /** True for a `[]` path: a record can have several entries. */
  readonly multi: boolean;
  /** (key, record) entries. */
  readonly entries: number;
  /** Distinct keys. */
  readonly keys: number;
  /** Records with at least one entry (the others have a missing or non-key value). */
  readonly covered: number;
  /**
   * The stored definition (what the kind's `define` returned; for `ordered`, `{ name, on: { path } |
   * { fn }, unique }`): enough to declare the same index again elsewhere, as an export does (for a
   * kind, `createIndex(name, { kind, options: definition })`).
   */
  readonly definition: unknown;
}

/** Options of `IndexedCollection.empty` / `from`. */
export interface CollectionOptions<V> {
  /** Path of the primary key inside records, for `put(record)`. */
  readonly key?: PathOf<V>;
  /** Indexes to create: name → spec. */
  readonly indexes?: Readonly<Record<string, IndexSpec<V>>>;
}

const ABSENT = Symbol('absent');

/**
 * A collection of records with secondary indexes, persisted and versioned as one value.
 *
 * @example
 * let users = IndexedCollection.empty<User, string>({ key: 'id' })
 *   .createIndex('byAge', 'age')
 *   .createIndex('byEmail', { path: 'email', unique: true });
 * users = users.put({ id: 'u1', age: 30, email: 'a@x' });
 * from(users).where('age', '>=', 18).toArray();
 */
export class IndexedCollection<V = unknown, K extends Key = Key> extends Atom {
  static readonly typeName = 'proto.query.indexed';

  #state: CollectionState | undefined;
  #payload: readonly unknown[] | undefined;
  #track: Track | undefined = undefined;
  #ops: CollectionOps = undefined;
  /** Set on a bound view: the committed collection it was bound from. */
  #origin: IndexedCollection<unknown, Key> | undefined = undefined;

  private constructor(state: CollectionState | undefined, payload?: readonly unknown[]) {
    super();
    this.#state = state;
    this.#payload = payload;
  }

  /**
   * An empty collection; `key` names the primary-key path used by `put`. With the record type
   * and the key path as type arguments, the key type follows from the path:
   * `IndexedCollection.empty<User, 'id'>({ key: 'id' })` is an `IndexedCollection<User, string>`
   * when `User['id']` is a string (`get(42)` does not compile). With a key type instead
   * (`empty<User, string>(...)`), that is the key type.
   */
  static empty<V, P extends PathOf<V>>(
    options: CollectionOptions<V> & { readonly key: P },
  ): IndexedCollection<V, KeyAtPath<V, P>>;
  static empty<V = unknown, K extends Key = Key>(options?: CollectionOptions<V>): IndexedCollection<V, K>;
  static empty<V = unknown, K extends Key = Key>(
    options: CollectionOptions<V> = {},
  ): IndexedCollection<V, K> {
    let state = new CollectionState(Dictionary.empty(), [], checkKeyPath(options.key));
    for (const [name, spec] of Object.entries(options.indexes ?? {}))
      state = state.createIndex(toDeclaration(name, spec));
    return new IndexedCollection<V, K>(state);
  }

  /**
   * A collection of `records` (primary keys from `options.key`), bulk-built: the primary tree and
   * every index are sorted and built bottom-up, not inserted one by one. Later records win on a
   * repeated key. The key type follows from the key path: `from(users, { key: 'id' })` is an
   * `IndexedCollection<User, User['id']>`; an explicit `from<User, string>(...)` names it.
   */
  static from<V, P extends PathOf<V>>(
    records: Iterable<V>,
    options: CollectionOptions<V> & { readonly key: P },
  ): IndexedCollection<V, KeyAtPath<V, P>>;
  static from<V, K extends Key = Key>(
    records: Iterable<V>,
    options: CollectionOptions<V> & { readonly key: PathOf<V> },
  ): IndexedCollection<V, K>;
  static from<V, K extends Key = Key>(
    records: Iterable<V>,
    options: CollectionOptions<V> & { readonly key: PathOf<V> },
  ): IndexedCollection<V, K> {
    const empty = new CollectionState(Dictionary.empty(), [], checkKeyPath(options.key));
    const entries: [Key, unknown][] = [];
    for (const r of records) entries.push([empty.primaryKeyOf(r), r]);
    return IndexedCollection.fromEntries<V, K>(entries as [K, V][], options);
  }

  /** A collection of `[primaryKey, record]` entries, bulk-built (see `from`). */
  static fromEntries<V, K extends Key = Key>(
    entries: Iterable<readonly [K, V]>,
    options: CollectionOptions<V> = {},
  ): IndexedCollection<V, K> {
    const data = Dictionary.from(entries as Iterable<readonly [Key, unknown]>);
    let state = new CollectionState(data, [], checkKeyPath(options.key));
    for (const [name, spec] of Object.entries(options.indexes ?? {}))
      state = state.createIndex(toDeclaration(name, spec));
    return new IndexedCollection<V, K>(state);
  }

  /** @internal */
  static _of<V, K extends Key>(state: CollectionState): IndexedCollection<V, K> {
    return new IndexedCollection<V, K>(state);
  }

  get atomType(): string {
    return IndexedCollection.typeName;
  }

  /** @internal The current contents (unbound trees). Reading them records nothing. */
  _state(): CollectionState {
    let s = this.#state;
    if (s === undefined) {
      s = decodeState(this.#payload as readonly unknown[]);
      this.#state = s;
      this.#payload = undefined;
    }
    return s;
  }

  /** @internal True on a transaction's view (and values derived from it). */
  get _tracked(): boolean {
    return this.#track !== undefined;
  }

  /**
   * @internal Records a read on a tracked view: `check(state)` must hold of the newer version
   * (with this transaction's own changes replayed) for the commit to rebase.
   */
  _observe(check: (state: CollectionState) => boolean): void {
    this.#track?.record(this.#ops, check);
  }

  /** The primary-key path given at creation, if any. */
  get keyPath(): string | undefined {
    return this._state().keyPath;
  }

  /** The number of records. */
  get size(): number {
    const n = this._state().size;
    this._observe((s) => s.size === n);
    return n;
  }

  /** The record with primary key `key`, or undefined. */
  get(key: K): V | undefined {
    const v = this._state().data.get(key);
    if (this.#track !== undefined) {
      const seen = v === undefined ? ABSENT : v;
      this._observe((s) => {
        const now = s.data.get(key);
        return now === undefined ? seen === ABSENT : seen !== ABSENT && valuesEqual(now, seen);
      });
    }
    return v as V | undefined;
  }

  has(key: K): boolean {
    const present = this._state().data.get(key) !== undefined;
    this._observe((s) => (s.data.get(key) !== undefined) === present);
    return present;
  }

  /** Stores `record` under the primary key at the collection's key path; indexes follow. */
  put(record: V): IndexedCollection<V, K> {
    const state = this._state();
    return this.set(state.primaryKeyOf(record) as K, record);
  }

  /**
   * Stores `record` under `key` (insert or replace); every index is updated. Throws
   * `UniqueConstraintError` (and changes nothing) when a unique index key is taken by another
   * record. Records no read: concurrent writers of the same key are ordered, last one wins.
   */
  set(key: K, record: V): IndexedCollection<V, K> {
    return this.#derive(this._state().set(key, record), { kind: 'set', key, record });
  }

  /** Stores many records (see `put`); on an empty collection outside a transaction, bulk-builds. */
  putAll(records: Iterable<V>): IndexedCollection<V, K> {
    const state = this._state();
    if (state.size === 0 && this.#track === undefined) {
      const entries: [Key, unknown][] = [];
      for (const r of records) entries.push([state.primaryKeyOf(r), r]);
      const data = Dictionary.from(entries);
      let next = new CollectionState(data, [], state.keyPath);
      for (const ix of state.indexes) next = next.createIndex(ix);
      return new IndexedCollection<V, K>(next);
    }
    let out: IndexedCollection<V, K> = this;
    for (const r of records) out = out.put(r);
    return out;
  }

  /** Removes the record under `key` (and its index entries). Records no read. */
  delete(key: K): IndexedCollection<V, K> {
    return this.#derive(this._state().delete(key), { kind: 'delete', key });
  }

  /**
   * Keeps at most `max` records, deleting first the ones with the smallest keys in ordered
   * index `by` (ties in primary-key order; records without an entry in it go after those, in
   * primary-key order): a capped collection. It is recorded as one operation and reads nothing,
   * so when the transaction rebases onto a newer version it runs again there: concurrent
   * transactions that insert records and trim never conflict over it, and the bound holds after
   * every commit. `by` must be an ordered index of one key per record.
   * @example
   * events.put(event).trim(10_000, { by: 'byTime' }) // drop the oldest beyond 10,000
   */
  trim(max: number, options: { readonly by: string }): IndexedCollection<V, K> {
    if (!Number.isSafeInteger(max) || max < 0)
      invalidArgument(`trim() takes a non-negative integer, got ${String(max)}`);
    const by = options?.by;
    if (typeof by !== 'string') invalidArgument('trim(max, { by }) needs the name of an ordered index');
    return this.#derive(this._state().trim(max, by), { kind: 'trim', max, by });
  }

  /**
   * Adds an index over the existing records (built in one sorted pass). Creating an index that
   * exists with the same definition does nothing; with another definition it throws.
   * @example
   * users.createIndex('byCountry', 'country')
   * users.createIndex('byEmail', { path: 'email', unique: true })
   * users.createIndex('byTag', 'tags[]')        // one entry per element
   */
  createIndex(name: string, spec: IndexSpec<V>): IndexedCollection<V, K> {
    const decl = toDeclaration(name, spec);
    const state = this._state();
    this.#observeDefinitions(state);
    return this.#derive(state.createIndex(decl), { kind: 'create-index', declaration: decl });
  }

  /** Removes an index; throws `QueryError` (`not-found`) when there is none by that name. */
  dropIndex(name: string): IndexedCollection<V, K> {
    const state = this._state();
    if (state.index(name) === undefined) queryError('not-found', `no index named '${name}' to drop`);
    this.#observeDefinitions(state);
    return this.#derive(state.dropIndex(name), { kind: 'drop-index', name });
  }

  /** The indexes and their sizes. */
  indexes(): IndexInfo[] {
    const state = this._state();
    this.#observeDefinitions(state);
    return state.indexes.map(infoOf);
  }

  /** True when an index of that name exists. */
  hasIndex(name: string): boolean {
    const state = this._state();
    this.#observeDefinitions(state);
    return state.index(name) !== undefined;
  }

  #observeDefinitions(state: CollectionState): void {
    if (this.#track === undefined) return;
    const seen = state.indexes.map((ix) => ix.definition);
    const kinds = state.indexes.map((ix) => ix.kind.name);
    this._observe(
      (s) =>
        s.indexes.length === seen.length &&
        s.indexes.every((ix, i) => ix.kind.name === kinds[i] && valuesEqual(ix.definition, seen[i])),
    );
  }

  /** `[key, record]` in primary-key order. */
  *entries(): Generator<[K, V], void, undefined> {
    const state = this._state();
    const c = cursorOf(state.data);
    const tracked = this.#track !== undefined;
    const seen: [unknown, unknown][] = [];
    let done = false;
    if (tracked) {
      this._observe((s) => {
        const d = cursorOf(s.data);
        for (const [k, v] of seen)
          if (!d.next() || !valuesEqual(d.key, k) || !valuesEqual(d.value, v)) return false;
        return !(done && d.next());
      });
    }
    while (c.next()) {
      if (tracked) seen.push([c.key, c.value]);
      yield [c.key as K, c.value as V];
    }
    done = true;
  }

  *keys(): Generator<K, void, undefined> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): Generator<V, void, undefined> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  #derive(next: CollectionState, op: CollectionOp): IndexedCollection<V, K> {
    const out = new IndexedCollection<V, K>(next);
    const track = this.#track;
    if (track !== undefined) {
      out.#track = track;
      out.#ops = appendOp(this.#ops, op);
    }
    return out;
  }

  /** Returns a view that records its reads in `scope` (used by the kernel's `tx.get`). */
  [bindScope](scope: ReadScope): this {
    if (this.#track !== undefined && this.#origin === undefined) {
      // A value derived in a transaction that has committed: its tracking is finished.
      this.#track = undefined;
      this.#ops = undefined;
    }
    const origin = (this.#origin ?? this) as IndexedCollection<unknown, Key>;
    const view = new IndexedCollection<V, K>(this._state());
    view.#origin = origin;
    const track = new Track(
      scope,
      origin,
      (newer) => (newer instanceof IndexedCollection ? newer : undefined),
      (state) => IndexedCollection._of(state),
    );
    track.view = view;
    view.#track = track;
    return view as this;
  }

  /** How this collection was derived from a transaction's view, for the kernel's rebase. */
  get [derivation](): Derivation | undefined {
    const track = this.#track;
    const ops = this.#ops;
    if (track === undefined || ops === undefined) return undefined;
    return { base: track.view, replay: (newer: unknown) => track.replay(ops, newer) };
  }

  toPayload(): unknown {
    const s = this._state();
    return [1, s.keyPath ?? null, s.data, s.indexes.map(rowOf)];
  }

  /**
   * The records set and removed since `older`, when both have the same key path and the same
   * indexes: what a delta commit stores (see `Atom.deltaSince`). The index entries are not
   * stored: `withDelta` derives them again, as `set` and `delete` do. `undefined` otherwise
   * (an index created or dropped, or most records changed): the commit stores the whole value.
   */
  override deltaSince(older: Atom): unknown {
    if (!(older instanceof IndexedCollection)) return undefined;
    const before = older._state();
    const after = this._state();
    if (before.keyPath !== after.keyPath || before.indexes.length !== after.indexes.length) return undefined;
    for (let i = 0; i < after.indexes.length; i++) {
      if (!sameDeclaration(before.indexes[i] as StoredIndex, after.indexes[i] as StoredIndex))
        return undefined;
    }
    return after.data.deltaSince(before.data);
  }

  /**
   * The records that differ from `older` (an earlier version; `undefined`: empty) to this
   * one, by primary key in key order, visiting only the subtrees of the records' tree the two
   * do not share (see `diff` in `@proto/atom`). Indexes are not compared: they follow the records.
   */
  override diffEntries(older: Atom | undefined): Iterable<EntryChange<K, V>> | undefined {
    if (older !== undefined && !(older instanceof IndexedCollection)) return undefined;
    return this._state().data.diffEntries(older?._state().data) as Iterable<EntryChange<K, V>> | undefined;
  }

  /** This collection with a delta from `deltaSince` applied, its indexes kept current. */
  override withDelta(delta: unknown): IndexedCollection<V, K> {
    if (!Array.isArray(delta) || delta.length !== 3) return corrupt();
    const [keys, vals, removed] = delta as unknown[];
    if (
      !Array.isArray(keys) ||
      !Array.isArray(removed) ||
      !Array.isArray(vals) ||
      vals.length !== keys.length
    )
      return corrupt();
    let state = this._state();
    // Every changed record leaves first, then the new versions go in: no state in between
    // holds two records with one unique index key, since the final state holds none.
    for (const key of removed) state = state.delete(key as Key);
    for (const key of keys) state = state.delete(key as Key);
    for (let i = 0; i < keys.length; i++) {
      const v: unknown = vals[i];
      state = state.set(keys[i] as Key, v instanceof LazyValue ? v.get() : v);
    }
    return new IndexedCollection<V, K>(state);
  }

  override childAtoms(): Iterable<Atom | AtomRef> {
    if (this.#state === undefined && this.#payload !== undefined) {
      const p = this.#payload;
      const out: (Atom | AtomRef)[] = [p[2] as Atom];
      for (const row of p[3] as unknown[][]) {
        if (row.length === ORDERED_ROW) out.push(row[3] as Atom);
        else collectAtoms(row[4], out);
      }
      return out;
    }
    const s = this._state();
    const out: (Atom | AtomRef)[] = [s.data];
    for (const ix of s.indexes) {
      if (ix instanceof KindIndex) collectAtoms(ix.encoded(), out);
      else out.push((ix.instance as { tree: Atom }).tree);
    }
    return out;
  }
}

/** Stored rows: an ordered index as `[name, 'path:…' | 'fn:…', unique, tree, entries, covered, strings]`. */
const ORDERED_ROW = 7;
/** Any other kind as `[name, 'kind:<name>', package, definition, encoded]`. */
const KIND_ROW = 5;

function rowOf(ix: StoredIndex): unknown[] {
  if (ix instanceof KindIndex)
    return [ix.name, `kind:${ix.kind.name}`, ix.kind.package, ix.definition, ix.encoded()];
  const def = ix.definition as IndexDefinition;
  const [tree, entries, covered, strings] = orderedIndexKind.encode(ix.instance as never) as unknown[];
  return [
    def.name,
    'path' in def.on ? `path:${def.on.path}` : `fn:${def.on.fn}`,
    def.unique,
    tree,
    entries,
    covered,
    strings,
  ];
}

function infoOf(ix: StoredIndex): IndexInfo {
  const d = ix.kind.describe(ix.instance);
  return {
    name: ix.name,
    kind: ix.kind.name,
    on: d.on,
    unique: d.unique === true,
    multi: d.multi === true,
    entries: d.entries,
    keys: d.keys,
    covered: d.covered,
    definition: ix.definition,
  };
}

function checkKeyPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  if (typeof path !== 'string' || path.length === 0 || path.includes('[]')) {
    invalidArgument(`the key path must be a single-valued field path, got ${String(path)}`);
  }
  return path;
}

function toDeclaration<V>(name: string, spec: IndexSpec<V>): IndexDeclaration {
  if (typeof spec === 'string')
    return { name, kind: orderedIndexKind as IndexKind, definition: defineIndex(name, spec) };
  if (typeof spec === 'object' && spec !== null && spec.kind !== undefined) {
    if (typeof name !== 'string' || name.length === 0) invalidArgument('an index needs a non-empty name');
    const kind = declaredKind(spec.kind, name);
    return { name, kind, definition: kind.define(name, (spec as KindIndexSpec).options) };
  }
  if (typeof spec === 'object' && spec !== null && 'paths' in spec && spec.paths !== undefined) {
    if (typeof name !== 'string' || name.length === 0) invalidArgument('an index needs a non-empty name');
    const kind = compositeIndexKind as IndexKind;
    const extra = Object.keys(spec).filter((k) => k !== 'paths' && k !== 'unique' && k !== 'kind');
    if (extra.length > 0)
      invalidArgument(`index '${name}': a composite index takes { paths, unique } (not ${extra.join(', ')})`);
    return { name, kind, definition: kind.define(name, { paths: spec.paths, unique: spec.unique }) };
  }
  const s = spec as {
    readonly path?: string;
    readonly key?: { readonly name: string };
    readonly unique?: boolean;
  };
  const definition = defineIndex(name, {
    ...(s.path === undefined ? {} : { path: s.path as string }),
    ...(s.key === undefined ? {} : { key: s.key }),
    ...(s.unique === undefined ? {} : { unique: s.unique }),
  });
  return { name, kind: orderedIndexKind as IndexKind, definition };
}

function corrupt(): never {
  throw new QueryError({
    layer: 'query',
    reason: 'corrupt',
    message: 'a stored indexed collection has an unexpected shape; the data is not trusted',
  });
}

function asDictionary(slot: unknown): Dictionary {
  const d = resolveSlot(slot as Atom);
  if (!(d instanceof Dictionary)) corrupt();
  return d;
}

function decodeState(p: readonly unknown[]): CollectionState {
  const data = asDictionary(p[2]);
  const indexes = (p[3] as unknown[][]).map((row): StoredIndex => {
    if (row.length === KIND_ROW) {
      const [name, tag, pkg, definition, stored] = row as [string, string, string | null, unknown, unknown];
      const kind = storedKind(tag.slice(5), pkg, name);
      return held({ name, kind, definition }, kind.decode(definition, stored));
    }
    const [name, target, unique, tree, entries, covered, strings] = row as [
      string,
      string,
      boolean,
      unknown,
      number,
      number,
      number,
    ];
    const on: IndexTarget = target.startsWith('path:') ? { path: target.slice(5) } : { fn: target.slice(3) };
    return orderedIndexKind.decode({ name, on, unique }, [asDictionary(tree), entries, covered, strings]);
  });
  return new CollectionState(data, indexes, (p[1] as string | null) ?? undefined);
}

registerAtomType(IndexedCollection.typeName, (payload) => {
  if (
    !Array.isArray(payload) ||
    payload.length !== 4 ||
    payload[0] !== 1 ||
    !Array.isArray(payload[3]) ||
    !(payload[1] === null || typeof payload[1] === 'string')
  ) {
    return corrupt();
  }
  for (const row of payload[3] as unknown[]) {
    if (
      Array.isArray(row) &&
      row.length === KIND_ROW &&
      typeof row[0] === 'string' &&
      typeof row[1] === 'string' &&
      row[1].startsWith('kind:') &&
      row[1].length > 5 &&
      (row[2] === null || typeof row[2] === 'string')
    ) {
      continue;
    }
    if (
      !Array.isArray(row) ||
      row.length !== ORDERED_ROW ||
      typeof row[0] !== 'string' ||
      typeof row[1] !== 'string' ||
      !(row[1].startsWith('path:') || row[1].startsWith('fn:')) ||
      typeof row[2] !== 'boolean' ||
      typeof row[4] !== 'number' ||
      typeof row[5] !== 'number' ||
      typeof row[6] !== 'number'
    ) {
      return corrupt();
    }
  }
  return new (IndexedCollection as unknown as new (s: undefined, p: readonly unknown[]) => IndexedCollection)(
    undefined,
    payload,
  );
});
