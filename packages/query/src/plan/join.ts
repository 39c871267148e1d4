/**
 * Hash joins on equality: inner, left, right and full.
 */
import { ValueMap } from '../values.js';
import type { Cursor, ExecContext } from './node.js';
import { PlanNode } from './node.js';

/** Join kinds. */
export type JoinKind = 'inner' | 'left' | 'right' | 'full';

/**
 * Hash join on equality of `leftKey(l)` and `rightKey(r)` (value equality; `null` and missing
 * keys never match). The right side is hashed; the left side streams. Output: for each left row
 * its matches in right order (or one unmatched row for left/full joins), then the unmatched
 * right rows for right/full joins.
 */
export class HashJoin extends PlanNode {
  readonly name = 'HashJoin';
  constructor(
    readonly left: PlanNode,
    readonly right: PlanNode,
    readonly leftKey: (row: unknown) => unknown,
    readonly rightKey: (row: unknown) => unknown,
    readonly kind: JoinKind,
    readonly select: (l: unknown, r: unknown) => unknown,
    readonly text: string,
  ) {
    super();
  }
  estimate(): number {
    return Math.max(this.left.estimate(), this.right.estimate());
  }
  override children(): readonly PlanNode[] {
    return [this.left, this.right];
  }
  override detail(): string {
    return `${this.kind} ${this.text}`;
  }
  open(ctx: ExecContext): Cursor {
    const table = new ValueMap<number[]>();
    const rights: unknown[] = [];
    const rc = this.right.run(ctx);
    const rightKey = this.rightKey;
    while (rc.next()) {
      const row = rc.value;
      const i = rights.length;
      rights.push(row);
      const k = rightKey(row);
      if (k === undefined || k === null) continue;
      const bucket = table.get(k);
      if (bucket === undefined) table.set(k, [i]);
      else bucket.push(i);
    }
    const matched = this.kind === 'right' || this.kind === 'full' ? new Uint8Array(rights.length) : undefined;
    const keepLeft = this.kind === 'left' || this.kind === 'full';
    const lc = this.left.run(ctx);
    const leftKey = this.leftKey;
    const select = this.select;
    let bucket: number[] | undefined;
    let bi = 0;
    let leftRow: unknown;
    let tail = -1;
    const c = {
      key: undefined as unknown,
      value: undefined as unknown,
      next(): boolean {
        for (;;) {
          if (tail >= 0) {
            while (tail < rights.length) {
              const i = tail++;
              if (matched !== undefined && matched[i] === 0) {
                c.value = select(undefined, rights[i]);
                return true;
              }
            }
            return false;
          }
          if (bucket !== undefined && bi < bucket.length) {
            const i = bucket[bi++] as number;
            if (matched !== undefined) matched[i] = 1;
            c.value = select(leftRow, rights[i]);
            return true;
          }
          bucket = undefined;
          if (!lc.next()) {
            if (matched === undefined) return false;
            tail = 0;
            continue;
          }
          leftRow = lc.value;
          const k = leftKey(leftRow);
          bucket = k === undefined || k === null ? undefined : table.get(k);
          bi = 0;
          if (bucket === undefined && keepLeft) {
            c.value = select(leftRow, undefined);
            return true;
          }
        }
      },
    };
    return c;
  }
}
