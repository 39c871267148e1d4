/**
 * Sorting: a full sort, or top-k with a bounded heap when only the first rows are wanted; ties
 * are broken by the row key (the primary key) and then by arrival, so the order is total.
 */
import { compareValues } from '../values.js';
import { ArrayCursor, type Cursor, type ExecContext, PlanNode } from './node.js';

/** One sort key. */
export interface SortKey {
  readonly get: (row: unknown) => unknown;
  readonly desc: boolean;
  readonly label: string;
  /** The accessor id, when the key is a path (lets an index provide the order). */
  readonly accessorId?: string | undefined;
}

/**
 * Sorts by the keys, ties broken by the row key (the primary key) and then by arrival. With a
 * bound (`offset + limit`) it keeps only the best rows in a heap (top-k) instead of sorting all.
 */
export class Sort extends PlanNode {
  readonly name: string;
  constructor(
    readonly child: PlanNode,
    readonly keys: readonly SortKey[],
    readonly bound: number | undefined,
    readonly byRowKey: boolean,
  ) {
    super();
    this.name = bound === undefined ? 'Sort' : 'TopK';
  }
  estimate(): number {
    const n = this.child.estimate();
    return this.bound === undefined ? n : Math.min(n, this.bound);
  }
  override children(): readonly PlanNode[] {
    return [this.child];
  }
  override detail(): string {
    const keys = this.keys.map((k) => `${k.label} ${k.desc ? 'desc' : 'asc'}`).join(', ');
    return this.bound === undefined ? keys : `${keys} (keep ${this.bound})`;
  }
  open(ctx: ExecContext): Cursor {
    const inner = this.child.run(ctx);
    const keys = this.keys;
    const nk = keys.length;
    const rowKeys: unknown[] = [];
    const values: unknown[] = [];
    const sortVals: unknown[][] = keys.map(() => []);
    const cmp = comparator(keys, sortVals, rowKeys, this.byRowKey);
    const bound = this.bound;
    let order: number[];
    if (bound === 0) order = [];
    else if (bound !== undefined) {
      // A max-heap of the best `bound` rows (the worst of them on top).
      const heap: number[] = [];
      const free: number[] = [];
      let i = 0;
      while (inner.next()) {
        const slot = free.length > 0 ? (free.pop() as number) : i++;
        rowKeys[slot] = inner.key;
        values[slot] = inner.value;
        for (let k = 0; k < nk; k++) (sortVals[k] as unknown[])[slot] = (keys[k] as SortKey).get(inner.value);
        if (heap.length < bound) {
          heap.push(slot);
          siftUp(heap, heap.length - 1, cmp);
        } else if (cmp(slot, heap[0] as number) < 0) {
          free.push(heap[0] as number);
          heap[0] = slot;
          siftDown(heap, 0, cmp);
        } else {
          free.push(slot);
        }
      }
      order = heap.sort(cmp);
    } else {
      let i = 0;
      while (inner.next()) {
        rowKeys[i] = inner.key;
        values[i] = inner.value;
        for (let k = 0; k < nk; k++) (sortVals[k] as unknown[])[i] = (keys[k] as SortKey).get(inner.value);
        i++;
      }
      order = new Array<number>(i);
      for (let j = 0; j < i; j++) order[j] = j;
      order.sort(cmp);
    }
    const sortedValues = order.map((j) => values[j]);
    const sortedKeys = order.map((j) => rowKeys[j]);
    return new ArrayCursor(sortedValues, sortedKeys);
  }
}

/** Compares rows `i` and `j` by the sort keys, then the row key, then arrival. */
function comparator(
  keys: readonly SortKey[],
  sortVals: readonly unknown[][],
  rowKeys: readonly unknown[],
  byRowKey: boolean,
): (i: number, j: number) => number {
  const nk = keys.length;
  return (i, j) => {
    for (let k = 0; k < nk; k++) {
      const col = sortVals[k] as unknown[];
      const a = col[i];
      const b = col[j];
      let c: number;
      if (typeof a === 'number' && typeof b === 'number' && a < b) c = -1;
      else if (typeof a === 'number' && typeof b === 'number' && a > b) c = 1;
      else c = compareValues(a, b);
      if (c !== 0) return (keys[k] as SortKey).desc ? -c : c;
    }
    if (byRowKey) {
      const c = compareValues(rowKeys[i], rowKeys[j]);
      if (c !== 0) return c;
    }
    return i - j;
  };
}

function siftUp(heap: number[], i: number, cmp: (a: number, b: number) => number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (cmp(heap[p] as number, heap[i] as number) >= 0) break;
    [heap[p], heap[i]] = [heap[i] as number, heap[p] as number];
    i = p;
  }
}

function siftDown(heap: number[], i: number, cmp: (a: number, b: number) => number): void {
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && cmp(heap[l] as number, heap[m] as number) > 0) m = l;
    if (r < n && cmp(heap[r] as number, heap[m] as number) > 0) m = r;
    if (m === i) break;
    [heap[m], heap[i]] = [heap[i] as number, heap[m] as number];
    i = m;
  }
}
