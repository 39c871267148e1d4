/**
 * Helpers for child slots: a slot holds either a node built in memory or an `AtomRef` to a
 * stored one. Once the kernel has stored a node, its parent's slot is switched to a reference
 * (when the parent is encoded), so committed trees are held by the kernel's bounded cache and
 * never pinned by their parents.
 */
import { Atom, AtomRef, LazyValue, unpinSlot } from '@proto/atom/extension';
import { collectionError } from '../errors.js';
import { BlobValue, outOfLine } from './blobs.js';

/**
 * The kernel's stamp functions under the names the trees use: `settleSlot` is the slot to
 * encode (a reference once stored), `childOf` loads `slots[i]` and unpins it in place,
 * `copyStamp` gives a view the stamp of the atom it stands for.
 */
export { copyStamp, resolveChild as childOf, unpinSlot as settleSlot } from '@proto/atom/extension';

/** Replaces stored atoms in `slots` by references, in place (same contents, no pinning). */
export function settleSlots(slots: unknown[]): void {
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    if (s instanceof Atom) slots[i] = unpinSlot(s);
  }
}

/** Resolves a value read from a node: references load (synchronously), anything else as is. */
export function resolveValue(value: unknown): unknown {
  return value instanceof AtomRef ? value.get() : value;
}

/** Throws a `corrupt` error for a payload of the wrong shape. */
export function badPayload(type: string): never {
  return collectionError('corrupt', `a stored ${type} atom has an unexpected shape; the data is not trusted`);
}

/** Strings longer than this are stored as segments. */
const SEGMENT_STRING = 64;

/** `v` wrapped to be written as a segment when it is an array, a plain object or a long string. */
export function asSegment(v: unknown): unknown {
  if (typeof v === 'object' && v !== null) {
    if (v instanceof LazyValue) return v;
    const proto: unknown = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === Array.prototype || proto === null ? LazyValue.of(v) : v;
  }
  return typeof v === 'string' && v.length > SEGMENT_STRING ? LazyValue.of(v) : v;
}

/**
 * Wraps every array, plain object and long string among a leaf's values (dictionary values,
 * list items), in place, to be written as a segment. The wrapper stands for the same value
 * (`leafValue` unwraps it); once the leaf is stored, the kernel binds it to the stored bytes,
 * which later versions of the leaf copy. With `blobs`, large values move out of line
 * (`outOfLine`, see `blobs.ts`). Returns whether any value of `vals` is out of line.
 */
export function segmentValues(vals: unknown[], blobs = false): boolean {
  let any = false;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (v instanceof BlobValue) {
      any = true;
      continue;
    }
    let next = blobs ? outOfLine(v) : v;
    if (next instanceof BlobValue) any = true;
    else next = asSegment(next);
    if (next !== v) vals[i] = next;
  }
  return any;
}

/** The value at `i` of a leaf's values or items, decoded if the leaf kept it encoded or out of line. */
export function leafValue(vals: readonly unknown[], i: number): unknown {
  const v = vals[i];
  return v instanceof LazyValue || v instanceof BlobValue ? v.get() : v;
}
