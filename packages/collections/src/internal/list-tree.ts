/**
 * Persistent counted B-tree algorithms for `List`: positional get/set/insert/remove, split and
 * join (for slice and concat), all O(log n), copying only the nodes on the changed paths.
 */
import { AtomRef } from '@proto/atom';
import { branchCapacity } from '../config.js';
import { LBranch, LLeaf, type LNode, type LSlot, lbranch } from './list-node.js';
import { childOf, leafValue } from './slots.js';

export function lload(slot: LSlot): LNode {
  return slot instanceof AtomRef ? slot.get() : slot;
}

export function lcount(node: LNode): number {
  return node instanceof LLeaf ? node.items.length : node.count;
}

function width(node: LNode): number {
  return node instanceof LLeaf ? node.items.length : node.kids.length;
}

/** The capacity that applies to `node`: `cap` for leaves, the branch capacity for branches. */
function capFor(node: LNode, cap: number): number {
  return node instanceof LLeaf ? cap : branchCapacity();
}

/** The item at `index` (in range). */
export function itemAt(root: LSlot, index: number): unknown {
  let node = lload(root);
  while (node instanceof LBranch) {
    const sizes = node.sizes;
    let i = 0;
    while (index >= (sizes[i] as number)) index -= sizes[i++] as number;
    node = childOf(node.kids, i);
  }
  return leafValue(node.items, index);
}

/** Replaces the item at `index` (in range). */
export function setItem(node: LNode, index: number, value: unknown): LNode {
  if (node instanceof LLeaf) {
    if (Object.is(node.items[index], value)) return node;
    const items = node.items.slice();
    items[index] = value;
    return new LLeaf(items);
  }
  const sizes = node.sizes;
  let i = 0;
  while (index >= (sizes[i] as number)) index -= sizes[i++] as number;
  const child = childOf(node.kids, i);
  const nc = setItem(child, index, value);
  if (nc === child) return node;
  const kids = node.kids.slice();
  kids[i] = nc;
  return new LBranch(kids, sizes, node.count);
}

function splitEven(node: LNode): LNode[] {
  if (node instanceof LLeaf) {
    const half = node.items.length >>> 1;
    return [new LLeaf(node.items.slice(0, half)), new LLeaf(node.items.slice(half))];
  }
  const half = node.kids.length >>> 1;
  return [
    lbranch(node.kids.slice(0, half), node.sizes.slice(0, half)),
    lbranch(node.kids.slice(half), node.sizes.slice(half)),
  ];
}

/** Two adjacent nodes of equal height as one node, or two of even width when one would overflow. */
function rebalance(a: LNode, b: LNode, cap: number): LNode[] {
  const min = capFor(a, cap) >>> 2;
  if (width(a) >= min && width(b) >= min) return [a, b];
  const merged =
    a instanceof LLeaf
      ? new LLeaf(a.items.concat((b as LLeaf).items))
      : new LBranch(
          a.kids.concat((b as LBranch).kids),
          a.sizes.concat((b as LBranch).sizes),
          a.count + (b as LBranch).count,
        );
  return width(merged) <= capFor(merged, cap) ? [merged] : splitEven(merged);
}

/** A branch from `kids`, split in two when it overflows. */
function branchOrSplit(kids: LSlot[], sizes: number[]): LNode[] {
  const b = lbranch(kids, sizes);
  return kids.length <= branchCapacity() ? [b] : splitEven(b);
}

function sizesOf(nodes: readonly LNode[]): number[] {
  return nodes.map(lcount);
}

/** Inserts `value` before position `index` (0..count); returns one or two nodes. */
function insertRec(node: LNode, index: number, value: unknown, cap: number): LNode[] {
  if (node instanceof LLeaf) {
    const items = node.items.slice();
    items.splice(index, 0, value);
    const leaf = new LLeaf(items);
    return items.length <= cap ? [leaf] : splitEven(leaf);
  }
  const sizes = node.sizes;
  let i = 0;
  while (i < sizes.length - 1 && index > (sizes[i] as number)) index -= sizes[i++] as number;
  const parts = insertRec(childOf(node.kids, i), index, value, cap);
  const kids = node.kids.slice();
  const ns = sizes.slice();
  kids.splice(i, 1, ...parts);
  ns.splice(i, 1, ...sizesOf(parts));
  return branchOrSplit(kids, ns);
}

