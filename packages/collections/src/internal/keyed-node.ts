/**
 * Nodes of the ordered B+ trees behind `Dictionary`, `OrderedSet`, `CountedSet`,
 * `HashDictionary` and `RepeatedKeysDictionary`.
 *
 * Stored formats (codec values):
 * - leaf `proto.coll.leaf`: `[keys, values]`, or `[keys, null]` for key-only trees (sets);
 *   `proto.coll.leaf.ool`: `[keys, values, positions]` when the values at `positions` are stored
 *   out of line (each a reference to a `proto.coll.value` atom, see `blobs.ts`). The keys array is one segment
 *   (copied as bytes while a leaf's keys do not change).
 *   Arrays, plain objects and long strings among the values are stored as segments: a loaded
 *   leaf keeps them as `LazyValue`s (decoded when read, see `leafValue`), and rewriting the leaf
 *   copies the bytes of the values that did not change.
 * - branch `proto.coll.branch`: `[minKeys, children, sizes]`: `minKeys[i]` is the smallest key
 *   under `children[i]` (a pointer), `sizes[i]` the number of entries under it; `minKeys` and
 *   `sizes` are segments.
 */
import { Atom, AtomRef, LazyValue, registerAtomType } from '@proto/atom';
import { BlobValue, type ValueBlob } from './blobs.js';
import { badPayload, segmentValues, settleSlots } from './slots.js';

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
  /**
   * The type of a leaf with values out of line: its own name, so that a reader that does not
   * know out-of-line values fails loudly (type not registered) instead of returning the
   * value atoms as values.
   */
  static readonly outOfLineTypeName = 'proto.coll.leaf.ool';
  /** True when the stored payload lists values out of line (set on decode and by `toPayload`). */
  outOfLine = false;
  fp: readonly number[] | null | undefined = undefined;
  prefix = '';
  /** True once `lookupString` searched this leaf without an index (see there). */
  searched = false;
  /**
   * `keys` as a segment: once stored, leaves that share the keys array (value updates) copy
   * its bytes instead of encoding every key again.
   */
  storedKeys: LazyValue | undefined = undefined;
  constructor(
    readonly keys: readonly unknown[],
    readonly vals: readonly unknown[] | null,
  ) {
    super();
  }
  get atomType(): string {
    return this.outOfLine ? KLeaf.outOfLineTypeName : KLeaf.typeName;
  }
  toPayload(): unknown {
    this.storedKeys ??= LazyValue.of(this.keys);
    const vals = this.vals as unknown[] | null;
    this.outOfLine = vals !== null && segmentValues(vals, true);
    if (vals === null || !this.outOfLine) return [this.storedKeys, vals];
    // Values out of line are stored as references, and their positions listed.
    const out = vals.slice();
    const blobs: number[] = [];
    for (let i = 0; i < out.length; i++) {
      const v = out[i];
      if (v instanceof BlobValue) {
        out[i] = v.slot;
        blobs.push(i);
      }
    }
    return [this.storedKeys, out, blobs];
  }
}

/** A branch: the smallest key, the child and the entry count of each child. */
export class KBranch extends Atom implements KeyIndex {
  static readonly typeName = 'proto.coll.branch';
  fp: readonly number[] | null | undefined = undefined;
  prefix = '';
  /** `keys` and `sizes` as segments, copied as bytes while they do not change (see `KLeaf`). */
  storedKeys: LazyValue | undefined = undefined;
  storedSizes: LazyValue | undefined = undefined;
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
    this.storedKeys ??= LazyValue.of(this.keys);
    this.storedSizes ??= LazyValue.of(this.sizes);
    return [this.storedKeys, this.kids, this.storedSizes];
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

function decodeLeaf(payload: unknown, outOfLine: boolean): KLeaf {
  if (!Array.isArray(payload) || payload.length !== (outOfLine ? 3 : 2)) return badPayload('leaf');
  const [stored, keys] = part(payload[0]);
  if (!Array.isArray(keys)) return badPayload('leaf');
  const vals = payload[1];
  if (vals !== null && (!Array.isArray(vals) || vals.length !== keys.length)) return badPayload('leaf');
  if (outOfLine) {
    const blobs: unknown = payload[2];
    if (vals === null || !Array.isArray(blobs)) return badPayload('leaf');
    for (const i of blobs) {
      if (typeof i !== 'number' || !(vals[i] instanceof AtomRef)) return badPayload('leaf');
      vals[i] = new BlobValue(vals[i] as AtomRef<ValueBlob>);
    }
  }
  const leaf = new KLeaf(keys, vals);
  leaf.storedKeys = stored;
  leaf.outOfLine = outOfLine;
  return leaf;
}

registerAtomType(KLeaf.typeName, (payload) => decodeLeaf(payload, false));
registerAtomType(KLeaf.outOfLineTypeName, (payload) => decodeLeaf(payload, true));

/** A payload part that may be stored as a segment: the segment (if any) and its value. */
function part(item: unknown): [LazyValue | undefined, unknown] {
  return item instanceof LazyValue ? [item, item.get()] : [undefined, item];
}

registerAtomType(KBranch.typeName, (payload) => {
  if (!Array.isArray(payload) || payload.length !== 3) return badPayload('branch');
  const [storedKeys, keys] = part(payload[0]);
  const kids: unknown = payload[1];
  const [storedSizes, sizes] = part(payload[2]);
  if (!Array.isArray(keys) || !Array.isArray(kids) || !Array.isArray(sizes)) return badPayload('branch');
  if (keys.length !== kids.length || sizes.length !== kids.length || kids.length === 0)
    return badPayload('branch');
  const branch = new KBranch(keys, kids as KSlot[], sizes as number[], sum(sizes as number[]));
  branch.storedKeys = storedKeys;
  branch.storedSizes = storedSizes;
  return branch;
});

/** @internal */
export function branchOf(keys: unknown[], kids: KSlot[], sizes: number[]): KBranch {
  return new KBranch(keys, kids, sizes, sum(sizes));
}

/** @internal Carries the search index over to a node with the same keys array. */
export function inheritIndex<T extends KNode>(from: KNode, to: T): T {
  to.fp = from.fp;
  to.prefix = from.prefix;
  if (from.keys === to.keys) to.storedKeys = from.storedKeys;
  if (from instanceof KBranch && to instanceof KBranch && from.sizes === to.sizes)
    to.storedSizes = from.storedSizes;
  return to;
}
