/**
 * `query.nearest(path, vector, { k })`: the k rows nearest to a vector, as a query step.
 *
 * Over an `IndexedCollection` whose steps before `nearest()` are only `where(...)`, the planner
 * asks every index kind that ranks (`IndexKind.nearestPaths`, see `nearest-access.ts`) for the
 * ways it can answer, handing it the filter (its estimated rows and selectivity from the
 * secondary indexes, its candidates, a per-record test), and runs the cheapest: typically exact
 * distances over the filter's candidates when the filter is selective, a scan that tests the
 * filter as it goes otherwise. Anywhere else (arrays, after other steps, no ranking index) the
 * rows are ranked by computing every distance (`NearestScan`).
 *
 * Rows come out as `{ record, key, distance }`, nearest first, ties by key; fewer than k when
 * fewer rows match.
 */
import type { Key } from '@proto/collections';
import { compile, normalize } from './compile.js';
import { invalidArgument, queryError } from './errors.js';
import { describeExpr, type ExprNode } from './expr.js';
import { IndexedCollection } from './indexed-collection.js';
import { KindIndex } from './kind-index.js';
import type { NearestFilter, NearestPath, NearestRequest, NearestSearch } from './nearest-access.js';
import { getterOf, parsePath } from './path.js';
import { CollectionRef, Fetch, Observe } from './plan/access.js';
import { buildPlan, QUERY_PLAN, type Step } from './plan/build.js';
import { candidates as candidateAccesses, selectivities } from './plan/candidates.js';
import { C_FETCH, C_INDEX, C_SEEK, jitter } from './plan/cost.js';
import { ArrayCursor, type Cursor, ExecContext, PlanNode } from './plan/node.js';
import { planCollection } from './plan/planner.js';
import { compareValues } from './values.js';

/** Options of `nearest()`. */
export interface NearestOptions {
  /** How many nearest rows (a positive integer). */
  readonly k: number;
  /** `cosine`, `euclidean` (squared L2) or `inner-product`; default: the index's (`cosine` without one). */
  readonly metric?: string;
  /** Lists an approximate index probes (default: the index's). */
  readonly nprobe?: number;
  /** A target recall in (0, 1] instead of `nprobe` (an approximate index picks its nprobe). */
  readonly recall?: number;
}

/** A row of `nearest()`: the record, its key (primary key in a collection) and its distance. */
export interface Neighbor<T> {
  readonly record: T;
  readonly key: Key;
  readonly distance: number;
}

/** @internal Validates `nearest()`'s arguments into a request. */
export function nearestRequest(path: string, vector: unknown, options: NearestOptions): NearestRequest {
  if (typeof path !== 'string' || path.length === 0) invalidArgument('nearest() takes a field path first');
  const o = options as Partial<NearestOptions> | undefined;
  if (typeof o !== 'object' || o === null)
    invalidArgument('nearest(path, vector, { k }) needs options with k');
  if (typeof o.k !== 'number' || !Number.isInteger(o.k) || o.k < 1)
    invalidArgument(`nearest() takes k as a positive integer, got ${String(o.k)}`);
  if (o.nprobe !== undefined && (!Number.isInteger(o.nprobe) || o.nprobe < 1))
    invalidArgument(`nearest() takes nprobe as a positive integer, got ${String(o.nprobe)}`);
  if (o.recall !== undefined && !(typeof o.recall === 'number' && o.recall > 0 && o.recall <= 1))
    invalidArgument(`nearest() takes recall in (0, 1], got ${String(o.recall)}`);
  if (o.metric !== undefined && typeof o.metric !== 'string')
    invalidArgument('nearest() takes metric as a string');
  const isArray = Array.isArray(vector) || vector instanceof Float32Array || vector instanceof Float64Array;
  if (!isArray || (vector as ArrayLike<unknown>).length === 0)
    invalidArgument('nearest() takes the query vector as a non-empty Float32Array or number[]');
  const v = Float32Array.from(vector as ArrayLike<number>);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i]))
      invalidArgument(`nearest(): the query vector has a non-finite component at ${i}`);
  return { path, vector: v, k: o.k, metric: o.metric, nprobe: o.nprobe, recall: o.recall };
}

