/**
 * Structural equality over stored values: what the kernel and collections use to decide
 * whether a value read by a transaction is still the same in a newer version.
 */
import { Atom, AtomRef, sameAtom } from './atom.js';

/**
 * True when `a` and `b` are the same stored value: numbers by `Object.is` (so NaN equals NaN
 * and -0 differs from 0), Dates by time, bytes by content, arrays (holes included) and plain
 * objects by their entries in order, atoms and references by identity (`sameAtom`).
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Atom || a instanceof AtomRef)
    return (b instanceof Atom || b instanceof AtomRef) && sameAtom(a, b);
  if (b instanceof Atom || b instanceof AtomRef) return false;
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.byteLength !== b.byteLength) return false;
    for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const inA = i in a;
      if (inA !== i in b) return false;
      if (inA && !valuesEqual(a[i], b[i])) return false;
    }
    return true;
  }
  if (Array.isArray(b) || b instanceof Date || b instanceof Uint8Array) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i]) return false;
    if (!valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * Replaces the `AtomRef`s inside a decoded plain value (arrays and plain objects, at any depth)
 * by the atoms they point to, loading them synchronously. Returns `value` itself when it holds
 * no reference. Stored values come back from storage with references to nested collections;
 * call this before handing such a value to a user.
 */
export function resolveRefs<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof AtomRef) return value.get() as T;
  if (value instanceof Atom || value instanceof Date || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) continue;
      const item = value[i];
      const resolved = resolveRefs(item);
      if (resolved !== item) {
        out ??= value.slice();
        out[i] = resolved;
      }
    }
    return (out ?? value) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const resolved = resolveRefs(item);
    if (resolved !== item) {
      out ??= copyObject(value as Record<string, unknown>);
      Object.defineProperty(out, key, {
        value: resolved,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return (out ?? value) as T;
}

function copyObject(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    Object.defineProperty(out, key, {
      value: source[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
