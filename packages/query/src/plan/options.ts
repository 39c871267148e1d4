/**
 * Plan options: the ways the optimizer can run a read (full scan, one driving access, probing
 * with index-membership checks, intersection, ordered index walk), and how a chosen option
 * becomes a plan tree with its residual filter, sort and limit.
 */
import type { Key } from '@proto/collections';
import type { ExprNode } from '../expr.js';
import type { IndexData } from '../index-data.js';
import { type CollectionRef, Fetch, FullScan } from './access.js';
import { type Candidate, maskOf, residual } from './candidates.js';
import { IndexMember, type IndexProbe, IndexRangeScan, Intersect } from './index-access.js';
import type { PlanNode } from './node.js';
import { Limit } from './relational.js';
import { Sort, type SortKey } from './sort.js';

/** What to read from a collection: the leading filter, order, offset and limit of a query. */
export interface AccessRequest {
  readonly pred: ExprNode | undefined;
  readonly order: readonly SortKey[] | undefined;
  readonly offset: number;
  readonly limit: number | undefined;
  /** Plan afresh, ignoring (and not filling) the plan cache (`explain()` does). */
  readonly fresh?: boolean;
}

/** Candidates by ascending rows (an insertion sort: the lists are tiny). */
export function byRows(list: Candidate[]): Candidate[] {
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
export interface Option {
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

/** `access` with a filter of the conjuncts it does not answer (none: `access` itself). */
export function withResidual(
  access: PlanNode,
  conj: readonly ExprNode[],
  answered: (i: number) => boolean,
): PlanNode {
  let rest: ExprNode[] | undefined;
  for (let i = 0; i < conj.length; i++) if (!answered(i)) (rest ??= []).push(conj[i] as ExprNode);
  return rest === undefined ? access : residual(access, rest);
}

/** The plan tree of a chosen option, with its residual filter. */
export function buildOption(src: CollectionRef, o: Option, conj: readonly ExprNode[], n: number): PlanNode {
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
      let answered = maskOf(c.covers);
      for (const m of o.members as Candidate[]) {
        const probe = m.node as IndexProbe;
        node = new IndexMember(src, node, probe.index, probe.keys[0] as Key, n === 0 ? 1 : m.rows / n);
        answered |= maskOf(m.covers);
      }
      const done = answered;
      return withResidual(new Fetch(src, node), conj, (i) => (done & (1 << i)) !== 0);
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

/** The cost of a streaming plan that stops after `bound` of its `rows` rows. */
export function stopEarly(cost: number, rows: number, bound: number | undefined): number {
  return bound === undefined ? cost : cost * Math.min(1, bound / Math.max(rows, 1));
}

/** Adds the sort (unless the access is ordered) and the limit. */
export function finishPlan(
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
