/**
 * Persistent B+ tree algorithms over `KLeaf`/`KBranch`: lookup, insert, remove, positional
 * access, bulk build. Every update copies only the nodes on the changed path (plus at most one
 * sibling per level when nodes split or merge); everything else is shared.
 */
import { AtomRef } from '@proto/atom/extension';
import { branchCapacity } from '../config.js';
import { compareKeys } from '../order.js';
import { branchOf, inheritIndex, KBranch, KLeaf, type KNode, type KSlot } from './keyed-node.js';
import type { KRange } from './keyed-scan.js';
import { childOf, leafValue } from './slots.js';

/** Returned by lookups for a missing key (values may be `undefined`). */
export const ABSENT: unique symbol = Symbol('absent');

export function load(slot: KSlot): KNode {
  return slot instanceof AtomRef ? slot.get() : slot;
}

export function countOf(node: KNode): number {
  return node instanceof KLeaf ? node.keys.length : node.count;
}

export function widthOf(node: KNode): number {
  return node instanceof KLeaf ? node.keys.length : node.kids.length;
}

/** Index of `key` in sorted `keys`, or `~insertionPoint` (generic comparator). */
export function searchKeys(keys: readonly unknown[], key: unknown): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid], key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return ~lo;
}

/**
 * The three UTF-16 code units of `key` at `p`, `p + 1`, `p + 2` (0 past the end) packed into
 * one number (48 bits, exact in a double) whose order is their order.
 */
function fingerprint(key: string, p: number): number {
  const n = key.length;
  const a = p < n ? key.charCodeAt(p) : 0;
  const b = p + 1 < n ? key.charCodeAt(p + 1) : 0;
  const c = p + 2 < n ? key.charCodeAt(p + 2) : 0;
  return (a * 65536 + b) * 65536 + c;
}

/** Builds (once) the string search index of a node; `null` when some key is not a string. */
function keyIndex(node: KNode): readonly number[] | null {
  const built = node.fp;
  if (built !== undefined) return built;
  const keys = node.keys;
  const n = keys.length;
  for (let i = 0; i < n; i++) {
    if (typeof keys[i] !== 'string') {
      node.fp = null;
      return null;
    }
  }
  const first = keys[0] as string;
  const last = keys[n - 1] as string;
  const m = Math.min(first.length, last.length);
  let p = 0;
  while (p < m && first.charCodeAt(p) === last.charCodeAt(p)) p++;
  // A plain array of doubles: stored unboxed on the JS heap, cheaper to allocate than a typed array.
  const fp: number[] = [];
  for (let i = 0; i < n; i++) fp.push(fingerprint(keys[i] as string, p));
  // A flat copy rather than a slice of the first key, so the prefix check touches one string.
  const codes: number[] = [];
  if (p >= 13 && p <= 1024) for (let i = 0; i < p; i++) codes.push(first.charCodeAt(i));
  node.prefix = codes.length > 0 ? String.fromCharCode(...codes) : first.slice(0, p);
  node.fp = fp;
  return fp;
}

/** Index of string `key` in a node's keys, or `~insertionPoint`. */
function searchString(node: KNode, key: string): number {
  const fp = keyIndex(node);
  const keys = node.keys;
  if (fp === null) return searchKeys(keys, key);
  const n = keys.length;
  const prefix = node.prefix;
  if (prefix.length > 0 && !key.startsWith(prefix)) return key < prefix ? ~0 : ~n;
  const x = fingerprint(key, prefix.length);
  let lo = lowerBound(fp, x, n);
  while (lo < n && fp[lo] === x) {
    const k = keys[lo] as string;
    if (k === key) return lo;
    if (k > key) break;
    lo++;
  }
  return ~lo;
}

/** Index of `key` in a node's keys, or `~insertionPoint`. */
export function searchNode(node: KNode, key: unknown): number {
  return typeof key === 'string' ? searchString(node, key) : searchKeys(node.keys, key);
}

