/**
 * Scans of sources without indexes: arrays, dictionaries (through their public API, so a
 * dictionary bound to a transaction records its reads itself) and other iterables.
 */
import type { Dictionary } from '@proto/collections';
import { ArrayCursor, type Cursor, PlanNode } from './node.js';

/** The elements of an array, keyed by position. */
export class ArrayScan extends PlanNode {
  readonly name = 'ArrayScan';
  constructor(
    readonly array: readonly unknown[],
    readonly label: string,
  ) {
    super();
  }
  estimate(): number {
    return this.array.length;
  }
  override detail(): string {
    return this.label;
  }
  override keyOrdered(): boolean {
    return true;
  }
  open(): Cursor {
    return new ArrayCursor(this.array);
  }
}

class IteratorRows implements Cursor {
  key: unknown = undefined;
  value: unknown = undefined;
  #i = 0;
  constructor(
    private readonly it: Iterator<unknown>,
    private readonly entries: boolean,
  ) {}
  next(): boolean {
    const r = this.it.next();
    if (r.done === true) return false;
    if (this.entries) {
      const [k, v] = r.value as [unknown, unknown];
      this.key = k;
      this.value = v;
    } else {
      this.key = this.#i++;
      this.value = r.value;
    }
    return true;
  }
}

/** The values of a dictionary in key order, keyed by their keys. */
export class DictionaryScan extends PlanNode {
  readonly name = 'DictionaryScan';
  constructor(
    readonly dict: Dictionary,
    readonly label: string,
  ) {
    super();
  }
  estimate(): number {
    return this.dict.size;
  }
  override detail(): string {
    return this.label;
  }
  override keyOrdered(): boolean {
    return true;
  }
  open(): Cursor {
    return new IteratorRows(this.dict.entries() as Iterator<unknown>, true);
  }
}

/** The values of any iterable (read again on every execution), keyed by position. */
export class IterableScan extends PlanNode {
  readonly name = 'IterableScan';
  constructor(
    readonly iterable: Iterable<unknown>,
    readonly label: string,
  ) {
    super();
  }
  estimate(): number {
    return 1000;
  }
  override detail(): string {
    return this.label;
  }
  override keyOrdered(): boolean {
    return true;
  }
  open(): Cursor {
    return new IteratorRows(this.iterable[Symbol.iterator](), false);
  }
}
