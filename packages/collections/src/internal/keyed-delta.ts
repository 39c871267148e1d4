/**
 * Deltas of keyed B+ trees: the entries that differ between two versions of one tree, found by
 * walking only the subtrees the versions do not share, and their replay.
 *
 * The walk keeps a front per version: a stack of subtrees and entries that together hold the
 * version's entries not consumed yet, in key order. When both fronts start with the same
 * subtree (the same node, or stored under the same pointer) it is skipped in both; otherwise
 * the taller of the two front items is opened into its children (a leaf into its entries), and
 * two entries are merged by key. A change of k entries in a tree of height h visits about
 * k · h · fan-out items, whatever the tree's size.
 */
import type { EntryChange } from '@proto/atom';
import { Atom, AtomRef, LazyValue, sameAtom, valuesEqual } from '@proto/atom/extension';
import { compareKeys } from '../order.js';
import { BlobValue } from './blobs.js';
import { KBranch, type KLeaf, type KSlot } from './keyed-node.js';
import { heightOf, insert, load, remove } from './keyed-tree.js';
import { asSegment, leafValue } from './slots.js';

/**
 * The stored form of a delta: keys set (ascending) with their raw values (`null` for key-only
 * trees), and keys removed (ascending).
 */
export type KeyedDelta = readonly [keys: unknown[], vals: unknown[] | null, removed: unknown[]];

/** A front item: a subtree (`height` ≥ 0, 0 for a leaf) or an entry (`height` −1) of `leaf`. */
interface Item {
  readonly height: number;
  readonly slot: KSlot | undefined;
  readonly key: unknown;
  readonly leaf: KLeaf | undefined;
  readonly index: number;
}

function subtree(slot: KSlot, height: number): Item {
  return { height, slot, key: undefined, leaf: undefined, index: -1 };
}

function entryValue(item: Item): unknown {
  return item.leaf?.vals?.[item.index];
}

/**
 * The value of a changed entry as the delta stores it. A value that would be a segment is
 * wrapped in its leaf first (the same value, in place), so that once the delta record is
 * written the leaf's next write copies its bytes, or moves it out of line knowing its size;
 * a value already out of line is stored by its bytes.
 */
function deltaValue(leaf: KLeaf, index: number): unknown {
  const vals = leaf.vals as unknown[];
  const v = vals[index];
  if (v instanceof BlobValue) return v.segment();
  const wrapped = asSegment(v);
  if (wrapped !== v) vals[index] = wrapped;
  return wrapped;
}

function rootFront(root: KSlot | undefined): Item[] {
  return root === undefined ? [] : [subtree(root, heightOf(root) - 1)];
}

/** Replaces the subtree on top of `front` by its children (or its entries), leftmost on top. */
function open(front: Item[], keyOnly: boolean): void {
  const item = front.pop() as Item;
  const node = load(item.slot as KSlot);
  if (node instanceof KBranch) {
    for (let i = node.kids.length - 1; i >= 0; i--)
      front.push(subtree(node.kids[i] as KSlot, item.height - 1));
    return;
  }
  const leaf = node as KLeaf;
  for (let i = leaf.keys.length - 1; i >= 0; i--) {
    front.push({
      height: -1,
      slot: undefined,
      key: leaf.keys[i],
      leaf: keyOnly ? undefined : leaf,
      index: i,
    });
  }
}

/**
 * True when two raw values (of a leaf's values or a list's items) are the same: `Object.is`
 * (0 and -0 differ, as they do when stored), the same stored bytes, or the same atom.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  // Two decodings of one stored leaf (one evicted and loaded again) hold equal segments and
  // blobs that are different objects: compare what they store, not their identity.
  if (a instanceof LazyValue && b instanceof LazyValue) return a.sameStored(b);
  if (a instanceof BlobValue && b instanceof BlobValue) return sameAtom(a.slot, b.slot);
  const atomish = (v: unknown) => v instanceof Atom || v instanceof AtomRef;
  return atomish(a) && atomish(b) && sameAtom(a as Atom, b as Atom);
}

/** What a `TreeDiff` found: an entry only in the newer tree, only in the older one, or in both with values that differ. */
export type EntryDifference = 'added' | 'removed' | 'changed';

