/**
 * The index-kind contract: how a new kind of secondary index plugs into `IndexedCollection`.
 *
 * An index kind is a plain object with a stable `name`. A user declares an index of it with
 * `createIndex(name, { kind, options })` (or in `indexes: {...}`); the collection stores, next
 * to each such index, the kind's name, its package, the definition `define` returned and the
 * value `encode` returned. The ordered index (`createIndex(name, 'path')`) is the first kind,
 * registered as `ordered`. Every kind guarantees:
 * 1. Definitions: `define(index, options)` validates the user's options (throwing a
 *    `QueryError` with reason `invalid-argument` that says what to give instead) and returns a
 *    codec value (plain data: no atoms, no functions) that fully describes the index. Two
 *    declarations are the same index exactly when their definitions are `valuesEqual`.
 * 2. Purity: `build`, `update`, `encode`, `decode` and `accessPaths` never mutate their
 *    arguments and depend only on them (and registered key functions). An index value is
 *    immutable; `update` returns a new one (or the same one when nothing changed).
 * 3. Same transaction: `update(index, pk, before, after)` is called for every write of a
 *    record (`before`/`after` are `undefined` for absent), inside the transaction that writes
 *    it. When the kernel rebases a transaction onto a newer version, its writes are replayed
 *    there and `update` is called again on that version's index: an index is never merged, so
 *    `update` must give the same index for the same records whatever the order of history.
 * 4. Persistence: `encode(index)` returns a codec value in which child atoms (e.g. `Dictionary`
 *    values of `@proto/collections`) may appear anywhere in arrays and plain objects; they are
 *    stored with the collection. `decode(definition, stored)` gets that value back with each
 *    child as an `AtomRef` (resolve with `resolveSlot` from `@proto/atom`, lazily if it can
 *    wait) and returns an index equal to the one encoded. It reads nothing else.
 * 5. Access paths: `accessPaths(index, terms, context)` offers ways to read the terms of one
 *    conjunction (`ExprNode` leaves, as in `explain()`), each with the positions in `terms` it
 *    answers (`covers`, at least one), an estimate of its rows and cost, and `keys(index)`,
 *    which yields exactly the primary keys of the records satisfying every covered term, each
 *    once, in any order. The planner costs them against its other options, filters the terms
 *    not covered, and `explain()` shows the chosen path as `operator index detail (est rows)`.
 *    `keys` may be given a newer version of the index than the one planned against (a
 *    transaction's read is re-checked on the version it commits onto).
 * 6. Ranked access (optional): a kind that can rank records by distance to a vector implements
 *    `nearestPaths`, which `query.nearest(path, vector, options)` calls; its own guarantees are
 *    in `nearest-access.ts`. A kind without it is never asked.
 *
 * A kind recognizes terms by their accessor: a field path (`term.on.kind === 'path'`) or a
 * named key function (`term.on.kind === 'fn'`, `term.on.name`); a kind that answers a computed
 * property (a string's length, a distance band) exposes it to users as a key function
 * (`keyFn(name, fn)`), so the terms also evaluate as filters when no index answers them.
 *
 * What "missing" does: a record for which a kind has nothing to index simply has no entry (the
 * planner only uses covered terms, so such records are never returned by `keys` for them).
 *
 * Errors:
 * | situation                                              | error                                   |
 * |--------------------------------------------------------|-----------------------------------------|
 * | bad options given to `define`                          | the kind's `QueryError`, `invalid-argument` |
 * | `createIndex` with a kind that is not registered       | `QueryError`, `invalid-argument`        |
 * | `registerIndexKind` of another kind under a taken name | `QueryError`, `invalid-argument`        |
 * | a stored index of a kind not registered in the process | `QueryError`, `unsupported`, naming the kind and its package |
 * | `update` rejects a write (e.g. a unique key)           | whatever it throws; nothing is changed  |
 * | a unique violation thrown while replaying on rebase    | `QueryError`, `conflict` (retry)        |
 *
 * `docs/write-an-index-kind.md` walks through a complete kind and the tests to run.
 */
import type { Key } from '@proto/collections';
import { invalidArgument, queryError } from './errors.js';
import type { ExprNode } from './expr.js';
import type { NearestContext, NearestPath, NearestRequest } from './nearest-access.js';

/** Sizes an index reports in `IndexedCollection.indexes()`. */
export interface IndexStats {
  /** What it is built on, for people: a path, `fn:<name>`, `length(name)` ... */
  readonly on: string;
  /** (key, record) entries. */
  readonly entries: number;
  /** Distinct keys. */
  readonly keys: number;
  /** Records with at least one entry. */
  readonly covered: number;
  /** Two records never share a key (default false). */
  readonly unique?: boolean;
  /** A record can have several entries (default false). */
  readonly multi?: boolean;
}

