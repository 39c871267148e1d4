/**
 * The optimizer for reads of an `IndexedCollection`: turns a predicate, an order and a limit
 * into an access plan, choosing by estimated cost among
 * - a full scan with a filter,
 * - one index (or primary-key) access driving the plan, the other terms as a residual filter,
 * - an AND-merge of several index accesses (smallest first) when narrowing the candidate set
 *   saves more record fetches than it costs,
 * - an OR-merge when every branch of a disjunction has an index access,
 * - an ordered walk of the index on the sort key (no sort; stops after the limit),
 * then adds the residual filter, a sort (top-k when limited) unless the access already yields
 * the order, and the limit. Estimates come from the indexes: exact counts for equality probes,
 * distinct keys in a range times the average entries per key for ranges, default selectivities
 * for terms no index answers, combined as if independent.
 */
import { compareKeys, type Key } from '@proto/collections';
import { compile, guessSelectivity, normalize } from '../compile.js';
import { type Accessor, describeExpr, type ExprNode } from '../expr.js';
import { IndexCursor, type IndexData } from '../index-data.js';
import type { KeyRange } from '../internal/dict.js';
import { isKey, keyRank, prefixEnd, RANK_ARRAY, RANK_DATE, RANK_STRING, rankMin } from '../values.js';
import {
  type CollectionRef,
  Empty,
  Fetch,
  FullScan,
  IndexCount,
  IndexMember,
  IndexProbe,
  IndexRangeScan,
  Intersect,
  PrimaryKeyLookup,
  PrimaryKeyRange,
  SizeCount,
  Union,
} from './access.js';
import {
  C_FETCH,
  C_FILTER,
  C_INDEX,
  C_MEMBER,
  C_MEMBER_CACHED,
  C_SCAN,
  C_SEEK,
  C_SET,
  jitter,
  sortCost,
} from './cost.js';
import type { PlanNode } from './node.js';
import { Count, Filter, Limit, Sort, type SortKey } from './relational.js';

/** What to read from a source. */
export interface AccessRequest {
  readonly pred: ExprNode | undefined;
  readonly order: readonly SortKey[] | undefined;
  readonly offset: number;
  readonly limit: number | undefined;
  /** Plan afresh, ignoring (and not filling) the plan cache (`explain()` does). */
  readonly fresh?: boolean;
}

interface Candidate {
  /** Primary keys (`records` false) or records. */
  readonly node: PlanNode;
  readonly records: boolean;
  readonly rows: number;
  /** Cost of producing the stream. */
  readonly walk: number;
  /** Indices of the conjuncts it answers exactly. */
  readonly covers: readonly number[];
  /** The order it yields: the accessor id and direction (ties by primary key). */
  readonly orderedBy?: { readonly id: string; readonly desc: boolean } | undefined;
  /** Rows come out in primary-key order. */
  readonly keyOrdered: boolean;
}

interface OrderHint {
  readonly id: string;
  readonly desc: boolean;
}

const TRUE: ExprNode = { op: 'const', value: true };

function rankEnd(rank: number): Key | undefined {
  return rank < RANK_ARRAY ? rankMin(rank + 1) : undefined;
}

/** The key range a comparison term selects, or undefined when it is not a single range. */
export function rangeOf(e: ExprNode): { range: KeyRange; rank: number } | undefined {
  switch (e.op) {
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const x = e.value;
      if (!isKey(x)) return undefined;
      const rank = keyRank(x);
      if (e.op === 'gt' || e.op === 'gte') {
        return {
          rank,
          range: { from: x, fromInclusive: e.op === 'gte', to: rankEnd(rank), toInclusive: false },
        };
      }
      return {
        rank,
        range: { from: rankMin(rank), fromInclusive: true, to: x, toInclusive: e.op === 'lte' },
      };
    }
    case 'between': {
      if (!isKey(e.low) || !isKey(e.high)) return undefined;
      const rank = keyRank(e.low);
      if (keyRank(e.high) !== rank) return undefined;
      return {
        rank,
        range: { from: e.low, fromInclusive: e.lowInclusive, to: e.high, toInclusive: e.highInclusive },
      };
    }
    case 'startsWith': {
      const end = prefixEnd(e.prefix);
      return {
        rank: RANK_STRING,
        range: { from: e.prefix, fromInclusive: true, to: end ?? rankMin(RANK_DATE), toInclusive: false },
      };
    }
    default:
      return undefined;
  }
}

