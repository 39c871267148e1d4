/**
 * The plan cache. Planning costs more than running a selective query, so the choice made for a
 * query *shape* (the terms' operators, fields and operand types, the order and whether there is
 * a limit) is kept with the collection version it was made for and reused for later queries of
 * that shape with other constants. A shape is cached after it has been planned a few times (so
 * the choice reflects warmed-up index membership sets), and a cached choice is dropped when its
 * driving access no longer looks selective for the new constants (a cheap check: memoized key
 * counts, or a bounded walk of a range).
 */

import type { KeyRange } from '@proto/collections';
import type { ExprNode } from '../expr.js';
import type { IndexData } from '../index-data.js';
import { KindIndex } from '../kind-index.js';
import { isKey, keyRank } from '../values.js';
import type { CollectionRef } from './access.js';
import {
  type Candidate,
  findIndex,
  intersectRanges,
  kindCandidate,
  leafCandidate,
  type OrderHint,
  rangeCandidate,
  rangeOf,
  rangeRows,
} from './candidates.js';
import { IndexProbe, IndexRangeScan, KindAccess, Union } from './index-access.js';
import type { PlanNode } from './node.js';
import { type AccessRequest, buildOption, finishPlan, type Option } from './options.js';
import type { SortKey } from './sort.js';

/** A candidate in a recipe: the conjuncts it answers and its estimate when it was chosen. */
interface CandidateRef {
  readonly covers: readonly number[];
  readonly rows: number;
  /** For an access path of another kind: the index that offered it. */
  readonly kindIndex?: string;
}

/** A chosen option without its constants. */
export interface Recipe {
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

export interface CacheEntry {
  seen: number;
  recipe: Recipe | undefined;
}

export const CACHE_AFTER = 3;
export const CACHE_ENTRIES = 256;
const caches = new WeakMap<object, Map<string, CacheEntry>>();

export function cacheOf(state: object): Map<string, CacheEntry> {
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

export function shapeKey(
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
  if (c.node instanceof KindAccess) return { covers: c.covers, rows: c.rows, kindIndex: c.node.index };
  return { covers: c.covers, rows: c.rows };
}

export function toRecipe(o: Option): Recipe | undefined {
  const refs = [o.driver, ...(o.members ?? []), ...(o.parts ?? [])];
  // OR-merges are planned branch by branch: not reused. Another kind's path that drives the
  // plan is: its kind is asked again for the new constants (`rebuild`), and must offer a path
  // covering the same terms.
  if (refs.some((c) => c !== undefined && c.node instanceof Union)) return undefined;
  const others = [...(o.members ?? []), ...(o.parts ?? [])];
  if (others.some((c) => c.node instanceof KindAccess)) return undefined;
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
  if (ref.kindIndex !== undefined) {
    const ix = src.state.index(ref.kindIndex);
    if (!(ix instanceof KindIndex)) return undefined;
    const want = [...ref.covers].sort((a, b) => a - b).join();
    for (const p of ix.kind.accessPaths(ix.instance, conj, { records: src.state.size })) {
      const c = kindCandidate(src, ix.name, p, conj.length);
      if (c !== undefined && [...c.covers].sort((a, b) => a - b).join() === want) return c;
    }
    return undefined;
  }
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
    const ix = node.src.state.orderedIndex(node.index);
    if (ix === undefined) return false;
    if (ix.def.unique) return true;
    now = 0;
    for (const k of node.keys) now += ix.count(k);
  } else if (node instanceof IndexRangeScan && node.range !== undefined) {
    const ix = node.src.state.orderedIndex(node.index);
    if (ix === undefined) return false;
    const walked: unknown[] = [];
    now = rangeRows(ix, node.range, walked);
    if (walked.length > 0) node.prefetch(node.src.state, walked);
  } else if (node instanceof KindAccess) now = c.rows;
  else return true;
  return now <= ref.rows * 4 + 32 && ref.rows <= now * 4 + 32;
}

export function fromRecipe(
  src: CollectionRef,
  r: Recipe,
  conj: readonly ExprNode[],
  req: AccessRequest,
): PlanNode | undefined {
  const order = req.order;
  const single = order !== undefined && order.length === 1 ? (order[0] as SortKey) : undefined;
  const hint: OrderHint | undefined =
    single?.accessorId === undefined ? undefined : { id: single.accessorId, desc: single.desc };
  let option: Option;
  switch (r.kind) {
    case 'scan':
    case 'walk': {
      const ix = r.index === undefined ? undefined : src.state.orderedIndex(r.index);
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
      const driver = rebuild(src, conj, r.driver as CandidateRef, hint);
      if (driver === undefined || !stillFits(driver, r.driver as CandidateRef)) return undefined;
      const members: Candidate[] = [];
      for (const m of r.members ?? []) {
        const c = rebuild(src, conj, m, hint);
        if (c === undefined) return undefined;
        members.push(c);
      }
      option = { kind: r.kind, cost: 0, ordered: r.ordered, driver, members };
      break;
    }
    default: {
      const parts: Candidate[] = [];
      for (const p of r.parts ?? []) {
        const c = rebuild(src, conj, p, hint);
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
