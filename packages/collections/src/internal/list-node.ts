/**
 * Nodes of the counted B-tree (rope) behind `List`.
 *
 * Stored formats (codec values):
 * - leaf `proto.list.leaf`: `[items]`; arrays, plain objects and long strings among the items are
 *   segments (see `segmentValues`).
 * - branch `proto.list.branch`: `[children, sizes]`: `sizes[i]` items under `children[i]`.
 */
import { Atom, type AtomRef, registerAtomType } from '@proto/atom';
import { badPayload, segmentValues, settleSlots } from './slots.js';

export type LNode = LLeaf | LBranch;
export type LSlot = LNode | AtomRef<LNode>;

export class LLeaf extends Atom {
  static readonly typeName = 'proto.list.leaf';
  constructor(readonly items: readonly unknown[]) {
    super();
  }
  get atomType(): string {
    return LLeaf.typeName;
  }
  toPayload(): unknown {
    segmentValues(this.items as unknown[]);
    return [this.items];
  }
}

export class LBranch extends Atom {
  static readonly typeName = 'proto.list.branch';
  constructor(
    readonly kids: LSlot[],
    readonly sizes: readonly number[],
    /** Items under this branch; not stored. */
    readonly count: number,
  ) {
    super();
  }
  get atomType(): string {
    return LBranch.typeName;
  }
  toPayload(): unknown {
    settleSlots(this.kids);
    return [this.kids, this.sizes];
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

export function lbranch(kids: LSlot[], sizes: number[]): LBranch {
  return new LBranch(kids, sizes, sum(sizes));
}

registerAtomType(LLeaf.typeName, (payload) => {
  if (!Array.isArray(payload) || !Array.isArray(payload[0])) return badPayload('list leaf');
  return new LLeaf(payload[0]);
});

registerAtomType(LBranch.typeName, (payload) => {
  if (!Array.isArray(payload) || !Array.isArray(payload[0]) || !Array.isArray(payload[1]))
    return badPayload('list branch');
  const kids = payload[0] as LSlot[];
  const sizes = payload[1] as number[];
  if (kids.length !== sizes.length || kids.length === 0) return badPayload('list branch');
  return lbranch(kids, sizes);
});
