/**
 * Structural equality over stored values: what the kernel and collections use to decide
 * whether a value read by a transaction is still the same in a newer version.
 */
import { copyArray, forEachElement, presentIndices } from './arrays.js';
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
      if (!inA) return sameElements(a, b, i);
      if (!valuesEqual(a[i], b[i])) return false;
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
    forEachElement(value as unknown[], (item, i) => {
      const resolved = resolveRefs(item);
      if (resolved !== item) {
        out ??= copyArray(value as unknown[]);
        out[i] = resolved;
      }
    });
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

/** Compares the elements of two arrays of one length from `from`, where both have a hole. */
function sameElements(a: readonly unknown[], b: readonly unknown[], from: number): boolean {
  const inA = presentIndices(a, from);
  const inB = presentIndices(b, from);
  if (inA.length !== inB.length) return false;
  for (let k = 0; k < inA.length; k++) {
    const index = inA[k] as number;
    if (index !== inB[k] || !valuesEqual(a[index], b[index])) return false;
  }
  return true;
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
