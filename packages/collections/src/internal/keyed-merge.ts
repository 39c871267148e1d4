/**
 * Many changes to a keyed B+ tree in one walk (`Dictionary.withChanges`): the changes are
 * sorted by key, split among a branch's children by its minimum keys, and merged into each
 * leaf they fall in. Every node on the way to a change is copied once, however many changes
 * fall under it; subtrees no change falls in are kept as they are (not loaded). Applying k
 * changes one by one copies k paths instead: k · height nodes, each of up to capacity slots.
 *
 * Invariants kept as `insert` and `remove` keep them: leaves hold at most `cap` entries and
 * branches at most `branchCapacity()` children; a node the merge made that holds fewer than a
 * quarter of that is joined with a neighbour, as `remove` does.
 */
import { branchCapacity } from '../config.js';
import { compareKeys } from '../order.js';
import { branchOf, KBranch, KLeaf, type KNode, type KSlot } from './keyed-node.js';
import { build, childIndex, countOf, load, rebalance, searchNode, widthOf } from './keyed-tree.js';

/** A change's value that removes its key. */
export const REMOVED: unique symbol = Symbol('removed');

/**
 * Tree `root` with `vals[i]` set under `keys[i]` (`REMOVED`: the key removed), `keys`
 * strictly ascending. Returns the same root when nothing changed (every removed key absent,
 * every value already there by `Object.is`); `undefined` when the tree ends up empty. The new
 * size is `treeSize` of the result.
 */
export function mergeChanges(
  root: KSlot | undefined,
  keys: readonly unknown[],
  vals: readonly unknown[],
  keyOnly: boolean,
  cap: number,
): KSlot | undefined {
  if (keys.length === 0) return root;
  if (root === undefined) {
    const k: unknown[] = [];
    const v: unknown[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (vals[i] === REMOVED) continue;
      k.push(keys[i]);
      v.push(vals[i]);
    }
    return build(k, keyOnly ? null : v, cap);
  }
  const node = load(root);
  const parts = mergeNode(node, { keys, vals, keyOnly, cap }, 0, keys.length);
  if (parts.length === 1 && parts[0] === node) return root;
  let level = parts;
  while (level.length > 1) level = group(level.slice(), level.map(countOf), level.map(firstKey));
  let top = level[0];
  while (top instanceof KBranch && top.kids.length === 1) top = load(top.kids[0] as KSlot);
  return top;
}

function firstKey(node: KNode): unknown {
  return node.keys[0];
}

/** The changes of one `mergeChanges` call, and the tree's settings. */
interface Merge {
  readonly keys: readonly unknown[];
  readonly vals: readonly unknown[];
  readonly keyOnly: boolean;
  readonly cap: number;
}

/** The nodes (of `node`'s height, possibly none) that hold `node`'s entries with changes `[lo, hi)` merged in. */
function mergeNode(node: KNode, m: Merge, lo: number, hi: number): KNode[] {
  return node instanceof KLeaf ? mergeLeaf(node, m, lo, hi) : mergeBranch(node, m, lo, hi);
}

function mergeLeaf(leaf: KLeaf, m: Merge, lo: number, hi: number): KNode[] {
  const { keys, vals, keyOnly, cap } = m;
  const lk = leaf.keys;
  const lv = leaf.vals;
  const nk: unknown[] = [];
  const nv: unknown[] | null = keyOnly || lv === null ? null : [];
  let changed = false;
  // Runs of the leaf's entries between the changes are copied as they are.
  let from = 0;
  for (let j = lo; j < hi; j++) {
    const key = keys[j];
    const val = vals[j];
    const found = searchNode(leaf, key);
    const at = found >= 0 ? found : ~found;
    for (let i = from; i < at; i++) {
      nk.push(lk[i]);
      nv?.push((lv as readonly unknown[])[i]);
    }
    from = at;
    if (found >= 0) {
      from = at + 1;
      if (val === REMOVED) {
        changed = true;
        continue;
      }
      nk.push(lk[at]);
      if (nv !== null) {
        const old = (lv as readonly unknown[])[at];
        if (Object.is(old, val)) nv.push(old);
        else {
          nv.push(val);
          changed = true;
        }
      }
    } else if (val !== REMOVED) {
      nk.push(key);
      nv?.push(val);
      changed = true;
    }
  }
  if (!changed) return [leaf];
  for (let i = from; i < lk.length; i++) {
    nk.push(lk[i]);
    nv?.push((lv as readonly unknown[])[i]);
  }
  const n = nk.length;
  if (n === 0) return [];
  if (n <= cap) return [new KLeaf(nk, nv)];
  const pieces = Math.ceil(n / cap);
  const out: KNode[] = [];
  for (let p = 0, start = 0; p < pieces; p++) {
    const end = Math.round(((p + 1) * n) / pieces);
    out.push(new KLeaf(nk.slice(start, end), nv === null ? null : nv.slice(start, end)));
    start = end;
  }
  return out;
}

