/**
 * Streaming iteration over a keyed B+ tree: a cursor keeps one root-to-leaf path (never the
 * whole tree) and moves leaf to leaf, forward or in reverse, between two bounds.
 */
import { KBranch, type KLeaf, type KNode, type KSlot } from './keyed-node.js';
import { countBefore, firstNotBefore, load } from './keyed-tree.js';
import { childOf, leafValue } from './slots.js';

/**
 * A range over a keyed tree. `below(k)` is true for keys before the range's start, `above(k)`
 * for keys past its end; both are monotone in key order. Absent means unbounded.
 */
export interface KRange {
  readonly below?: ((key: unknown) => boolean) | undefined;
  readonly above?: ((key: unknown) => boolean) | undefined;
  readonly reverse: boolean;
}

export const FULL_RANGE: KRange = { reverse: false };
export const FULL_RANGE_REVERSE: KRange = { reverse: true };

/** A position in a tree; `next()` moves to the next entry in range and says whether there is one. */
export class KScan {
  private readonly path: KBranch[] = [];
  private readonly pos: number[] = [];
  private leaf: KLeaf | undefined;
  private i = -1;
  private started = false;
  key: unknown = undefined;
  value: unknown = undefined;

  constructor(
    private readonly root: KSlot | undefined,
    private readonly range: KRange,
  ) {}

  private descend(node: KNode, toFirst: boolean): void {
    while (node instanceof KBranch) {
      const p = toFirst ? 0 : node.kids.length - 1;
      this.path.push(node);
      this.pos.push(p);
      node = childOf(node.kids, p);
    }
    this.leaf = node;
    this.i = toFirst ? 0 : node.keys.length - 1;
  }

  /** Positions on the first (forward) or last (reverse) entry for which `before` is false/true. */
  private seek(before: ((key: unknown) => boolean) | undefined): void {
    if (this.root === undefined) return;
    let node = load(this.root);
    const forward = !this.range.reverse;
    if (before === undefined) {
      this.descend(node, forward);
      return;
    }
    while (node instanceof KBranch) {
      const p = firstNotBefore(node.keys, before, 1) - 1;
      this.path.push(node);
      this.pos.push(p);
      node = childOf(node.kids, p);
    }
    this.leaf = node;
    const lo = firstNotBefore(node.keys, before, 0);
    this.i = forward ? lo : lo - 1;
  }

  private step(): boolean {
    const leaf = this.leaf;
    if (leaf === undefined) return false;
    if (!this.range.reverse) {
      if (this.i < leaf.keys.length) return true;
      for (let d = this.path.length - 1; d >= 0; d--) {
        const b = this.path[d] as KBranch;
        const p = (this.pos[d] as number) + 1;
        if (p < b.kids.length) {
          this.path.length = d + 1;
          this.pos.length = d + 1;
          this.pos[d] = p;
          this.descend(childOf(b.kids, p), true);
          return true;
        }
      }
    } else {
      if (this.i >= 0) return true;
      for (let d = this.path.length - 1; d >= 0; d--) {
        const b = this.path[d] as KBranch;
        const p = (this.pos[d] as number) - 1;
        if (p >= 0) {
          this.path.length = d + 1;
          this.pos.length = d + 1;
          this.pos[d] = p;
          this.descend(childOf(b.kids, p), false);
          return true;
        }
      }
    }
    this.leaf = undefined;
    return false;
  }

  next(): boolean {
    const range = this.range;
    if (!this.started) {
      this.started = true;
      const { below, above } = range;
      if (!range.reverse) this.seek(below);
      else this.seek(above === undefined ? undefined : (k) => !above(k));
    } else if (this.leaf !== undefined) {
      this.i += range.reverse ? -1 : 1;
    }
    if (!this.step()) return false;
    const leaf = this.leaf as KLeaf;
    const key = leaf.keys[this.i];
    const stop = range.reverse ? range.below : range.above;
    if (stop?.(key)) {
      this.leaf = undefined;
      return false;
    }
    this.key = key;
    this.value = leaf.vals === null ? true : leafValue(leaf.vals, this.i);
    return true;
  }
}

/** The number of entries in `range`, from the subtree sizes: O(log n). */
export function countRange(root: KSlot | undefined, range: KRange): number {
  if (root === undefined) return 0;
  const { below, above } = range;
  const upto =
    above === undefined
      ? load(root) instanceof KBranch
        ? (load(root) as KBranch).count
        : (load(root) as KLeaf).keys.length
      : countBefore(root, (k) => !above(k));
  const from = below === undefined ? 0 : countBefore(root, below);
  return Math.max(0, upto - from);
}