/** The narrower of two ranges of the same rank. */
function intersectRanges(a: KeyRange, b: KeyRange): KeyRange {
  let from = a.from;
  let fromInclusive = a.fromInclusive !== false;
  if (b.from !== undefined) {
    const c = from === undefined ? -1 : compareKeys(from, b.from);
    if (c < 0 || (c === 0 && b.fromInclusive === false)) {
      from = b.from;
      fromInclusive = b.fromInclusive !== false;
    }
  }
  let to = a.to;
  let toInclusive = a.toInclusive === true;
  if (b.to !== undefined) {
    const c = to === undefined ? 1 : compareKeys(to, b.to);
    if (c > 0 || (c === 0 && b.toInclusive !== true)) {
      to = b.to;
      toInclusive = b.toInclusive === true;
    }
  }
  return { from, fromInclusive, to, toInclusive };
}

function sortedKeys(values: readonly unknown[], desc: boolean): Key[] {
  if (values.length === 1) return values as Key[];
  const keys = (values as Key[]).slice().sort(compareKeys);
  const out: Key[] = [];
  for (const k of keys) if (out.length === 0 || compareKeys(out[out.length - 1], k) !== 0) out.push(k);
  return desc ? out.reverse() : out;
}

function findIndex(src: CollectionRef, id: string): IndexData | undefined {
  for (const ix of src.state.indexes) if (ix.accessor.id === id) return ix;
  return undefined;
}

function isPrimaryPath(src: CollectionRef, on: Accessor): boolean {
  return on.kind === 'path' && !on.path.multi && on.path.text === src.state.keyPath;
}

/** How many index entries a range walk reads before the estimate switches to counting. */
const WALK_AHEAD = 64;

/**
 * Estimates the entries of a range. Small ranges (the selective ones) are counted by walking
 * them: one binary-search descent and a few steps, cheaper than counting from subtree sizes;
 * their primary keys are kept in `walked` for the scan to reuse.
 */
function rangeRows(ix: IndexData, range: KeyRange, walked?: unknown[]): number {
  const c = new IndexCursor(ix.tree, range, false);
  const keys = walked ?? [];
  while (keys.length < WALK_AHEAD && c.next()) keys.push(c.key);
  if (keys.length < WALK_AHEAD) return keys.length;
  keys.length = 0;
  const distinct = ix.tree.countRange(range as never);
  const perKey = ix.keyCount === 0 ? 0 : ix.entries / ix.keyCount;
  return distinct * perKey;
}

/** Candidates for one term (a leaf). */
function leafCandidate(
  src: CollectionRef,
  e: ExprNode,
  i: number,
  hint: OrderHint | undefined,
  known?: number,
): Candidate | undefined {
  if (!('on' in e)) return undefined;
  const state = src.state;
  if (isPrimaryPath(src, e.on) && e.op !== 'contains') {
    const desc = hint?.id === e.on.id && hint.desc;
    if (e.op === 'eq' || e.op === 'in') {
      const values = e.op === 'in' ? e.values : [e.value];
      if (!values.every(isKey)) return undefined;
      const keys = sortedKeys(values, desc);
      const rows = Math.min(keys.length, state.size);
      const node = new PrimaryKeyLookup(src, keys);
      return {
        node,
        records: true,
        rows,
        walk: keys.length * C_FETCH,
        covers: [i],
        keyOrdered: !desc,
        orderedBy: { id: e.on.id, desc },
      };
    }
    const r = rangeOf(e);
    if (r === undefined) return undefined;
    const rows = known ?? state.data.countRange(r.range as never);
    const node = new PrimaryKeyRange(src, r.range, desc, rows);
    return {
      node,
      records: true,
      rows,
      walk: C_SEEK + rows * C_SCAN,
      covers: [i],
      keyOrdered: !desc,
      orderedBy: { id: e.on.id, desc },
    };
  }
  if (e.op === 'contains') {
    if (e.on.kind !== 'path' || !isKey(e.value)) return undefined;
    const ix = findIndex(src, `${e.on.id}[]`);
    if (ix === undefined || (typeof e.value === 'string' && ix.strings > 0)) return undefined;
    const rows = known ?? ix.count(e.value);
    return {
      node: new IndexProbe(src, ix.name, [e.value], rows, false),
      records: false,
      rows,
      walk: C_SEEK + rows * C_INDEX,
      covers: [i],
      keyOrdered: true,
    };
  }
  const ix = findIndex(src, e.on.id);
  if (ix === undefined) return undefined;
  const ordered = !ix.multi;
  const desc = ordered && hint?.id === e.on.id && hint.desc;
  if (e.op === 'eq' || e.op === 'in') {
    const values = e.op === 'in' ? e.values : [e.value];
    if (values.length === 0 || !values.every(isKey)) return undefined;
    const keys = sortedKeys(values, desc);
    let rows = 0;
    if (known !== undefined) rows = known;
    else if (ix.def.unique) rows = keys.length;
    else for (const k of keys) rows += ix.count(k);
    return {
      node: new IndexProbe(src, ix.name, keys, rows, ix.multi && keys.length > 1),
      records: false,
      rows,
      walk: keys.length * C_SEEK + rows * C_INDEX,
      covers: [i],
      keyOrdered: keys.length === 1,
      orderedBy: ordered ? { id: e.on.id, desc } : undefined,
    };
  }
  const r = rangeOf(e);
  if (r === undefined) return undefined;
  return rangeCandidate(src, ix, r.range, [i], desc, known);
}

