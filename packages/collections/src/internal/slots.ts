/**
 * Helpers for child slots: a slot holds either a node built in memory or an `AtomRef` to a
 * stored one. Once the kernel has stored a node, its parent's slot is switched to a reference
 * (when the parent is encoded), so committed trees are held by the kernel's bounded cache and
 * never pinned by their parents.
 */
import { Atom, AtomRef, LazyValue, unpinSlot } from '@proto/atom/extension';
import { collectionError } from '../errors.js';

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

/**
 * Wraps every array, plain object and long string among a leaf's values (dictionary values,
 * list items), in place, to be written as a segment. The wrapper stands for the same value
 * (`leafValue` unwraps it); once the leaf is stored, the kernel binds it to the stored bytes,
 * which later versions of the leaf copy.
 */
export function segmentValues(vals: unknown[]): void {
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    let wrap = false;
    if (typeof v === 'object' && v !== null) {
      const proto: unknown = Object.getPrototypeOf(v);
      wrap = proto === Object.prototype || proto === Array.prototype || proto === null;
    } else if (typeof v === 'string') {
      wrap = v.length > SEGMENT_STRING;
    }
    if (wrap) vals[i] = LazyValue.of(v);
  }
}

/** The value at `i` of a leaf's values or items, decoded if the leaf kept it encoded. */
export function leafValue(vals: readonly unknown[], i: number): unknown {
  const v = vals[i];
  return v instanceof LazyValue ? v.get() : v;
}
