/**
 * Deltas of lists (counted B-trees): the two versions' common prefix and common suffix are
 * found by walking only the subtrees the versions do not share, and the delta is the one splice
 * that turns the older into the newer: at `start`, `count` items replaced by `items`. Appends,
 * prepends, sets, inserts and removes in one region of a list (what a transaction usually does)
 * give a delta of the items changed, whatever the list's length.
 */
import type { EntryChange } from '@proto/atom';
import { AtomRef, sameAtom } from '@proto/atom/extension';
import { deltaLimit, sameEntry, sameValue } from './keyed-delta.js';
import { LBranch, type LLeaf, type LNode, type LSlot } from './list-node.js';
import { itemAt, join, lbuild, lcount, lheight, lload, split } from './list-tree.js';

/** The stored form of a list delta: replace `count` items at `start` by `items`. */
export type ListDelta = readonly [start: number, count: number, items: unknown[]];

/** A front item: a subtree (`height` ≥ 1, 1 for a leaf) or an item (`height` 0) of a leaf. */
interface Item {
  readonly height: number;
  readonly slot: LSlot | undefined;
  readonly count: number;
  readonly leaf: LLeaf | undefined;
  readonly index: number;
}

function subtree(slot: LSlot, height: number, count: number): Item {
  return { height, slot, count, leaf: undefined, index: -1 };
}

/** Opens the subtree on top of `front` into its children (or items), the next one on top. */
function open(front: Item[], fromRight: boolean): void {
  const item = front.pop() as Item;
  const node = lload(item.slot as LSlot);
  const n = node instanceof LBranch ? node.kids.length : node.items.length;
  for (let j = 0; j < n; j++) {
    const i = fromRight ? j : n - 1 - j;
    // A child's count is its parent's size entry: pushing it loads nothing.
    if (node instanceof LBranch)
      front.push(subtree(node.kids[i] as LSlot, item.height - 1, node.sizes[i] as number));
    else front.push({ height: 0, slot: undefined, count: 1, leaf: node, index: i });
  }
}

/** How many items the two trees share at their start (or end), at most `max`. */
function common(older: LNode | undefined, newer: LNode | undefined, max: number, fromRight: boolean): number {
  if (older === undefined || newer === undefined) return 0;
  const a: Item[] = [subtree(older, lheight(older), lcount(older))];
  const b: Item[] = [subtree(newer, lheight(newer), lcount(newer))];
  let shared = 0;
  while (shared < max && a.length > 0 && b.length > 0) {
    const x = a.at(-1) as Item;
    const y = b.at(-1) as Item;
    if (x.height > 0 && x.height === y.height && sameAtom(x.slot, y.slot) && shared + x.count <= max) {
      a.pop();
      b.pop();
      shared += x.count;
    } else if (x.height === 0 && y.height === 0) {
      if (!sameValue(x.leaf?.items[x.index], y.leaf?.items[y.index])) break;
      a.pop();
      b.pop();
      shared++;
    } else if (x.height >= y.height && x.height > 0) {
      open(a, fromRight);
    } else {
      open(b, fromRight);
    }
  }
  return shared;
}

/** Two list versions' roots, lengths and the common prefix and suffix of their items. */
interface Splice {
  readonly o: LNode | undefined;
  readonly n: LNode | undefined;
  readonly oldLength: number;
  readonly newLength: number;
  readonly prefix: number;
  readonly suffix: number;
}

function spliceOf(older: LSlot | undefined, newer: LSlot | undefined): Splice {
  const o = older === undefined ? undefined : lload(older);
  const n = newer === undefined ? undefined : lload(newer);
  const oldLength = o === undefined ? 0 : lcount(o);
  const newLength = n === undefined ? 0 : lcount(n);
  const shortest = Math.min(oldLength, newLength);
  const prefix = common(o, n, shortest, false);
  const suffix = common(o, n, shortest - prefix, true);
  return { o, n, oldLength, newLength, prefix, suffix };
}

/** The delta from list tree `older` to `newer`, or `undefined` when it would hold too many items. */
export function diffLists(older: LSlot | undefined, newer: LSlot | undefined): ListDelta | undefined {
  const { n, oldLength, newLength, prefix, suffix } = spliceOf(older, newer);
  const inserted = newLength - prefix - suffix;
  if (inserted > deltaLimit(newLength)) return undefined;
  const items: unknown[] = [];
  for (let i = prefix; i < prefix + inserted; i++) items.push(itemAt(n as LNode, i));
  return [prefix, oldLength - prefix - suffix, items];
}

/**
 * The items that differ from list tree `older` to `newer`, lazily, by index: past the common
 * prefix and suffix (found visiting only unshared subtrees), positions both lists have are
 * `changed` when their items differ, then the newer list's extra positions are `added` (keys
 * are newer indexes) or the older list's extra positions `removed` (keys are older indexes).
 */
export function* listChanges(
  older: LSlot | undefined,
  newer: LSlot | undefined,
): Generator<EntryChange<number>> {
  const { o, n, oldLength, newLength, prefix, suffix } = spliceOf(older, newer);
  const oldMiddle = oldLength - prefix - suffix;
  const newMiddle = newLength - prefix - suffix;
  const item = (root: LNode, i: number) => {
    const v = itemAt(root, i);
    return v instanceof AtomRef ? v.get() : v;
  };
  const both = Math.min(oldMiddle, newMiddle);
  for (let i = prefix; i < prefix + both; i++) {
    const oldValue = item(o as LNode, i);
    const newValue = item(n as LNode, i);
    if (!sameEntry(oldValue, newValue)) yield { kind: 'changed', key: i, oldValue, newValue };
  }
  for (let i = prefix + both; i < prefix + newMiddle; i++)
    yield { kind: 'added', key: i, oldValue: undefined, newValue: item(n as LNode, i) };
  for (let i = prefix + both; i < prefix + oldMiddle; i++)
    yield { kind: 'removed', key: i, oldValue: item(o as LNode, i), newValue: undefined };
}

/** True when `delta` has the stored shape of a `ListDelta` that fits a list of `length` items. */
export function isListDelta(delta: unknown, length: number): delta is ListDelta {
  if (!Array.isArray(delta) || delta.length !== 3) return false;
  const [start, count, items] = delta as unknown[];
  return (
    Number.isSafeInteger(start) &&
    Number.isSafeInteger(count) &&
    (start as number) >= 0 &&
    (count as number) >= 0 &&
    (start as number) + (count as number) <= length &&
    Array.isArray(items)
  );
}

/** List tree `root` with `delta` applied. */
export function applyListDelta(root: LSlot | undefined, delta: ListDelta, cap: number): LNode | undefined {
  const [start, count, items] = delta;
  const [left, rest] = split(root, start, cap);
  const [, right] = split(rest, count, cap);
  return join(join(left, lbuild(items, cap), cap), right, cap);
}