/**
 * A lazy walk over the entries that differ between two versions of one keyed tree, in key
 * order. Each `next()` reads until it finds one difference (or the end) and describes it in
 * `kind`, `key` and the leaves and positions of the two versions' entries. `visited` counts the
 * nodes read, so callers can see that a walk costs what changed, not the tree's size.
 */
export class TreeDiff {
  /** The difference found by the last `next()` that returned true. */
  kind: EntryDifference = 'changed';
  key: unknown = undefined;
  /** The older version's entry (for `removed` and `changed`): its leaf and index. */
  olderLeaf: KLeaf | undefined = undefined;
  olderIndex = -1;
  /** The newer version's entry (for `added` and `changed`). */
  newerLeaf: KLeaf | undefined = undefined;
  newerIndex = -1;
  /** Nodes read so far. */
  visited = 0;
  readonly #a: Item[];
  readonly #b: Item[];
  readonly #keyOnly: boolean;
  /** Changed positions of a pair of leaves with the same keys, not reported yet. */
  #pairs: { older: KLeaf; newer: KLeaf; at: number } | undefined = undefined;

  constructor(older: KSlot | undefined, newer: KSlot | undefined, keyOnly: boolean) {
    this.#a = rootFront(older);
    this.#b = rootFront(newer);
    this.#keyOnly = keyOnly;
  }

  #open(front: Item[]): void {
    this.visited++;
    open(front, this.#keyOnly);
  }

  #report(kind: EntryDifference, x: Item | undefined, y: Item | undefined): true {
    this.kind = kind;
    this.key = (y ?? x)?.key;
    this.olderLeaf = x?.leaf;
    this.olderIndex = x?.index ?? -1;
    this.newerLeaf = y?.leaf;
    this.newerIndex = y?.index ?? -1;
    return true;
  }

  /** Advances to the next difference; false once there is none left. */
  next(): boolean {
    const pairs = this.#pairs;
    if (pairs !== undefined) {
      const ov = pairs.older.vals as unknown[];
      const nv = pairs.newer.vals as unknown[];
      for (let i = pairs.at; i < nv.length; i++) {
        if (sameValue(ov[i], nv[i])) continue;
        pairs.at = i + 1;
        this.kind = 'changed';
        this.key = pairs.newer.keys[i];
        this.olderLeaf = pairs.older;
        this.newerLeaf = pairs.newer;
        this.olderIndex = i;
        this.newerIndex = i;
        return true;
      }
      this.#pairs = undefined;
    }
    const a = this.#a;
    const b = this.#b;
    const keyOnly = this.#keyOnly;
    while (a.length > 0 || b.length > 0) {
      const x = a.at(-1);
      const y = b.at(-1);
      if (x === undefined) {
        if ((y as Item).height >= 0) this.#open(b);
        else return this.#report('added', undefined, b.pop());
        continue;
      }
      if (y === undefined) {
        if (x.height >= 0) this.#open(a);
        else return this.#report('removed', a.pop(), undefined);
        continue;
      }
      if (x.height >= 0 && x.height === y.height && sameAtom(x.slot, y.slot)) {
        a.pop();
        b.pop();
        continue;
      }
      if (x.height === y.height && x.height > 0) {
        // Two branches over the same key boundaries (the same keys array: an update below them
        // moved no boundary): only the children that differ are opened, pairwise.
        const older = load(x.slot as KSlot) as KBranch;
        const newer = load(y.slot as KSlot) as KBranch;
        if (older.keys === newer.keys) {
          this.visited += 2;
          a.pop();
          b.pop();
          for (let i = newer.kids.length - 1; i >= 0; i--) {
            const ok = older.kids[i] as KSlot;
            const nk = newer.kids[i] as KSlot;
            if (sameAtom(ok, nk)) continue;
            a.push(subtree(ok, x.height - 1));
            b.push(subtree(nk, y.height - 1));
          }
          continue;
        }
      }
      if (x.height === 0 && y.height === 0 && !keyOnly) {
        // Two leaves with the same keys (values updated in place, the common case): compare the
        // values position by position, without opening either leaf into entries.
        const older = load(x.slot as KSlot) as KLeaf;
        const newer = load(y.slot as KSlot) as KLeaf;
        if (older.keys === newer.keys) {
          this.visited += 2;
          a.pop();
          b.pop();
          this.#pairs = { older, newer, at: 0 };
          return this.next();
        }
      }
      if (x.height >= 0 || y.height >= 0) {
        this.#open(x.height >= y.height ? a : b);
        continue;
      }
      const c = compareKeys(x.key, y.key);
      if (c === 0) {
        a.pop();
        b.pop();
        if (!keyOnly && !sameValue(entryValue(x), entryValue(y))) return this.#report('changed', x, y);
      } else if (c < 0) {
        return this.#report('removed', a.pop(), undefined);
      } else {
        return this.#report('added', undefined, b.pop());
      }
    }
    return false;
  }
}