/** Index of the child of a branch whose range holds `key`: the last `i` with `keys[i] <= key`, or 0. */
export function childIndex(node: KBranch, key: unknown): number {
  const i = searchNode(node, key);
  if (i >= 0) return i;
  const at = ~i;
  return at === 0 ? 0 : at - 1;
}

/** The leaf that would hold `key`. */
export function leafFor(root: KSlot, key: unknown): KLeaf {
  let node: KNode = root instanceof AtomRef ? root.get() : root;
  while (node instanceof KBranch) {
    node = childOf(node.kids, childIndex(node, key));
  }
  return node;
}

/** First index of `fp[0..n)` whose value is >= `x`; the loop body is a select, not a branch. */
function lowerBound(fp: readonly number[], x: number, n: number): number {
  if (n === 0) return 0;
  let base = 0;
  let len = n;
  while (len > 1) {
    const half = len >>> 1;
    base = (fp[base + half] as number) < x ? base + half : base;
    len -= half;
  }
  return (fp[base] as number) < x ? base + 1 : base;
}

/** Index of string `key` in a leaf whose keys are all strings (`fp` its index), or -1. */
function leafIndexString(leaf: KLeaf, fp: readonly number[], key: string): number {
  const keys = leaf.keys;
  const n = keys.length;
  const x = fingerprint(key, leaf.prefix.length);
  let lo = lowerBound(fp, x, n);
  while (lo < n && fp[lo] === x) {
    const k = keys[lo] as string;
    if (k === key) return lo;
    if (k > key) return -1;
    lo++;
  }
  return -1;
}

/** The child of a branch whose keys are all strings (`fp` its index) whose range holds `key`. */
function childIndexString(node: KBranch, fp: readonly number[], key: string): number {
  const keys = node.keys;
  const n = keys.length;
  const prefix = node.prefix;
  const p = prefix.length;
  if (p !== 0 && !key.startsWith(prefix)) return key < prefix ? 0 : n - 1;
  const x = fingerprint(key, p);
  let lo = lowerBound(fp, x, n);
  while (lo < n && fp[lo] === x && (keys[lo] as string) <= key) lo++;
  return lo === 0 ? 0 : lo - 1;
}

/**
 * `lookup` for a string key, written as one loop (the hot path of `Dictionary.get`): per node,
 * a binary search over the fingerprints, then whole-string comparisons along the (usually
 * one-long) run of equal fingerprints. Allocates nothing.
 */
export function lookupString(root: KSlot, key: string): unknown {
  let node: KNode = root instanceof AtomRef ? root.get() : root;
  for (;;) {
    if (node instanceof KLeaf) {
      let fp = node.fp;
      let i: number;
      if (fp === undefined && !node.searched) {
        // A leaf's first search is a plain binary search: a leaf loaded for one read (a cold
        // point read) never pays for the index; the second search builds it.
        node.searched = true;
        i = searchKeys(node.keys, key);
      } else {
        if (fp === undefined) fp = keyIndex(node);
        i = fp === null ? searchKeys(node.keys, key) : leafIndexString(node, fp, key);
      }
      return i < 0 ? ABSENT : node.vals === null ? true : leafValue(node.vals, i);
    }
    const fp = node.fp === undefined ? keyIndex(node) : node.fp;
    node = childOf(node.kids, fp === null ? childIndex(node, key) : childIndexString(node, fp, key));
  }
}

const pathNodes: KBranch[] = [];
const pathSlots: number[] = [];

/**
 * Replaces the value of an existing string key: the fast path of `set` for updates. Copies
 * the leaf's values and each branch's children on the path; keys, sizes and search indexes
 * are shared. Returns `null` when the value is identical and `undefined` when the key is
 * absent (the caller then inserts).
 */
