/**
 * Access candidates: for each term of a conjunction, the index (or primary-key) access that
 * answers it, with its estimated rows and cost. Equality probes are counted exactly (memoized
 * per index version), ranges by walking them when small and from subtree counts otherwise;
 * range terms on one single-valued field merge into one range; a disjunction whose every
 * branch has an index access becomes an OR-merge.
 */
import { compareKeys, type Dictionary, type Key, type KeyRange } from '@proto/collections';
import { compile, guessSelectivity } from '../compile.js';
import { type Accessor, describeExpr, type ExprNode } from '../expr.js';
import { IndexCursor, type IndexData } from '../index-data.js';
import type { IndexAccessPath } from '../index-kind.js';
import { isKey, keyRank, prefixEnd, RANK_ARRAY, RANK_DATE, RANK_STRING, rankMin } from '../values.js';
import { type CollectionRef, Fetch, PrimaryKeyLookup, PrimaryKeyRange } from './access.js';
import { C_FETCH, C_FILTER, C_INDEX, C_SCAN, C_SEEK, C_SET, jitter } from './cost.js';
import { IndexProbe, IndexRangeScan, KindAccess, Union } from './index-access.js';
import type { PlanNode } from './node.js';
import { Filter } from './relational.js';

/** An access that answers some conjuncts, with its estimate. */
export interface Candidate {
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

/** The order a query asks for, when it is one accessor (the one an index walk can give). */
export interface OrderHint {
  readonly id: string;
  readonly desc: boolean;
}

/** The predicate of a query without `where`. */
export const TRUE: ExprNode = { op: 'const', value: true };

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
export function intersectRanges(a: KeyRange, b: KeyRange): KeyRange {
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

/** Distinct keys in key order (reversed for a descending walk). */
export function sortedKeys(values: readonly unknown[], desc: boolean): Key[] {
  if (values.length === 1) return values as Key[];
  const keys = (values as Key[]).slice().sort(compareKeys);
  const out: Key[] = [];
  for (const k of keys) if (out.length === 0 || compareKeys(out[out.length - 1], k) !== 0) out.push(k);
  return desc ? out.reverse() : out;
}

/** The index answering an accessor, if any. */
export function findIndex(src: CollectionRef, id: string): IndexData | undefined {
  for (const ix of src.state.ordered) if (ix.accessor.id === id) return ix;
  return undefined;
}

/** True when the accessor is the collection's primary-key path. */
export function isPrimaryPath(src: CollectionRef, on: Accessor): boolean {
  return on.kind === 'path' && !on.path.multi && on.path.text === src.state.keyPath;
}

/** How many index entries a range walk reads before the estimate switches to counting. */
export const WALK_AHEAD = 64;

/**
 * Estimates the entries of a range. Small ranges (the selective ones) are counted by walking
 * them: one binary-search descent and a few steps, cheaper than counting from subtree sizes;
 * their primary keys are kept in `walked` for the scan to reuse.
 */
export function rangeRows(
  ix: { readonly tree: Dictionary; readonly entries: number },
  range: KeyRange,
  walked?: unknown[],
): number {
  const c = new IndexCursor(ix.tree, range, false);
  const keys = walked ?? [];
  while (keys.length < WALK_AHEAD && c.next()) keys.push(c.key);
  if (keys.length < WALK_AHEAD) return keys.length;
  keys.length = 0;
  const distinct = ix.tree.countRange(range as never);
  const perKey = ix.tree.size === 0 ? 0 : ix.entries / ix.tree.size;
  return distinct * perKey;
}

/** Candidates for one term (a leaf). */
export function leafCandidate(
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

/** The candidate for a range walk of an index. */
export function rangeCandidate(
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
export function candidates(
  src: CollectionRef,
  conj: readonly ExprNode[],
  hint: OrderHint | undefined,
): Candidate[] {
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
  if (src.state.others.length > 0) kindCandidates(src, conj, out);
  if (ranges === undefined) return out;
  for (const { ix, range, covers } of ranges.values()) {
    if (covers.length < 2) continue;
    const desc = !ix.multi && hint?.id === ix.accessor.id && hint.desc;
    out.push(rangeCandidate(src, ix, range, covers, desc));
  }
  return out;
}

/**
 * The access paths that indexes of other kinds offer for the conjuncts (through their kind's
 * `accessPaths`), as candidates. A path must cover at least one conjunct; its estimate is kept
 * within the collection's size.
 */
function kindCandidates(src: CollectionRef, conj: readonly ExprNode[], out: Candidate[]): void {
  for (const ix of src.state.others) {
    for (const p of ix.kind.accessPaths(ix.instance, conj, { records: src.state.size })) {
      const c = kindCandidate(src, ix.name, p, conj.length);
      if (c !== undefined) out.push(c);
    }
  }
}

/** A kind's access path as a candidate, or undefined when its `covers` are not positions of `conj`. */
export function kindCandidate(
  src: CollectionRef,
  index: string,
  p: IndexAccessPath,
  terms: number,
): Candidate | undefined {
  const n = src.state.size;
  const covers = p.covers.filter((i) => Number.isInteger(i) && i >= 0 && i < terms);
  if (covers.length === 0 || covers.length !== p.covers.length) return undefined;
  const rows = Math.max(0, Math.min(Number.isFinite(p.rows) ? p.rows : n, n));
  const walk = p.cost !== undefined && Number.isFinite(p.cost) ? p.cost : C_SEEK + rows * C_INDEX;
  return {
    node: new KindAccess(src, index, p),
    records: false,
    rows,
    walk,
    covers: [...new Set(covers)],
    keyOrdered: false,
  };
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

/** A filter of the terms no access answers. */
export function residual(node: PlanNode, rest: readonly ExprNode[]): PlanNode {
  const e: ExprNode = rest.length === 1 ? (rest[0] as ExprNode) : { op: 'and', args: rest };
  return new Filter(node, compile(e), () => describeExpr(e), guessSelectivity(e));
}

/** Per conjunct: the fraction of records it keeps (from its index when one answers it). */
export function selectivities(conj: readonly ExprNode[], cands: readonly Candidate[], n: number): number[] {
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

/** The bit mask of a candidate's conjuncts. */
export function maskOf(covers: readonly number[]): number {
  let m = 0;
  for (const i of covers) m |= 1 << i;
  return m;
}
