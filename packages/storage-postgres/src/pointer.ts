/**
 * Pointers are the base-36 spelling of an atom's id, drawn from a PostgreSQL sequence: a
 * pointer is never issued twice, even after reclaim deleted its atom.
 */
import type { AtomPointer } from '@proto/atom/storage';

const CANONICAL = /^[1-9a-z][0-9a-z]{0,10}$/;

export function pointerOf(id: number): AtomPointer {
  return id.toString(36);
}

/** The atom id a pointer names, or `undefined` when this backend cannot have issued it. */
export function idOf(pointer: AtomPointer): number | undefined {
  if (!CANONICAL.test(pointer)) return undefined;
  const id = Number.parseInt(pointer, 36);
  return Number.isSafeInteger(id) ? id : undefined;
}