function rangeCandidate(
  src: CollectionRef,
  ix: IndexData,
  range: KeyRange,
  covers: number[],
  desc: boolean,
  known?: number,
): Candidate {
  const walked: unknown[] = [];
  const rows = known ?? rangeRows(ix, range, walked);
  const node = new IndexRangeScan(src, ix.name, range, desc, rows, ix.multi);
  if (known === undefined && walked.length > 0) node.prefetch(src.state, walked);
  return {
    node,
    records: false,
    rows,
    walk: C_SEEK + rows * C_INDEX,
    covers,
    keyOrdered: false,
    orderedBy: ix.multi ? undefined : { id: ix.accessor.id, desc },
  };
}

/** Candidates for the conjuncts (leaves, merged ranges on one field, OR-merges). */
function candidates(src: CollectionRef, conj: readonly ExprNode[], hint: OrderHint | undefined): Candidate[] {
  const out: Candidate[] = [];
  let ranges: Map<string, { ix: IndexData; range: KeyRange; rank: number; covers: number[] }> | undefined;
  for (let i = 0; i < conj.length; i++) {
    const e = conj[i] as ExprNode;
    if (e.op === 'or') {
      const c = orCandidate(src, e.args, i);
      if (c !== undefined) out.push(c);
      continue;
    }
    const c = leafCandidate(src, e, i, hint);
    if (c === undefined) continue;
    out.push(c);
    if ('on' in e && c.node instanceof IndexRangeScan && c.node.range !== undefined) {
      const r = rangeOf(e);
      const ix = findIndex(src, e.on.id);
      // On a multi-valued path each term may hold for a different element: never merge those.
      if (r === undefined || ix === undefined || ix.multi) continue;
      const key = `${e.on.id}\u0000${r.rank}`;
      ranges ??= new Map();
      const prev = ranges.get(key);
      if (prev === undefined) ranges.set(key, { ix, range: r.range, rank: r.rank, covers: [i] });
      else {
        prev.range = intersectRanges(prev.range, r.range);
        prev.covers.push(i);
      }
    }
  }
  if (ranges === undefined) return out;
  for (const { ix, range, covers } of ranges.values()) {
    if (covers.length < 2) continue;
    const desc = !ix.multi && hint?.id === ix.accessor.id && hint.desc;
    out.push(rangeCandidate(src, ix, range, covers, desc));
  }
  return out;
}

/** The best index-driven plan for a predicate (records), or undefined when it needs a full scan. */
function indexedAccess(
  src: CollectionRef,
  pred: ExprNode,
): { node: PlanNode; rows: number; cost: number } | undefined {
  const conj = pred.op === 'and' ? pred.args : [pred];
  const cands = candidates(src, conj, undefined);
  let best: { c: Candidate; cost: number } | undefined;
  for (const c of cands) {
    const cost = jitter(
      c.walk + (c.records ? 0 : c.rows * C_FETCH) + (c.covers.length < conj.length ? c.rows * C_FILTER : 0),
    );
    if (best === undefined || cost < best.cost) best = { c, cost };
  }
  if (best === undefined) return undefined;
  const c = best.c;
  let node: PlanNode = c.records ? c.node : new Fetch(src, c.node);
  const rest = conj.filter((_, i) => !c.covers.includes(i));
  if (rest.length > 0) node = residual(node, rest);
  return { node, rows: node.estimate(), cost: best.cost };
}