/** What the planner tells a kind about the collection it plans for. */
export interface AccessContext {
  /** Records in the collection. */
  readonly records: number;
}

/**
 * One way to read some terms of a conjunction through an index.
 * Costs are in the planner's units: fetching a record by primary key costs 20, one tree descent
 * 11, stepping an index walk 0.7 per key (so the default is `11 + 0.7 × rows`).
 */
export interface IndexAccessPath<I = unknown> {
  /** Positions in `terms` it answers exactly; at least one. */
  readonly covers: readonly number[];
  /** Estimated primary keys it yields. */
  readonly rows: number;
  /** Estimated cost of yielding them (not of fetching the records). */
  readonly cost?: number;
  /** The operator `explain()` shows, e.g. `LengthProbe`. */
  readonly operator: string;
  /** Its arguments as `explain()` shows them after the index name, e.g. `length = 3`. */
  readonly detail: string;
  /** The primary keys of the records satisfying every covered term, each once. */
  keys(index: I): Iterable<Key>;
}

/**
 * A kind of secondary index: its definition type `D` (stored) and its index value `I`
 * (immutable). See the module comment for the guarantees.
 */
export interface IndexKind<D = unknown, I = unknown> {
  /** Stored with each index; part of the storage format: never rename or reuse one. */
  readonly name: string;
  /** The package that defines it, named in the error when a stored index's kind is missing. */
  readonly package: string;
  /** Validates the options of `createIndex(index, { kind, options })` into a definition. */
  define(index: string, options: unknown): D;
  /** The index over `records` (`[primaryKey, record]`, in primary-key order). */
  build(definition: D, records: Iterable<readonly [Key, unknown]>): I;
  /** The index after record `pk` changed from `before` to `after` (`undefined`: absent). */
  update(index: I, pk: Key, before: unknown, after: unknown): I;
  /** The index as a codec value (child atoms allowed). */
  encode(index: I): unknown;
  /** The index back from what `encode` returned (child atoms as `AtomRef`s). */
  decode(definition: D, stored: unknown): I;
  /** Sizes for `indexes()`. */
  describe(index: I): IndexStats;
  /** The access paths it offers for the terms of one conjunction (none: `[]`). */
  accessPaths(index: I, terms: readonly ExprNode[], context: AccessContext): readonly IndexAccessPath<I>[];
  /** Optional: the ways it answers `nearest()` on its path (`[]` for another path); see guarantee 6. */
  nearestPaths?(index: I, request: NearestRequest, context: NearestContext): readonly NearestPath<I>[];
}

const kinds = new Map<string, IndexKind>();

/**
 * Makes a kind known to this process, so that collections holding its indexes decode and
 * `createIndex` accepts it. Call it when the kind's module loads (list that module in the
 * package's `sideEffects`), before anything is read. Registering the same object again does
 * nothing; another kind under a taken name throws `invalid-argument`.
 */
export function registerIndexKind(kind: IndexKind): void {
  const k = kind;
  if (typeof k !== 'object' || k === null || typeof k.name !== 'string' || k.name.length === 0)
    invalidArgument('an index kind needs a non-empty name');
  for (const m of ['define', 'build', 'update', 'encode', 'decode', 'describe', 'accessPaths'] as const) {
    if (typeof k[m] !== 'function') invalidArgument(`index kind '${k.name}' has no ${m}() method`);
  }
  const existing = kinds.get(k.name);
  if (existing !== undefined && existing !== k)
    invalidArgument(
      `index kind '${k.name}' is already registered (by ${existing.package}); kind names must be unique`,
    );
  kinds.set(k.name, k);
}

/** The kind registered under `name`, or undefined. */
export function indexKind(name: string): IndexKind | undefined {
  return kinds.get(name);
}

/** @internal The kind of a stored index; `unsupported` naming its package when it is not registered. */
export function storedKind(name: string, pkg: string | null, index: string): IndexKind {
  const kind = kinds.get(name);
  if (kind !== undefined) return kind;
  return queryError(
    'unsupported',
    `index '${index}' is of kind '${name}', which is not registered in this process; import ${pkg ?? 'the package that defines it'} (it calls registerIndexKind) before opening the collection`,
  );
}

/** @internal Checks that a kind given to `createIndex` is the registered one. */
export function declaredKind(kind: unknown, index: string): IndexKind {
  const k = kind as IndexKind;
  const name = typeof k === 'object' && k !== null ? k.name : undefined;
  if (typeof name !== 'string' || kinds.get(name) !== k)
    invalidArgument(
      `index '${index}': its kind ${typeof name === 'string' ? `'${name}' ` : ''}is not registered; call registerIndexKind(kind) when its module loads`,
    );
  return k;
}
