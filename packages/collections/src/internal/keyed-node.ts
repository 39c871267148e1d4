/**
 * Nodes of the ordered B+ trees behind `Dictionary`, `OrderedSet`, `CountedSet`,
 * `HashDictionary` and `RepeatedKeysDictionary`.
 *
 * Stored formats (codec values):
 * - leaf `proto.coll.leaf`: `[keys, values]`, or `[keys, null]` for key-only trees (sets).
 *   Arrays, plain objects and long strings among the values are stored as segments: a loaded
 *   leaf keeps them as `LazyValue`s (decoded when read, see `leafValue`), and rewriting the leaf
 *   copies the bytes of the values that did not change.
 * - branch `proto.coll.branch`: `[minKeys, children, sizes]`: `minKeys[i]` is the smallest key
 *   under `children[i]` (a pointer), `sizes[i]` the number of entries under it.
 */
import { Atom, type AtomRef, LazyValue, registerAtomType } from '@proto/atom';
import { badPayload, settleSlots } from './slots.js';

export type KNode = KLeaf | KBranch;
export type KSlot = KNode | AtomRef<KNode>;

/**
 * Search acceleration for nodes whose keys are all strings (built on first search, never
 * stored): the keys' common prefix and, per key, the three UTF-16 code units after it packed in
 * an array of doubles. The packing preserves order, so a lookup binary-searches contiguous numbers
 * and compares whole strings only among equal fingerprints.
 */
export interface KeyIndex {
  /** `undefined`: not built yet; `null`: not applicable (some key is not a string). */
  fp: readonly number[] | null | undefined;
  prefix: string;
}

/** A leaf: sorted keys and, unless the tree is key-only, their values. */
export class KLeaf extends Atom implements KeyIndex {
  static readonly typeName = 'proto.coll.leaf';
  fp: readonly number[] | null | undefined = undefined;
  prefix = '';
  constructor(
    readonly keys: readonly unknown[],
    readonly vals: readonly unknown[] | null,
  ) {
    super();
  }
  get atomType(): string {
    return KLeaf.typeName;
  }
  toPayload(): unknown {
    return [this.keys, this.vals === null ? null : segmented(this.vals)];
  }
}

/** Strings longer than this are stored as segments. */
const SEGMENT_STRING = 64;

/** The values with every array, plain object and long string wrapped to be written as a segment. */
function segmented(vals: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(vals.length);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    let wrap = false;
    if (typeof v === 'object' && v !== null) {
      const proto: unknown = Object.getPrototypeOf(v);
      wrap = proto === Object.prototype || proto === Array.prototype || proto === null;
    } else if (typeof v === 'string') {
      wrap = v.length > SEGMENT_STRING;
    }
    out[i] = wrap ? LazyValue.of(v) : v;
  }
  return out;
}

/** The value at `i` of a leaf's values, decoded if the leaf kept it encoded. */
export function leafValue(vals: readonly unknown[], i: number): unknown {
  const v = vals[i];
  return v instanceof LazyValue ? v.get() : v;
}

/** A branch: the smallest key, the child and the entry count of each child. */
export class KBranch extends Atom implements KeyIndex {
  static readonly typeName = 'proto.coll.branch';
  fp: readonly number[] | null | undefined = undefined;
  prefix = '';
  constructor(
    readonly keys: readonly unknown[],
    readonly kids: KSlot[],
    readonly sizes: readonly number[],
    /** Entries under this branch (the sum of `sizes`); not stored. */
    readonly count: number,
  ) {
    super();
  }
  get atomType(): string {
    return KBranch.typeName;
  }
  toPayload(): unknown {
    settleSlots(this.kids);
    return [this.keys, this.kids, this.sizes];
  }
  override childAtoms(): Iterable<Atom | AtomRef> {
    return this.kids;
  }
}

function sum(sizes: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < sizes.length; i++) total += sizes[i] as number;
  return total;
}

registerAtomType(KLeaf.typeName, (payload) => {
  if (!Array.isArray(payload) || !Array.isArray(payload[0])) return badPayload('leaf');
  const vals = payload[1];
  if (vals !== null && (!Array.isArray(vals) || vals.length !== payload[0].length)) return badPayload('leaf');
  return new KLeaf(payload[0], vals);
});

registerAtomType(KBranch.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 3) return badPayload('branch');
  const [keys, kids, sizes] = payload as [unknown, unknown, unknown];
  if (!Array.isArray(keys) || !Array.isArray(kids) || !Array.isArray(sizes)) return badPayload('branch');
  if (keys.length !== kids.length || sizes.length !== kids.length || kids.length === 0)
    return badPayload('branch');
  return new KBranch(keys, kids as KSlot[], sizes as number[], sum(sizes as number[]));
});

/** @internal */
export function branchOf(keys: unknown[], kids: KSlot[], sizes: number[]): KBranch {
  return new KBranch(keys, kids, sizes, sum(sizes));
}

/** @internal Carries the search index over to a node with the same keys array. */
export function inheritIndex<T extends KNode>(from: KNode, to: T): T {
  to.fp = from.fp;
  to.prefix = from.prefix;
  return to;
}