export function updateString(root: KSlot, key: string, val: unknown): KNode | null | undefined {
  let node: KNode = root instanceof AtomRef ? root.get() : root;
  let depth = 0;
  for (;;) {
    const fp = node.fp === undefined ? keyIndex(node) : node.fp;
    if (node instanceof KLeaf) {
      const vals = node.vals;
      const i = fp === null ? searchKeys(node.keys, key) : leafIndexString(node, fp, key);
      if (i < 0 || vals === null) return i < 0 ? undefined : null;
      if (Object.is(vals[i], val)) return null;
      const nv = vals.slice();
      nv[i] = val;
      let cur: KNode = inheritIndex(node, new KLeaf(node.keys, nv));
      for (let d = depth - 1; d >= 0; d--) {
        const b = pathNodes[d] as KBranch;
        const kids = b.kids.slice();
        kids[pathSlots[d] as number] = cur;
        cur = inheritIndex(b, new KBranch(b.keys, kids, b.sizes, b.count));
        pathNodes[d] = undefined as never;
      }
      return cur;
    }
    const i = fp === null ? childIndex(node, key) : childIndexString(node, fp, key);
    pathNodes[depth] = node;
    pathSlots[depth] = i;
    depth++;
    node = childOf(node.kids, i);
  }
}

/** The stored value of `key` (`true` in key-only trees), or `ABSENT`. Allocates nothing. */
export function lookup(root: KSlot | undefined, key: unknown): unknown {
  if (root === undefined) return ABSENT;
  if (typeof key === 'string') return lookupString(root, key);
  const leaf = leafFor(root, key);
  const i = searchKeys(leaf.keys, key);
  if (i < 0) return ABSENT;
  return leaf.vals === null ? true : leafValue(leaf.vals, i);
}

function insertAt<T>(items: readonly T[], at: number, item: T): T[] {
  const n = items.length;
  const out = new Array<T>(n + 1);
  for (let i = 0; i < at; i++) out[i] = items[i] as T;
  out[at] = item;
  for (let i = at; i < n; i++) out[i + 1] = items[i] as T;
  return out;
}

function removeAt<T>(items: readonly T[], at: number): T[] {
  const n = items.length;
  const out = new Array<T>(n - 1);
  for (let i = 0; i < at; i++) out[i] = items[i] as T;
  for (let i = at + 1; i < n; i++) out[i - 1] = items[i] as T;
  return out;
}

/** The number of entries in a tree: its root's count (0 when empty). */
export function treeSize(root: KSlot | undefined): number {
  return root === undefined ? 0 : countOf(load(root));
}

/**
 * The out-parameter of one insert (immutable-js `MakeRef` style: one small object per call,
 * passed down the recursion, instead of a tuple per level). A node that overflowed returns its
 * left half and puts the right half in `right`; `added` is 1 once the key was found new.
 */
interface InsertChange {
  added: number;
  right: KNode | undefined;
}

function leafInsert(leaf: KLeaf, key: unknown, val: unknown, cap: number, change: InsertChange): KLeaf {
  const keys = leaf.keys;
  const vals = leaf.vals;
  const i = searchNode(leaf, key);
  if (i >= 0) {
    if (vals === null || Object.is(vals[i], val)) return leaf;
    const nv = vals.slice();
    nv[i] = val;
    return inheritIndex(leaf, new KLeaf(keys, nv));
  }
  change.added = 1;
  const at = ~i;
  const nk = insertAt(keys, at, key);
  const nv = vals === null ? null : insertAt(vals, at, val);
  if (nk.length <= cap) return keepIndex(leaf, new KLeaf(nk, nv), at, key);
  const half = nk.length >>> 1;
  const left = new KLeaf(nk.slice(0, half), nv === null ? null : nv.slice(0, half));
  const right = new KLeaf(nk.slice(half), nv === null ? null : nv.slice(half));
  // The halves keep the leaf's prefix (every key of theirs has it, so searches that check it and
  // fingerprint past it stay exact) and their slices of its fingerprints: a bulk-built tree's
  // full leaves split on their first insert, and would each build their index again.
  const fp = carriedIndex(leaf, at, key);
  if (fp !== undefined) {
    left.fp = fp.slice(0, half);
    right.fp = fp.slice(half);
    left.prefix = right.prefix = leaf.prefix;
  }
  change.right = right;
  return left;
}