function orCandidate(src: CollectionRef, branches: readonly ExprNode[], i: number): Candidate | undefined {
  const parts: PlanNode[] = [];
  let rows = 0;
  let walk = 0;
  for (const d of branches) {
    const a = indexedAccess(src, d);
    if (a === undefined) return undefined;
    parts.push(a.node);
    rows += a.rows;
    walk += a.cost;
  }
  rows = Math.min(rows, src.state.size);
  const node = new Union(parts, rows, src.state.primitiveKeys);
  return { node, records: true, rows, walk: walk + rows * C_SET, covers: [i], keyOrdered: false };
}

function residual(node: PlanNode, rest: readonly ExprNode[]): PlanNode {
  const e: ExprNode = rest.length === 1 ? (rest[0] as ExprNode) : { op: 'and', args: rest };
  return new Filter(node, compile(e), () => describeExpr(e), guessSelectivity(e));
}

function selectivities(conj: readonly ExprNode[], cands: readonly Candidate[], n: number): number[] {
  return conj.map((e, i) => {
    let best: number | undefined;
    for (const c of cands) {
      if (c.covers.length === 1 && c.covers[0] === i)
        best = best === undefined ? c.rows : Math.min(best, c.rows);
    }
    if (best !== undefined && n > 0) return Math.min(1, best / n);
    return guessSelectivity(e);
  });
}

function maskOf(covers: readonly number[]): number {
  let m = 0;
  for (const i of covers) m |= 1 << i;
  return m;
}

// --- plan cache --------------------------------------------------------------------------
//
// Planning costs more than running a selective query, so the choice made for a query *shape*
// (the terms' operators, fields and operand types, the order and whether there is a limit) is
// kept with the collection version it was made for and reused for later queries of that shape
// with other constants. A shape is cached after it has been planned a few times (so the choice
// reflects warmed-up index membership sets), and a cached choice is dropped when its driving
// access no longer looks selective for the new constants (a cheap check: memoized key counts,
// or a bounded walk of a range).

/** A candidate in a recipe: the conjuncts it answers and its estimate when it was chosen. */
interface CandidateRef {
  readonly covers: readonly number[];
  readonly rows: number;
}

/** A chosen option without its constants. */
interface Recipe {
  readonly kind: Option['kind'];
  readonly ordered: boolean;
  readonly reverse: boolean;
  readonly driver?: CandidateRef;
  readonly members?: readonly CandidateRef[];
  readonly parts?: readonly CandidateRef[];
  readonly covered?: number;
  readonly rows?: number;
  readonly index?: string;
}

interface CacheEntry {
  seen: number;
  recipe: Recipe | undefined;
}

const CACHE_AFTER = 3;
const CACHE_ENTRIES = 256;
const caches = new WeakMap<object, Map<string, CacheEntry>>();

function cacheOf(state: object): Map<string, CacheEntry> {
  let c = caches.get(state);
  if (c === undefined) {
    c = new Map();
    caches.set(state, c);
  }
  return c;
}

function operandTag(v: unknown): string {
  return isKey(v) ? String(keyRank(v)) : 'x';
}

/** The shape of a conjunct as far as planning goes, or undefined when plans of it are not cached. */
function shapeOf(e: ExprNode): string | undefined {
  switch (e.op) {
    case 'eq':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return `${e.op}:${e.on.id}:${operandTag(e.value)}`;
    case 'in':
      return `in:${e.on.id}:${e.values.length}:${e.values.every(isKey)}`;
    case 'between':
      return `bt:${e.on.id}:${operandTag(e.low)}:${operandTag(e.high)}`;
    case 'contains':
      return `ct:${e.on.id}:${typeof e.value}:${isKey(e.value)}`;
    case 'startsWith':
      return `sw:${e.on.id}`;
    case 'or':
      return undefined;
    default:
      // Never an access (ne, exists, isNull, not, predicates): only ever a residual filter.
      return 'r';
  }
}