/** The rows of a search, turned into `Neighbor`s of the records of the state being read. */
class HitRows implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  #i = -1;
  constructor(
    private readonly hits: NearestSearch['hits'],
    private readonly get: (pk: Key) => unknown,
  ) {}
  next(): boolean {
    const hit = this.hits[++this.#i];
    if (hit === undefined) return false;
    this.key = hit.key;
    this.value = { record: this.get(hit.key), key: hit.key, distance: hit.distance };
    return true;
  }
}

/** A ranked access path of an index kind, run on the index of the state being read. */
export class NearestAccess extends PlanNode {
  readonly name: string;
  #last: NearestSearch | undefined;
  constructor(
    readonly src: CollectionRef,
    readonly index: string,
    readonly path: NearestPath,
    readonly k: number,
    readonly filter: ((ref: CollectionRef) => NearestFilter) | undefined,
    readonly candidates: PlanNode | undefined,
  ) {
    super();
    this.name = path.operator;
  }
  estimate(): number {
    return this.k;
  }
  override indexName(): string {
    return this.index;
  }
  override children(): readonly PlanNode[] {
    return this.candidates === undefined ? [] : [this.candidates];
  }
  override detail(): string {
    const last = this.#last;
    const ran =
      last === undefined
        ? ''
        : `; scored ${last.scored}${last.detail === undefined ? '' : `, ${last.detail}`}`;
    return `${this.index} ${this.path.detail}${ran}`;
  }
  open(): Cursor {
    const ix = this.src.state.index(this.index);
    if (!(ix instanceof KindIndex))
      queryError('not-found', `index '${this.index}' no longer exists in this version of the collection`);
    const result = this.path.search(ix.instance, this.filter?.(this.src));
    this.#last = result;
    const data = this.src.state.data;
    return new HitRows(result.hits, (pk) => data.get(pk));
  }
}

type Distance = (a: Float32Array, b: ArrayLike<number>) => number;

function dot(a: Float32Array, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

const DISTANCES: Record<string, Distance> = {
  cosine: (a, b) => {
    let nb = 0;
    for (let i = 0; i < b.length; i++) nb += (b[i] as number) * (b[i] as number);
    const na = dot(a, a);
    return nb === 0 || na === 0 ? 1 : 1 - dot(a, b) / Math.sqrt(na * nb);
  },
  euclidean: (a, b) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) {
      const d = (a[i] as number) - (b[i] as number);
      s += d * d;
    }
    return s;
  },
  'inner-product': (a, b) => -dot(a, b),
};