export function insertItem(root: LSlot | undefined, index: number, value: unknown, cap: number): LNode {
  if (root === undefined) return new LLeaf([value]);
  const parts = insertRec(lload(root), index, value, cap);
  return parts.length === 1 ? (parts[0] as LNode) : lbranch(parts, sizesOf(parts));
}

function removeRec(node: LNode, index: number, cap: number): LNode | undefined {
  if (node instanceof LLeaf) {
    if (node.items.length === 1) return undefined;
    const items = node.items.slice();
    items.splice(index, 1);
    return new LLeaf(items);
  }
  const sizes = node.sizes;
  let i = 0;
  while (index >= (sizes[i] as number)) index -= sizes[i++] as number;
  const nc = removeRec(childOf(node.kids, i), index, cap);
  const kids = node.kids.slice();
  const ns = sizes.slice();
  if (nc === undefined) {
    if (kids.length === 1) return undefined;
    kids.splice(i, 1);
    ns.splice(i, 1);
    return lbranch(kids, ns);
  }
  kids[i] = nc;
  ns[i] = lcount(nc);
  if (kids.length > 1 && width(nc) < capFor(nc, cap) >>> 2) {
    const li = i > 0 ? i - 1 : i;
    const merged = rebalance(lload(kids[li] as LSlot), lload(kids[li + 1] as LSlot), cap);
    kids.splice(li, 2, ...merged);
    ns.splice(li, 2, ...sizesOf(merged));
  }
  return lbranch(kids, ns);
}

function collapse(node: LNode | undefined): LNode | undefined {
  while (node instanceof LBranch && node.kids.length === 1) node = lload(node.kids[0] as LSlot);
  return node;
}

export function removeItem(root: LSlot, index: number, cap: number): LNode | undefined {
  return collapse(removeRec(lload(root), index, cap));
}

export function lheight(node: LNode): number {
  let h = 1;
  while (node instanceof LBranch) {
    node = lload(node.kids[0] as LSlot);
    h++;
  }
  return h;
}

/** Joins `a` (height ha) before `b` (height hb); returns nodes at height max(ha, hb). */
function joinRec(a: LNode, ha: number, b: LNode, hb: number, cap: number): LNode[] {
  if (ha === hb) return rebalance(a, b, cap);
  if (ha > hb) {
    const br = a as LBranch;
    const n = br.kids.length;
    const parts = joinRec(lload(br.kids[n - 1] as LSlot), ha - 1, b, hb, cap);
    return branchOrSplit(
      br.kids.slice(0, n - 1).concat(parts),
      br.sizes.slice(0, n - 1).concat(sizesOf(parts)),
    );
  }
  const br = b as LBranch;
  const parts = joinRec(a, ha, lload(br.kids[0] as LSlot), hb - 1, cap);
  return branchOrSplit((parts as LSlot[]).concat(br.kids.slice(1)), sizesOf(parts).concat(br.sizes.slice(1)));
}

/** `a` followed by `b`. */
export function join(a: LNode | undefined, b: LNode | undefined, cap: number): LNode | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const parts = joinRec(a, lheight(a), b, lheight(b), cap);
  return collapse(parts.length === 1 ? parts[0] : lbranch(parts, sizesOf(parts)));
}

function fixEdge(kids: LSlot[], sizes: number[], last: boolean, cap: number): LNode {
  if (kids.length >= 2) {
    const i = last ? kids.length - 2 : 0;
    const merged = rebalance(lload(kids[i] as LSlot), lload(kids[i + 1] as LSlot), cap);
    kids.splice(i, 2, ...merged);
    sizes.splice(i, 2, ...sizesOf(merged));
  }
  return lbranch(kids, sizes);
}