function shapeKey(
  conj: readonly ExprNode[],
  order: readonly SortKey[] | undefined,
  bound: number | undefined,
): string | undefined {
  let key = bound === undefined ? '' : 'L';
  if (order !== undefined) for (const k of order) key += `|${k.accessorId ?? '?'}${k.desc ? '-' : '+'}`;
  for (const e of conj) {
    const shape = shapeOf(e);
    if (shape === undefined) return undefined;
    key += `&${shape}`;
  }
  return key;
}

function refOf(c: Candidate): CandidateRef {
  return { covers: c.covers, rows: c.rows };
}

function toRecipe(o: Option): Recipe | undefined {
  const refs = [o.driver, ...(o.members ?? []), ...(o.parts ?? [])];
  // OR-merges are planned branch by branch: not reused.
  if (refs.some((c) => c !== undefined && c.node instanceof Union)) return undefined;
  return {
    kind: o.kind,
    ordered: o.ordered,
    reverse: o.reverse === true,
    ...(o.driver === undefined ? {} : { driver: refOf(o.driver) }),
    ...(o.members === undefined ? {} : { members: o.members.map(refOf) }),
    ...(o.parts === undefined ? {} : { parts: o.parts.map(refOf) }),
    ...(o.covered === undefined ? {} : { covered: o.covered }),
    ...(o.rows === undefined ? {} : { rows: o.rows }),
    ...(o.index === undefined ? {} : { index: o.index.name }),
  };
}

/** Rebuilds a candidate for new constants without estimating it. */
function rebuild(
  src: CollectionRef,
  conj: readonly ExprNode[],
  ref: CandidateRef,
  hint: OrderHint | undefined,
): Candidate | undefined {
  if (ref.covers.length === 1) {
    const i = ref.covers[0] as number;
    return leafCandidate(src, conj[i] as ExprNode, i, hint, ref.rows);
  }
  let range: KeyRange | undefined;
  let ix: IndexData | undefined;
  for (const i of ref.covers) {
    const e = conj[i] as ExprNode;
    const r = rangeOf(e);
    if (r === undefined || !('on' in e)) return undefined;
    ix ??= findIndex(src, e.on.id);
    range = range === undefined ? r.range : intersectRanges(range, r.range);
  }
  if (ix === undefined || range === undefined) return undefined;
  const desc = !ix.multi && hint?.id === ix.accessor.id && hint.desc;
  return rangeCandidate(src, ix, range, [...ref.covers], desc, ref.rows);
}

/** Still selective enough for the recipe? A cheap re-estimate of the driving access. */
function stillFits(c: Candidate, ref: CandidateRef): boolean {
  const node = c.node;
  let now: number;
  if (node instanceof IndexProbe) {
    const ix = node.src.state.index(node.index);
    if (ix === undefined) return false;
    now = 0;
    for (const k of node.keys) now += ix.count(k);
  } else if (node instanceof IndexRangeScan && node.range !== undefined) {
    const ix = node.src.state.index(node.index);
    if (ix === undefined) return false;
    const walked: unknown[] = [];
    now = rangeRows(ix, node.range, walked);
    if (walked.length > 0) node.prefetch(node.src.state, walked);
  } else return true;
  return now <= ref.rows * 4 + 32 && ref.rows <= now * 4 + 32;
}

function fromRecipe(
  src: CollectionRef,
  r: Recipe,
  conj: readonly ExprNode[],
  req: AccessRequest,
): PlanNode | undefined {
  const order = req.order;
  const single = order !== undefined && order.length === 1 ? (order[0] as SortKey) : undefined;
  const hint: OrderHint | undefined =
    single?.accessorId === undefined ? undefined : { id: single.accessorId, desc: single.desc };
  const get = (ref: CandidateRef) => rebuild(src, conj, ref, hint);
  let option: Option;
  switch (r.kind) {
    case 'scan':
    case 'walk': {
      const ix = r.index === undefined ? undefined : src.state.index(r.index);
      if (r.kind === 'walk' && ix === undefined) return undefined;
      option = {
        kind: r.kind,
        cost: 0,
        ordered: r.ordered,
        reverse: r.reverse,
        ...(ix === undefined ? {} : { index: ix }),
      };
      break;
    }
    case 'driver':
    case 'members': {
      const driver = get(r.driver as CandidateRef);
      if (driver === undefined || !stillFits(driver, r.driver as CandidateRef)) return undefined;
      const members: Candidate[] = [];
      for (const m of r.members ?? []) {
        const c = get(m);
        if (c === undefined) return undefined;
        members.push(c);
      }
      option = { kind: r.kind, cost: 0, ordered: r.ordered, driver, members };
      break;
    }
    default: {
      const parts: Candidate[] = [];
      for (const p of r.parts ?? []) {
        const c = get(p);
        if (c === undefined) return undefined;
        parts.push(c);
      }
      if (!stillFits(parts[0] as Candidate, (r.parts as CandidateRef[])[0] as CandidateRef)) return undefined;
      option = {
        kind: 'intersect',
        cost: 0,
        ordered: r.ordered,
        parts,
        covered: r.covered as number,
        rows: r.rows as number,
      };
    }
  }
  const bound = req.limit === undefined ? undefined : req.offset + req.limit;
  return finishPlan(buildOption(src, option, conj, src.state.size), option.ordered, req, bound);
}