/** Ranks the rows of any plan by computing every distance (no index). */
export class NearestScan extends PlanNode {
  readonly name = 'NearestScan';
  readonly #get: (row: unknown) => unknown;
  readonly #distance: Distance;
  constructor(
    readonly child: PlanNode,
    readonly request: NearestRequest,
  ) {
    super();
    this.#get = getterOf(parsePath(request.path));
    const metric = request.metric ?? 'cosine';
    const distance = DISTANCES[metric];
    if (distance === undefined)
      invalidArgument(`nearest(): unknown metric '${metric}'; use cosine, euclidean or inner-product`);
    this.#distance = distance;
  }
  estimate(): number {
    return Math.min(this.request.k, this.child.estimate());
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    return `${this.request.path} k=${this.request.k} ${this.request.metric ?? 'cosine'} (every distance)`;
  }
  open(ctx: ExecContext): Cursor {
    const { vector, k, path } = this.request;
    const rows: { key: unknown; record: unknown; distance: number }[] = [];
    const c = this.child.run(ctx);
    while (c.next()) {
      const v = this.#get(c.value) as ArrayLike<number> | undefined;
      if (v === undefined || v === null) continue;
      if (typeof v !== 'object' || typeof v.length !== 'number' || v.length !== vector.length)
        invalidArgument(`nearest(): the row's '${path}' is not a vector of dimension ${vector.length}`);
      rows.push({ key: c.key, record: c.value, distance: this.#distance(vector, v) });
    }
    rows.sort((a, b) => a.distance - b.distance || compareValues(a.key, b.key));
    const top = rows.slice(0, k);
    return new ArrayCursor(
      top.map((r) => ({ record: r.record, key: r.key, distance: r.distance })),
      top.map((r) => r.key),
    );
  }
}

/** `nearest()` as the source of the steps after it. */
export class NearestSource {
  constructor(
    private readonly source: unknown,
    private readonly label: string,
    private readonly steps: readonly Step[],
    private readonly request: NearestRequest,
  ) {}

  [QUERY_PLAN](fresh: boolean): PlanNode {
    if (this.source instanceof IndexedCollection && this.steps.every((s) => s.kind === 'where')) {
      const planned = this.#indexed(this.source as IndexedCollection<unknown, Key>, fresh);
      if (planned !== undefined) return planned;
    }
    return new NearestScan(buildPlan(this.source, this.label, this.steps, false, fresh), this.request);
  }

  #indexed(coll: IndexedCollection<unknown, Key>, fresh: boolean): PlanNode | undefined {
    const ref = new CollectionRef(coll, coll._state(), this.label);
    const state = ref.state;
    const preds = this.steps.map((s) => (s as { expr: ExprNode }).expr);
    const pred: ExprNode | undefined =
      preds.length === 0 ? undefined : preds.length === 1 ? preds[0] : { op: 'and', args: preds };
    let filterOf: ((r: CollectionRef) => NearestFilter) | undefined;
    let candidates: PlanNode | undefined;
    if (pred !== undefined) {
      const e = normalize(pred);
      const test = compile(e);
      const text = describeExpr(e);
      const plan = planCollection(ref, { pred, order: undefined, offset: 0, limit: undefined, fresh });
      candidates = plan;
      const records = Math.max(1, state.size);
      // The rows from the indexes' estimates of each conjunct (a full scan's plan keeps only a
      // default guess for its filter).
      const conj = e.op === 'and' ? e.args : [e];
      let rows = records;
      for (const s of selectivities(conj, candidateAccesses(ref, conj, undefined), records)) rows *= s;
      // An index access under a Fetch yields keys cheaply; anything else reads records.
      const candidateCost =
        plan instanceof Fetch ? C_SEEK + rows * C_INDEX : C_SEEK + Math.min(records, rows * 4) * C_FETCH;
      filterOf = (r) => {
        const data = r.state.data;
        return {
          text,
          rows,
          cost: candidateCost,
          selectivity: Math.min(1, rows / records),
          *candidates() {
            // Only the keys are needed: below a Fetch they come without reading the records.
            const keysOnly = plan instanceof Fetch ? plan.child : plan;
            const c = keysOnly.run(new ExecContext());
            while (c.next()) yield c.key as Key;
          },
          *records() {
            const c = plan.run(new ExecContext());
            while (c.next()) yield [c.key as Key, c.value] as const;
          },
          matches: (pk) => {
            const record = data.get(pk);
            return record !== undefined && test(record);
          },
        };
      };
    }
    const context = { records: state.size, filter: filterOf?.(ref) };
    let best: { index: string; path: NearestPath; cost: number } | undefined;
    for (const ix of state.others) {
      const kind = ix.kind;
      if (kind.nearestPaths === undefined) continue;
      for (const path of kind.nearestPaths(ix.instance, this.request, context)) {
        const cost = jitter(path.cost);
        if (best === undefined || cost < best.cost) best = { index: ix.name, path, cost };
      }
    }
    if (best === undefined) return undefined;
    const node = new NearestAccess(
      ref,
      best.index,
      best.path,
      this.request.k,
      filterOf,
      best.path.usesCandidates ? candidates : undefined,
    );
    return coll._tracked ? new Observe(ref, node) : node;
  }
}