function splitRec(node: LNode, index: number, cap: number): [LNode | undefined, LNode | undefined] {
  const total = lcount(node);
  if (index <= 0) return [undefined, node];
  if (index >= total) return [node, undefined];
  if (node instanceof LLeaf)
    return [new LLeaf(node.items.slice(0, index)), new LLeaf(node.items.slice(index))];
  let i = 0;
  let rest = index;
  while (rest >= (node.sizes[i] as number)) rest -= node.sizes[i++] as number;
  const [cl, cr] = splitRec(lload(node.kids[i] as LSlot), rest, cap);
  const leftKids: LSlot[] = node.kids.slice(0, i);
  const leftSizes = node.sizes.slice(0, i);
  if (cl !== undefined) {
    leftKids.push(cl);
    leftSizes.push(lcount(cl));
  }
  const rightKids: LSlot[] = cr === undefined ? [] : [cr];
  const rightSizes = cr === undefined ? [] : [lcount(cr)];
  for (let j = i + 1; j < node.kids.length; j++) {
    rightKids.push(node.kids[j] as LSlot);
    rightSizes.push(node.sizes[j] as number);
  }
  return [
    leftKids.length === 0 ? undefined : fixEdge(leftKids, leftSizes, true, cap),
    rightKids.length === 0 ? undefined : fixEdge(rightKids, rightSizes, false, cap),
  ];
}

/** Splits into the first `index` items and the rest. */
export function split(
  root: LSlot | undefined,
  index: number,
  cap: number,
): [LNode | undefined, LNode | undefined] {
  if (root === undefined) return [undefined, undefined];
  const [l, r] = splitRec(lload(root), index, cap);
  return [collapse(l), collapse(r)];
}

/** Builds a tree from `items`. */
export function lbuild(items: readonly unknown[], cap: number): LNode | undefined {
  const n = items.length;
  if (n === 0) return undefined;
  let level: LNode[] = [];
  const leaves = Math.ceil(n / cap);
  for (let j = 0, start = 0; j < leaves; j++) {
    const end = Math.round(((j + 1) * n) / leaves);
    level.push(new LLeaf(items.slice(start, end)));
    start = end;
  }
  const bcap = branchCapacity();
  while (level.length > 1) {
    const m = level.length;
    const groups = Math.ceil(m / bcap);
    const next: LNode[] = [];
    for (let j = 0, start = 0; j < groups; j++) {
      const end = Math.round(((j + 1) * m) / groups);
      const group = level.slice(start, end);
      next.push(lbranch(group, sizesOf(group)));
      start = end;
    }
    level = next;
  }
  return level[0];
}

/** Streams items with positions in `[start, end)`, forward or reverse, one path at a time. */
export class LScan {
  private readonly path: LBranch[] = [];
  private readonly pos: number[] = [];
  private leaf: LLeaf | undefined;
  private i = 0;
  private remaining: number;
  private started = false;
  key = 0;
  value: unknown = undefined;

  constructor(
    private readonly root: LSlot | undefined,
    private readonly start: number,
    private readonly end: number,
    private readonly reverse: boolean,
  ) {
    this.remaining = Math.max(0, end - start);
  }

  private seek(index: number): void {
    let node = lload(this.root as LSlot);
    while (node instanceof LBranch) {
      let p = 0;
      while (index >= (node.sizes[p] as number)) index -= node.sizes[p++] as number;
      this.path.push(node);
      this.pos.push(p);
      node = childOf(node.kids, p);
    }
    this.leaf = node;
    this.i = index;
  }

  private descend(node: LNode, first: boolean): void {
    while (node instanceof LBranch) {
      const p = first ? 0 : node.kids.length - 1;
      this.path.push(node);
      this.pos.push(p);
      node = childOf(node.kids, p);
    }
    this.leaf = node;
    this.i = first ? 0 : node.items.length - 1;
  }

  private move(): void {
    const leaf = this.leaf as LLeaf;
    this.i += this.reverse ? -1 : 1;
    if (this.i >= 0 && this.i < leaf.items.length) return;
    for (let d = this.path.length - 1; d >= 0; d--) {
      const b = this.path[d] as LBranch;
      const p = (this.pos[d] as number) + (this.reverse ? -1 : 1);
      if (p >= 0 && p < b.kids.length) {
        this.path.length = d + 1;
        this.pos.length = d + 1;
        this.pos[d] = p;
        this.descend(childOf(b.kids, p), !this.reverse);
        return;
      }
    }
  }

  next(): boolean {
    if (this.remaining <= 0) return false;
    if (!this.started) {
      this.started = true;
      this.key = this.reverse ? this.end - 1 : this.start;
      this.seek(this.key);
    } else {
      this.move();
      this.key += this.reverse ? -1 : 1;
    }
    this.remaining--;
    this.value = leafValue((this.leaf as LLeaf).items, this.i);
    return true;
  }
}