/** Candidates by ascending rows (an insertion sort: the lists are tiny). */
function byRows(list: Candidate[]): Candidate[] {
  for (let i = 1; i < list.length; i++) {
    const c = list[i] as Candidate;
    let j = i - 1;
    while (j >= 0 && (list[j] as Candidate).rows > c.rows) {
      list[j + 1] = list[j] as Candidate;
      j--;
    }
    list[j + 1] = c;
  }
  return list;
}

/** One way to run the read, with its estimated cost. */
interface Option {
  readonly cost: number;
  /** The rows come out in the requested order. */
  readonly ordered: boolean;
  readonly kind: 'scan' | 'driver' | 'members' | 'intersect' | 'walk';
  /** scan: walk the primary tree backwards. walk: walk the index descending. */
  readonly reverse?: boolean;
  /** driver / members: the access that drives the plan. */
  readonly driver?: Candidate;
  /** members: equality probes checked against the index for each primary key. */
  readonly members?: readonly Candidate[];
  /** intersect: the accesses merged, smallest first, and the conjuncts they answer. */
  readonly parts?: readonly Candidate[];
  /** intersect: bit i set when conjunct i is answered. */
  readonly covered?: number;
  readonly rows?: number;
  /** walk: the index walked in order. */
  readonly index?: IndexData;
}

function withResidual(
  access: PlanNode,
  conj: readonly ExprNode[],
  answered: (i: number) => boolean,
): PlanNode {
  let rest: ExprNode[] | undefined;
  for (let i = 0; i < conj.length; i++) if (!answered(i)) (rest ??= []).push(conj[i] as ExprNode);
  return rest === undefined ? access : residual(access, rest);
}

function buildOption(src: CollectionRef, o: Option, conj: readonly ExprNode[], n: number): PlanNode {
  switch (o.kind) {
    case 'scan':
      return withResidual(new FullScan(src, o.reverse === true), conj, () => false);
    case 'driver': {
      const c = o.driver as Candidate;
      const access = c.records ? c.node : new Fetch(src, c.node);
      return withResidual(access, conj, (i) => c.covers.includes(i));
    }
    case 'members': {
      const c = o.driver as Candidate;
      let node = c.node;
      const answered = new Set(c.covers);
      for (const m of o.members as Candidate[]) {
        const probe = m.node as IndexProbe;
        node = new IndexMember(src, node, probe.index, probe.keys[0] as Key, n === 0 ? 1 : m.rows / n);
        for (const i of m.covers) answered.add(i);
      }
      return withResidual(new Fetch(src, node), conj, (i) => answered.has(i));
    }
    case 'intersect': {
      const parts = (o.parts as Candidate[]).map((c) => c.node);
      const node = new Intersect(parts, o.rows as number, src.state.primitiveKeys);
      const covered = o.covered as number;
      return withResidual(new Fetch(src, node), conj, (i) => (covered & (1 << i)) !== 0);
    }
    default: {
      const ix = o.index as IndexData;
      const walk = new IndexRangeScan(src, ix.name, undefined, o.reverse === true, n, false);
      return withResidual(new Fetch(src, walk), conj, () => false);
    }
  }
}

function stopEarly(cost: number, rows: number, bound: number | undefined): number {
  return bound === undefined ? cost : cost * Math.min(1, bound / Math.max(rows, 1));
}

/**
 * Plans a read of a collection: access path, residual filter, order and limit. The result
 * produces records with their primary keys as row keys.
 */
