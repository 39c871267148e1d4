/**
 * Ranked access: how an index kind answers `query.nearest(path, vector, options)` (the k
 * records nearest to a vector), the optional `IndexKind.nearestPaths` method. A kind that does
 * not rank leaves it out. Every kind that offers it guarantees:
 * 1. Recognition: `nearestPaths(index, request, context)` returns `[]` unless the index is on
 *    `request.path`, and throws the kind's `QueryError` with reason `invalid-argument` when the
 *    request is for its path but cannot be answered (a vector of the wrong dimension, a metric
 *    the index was not built for, a bad `nprobe`).
 * 2. Ranked results: `search(index, filter)` returns at most `request.k` hits, ascending by
 *    distance (smaller is nearer), ties broken by primary key (`compareValues`), each key once.
 *    With a filter, every hit satisfies `filter.matches`; a path whose `exact` is true returns
 *    exactly the k nearest matching records (fewer only when fewer match), an approximate one
 *    as many as it can find up to k.
 * 3. Costs and choice: each path estimates its `cost` in the planner's units (a record fetch
 *    20; a distance over one stored vector costs what the kind measures). The planner takes the
 *    cheapest, so a kind offers the ways it can run (a scan that tests the filter as it goes,
 *    exact distances over the filter's candidates ...) and lets the estimates decide.
 * 4. Versions: `search` may be given a newer version of the index than the one planned against
 *    (a transaction's read is re-checked on the version it commits onto), and the filter then
 *    tests the records of that version.
 *
 * `explain()` shows the chosen path as `operator index detail (est rows)`; with
 * `{ analyze: true }` the detail ends with what `search` reported (`NearestSearch.detail`).
 */
import type { Key } from '@proto/collections';

/** What `nearest()` asks an index. */
export interface NearestRequest {
  /** The field path the query ranks by, as given to `nearest()`. */
  readonly path: string;
  /** The query vector (a copy: the kind may keep it). */
  readonly vector: Float32Array;
  /** How many nearest records to return (a positive integer). */
  readonly k: number;
  /** The metric asked for; `undefined`: the index's own. */
  readonly metric: string | undefined;
  /** Lists (partitions) to probe for an approximate index; `undefined`: the index's default. */
  readonly nprobe: number | undefined;
  /** A target recall in (0, 1] instead of `nprobe`. */
  readonly recall: number | undefined;
}

/** The filter of the `where(...)` steps before `nearest()`, as the planner hands it to a kind. */
export interface NearestFilter {
  /** Its text, as `explain()` shows predicates. */
  readonly text: string;
  /** The planner's estimate of the records matching it. */
  readonly rows: number;
  /** Estimated cost of `candidates()` (planner units). */
  readonly cost: number;
  /** The fraction of records estimated to match (`rows / records`). */
  readonly selectivity: number;
  /** The primary keys of the matching records, from the best plan of the filter (indexes ...), without reading the records when it can. */
  candidates(): Iterable<Key>;
  /** The matching records with their primary keys (the filter's plan, records fetched). */
  records(): Iterable<readonly [Key, unknown]>;
  /** True when the record with primary key `pk` matches (a primary-key lookup, then the test). */
  matches(pk: Key): boolean;
}

/** What the planner tells a kind. */
export interface NearestContext {
  /** Records in the collection. */
  readonly records: number;
  /** The filter, when `where(...)` steps come before `nearest()`. */
  readonly filter: NearestFilter | undefined;
}

/** One ranked record. */
export interface NearestHit {
  readonly key: Key;
  /** The distance under the request's metric (smaller is nearer). */
  readonly distance: number;
}

/** What one run of a path found. */
export interface NearestSearch {
  readonly hits: readonly NearestHit[];
  /** Vectors whose distance was computed. */
  readonly scored: number;
  /** Appended to the path's detail by `explain({ analyze: true })`, e.g. `probed 12/316 lists`. */
  readonly detail?: string;
}

/** One way to answer a `nearest()` request through an index. */
export interface NearestPath<I = unknown> {
  /** The operator `explain()` shows, e.g. `IvfScan`. */
  readonly operator: string;
  /** Its arguments as `explain()` shows them after the index name. */
  readonly detail: string;
  /** Estimated cost of `search` (planner units). */
  readonly cost: number;
  /** Estimated vectors it scores (shown as the node's estimate). */
  readonly scored: number;
  /** True when it returns the exact k nearest (no approximation). */
  readonly exact: boolean;
  /** True when it reads `filter.candidates()` (the planner shows the filter's plan below it). */
  readonly usesCandidates: boolean;
  /** Runs it on `index` (see guarantee 4), filtering by `filter` when the query has one. */
  search(index: I, filter: NearestFilter | undefined): NearestSearch;
}