function branchInsert(b: KBranch, key: unknown, val: unknown, cap: number, change: InsertChange): KBranch {
  const ci = childIndex(b, key);
  const child = childOf(b.kids, ci);
  const nc =
    child instanceof KLeaf
      ? leafInsert(child, key, val, cap, change)
      : branchInsert(child, key, val, cap, change);
  if (nc === child) return b;
  const added = change.added;
  const right = change.right;
  if (right === undefined) {
    const kids = b.kids.slice();
    kids[ci] = nc;
    let sizes = b.sizes;
    if (added !== 0) {
      const s = sizes.slice();
      s[ci] = (s[ci] as number) + added;
      sizes = s;
    }
    const keys = b.keys;
    if (keys[ci] === nc.keys[0]) return inheritIndex(b, new KBranch(keys, kids, sizes, b.count + added));
    const k = keys.slice();
    k[ci] = nc.keys[0];
    return new KBranch(k, kids, sizes, b.count + added);
  }
  change.right = undefined;
  const keys = b.keys.slice();
  const kids = b.kids.slice();
  const sizes = b.sizes.slice();
  keys[ci] = nc.keys[0];
  kids[ci] = nc;
  sizes[ci] = countOf(nc);
  const nk = insertAt(keys, ci + 1, right.keys[0]);
  const nkids = insertAt(kids, ci + 1, right as KSlot);
  const ns = insertAt(sizes, ci + 1, countOf(right));
  if (nkids.length <= branchCapacity()) return new KBranch(nk, nkids, ns, b.count + added);
  const half = nkids.length >>> 1;
  change.right = branchOf(nk.slice(half), nkids.slice(half), ns.slice(half));
  return branchOf(nk.slice(0, half), nkids.slice(0, half), ns.slice(0, half));
}

/**
 * Inserts or replaces `key` (with `val`; ignored by key-only trees) and returns the new root.
 * Returns the same root object when nothing changed; the new size is `treeSize` of the result.
 */
export function insert(
  root: KSlot | undefined,
  key: unknown,
  val: unknown,
  keyOnly: boolean,
  cap: number,
): KNode {
  if (root === undefined) return new KLeaf([key], keyOnly ? null : [val]);
  const r = load(root);
  const change: InsertChange = { added: 0, right: undefined };
  const nr =
    r instanceof KLeaf ? leafInsert(r, key, val, cap, change) : branchInsert(r, key, val, cap, change);
  const right = change.right;
  if (right === undefined) return nr;
  return branchOf([nr.keys[0], right.keys[0]], [nr, right], [countOf(nr), countOf(right)]);
}

/** Rebuilds two adjacent siblings as one node, or two of even size when one would overflow. */
export function rebalance(left: KNode, right: KNode, cap: number): KNode[] {
  if (left instanceof KLeaf && right instanceof KLeaf) {
    const keys = left.keys.concat(right.keys);
    const vals = left.vals === null || right.vals === null ? null : left.vals.concat(right.vals);
    if (keys.length <= cap) return [new KLeaf(keys, vals)];
    const half = keys.length >>> 1;
    return [
      new KLeaf(keys.slice(0, half), vals === null ? null : vals.slice(0, half)),
      new KLeaf(keys.slice(half), vals === null ? null : vals.slice(half)),
    ];
  }
  const l = left as KBranch;
  const r = right as KBranch;
  const keys = l.keys.concat(r.keys);
  const kids = l.kids.concat(r.kids);
  const sizes = l.sizes.concat(r.sizes);
  if (kids.length <= branchCapacity()) return [new KBranch(keys, kids, sizes, l.count + r.count)];
  const half = kids.length >>> 1;
  return [
    branchOf(keys.slice(0, half), kids.slice(0, half), sizes.slice(0, half)),
    branchOf(keys.slice(half), kids.slice(half), sizes.slice(half)),
  ];
}