export function planCollection(src: CollectionRef, req: AccessRequest): PlanNode {
  const pred = req.pred === undefined ? TRUE : normalize(req.pred);
  if (pred.op === 'const' && !pred.value) return new Empty('the predicate is always false');
  const conj = pred.op === 'and' ? pred.args : pred.op === 'const' ? [] : [pred];
  const bound = req.limit === undefined ? undefined : req.offset + req.limit;
  const key = req.fresh === true ? undefined : shapeKey(conj, req.order, bound);
  let entry: CacheEntry | undefined;
  if (key !== undefined) {
    const cache = cacheOf(src.state);
    entry = cache.get(key);
    if (entry === undefined) {
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      entry = { seen: 0, recipe: undefined };
      cache.set(key, entry);
    }
    if (entry.recipe !== undefined) {
      const reused = fromRecipe(src, entry.recipe, conj, req);
      if (reused !== undefined) return reused;
      entry.recipe = undefined;
      entry.seen = 0;
    }
  }
  const { node, recipe } = planFresh(src, conj, req, bound);
  if (entry !== undefined && ++entry.seen >= CACHE_AFTER && recipe !== undefined) entry.recipe = recipe;
  return node;
}

function planFresh(
  src: CollectionRef,
  conj: readonly ExprNode[],
  req: AccessRequest,
  bound: number | undefined,
): { node: PlanNode; recipe: Recipe | undefined } {
  const state = src.state;
  const n = state.size;
  const nc = conj.length;
  const order = req.order;
  const single = order !== undefined && order.length === 1 ? (order[0] as SortKey) : undefined;
  const hint: OrderHint | undefined =
    single?.accessorId === undefined ? undefined : { id: single.accessorId, desc: single.desc };
  const cands = candidates(src, conj, hint);
  const sel = selectivities(conj, cands, n);
  let outRows = n;
  for (const s of sel) outRows *= s;
  const byPk = hint !== undefined && state.keyPath !== undefined && hint.id === state.keyPath;
  const needOrder = order !== undefined && order.length > 0;
  const options: Option[] = [];

  // Full scan.
  {
    const ordered = !needOrder || byPk;
    const cost = n * C_SCAN + (nc > 0 ? n * C_FILTER : 0);
    options.push({
      kind: 'scan',
      cost: ordered ? stopEarly(cost, outRows, bound) : cost,
      ordered,
      reverse: byPk && (hint as OrderHint).desc,
    });
  }
  // One access driving the plan.
  for (const c of cands) {
    const ordered =
      !needOrder ||
      (hint !== undefined &&
        c.orderedBy !== undefined &&
        c.orderedBy.id === hint.id &&
        c.orderedBy.desc === hint.desc) ||
      (byPk && !(hint as OrderHint).desc && c.keyOrdered);
    const cost = c.walk + (c.records ? 0 : c.rows * C_FETCH) + (c.covers.length < nc ? c.rows * C_FILTER : 0);
    options.push({
      kind: 'driver',
      cost: ordered ? stopEarly(cost, outRows, bound) : cost,
      ordered,
      driver: c,
    });
  }
  let streams: Candidate[] | undefined;
  for (const c of cands) if (!c.records) (streams ??= []).push(c);
  // Merges track answered conjuncts in a bit mask: beyond 30 terms only single accesses are planned.
  if (nc > 30) streams = undefined;
  const allConjuncts = nc >= 31 ? -1 : (1 << nc) - 1;
  // AND-merge by probing: one access drives, equality terms on other indexes filter its
  // primary keys before any record is fetched.
  if (streams !== undefined && streams.length >= 2 && n > 0) {
    const probes = byRows(streams.filter((c) => c.node instanceof IndexProbe && c.node.keys.length === 1));
    for (const d of streams) {
      let covered = maskOf(d.covers);
      let rows = d.rows;
      let cost = d.walk;
      const members: Candidate[] = [];
      for (const m of probes) {
        const mask = maskOf(m.covers);
        if (m === d || (covered & mask) !== 0) continue;
        const probe = m.node as IndexProbe;
        const each = src.state.index(probe.index)?.memberIsCheap(probe.keys[0] as Key)
          ? C_MEMBER_CACHED
          : C_MEMBER;
        const sel = Math.min(1, m.rows / n);
        if (jitter(each) < jitter((1 - sel) * C_FETCH)) {
          members.push(m);
          cost += rows * each;
          rows *= sel;
          covered |= mask;
        }
      }
      if (members.length === 0) continue;
      const ordered =
        !needOrder ||
        (hint !== undefined &&
          d.orderedBy !== undefined &&
          d.orderedBy.id === hint.id &&
          d.orderedBy.desc === hint.desc);
      cost += rows * C_FETCH + (covered !== allConjuncts ? rows * C_FILTER : 0);
      options.push({
        kind: 'members',
        cost: ordered ? stopEarly(cost, outRows, bound) : cost,
        ordered,
        driver: d,
        members,
      });
    }
  }
  // AND-merge by intersection: smallest first, adding an index while it saves more fetches
  // than it costs.
  if (streams !== undefined && streams.length >= 2 && n > 0) {
    streams = byRows(streams);
    const first = streams[0] as Candidate;
    const chosen: Candidate[] = [first];
    let covered = maskOf(first.covers);
    let est = first.rows;
    let cost = est * (C_INDEX + C_SET) + C_SEEK;
    for (let k = 1; k < streams.length; k++) {
      const c = streams[k] as Candidate;
      const mask = maskOf(c.covers);
      if ((covered & mask) !== 0) continue;
      const next = (est * c.rows) / n;
      const add = c.walk + c.rows * C_SET;
      if (jitter(add + next * C_FETCH) < jitter(est * C_FETCH)) {
        chosen.push(c);
        covered |= mask;
        est = next;
        cost += add;
      }
    }
    if (chosen.length >= 2) {
      const total = cost + est * C_FETCH + (covered !== allConjuncts ? est * C_FILTER : 0);
      options.push({
        kind: 'intersect',
        cost: total,
        ordered: !needOrder,
        parts: chosen,
        covered,
        rows: est,
      });
    }
  }
  // Ordered walk of the index on the sort key (every record must be in that index).
  if (hint !== undefined && !byPk) {
    const ix = findIndex(src, hint.id);
    if (ix !== undefined && !ix.multi && ix.covered === n) {
      const fraction = n === 0 ? 1 : Math.max(outRows / n, 1 / n);
      const walked = bound === undefined ? n : Math.min(n, bound / fraction);
      const cost = walked * (C_INDEX + C_FETCH) + (nc > 0 ? walked * C_FILTER : 0) + C_SEEK;
      options.push({ kind: 'walk', cost, ordered: true, index: ix, reverse: hint.desc });
    }
  }
  let best = options[0] as Option;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const o of options) {
    const total = jitter(o.cost + (needOrder && !o.ordered ? sortCost(outRows, bound) : 0));
    if (total < bestCost) {
      best = o;
      bestCost = total;
    }
  }
  return {
    node: finishPlan(buildOption(src, best, conj, n), best.ordered, req, bound),
    recipe: toRecipe(best),
  };
}

