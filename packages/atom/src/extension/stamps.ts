/**
 * References and stamps: how a collection holds its child atoms without pinning them.
 *
 * When the kernel stores an atom (at commit) or decodes one (on load), it stamps it with its
 * pointer and its object space. The stamp is the kernel's: a collection never writes it, it
 * asks these functions instead. A stamped atom can be replaced by an `AtomRef` to it at any
 * time, and a parent that holds references rather than the child objects leaves its subtree to
 * the kernel's bounded cache (evicted children load again on demand).
 *
 * The functions guarantee:
 * 1. Missing means unstored: an atom the kernel has not stored or loaded has no stamp;
 *    `pointerOf` returns `undefined`, `refOf` returns `undefined`, `unpinSlot` and
 *    `resolveChild` leave it in place, and `copyStamp` from it changes nothing.
 * 2. A reference is the same atom: `refOf(atom).get()` returns `atom` while it is cached and an
 *    equal decoded copy after eviction, on every backend with synchronous reads (`load()` on
 *    every backend). Unpinning never changes what a slot reads.
 * 3. A stamp is never invented: `copyStamp` only moves a stamp the kernel wrote, onto an atom
 *    whose payload is the same, so the kernel may skip writing it again at the next commit.
 *    Copying a stamp onto an atom with a different payload makes the kernel store the old
 *    payload's pointer for it: never do that.
 * 4. No I/O: these functions never read storage; only `AtomRef.get()`/`load()` do (and
 *    `resolveChild`, which calls `get()` on a slot that is already a reference).
 *
 * Errors: reading a reference throws (or rejects) a `StorageError` from the kernel: `not-loaded`
 * when the atom is not cached and the backend cannot read synchronously (await `ref.load()`
 * first), `not-found` or `corrupt` from the backend, `closed` after the space was closed.
 */
import { ATOM_LOADER, ATOM_POINTER, type Atom, AtomRef, type AtomSlot } from '../atom.js';

/**
 * A reference to where `slot` is stored: `slot` itself when it is a reference, a new
 * `AtomRef` for an atom the kernel stored or loaded, and `undefined` for an atom not stored
 * yet. Never reads storage.
 * @example
 * const ref = refOf(tree); // undefined before the commit that stores `tree`
 * if (ref !== undefined) await ref.load();
 */
export function refOf<T extends Atom>(slot: AtomSlot<T>): AtomRef<T> | undefined {
  if (slot instanceof AtomRef) return slot;
  const pointer = slot[ATOM_POINTER];
  if (pointer === undefined) return undefined;
  const loader = slot[ATOM_LOADER];
  return loader === undefined ? undefined : new AtomRef<T>(pointer, loader);
}

/**
 * The slot a parent should hold for `slot`: a reference when the atom is stored (so the parent
 * does not pin it), else the atom itself. Call it when encoding a parent (in `toPayload`), so
 * that committed trees are held by the kernel's cache, not by their parents.
 */
export function unpinSlot<T extends Atom>(slot: AtomSlot<T>): AtomSlot<T> {
  return refOf(slot) ?? slot;
}

/**
 * The atom in `slots[index]`, loading a reference synchronously. An atom built in memory that
 * the kernel has stored since is returned as is and replaced in place by a reference to it
 * (same contents), so walking a tree unpins it as it goes.
 */
export function resolveChild<T extends Atom>(slots: AtomSlot<T>[], index: number): T {
  const slot = slots[index] as AtomSlot<T>;
  if (slot instanceof AtomRef) return slot.get();
  const ref = refOf(slot);
  if (ref !== undefined) slots[index] = ref;
  return slot;
}

/**
 * Gives `to` the stamp of `from`, when `from` has one: for a new object standing for the same
 * stored atom (a view or copy with the same payload), so the kernel treats it as stored and
 * does not write it again. Does nothing when `from` is not stored (guarantee 1).
 */
export function copyStamp(from: Atom, to: Atom): void {
  const pointer = from[ATOM_POINTER];
  if (pointer === undefined) return;
  to[ATOM_POINTER] = pointer;
  to[ATOM_LOADER] = from[ATOM_LOADER];
}