function mergeBranch(b: KBranch, m: Merge, lo: number, hi: number): KNode[] {
  const keys = m.keys;
  const cap = m.cap;
  const kids: KSlot[] = [];
  const sizes: number[] = [];
  const mins: unknown[] = [];
  /** True for the children the merge made (the ones that may be too small). */
  const made: boolean[] = [];
  let changed = false;
  let next = 0;
  const keep = (ci: number) => {
    kids.push(b.kids[ci] as KSlot);
    sizes.push(b.sizes[ci] as number);
    mins.push(b.keys[ci]);
    made.push(false);
  };
  let j = lo;
  while (j < hi) {
    const ci = childIndex(b, keys[j]);
    let end = j + 1;
    if (ci + 1 < b.kids.length) {
      const bound = b.keys[ci + 1];
      while (end < hi && compareKeys(keys[end], bound) < 0) end++;
    } else end = hi;
    for (; next < ci; next++) keep(next);
    next = ci + 1;
    const child = load(b.kids[ci] as KSlot);
    const parts = mergeNode(child, m, j, end);
    if (parts.length === 1 && parts[0] === child) keep(ci);
    else {
      changed = true;
      for (const part of parts) {
        kids.push(part);
        sizes.push(countOf(part));
        mins.push(part.keys[0]);
        made.push(true);
      }
    }
    j = end;
  }
  if (!changed) return [b];
  for (; next < b.kids.length; next++) keep(next);
  // A child the merge made that is too small joins a neighbour, as `remove` does.
  let t = 0;
  while (t < kids.length) {
    const kid = kids[t] as KSlot;
    if (kids.length > 1 && made[t] === true) {
      if (tooSmall(load(kid), cap)) {
        const l = t > 0 ? t - 1 : t;
        const joined = join(load(kids[l] as KSlot), load(kids[l + 1] as KSlot), cap);
        kids.splice(l, 2, ...joined);
        sizes.splice(l, 2, ...joined.map(countOf));
        mins.splice(l, 2, ...joined.map(firstKey));
        made.splice(l, 2, ...joined.map(() => true));
        t = l;
        continue;
      }
    }
    t++;
  }
  if (kids.length === 0) return [];
  return group(kids, sizes, mins);
}

function tooSmall(node: KNode, cap: number): boolean {
  return widthOf(node) < (node instanceof KLeaf ? cap : branchCapacity()) >>> 2;
}

/**
 * Two adjacent siblings as one node, or two of even size when one would overflow. Joining two
 * branches also joins the children where they meet when one of those is too small: a branch
 * the merge left with one child could not join that child with a neighbour of its own.
 */
function join(left: KNode, right: KNode, cap: number): KNode[] {
  if (left instanceof KLeaf || right instanceof KLeaf) return rebalance(left, right, cap);
  const kids = left.kids.concat(right.kids);
  const sizes = left.sizes.concat(right.sizes);
  const mins = left.keys.concat(right.keys);
  const m = left.kids.length;
  const a = load(kids[m - 1] as KSlot);
  const b = load(kids[m] as KSlot);
  if (tooSmall(a, cap) || tooSmall(b, cap)) {
    const joined = join(a, b, cap);
    kids.splice(m - 1, 2, ...joined);
    sizes.splice(m - 1, 2, ...joined.map(countOf));
    mins.splice(m - 1, 2, ...joined.map(firstKey));
  }
  if (kids.length <= branchCapacity()) return [branchOf(mins, kids, sizes)];
  const half = kids.length >>> 1;
  return [
    branchOf(mins.slice(0, half), kids.slice(0, half), sizes.slice(0, half)),
    branchOf(mins.slice(half), kids.slice(half), sizes.slice(half)),
  ];
}

/** Branches over `kids` (one level up): one when they fit, else evenly filled ones. */
function group(kids: KSlot[], sizes: number[], mins: unknown[]): KNode[] {
  const n = kids.length;
  const bcap = branchCapacity();
  if (n <= bcap) return [branchOf(mins, kids, sizes)];
  const groups = Math.ceil(n / bcap);
  const out: KNode[] = [];
  for (let g = 0, start = 0; g < groups; g++) {
    const end = Math.round(((g + 1) * n) / groups);
    out.push(branchOf(mins.slice(start, end), kids.slice(start, end), sizes.slice(start, end)));
    start = end;
  }
  return out;
}