function finishPlan(
  access: PlanNode,
  ordered: boolean,
  req: AccessRequest,
  bound: number | undefined,
): PlanNode {
  let node = access;
  const order = req.order;
  if (order !== undefined && order.length > 0 && !ordered) node = new Sort(node, order, bound, true);
  if (req.offset > 0 || req.limit !== undefined) node = new Limit(node, req.offset, req.limit);
  return node;
}

/**
 * Plans `count()` of a filtered collection: answered from an index when one term covers the
 * whole predicate (equality, IN or range on a single-valued index), else by counting the rows
 * of the best access plan.
 */
export function planCollectionCount(src: CollectionRef, pred: ExprNode | undefined, fresh = false): PlanNode {
  const p = pred === undefined ? TRUE : normalize(pred);
  if (p.op === 'const')
    return p.value ? new SizeCount(src) : new Count(new Empty('the predicate is always false'));
  if ('on' in p && !isPrimaryPath(src, p.on)) {
    const ix = findIndex(src, p.on.id);
    if (ix !== undefined && !ix.multi) {
      if ((p.op === 'eq' && isKey(p.value)) || (p.op === 'in' && p.values.every(isKey))) {
        const values = p.op === 'in' ? p.values : [p.value];
        return new IndexCount(src, ix.name, sortedKeys(values, false), undefined);
      }
      const r = rangeOf(p);
      if (r !== undefined) return new IndexCount(src, ix.name, undefined, r.range);
    }
  }
  return new Count(planCollection(src, { pred: p, order: undefined, offset: 0, limit: undefined, fresh }));
}
