/**
 * From the steps of a query to its plan. The leading `where` / `orderBy` / `offset` /
 * `limit` steps over a collection are planned together by the optimizer (`planCollection`);
 * `select(path).distinct()` over a complete index reads the index's keys; every later step
 * becomes a row operator, in the order written (`offset`/`limit` move before projections).
 */
import { Dictionary, type Key } from '@proto/collections';
import { compile, guessSelectivity, normalize } from '../compile.js';
import { describeExpr, type ExprNode } from '../expr.js';
import { IndexedCollection } from '../indexed-collection.js';
import { CollectionRef, Observe } from './access.js';
import { GroupBy, type NamedAggregate } from './group.js';
import { IndexKeys } from './index-access.js';
import { HashJoin, type JoinKind } from './join.js';
import type { PlanNode } from './node.js';
import { planCollection, planCollectionCount } from './planner.js';
import { Count, Distinct, Filter, Flatten, Limit, Project } from './relational.js';
import { ArrayScan, DictionaryScan, IterableScan } from './scans.js';
import { Sort, type SortKey } from './sort.js';

/** Method key: a query's plan (`fresh`: without the plan cache). */
export const QUERY_PLAN: unique symbol = Symbol('query-plan') as never;

/** A query, as a source of another query. */
export interface PlannedSource {
  [QUERY_PLAN](fresh: boolean): PlanNode;
}

function isQuery(value: unknown): value is PlannedSource {
  return typeof value === 'object' && value !== null && QUERY_PLAN in value;
}

/** One step of a query, in the order written. */
export type Step =
  | { readonly kind: 'where'; readonly expr: ExprNode }
  | { readonly kind: 'orderBy'; readonly key: SortKey }
  | { readonly kind: 'offset'; readonly n: number }
  | { readonly kind: 'limit'; readonly n: number }
  | {
      readonly kind: 'select';
      readonly fn: (row: unknown) => unknown;
      readonly text: string;
      readonly path?: string;
    }
  | { readonly kind: 'distinct'; readonly by: ((row: unknown) => unknown) | undefined; readonly text: string }
  | {
      readonly kind: 'groupBy';
      readonly by: (row: unknown) => unknown;
      readonly text: string;
      readonly aggs: readonly NamedAggregate[] | undefined;
    }
  | {
      readonly kind: 'join';
      readonly right: unknown;
      readonly leftKey: (row: unknown) => unknown;
      readonly rightKey: (row: unknown) => unknown;
      readonly join: JoinKind;
      readonly select: (l: unknown, r: unknown) => unknown;
      readonly text: string;
    }
  | { readonly kind: 'flatten'; readonly of: (row: unknown) => unknown; readonly text: string };

/**
 * Moves `offset`/`limit` before the projections that precede them (a projection maps rows one
 * to one, so the result is the same), so that a limit reaches the access plan: an ordered index
 * walk then knows how far it will be read.
 */
function pushLimitsDown(steps: readonly Step[]): readonly Step[] {
  let out: Step[] | undefined;
  for (let i = 1; i < steps.length; i++) {
    const s = (out ?? steps)[i] as Step;
    if (s.kind !== 'limit' && s.kind !== 'offset') continue;
    let j = i;
    while (j > 0 && ((out ?? steps)[j - 1] as Step).kind === 'select') {
      out ??= [...steps];
      [out[j - 1], out[j]] = [out[j] as Step, out[j - 1] as Step];
      j--;
    }
  }
  return out ?? steps;
}

function sourcePlan(
  source: unknown,
  label: string,
  pred: ExprNode | undefined,
  order: SortKey[],
  offset: number,
  limit: number | undefined,
  counting: boolean,
  fresh: boolean,
): PlanNode {
  if (source instanceof IndexedCollection) {
    const coll = source as IndexedCollection<unknown, Key>;
    const ref = new CollectionRef(coll, coll._state(), label);
    const node = counting
      ? planCollectionCount(ref, pred, fresh)
      : planCollection(ref, { pred, order: order.length > 0 ? order : undefined, offset, limit, fresh });
    return coll._tracked ? new Observe(ref, node) : node;
  }
  let node: PlanNode;
  if (isQuery(source)) node = source[QUERY_PLAN](fresh);
  else if (source instanceof Dictionary) node = new DictionaryScan(source, label);
  else if (Array.isArray(source)) node = new ArrayScan(source, label);
  else node = new IterableScan(source as Iterable<unknown>, label);
  if (pred !== undefined) {
    const e = normalize(pred);
    node = new Filter(node, compile(e), () => describeExpr(e), guessSelectivity(e));
  }
  if (order.length > 0) {
    const bound = limit === undefined ? undefined : offset + limit;
    node = new Sort(node, order, bound, node.keyOrdered());
  }
  if (offset > 0 || limit !== undefined) node = new Limit(node, offset, limit);
  if (counting) node = new Count(node);
  return node;
}