/** True when two decoded entry values are the same: one atom (or pointer), or equal plain values. */
export function sameEntry(a: unknown, b: unknown): boolean {
  const atomish = (v: unknown) => v instanceof Atom || v instanceof AtomRef;
  if (atomish(a) || atomish(b)) return atomish(a) && atomish(b) && sameAtom(a as Atom, b as Atom);
  return valuesEqual(a, b);
}

/**
 * The delta from tree `older` to tree `newer`, or `undefined` once more than `limit` entries
 * differ (the caller then stores the whole tree). Reads only unshared subtrees.
 */
export function diffTrees(
  older: KSlot | undefined,
  newer: KSlot | undefined,
  keyOnly: boolean,
  limit: number,
): KeyedDelta | undefined {
  const walk = new TreeDiff(older, newer, keyOnly);
  const keys: unknown[] = [];
  const vals: unknown[] | null = keyOnly ? null : [];
  const removed: unknown[] = [];
  while (walk.next()) {
    if (keys.length + removed.length > limit) return undefined;
    if (walk.kind === 'removed') {
      removed.push(walk.key);
    } else {
      keys.push(walk.key);
      vals?.push(deltaValue(walk.newerLeaf as KLeaf, walk.newerIndex));
    }
  }
  return [keys, vals, removed];
}

/** Tree `root` with `delta` applied (removals first, then the keys set); `undefined` when empty. */
export function applyDelta(
  root: KSlot | undefined,
  delta: KeyedDelta,
  keyOnly: boolean,
  cap: number,
): KSlot | undefined {
  const [keys, vals, removed] = delta;
  let next = root;
  for (const key of removed) next = remove(next, key, cap);
  for (let i = 0; i < keys.length; i++)
    next = insert(next, keys[i], keyOnly ? undefined : vals?.[i], keyOnly, cap);
  return next;
}

/**
 * The most changed entries a delta of a collection of `size` entries holds (more, and the
 * commit stores the whole collection): half the entries, and never fewer than 64.
 */
export function deltaLimit(size: number): number {
  return Math.max(64, size >> 1);
}

/** True when `delta` has the stored shape of a `KeyedDelta` (for a tree with or without values). */
export function isKeyedDelta(delta: unknown, keyOnly: boolean): delta is KeyedDelta {
  if (!Array.isArray(delta) || delta.length !== 3) return false;
  const [keys, vals, removed] = delta as unknown[];
  if (!Array.isArray(keys) || !Array.isArray(removed)) return false;
  return keyOnly ? vals === null : Array.isArray(vals) && vals.length === keys.length;
}

/** A leaf's value at `index`, decoded (segments, values out of line, nested collections). */
function valueAt(leaf: KLeaf, index: number): unknown {
  const v = leafValue(leaf.vals as unknown[], index);
  return v instanceof AtomRef ? v.get() : v;
}

/**
 * The entries that differ from tree `older` to tree `newer` as `diff` reports them, lazily, in
 * key order. A key-only tree's entries have the value `true`.
 */
export function* treeChanges(
  older: KSlot | undefined,
  newer: KSlot | undefined,
  keyOnly: boolean,
): Generator<EntryChange> {
  const walk = new TreeDiff(older, newer, keyOnly);
  while (walk.next()) {
    const kind = walk.kind;
    if (keyOnly) {
      yield {
        kind,
        key: walk.key,
        oldValue: kind === 'added' ? undefined : true,
        newValue: kind === 'removed' ? undefined : true,
      };
      continue;
    }
    const o = walk.olderLeaf;
    const n = walk.newerLeaf;
    yield {
      kind,
      key: walk.key,
      oldValue: o === undefined ? undefined : valueAt(o, walk.olderIndex),
      newValue: n === undefined ? undefined : valueAt(n, walk.newerIndex),
    };
  }
}
