/**
 * What the studio's server and page exchange: the JSON of each `/api/*` answer. Types only (the
 * page is type-checked against this file and bundled without it). Values are the CLI's tagged
 * JSON (`values.ts`), except that a collection inside a value is a link, not its entries:
 * `{"$collection": kind, "size": n}`; the page locates it by the path that led to it.
 */

/** A JSON value (the same as `values.ts`'s `Json`, repeated so the page needs no Node module). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A commit kept (readable `asOf`). */
export interface CommitInfo {
  readonly sequence: number;
  /** ISO 8601. */
  readonly timestamp: string;
}

/** One index of an `IndexedCollection`. */
export interface IndexSummary {
  readonly name: string;
  /** `ordered`, or another kind's name (`proto.vector`). */
  readonly kind: string;
  /** The indexed path, or `fn:<name>`. */
  readonly on: string;
  readonly unique: boolean;
  readonly entries: number;
  readonly keys: number;
  /** A vector index's figures (`vectorIndexStatus`) and definition. */
  readonly vector?: VectorSummary;
}

export interface VectorSummary {
  readonly path: string;
  readonly dim: number;
  readonly metric: string;
  readonly vectors: number;
  readonly lists: number;
  readonly trained: boolean;
  readonly needsRetraining: boolean;
}

export interface RootSummary {
  readonly name: string;
  /** The collection kind, or the value's type (`string`, `Date`, `bytes` ...). */
  readonly type: string;
  /** Entries of a collection. */
  readonly size?: number;
  /** An `IndexedCollection`'s key path (null: keys given with each record). */
  readonly keyPath?: string | null;
  readonly indexes?: readonly IndexSummary[];
}

export interface DatabaseSummary {
  readonly name: string;
  readonly roots: readonly RootSummary[];
}

/** `GET /api/overview[?asOf=n]`. */
export interface Overview {
  readonly path: string;
  readonly backend: 'wal' | 'sqlite';
  /** False unless the studio was started with `--write`. */
  readonly writable: boolean;
  /** True when commits of other processes are seen (the backend is multi-process). */
  readonly live: boolean;
  /** The newest commit. */
  readonly sequence: number;
  /** The commit the databases are shown at. */
  readonly asOf: number | null;
  readonly databases: readonly DatabaseSummary[];
}

/** `GET /api/history`: newest first. */
export interface History {
  readonly commits: readonly CommitInfo[];
}

/** `GET /api/browse?db&root&path&asOf&from&to&after&reverse&limit`: a page of a collection, or a value. */
export type BrowsePage =
  | {
      readonly collection: true;
      readonly type: string;
      readonly size: number;
      /** `[key, value]` in the collection's order. */
      readonly entries: readonly (readonly [Json, Json])[];
      /** A cursor for the next page (pass as `after`), or null at the end. */
      readonly next: Json | null;
      /** True when keys can be given as a range (`from`, `to`). */
      readonly ranges: boolean;
    }
  | { readonly collection: false; readonly type: string; readonly value: Json };

/** One condition of a query: `path op value`. */
export interface Condition {
  readonly path: string;
  readonly op: string;
  /** Tagged JSON; for `in` an array, for `between` `[low, high]`. */
  readonly value: Json;
}

/** `POST /api/query`. */
export interface QueryRequest {
  readonly db: string;
  readonly root: string;
  readonly asOf?: number | null;
  readonly where: readonly Condition[];
  readonly orderBy?: { readonly path: string; readonly direction: 'asc' | 'desc' } | null;
  readonly limit?: number | null;
  readonly offset?: number | null;
}

/** A plan node, as `explain({ analyze: true })` gives it. */
export interface PlanTree {
  readonly node: string;
  readonly detail: string;
  readonly index?: string;
  readonly estimatedRows: number;
  readonly actualRows?: number;
  readonly children: readonly PlanTree[];
}

export interface QueryResult {
  readonly rows: readonly Json[];
  /** Rows the query produced (all of them, even past the rows sent). */
  readonly actualRows: number;
  readonly estimatedRows: number;
  readonly plan: PlanTree;
  readonly text: string;
  readonly indexes: readonly string[];
  /** Milliseconds the analyzed run took. */
  readonly milliseconds: number;
}

/** `GET /api/diff?db&from&to`. */
export interface DiffResult {
  readonly from: number;
  readonly to: number;
  readonly roots: readonly {
    readonly root: string;
    readonly kind: 'added' | 'removed' | 'changed';
    readonly entries: readonly {
      readonly kind: 'added' | 'removed' | 'changed';
      readonly key: Json;
      readonly oldValue: Json;
      readonly newValue: Json;
    }[];
    /** True when more entries changed than were sent. */
    readonly more: boolean;
  }[];
}

/** `GET /api/nearest?db&root&index&key&k&asOf`: the records nearest to one record's vector. */
export interface NearestResult {
  readonly rows: readonly { readonly key: Json; readonly distance: number; readonly record: Json }[];
  readonly plan: PlanTree;
  readonly text: string;
}

/** An event on `GET /api/events` (server-sent events, `data:` is this JSON). */
export interface CommitEvent {
  readonly database: string;
  readonly sequence: number;
  readonly timestamp: string;
  readonly roots: readonly string[];
}

/** An error answer (any status other than 200). */
export interface ErrorAnswer {
  readonly error: string;
  readonly reason: string | null;
}