/** The leading `where` predicates and `orderBy` keys of `steps`, and the index of the step after them. */
export function leadingSteps(steps: readonly Step[]): { preds: ExprNode[]; order: SortKey[]; next: number } {
  let i = 0;
  const preds: ExprNode[] = [];
  while (i < steps.length && (steps[i] as Step).kind === 'where')
    preds.push((steps[i++] as { expr: ExprNode }).expr);
  const order: SortKey[] = [];
  while (i < steps.length && (steps[i] as Step).kind === 'orderBy')
    order.push((steps[i++] as { key: SortKey }).key);
  return { preds, order, next: i };
}

export function buildPlan(
  source: unknown,
  label: string,
  given: readonly Step[],
  counting: boolean,
  fresh: boolean,
): PlanNode {
  const steps = pushLimitsDown(given);
  const lead = leadingSteps(steps);
  let i = lead.next;
  const { preds, order } = lead;
  let offset = 0;
  let limit: number | undefined;
  while (i < steps.length) {
    const s = steps[i] as Step;
    if (s.kind === 'offset') {
      offset += s.n;
      if (limit !== undefined) limit = Math.max(0, limit - s.n);
    } else if (s.kind === 'limit') {
      limit = limit === undefined ? s.n : Math.min(limit, s.n);
    } else break;
    i++;
  }
  const pred: ExprNode | undefined =
    preds.length === 0 ? undefined : preds.length === 1 ? preds[0] : { op: 'and', args: preds };
  // select(path).distinct() straight over a collection: the keys of a complete index on that path.
  if (
    !counting &&
    i === 0 &&
    source instanceof IndexedCollection &&
    steps[0]?.kind === 'select' &&
    steps[0].path !== undefined &&
    steps[1]?.kind === 'distinct' &&
    steps[1].by === undefined
  ) {
    const coll = source as IndexedCollection<unknown, Key>;
    const ref = new CollectionRef(coll, coll._state(), label);
    const path = steps[0].path;
    const ix = ref.state.ordered.find(
      (x) => x.accessor.id === path && !x.multi && x.covered === ref.state.size,
    );
    if (ix !== undefined) {
      const keys = new IndexKeys(ref, ix.name, ix.keyCount);
      return rest(coll._tracked ? new Observe(ref, keys) : keys, steps, 2, counting, fresh);
    }
  }
  const onlyFilters = i === steps.length && order.length === 0 && offset === 0 && limit === undefined;
  const node = sourcePlan(source, label, pred, order, offset, limit, counting && onlyFilters, fresh);
  if (counting && onlyFilters) return node;
  return rest(node, steps, i, counting, fresh);
}

function rest(
  node: PlanNode,
  steps: readonly Step[],
  from: number,
  counting: boolean,
  fresh: boolean,
): PlanNode {
  let i = from;
  while (i < steps.length) {
    const s = steps[i] as Step;
    switch (s.kind) {
      case 'where': {
        const e = normalize(s.expr);
        node = new Filter(node, compile(e), () => describeExpr(e), guessSelectivity(e));
        i++;
        break;
      }
      case 'orderBy': {
        const keys: SortKey[] = [];
        while (i < steps.length && (steps[i] as Step).kind === 'orderBy')
          keys.push((steps[i++] as { key: SortKey }).key);
        let offset = 0;
        let limit: number | undefined;
        while (i < steps.length) {
          const t = steps[i] as Step;
          if (t.kind === 'offset') {
            offset += t.n;
            if (limit !== undefined) limit = Math.max(0, limit - t.n);
          } else if (t.kind === 'limit') limit = limit === undefined ? t.n : Math.min(limit, t.n);
          else break;
          i++;
        }
        node = new Sort(node, keys, limit === undefined ? undefined : offset + limit, node.keyOrdered());
        if (offset > 0 || limit !== undefined) node = new Limit(node, offset, limit);
        break;
      }
      case 'offset':
      case 'limit': {
        let offset = 0;
        let limit: number | undefined;
        while (i < steps.length) {
          const t = steps[i] as Step;
          if (t.kind === 'offset') {
            offset += t.n;
            if (limit !== undefined) limit = Math.max(0, limit - t.n);
          } else if (t.kind === 'limit') limit = limit === undefined ? t.n : Math.min(limit, t.n);
          else break;
          i++;
        }
        node = new Limit(node, offset, limit);
        break;
      }
      case 'select':
        node = new Project(node, s.fn, s.text);
        i++;
        break;
      case 'distinct':
        node = new Distinct(node, s.by, s.text);
        i++;
        break;
      case 'groupBy':
        node = new GroupBy(node, s.by, s.text, s.aggs);
        i++;
        break;
      case 'join': {
        const right = isQuery(s.right)
          ? s.right[QUERY_PLAN](fresh)
          : buildPlan(s.right, 'right', [], false, fresh);
        node = new HashJoin(node, right, s.leftKey, s.rightKey, s.join, s.select, s.text);
        i++;
        break;
      }
      case 'flatten':
        node = new Flatten(node, s.of, s.text);
        i++;
        break;
    }
  }
  return counting ? new Count(node) : node;
}
