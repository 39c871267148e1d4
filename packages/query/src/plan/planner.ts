/**
 * The optimizer for reads of an `IndexedCollection`: turns a predicate, an order and a limit
 * into an access plan, choosing by estimated cost among
 * - a full scan with a filter,
 * - one index (or primary-key) access driving the plan, the other terms as a residual filter,
 * - an AND-merge that probes the smallest access and checks the other equality terms against
 *   their indexes (`IndexMember`) before fetching any record,
 * - an AND-merge by intersection of several index accesses (smallest first) when narrowing the
 *   candidate set saves more record fetches than it costs,
 * - an OR-merge when every branch of a disjunction has an index access,
 * - an ordered walk of the index on the sort key (no sort; stops after the limit),
 * then adds the residual filter, a sort (top-k when limited) unless the access already yields
 * the order, and the limit. Estimates come from the indexes: exact counts for equality probes,
 * walked or counted entries for ranges, default selectivities for terms no index answers,
 * combined as if independent. Choices are cached per query shape (`plan-cache.ts`).
 */
import type { Key } from '@proto/collections';
import { normalize } from '../compile.js';
import type { ExprNode } from '../expr.js';
import { isKey } from '../values.js';
import { type CollectionRef, Empty, SizeCount } from './access.js';
import {
  type Candidate,
  candidates,
  findIndex,
  isPrimaryPath,
  maskOf,
  type OrderHint,
  rangeOf,
  selectivities,
  sortedKeys,
  TRUE,
} from './candidates.js';
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
import { IndexCount, IndexProbe } from './index-access.js';
import type { PlanNode } from './node.js';
import { type AccessRequest, buildOption, byRows, finishPlan, type Option, stopEarly } from './options.js';
import {
  CACHE_AFTER,
  CACHE_ENTRIES,
  type CacheEntry,
  cacheOf,
  fromRecipe,
  type Recipe,
  shapeKey,
  toRecipe,
} from './plan-cache.js';
import { Count } from './relational.js';
import type { SortKey } from './sort.js';

export type { AccessRequest } from './options.js';

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
        const each = src.state.orderedIndex(probe.index)?.memberIsCheap(probe.keys[0] as Key)
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