function leafRemove(leaf: KLeaf, key: unknown): KLeaf | undefined {
  const i = searchNode(leaf, key);
  if (i < 0) return leaf;
  if (leaf.keys.length === 1) return undefined;
  return keepIndex(
    leaf,
    new KLeaf(removeAt(leaf.keys, i), leaf.vals === null ? null : removeAt(leaf.vals, i)),
    i,
  );
}

/**
 * Carries a leaf's string search index over to the leaf with one key inserted at `at` (when
 * `key` is given) or removed from `at`, when the common prefix of its keys stays: one
 * fingerprint moves instead of the index being built again on the next search. The prefix
 * stays when the first and last keys stay (every key between them shares it), and when a key
 * inserted first or last starts with it (keys appended in order, as generated ids are).
 * Anything else leaves the index to be built.
 */
function keepIndex(from: KLeaf, to: KLeaf, at: number, key?: unknown): KLeaf {
  const fp = carriedIndex(from, at, key);
  if (fp !== undefined) {
    to.fp = fp;
    to.prefix = from.prefix;
  }
  return to;
}

/** The fingerprints `keepIndex` carries over (same prefix as `from`), or undefined. */
function carriedIndex(from: KLeaf, at: number, key?: unknown): readonly number[] | undefined {
  const fp = from.fp;
  const n = from.keys.length;
  if (fp === undefined || fp === null) return undefined;
  if (key === undefined) return at <= 0 || at >= n - 1 ? undefined : removeAt(fp, at);
  if (typeof key !== 'string') return undefined;
  const prefix = from.prefix;
  // At either end the new key becomes the first or last: the prefix stays if it shares it.
  if ((at <= 0 || at >= n) && (n === 0 || !key.startsWith(prefix))) return undefined;
  return insertAt(fp, at, fingerprint(key, prefix.length));
}

function branchRemove(b: KBranch, key: unknown, cap: number): KBranch | undefined {
  const ci = childIndex(b, key);
  const child = childOf(b.kids, ci);
  const nc = child instanceof KLeaf ? leafRemove(child, key) : branchRemove(child, key, cap);
  if (nc === child) return b;
  if (nc === undefined) {
    if (b.kids.length === 1) return undefined;
    return new KBranch(removeAt(b.keys, ci), removeAt(b.kids, ci), removeAt(b.sizes, ci), b.count - 1);
  }
  const kids = b.kids.slice();
  const sizes = b.sizes.slice();
  kids[ci] = nc;
  sizes[ci] = countOf(nc);
  const min = (nc instanceof KLeaf ? cap : branchCapacity()) >>> 2;
  const balanced = widthOf(nc) >= min || kids.length === 1;
  // Most removals leave the child's first key: the branch keeps its keys and their search index
  // (as an insertion does), instead of a copy whose index the next search builds again.
  if (balanced && b.keys[ci] === nc.keys[0])
    return inheritIndex(b, new KBranch(b.keys, kids, sizes, b.count - 1));
  const keys = b.keys.slice();
  keys[ci] = nc.keys[0];
  if (balanced) return new KBranch(keys, kids, sizes, b.count - 1);
  const li = ci > 0 ? ci - 1 : ci;
  const merged = rebalance(load(kids[li] as KSlot), load(kids[li + 1] as KSlot), cap);
  const mk = merged.map((n) => n.keys[0]);
  const ms = merged.map(countOf);
  keys.splice(li, 2, ...mk);
  kids.splice(li, 2, ...merged);
  sizes.splice(li, 2, ...ms);
  return new KBranch(keys, kids, sizes, b.count - 1);
}

/**
 * Removes `key`; returns the new root (`undefined` when empty), the same root if absent. The
 * new size is `treeSize` of the result.
 */
