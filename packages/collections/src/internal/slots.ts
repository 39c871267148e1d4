/**
 * Helpers for child slots: a slot holds either a node built in memory or an `AtomRef` to a
 * stored one. Once the kernel has stored a node, its parent's slot is switched to a reference
 * (when the parent is encoded), so committed trees are held by the kernel's bounded cache and
 * never pinned by their parents.
 */
import { Atom, AtomRef, LazyValue } from '@proto/atom';
import { collectionError } from '../errors.js';

const ATOM_POINTER = Symbol.for('@proto/atom-pointer');
const ATOM_LOADER = Symbol.for('@proto/atom-loader');

type Stamped = Record<symbol, unknown>;

/** The slot to encode for `slot`: a reference when the atom is already stored, else itself. */
export function settleSlot<T extends Atom>(slot: T | AtomRef<T>): T | AtomRef<T> {
  if (slot instanceof AtomRef) return slot;
  const pointer = (slot as unknown as Stamped)[ATOM_POINTER];
  const loader = (slot as unknown as Stamped)[ATOM_LOADER];
  if (typeof pointer === 'string' && loader !== undefined && loader !== null) {
    return new AtomRef<T>(pointer, loader as never);
  }
  return slot;
}

/**
 * The node in `slots[i]`, loading a reference. A node built in memory that the kernel has
 * stored since is replaced in place by a reference to it (same contents), so that committed
 * trees are held by the kernel's bounded cache rather than pinned by their parents.
 */
export function childOf<T extends Atom>(slots: (T | AtomRef<T>)[], i: number): T {
  const slot = slots[i] as T | AtomRef<T>;
  if (slot instanceof AtomRef) return slot.get();
  const pointer = (slot as unknown as Stamped)[ATOM_POINTER];
  if (pointer !== undefined) {
    const loader = (slot as unknown as Stamped)[ATOM_LOADER];
    if (typeof pointer === 'string' && loader !== undefined)
      slots[i] = new AtomRef<T>(pointer, loader as never);
  }
  return slot;
}

/** Replaces stored atoms in `slots` by references, in place (same contents, no pinning). */
export function settleSlots(slots: unknown[]): void {
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i];
    if (s instanceof Atom) slots[i] = settleSlot(s);
  }
}

/** Copies the kernel's storage stamp from one atom to another that has the same payload. */
export function copyStamp(from: Atom, to: Atom): void {
  const f = from as unknown as Stamped;
  const pointer = f[ATOM_POINTER];
  if (pointer !== undefined) {
    (to as unknown as Stamped)[ATOM_POINTER] = pointer;
    (to as unknown as Stamped)[ATOM_LOADER] = f[ATOM_LOADER];
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