export function remove(root: KSlot | undefined, key: unknown, cap: number): KNode | undefined {
  if (root === undefined) return undefined;
  const r = load(root);
  let nr = r instanceof KLeaf ? leafRemove(r, key) : branchRemove(r, key, cap);
  while (nr instanceof KBranch && nr.kids.length === 1) nr = load(nr.kids[0] as KSlot);
  return nr;
}

/** The leaf and index of the entry at position `index` (0-based), which must be in range. */
export function entryAt(root: KSlot, index: number): [KLeaf, number] {
  let node = load(root);
  while (node instanceof KBranch) {
    let i = 0;
    const sizes = node.sizes;
    while (index >= (sizes[i] as number)) index -= sizes[i++] as number;
    node = load(node.kids[i] as KSlot);
  }
  return [node, index];
}

/**
 * The first index from `from` on whose key `before` is false (`keys.length` when there is none),
 * `before` being monotone over the keys (true, then false): a binary search.
 */
export function firstNotBefore(
  keys: readonly unknown[],
  before: (key: unknown) => boolean,
  from: number,
): number {
  let lo = from;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (before(keys[mid])) lo = mid + 1;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The number of entries whose key is before the target (`before(key)` is monotone: true, then
 * false). Binary-searches each node on the path (a predicate over composite keys costs a key
 * comparison per call), then sums the sizes of the children passed.
 */
export function countBefore(root: KSlot | undefined, before: (key: unknown) => boolean): number {
  if (root === undefined) return 0;
  let node = load(root);
  let acc = 0;
  while (node instanceof KBranch) {
    // The last child whose minimum key is before the target (child 0 when none is).
    const p = firstNotBefore(node.keys, before, 1) - 1;
    const sizes = node.sizes;
    for (let i = 0; i < p; i++) acc += sizes[i] as number;
    node = load(node.kids[p] as KSlot);
  }
  return acc + firstNotBefore(node.keys, before, 0);
}

/** Builds a tree from keys sorted strictly ascending (and their values); `undefined` when empty. */
export function build(
  keys: readonly unknown[],
  vals: readonly unknown[] | null,
  cap: number,
): KNode | undefined {
  const n = keys.length;
  if (n === 0) return undefined;
  let level: KNode[] = [];
  const leaves = Math.ceil(n / cap);
  for (let j = 0, start = 0; j < leaves; j++) {
    const end = Math.round(((j + 1) * n) / leaves);
    level.push(new KLeaf(keys.slice(start, end), vals === null ? null : vals.slice(start, end)));
    start = end;
  }
  const bcap = branchCapacity();
  while (level.length > 1) {
    const m = level.length;
    const groups = Math.ceil(m / bcap);
    const next: KNode[] = [];
    for (let j = 0, start = 0; j < groups; j++) {
      const end = Math.round(((j + 1) * m) / groups);
      const group = level.slice(start, end);
      next.push(
        branchOf(
          group.map((g) => g.keys[0]),
          group,
          group.map(countOf),
        ),
      );
      start = end;
    }
    level = next;
  }
  return level[0];
}

/** Tree height in levels (1 for a single leaf, 0 when empty). */
export function heightOf(root: KSlot | undefined): number {
  if (root === undefined) return 0;
  let h = 1;
  let node = load(root);
  while (node instanceof KBranch) {
    node = load(node.kids[0] as KSlot);
    h++;
  }
  return h;
}

/**
 * Removes every key in `range` (its `reverse` is ignored); returns the new root (`undefined`
 * when empty), the same root when no key is in range. A child whose whole key span lies inside
 * the range (known from the branch's minimum keys, without loading it) is dropped as a
 * subtree, so the cost is the two boundary paths plus one step per dropped child, not one
 * removal per key. The new size is `treeSize` of the result.
 */
export function removeRange(root: KSlot | undefined, range: KRange, cap: number): KNode | undefined {
  if (root === undefined) return undefined;
  const r = load(root);
  let nr = r instanceof KLeaf ? leafRemoveRange(r, range) : branchRemoveRange(r, range, NO_KEY, cap);
  while (nr instanceof KBranch && nr.kids.length === 1) nr = load(nr.kids[0] as KSlot);
  return nr;
}

/** Stands for "no key after this node" (the node is last in the tree). */
const NO_KEY: unique symbol = Symbol('no key');

function leafRemoveRange(leaf: KLeaf, range: KRange): KLeaf | undefined {
  const keys = leaf.keys;
  const n = keys.length;
  const { below, above } = range;
  let start = 0;
  if (below !== undefined) while (start < n && below(keys[start])) start++;
  let end = n;
  if (above !== undefined) {
    end = start;
    while (end < n && !above(keys[end])) end++;
  }
  if (start === end) return leaf;
  if (start === 0 && end === n) return undefined;
  const vals = leaf.vals;
  return new KLeaf(
    keys.slice(0, start).concat(keys.slice(end)),
    vals === null ? null : vals.slice(0, start).concat(vals.slice(end)),
  );
}

/**
 * `removeRange` under branch `b`, whose keys are all below `next` (the minimum key of the node
 * after it, or `NO_KEY`). Children left underfull at the range's edges are merged with a
 * neighbour; every child keeps the same height, so the tree stays balanced.
 */
function branchRemoveRange(b: KBranch, range: KRange, next: unknown, cap: number): KBranch | undefined {
  const { below, above } = range;
  const n = b.kids.length;
  const keys: unknown[] = [];
  const kids: KSlot[] = [];
  const sizes: number[] = [];
  /** Positions in `kids` of the children rebuilt here (the range's edges), to rebalance. */
  const edges: number[] = [];
  let changed = false;
  for (let i = 0; i < n; i++) {
    const min = b.keys[i];
    const upper = i + 1 < n ? b.keys[i + 1] : next;
    // The child's keys lie in [min, upper).
    const past = above?.(min) === true;
    const before = below !== undefined && upper !== NO_KEY && below(upper);
    if (past || before) {
      keys.push(min);
      kids.push(b.kids[i] as KSlot);
      sizes.push(b.sizes[i] as number);
      continue;
    }
    const inside =
      (below === undefined || !below(min)) && (above === undefined || (upper !== NO_KEY && !above(upper)));
    if (inside) {
      changed = true;
      continue;
    }
    const child = childOf(b.kids, i);
    const nc =
      child instanceof KLeaf ? leafRemoveRange(child, range) : branchRemoveRange(child, range, upper, cap);
    if (nc === child) {
      keys.push(min);
      kids.push(b.kids[i] as KSlot);
      sizes.push(b.sizes[i] as number);
      continue;
    }
    changed = true;
    if (nc === undefined) continue;
    edges.push(kids.length);
    keys.push(nc.keys[0]);
    kids.push(nc);
    sizes.push(countOf(nc));
  }
  if (!changed) return b;
  if (kids.length === 0) return undefined;
  // Merge each underfull edge child with a neighbour, the later edge first so that positions
  // of the earlier one stay valid.
  for (let e = edges.length - 1; e >= 0; e--) {
    const at = edges[e] as number;
    if (kids.length === 1 || at >= kids.length) continue;
    const node = load(kids[at] as KSlot);
    const min = (node instanceof KLeaf ? cap : branchCapacity()) >>> 2;
    if (widthOf(node) >= min) continue;
    const li = at > 0 ? at - 1 : at;
    const merged = rebalance(load(kids[li] as KSlot), load(kids[li + 1] as KSlot), cap);
    keys.splice(li, 2, ...merged.map((m) => m.keys[0]));
    kids.splice(li, 2, ...merged);
    sizes.splice(li, 2, ...merged.map(countOf));
  }
  return branchOf(keys, kids, sizes);
}
