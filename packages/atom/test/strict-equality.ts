/**
 * Strict structural comparison for codec tests: stricter than `toEqual` (Object.is on numbers,
 * holes distinct from undefined, key order, exact prototypes of the decoded side).
 */

/** Stands for an object stored in another atom. */
export class Ref {
  constructor(readonly pointer: string) {}
}

export function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Object.is(value, -0)) return '-0';
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

/** The first difference between a decoded value and the original, or null. */
export function difference(actual: unknown, expected: unknown, path = '$'): string | null {
  if (typeof expected !== 'object' || expected === null) {
    return Object.is(actual, expected) ? null : `${path}: got ${show(actual)}, expected ${show(expected)}`;
  }
  if (typeof actual !== 'object' || actual === null)
    return `${path}: got ${show(actual)}, expected an object`;
  const proto = Object.getPrototypeOf(actual);
  if (expected instanceof Ref) {
    return actual instanceof Ref && actual.pointer === expected.pointer ? null : `${path}: pointer differs`;
  }
  if (expected instanceof Date) {
    if (proto !== Date.prototype) return `${path}: not a Date`;
    return Object.is((actual as Date).getTime(), expected.getTime()) ? null : `${path}: Date differs`;
  }
  if (expected instanceof Uint8Array) {
    if (proto !== Uint8Array.prototype) return `${path}: not a plain Uint8Array`;
    const got = actual as Uint8Array;
    if (got.length !== expected.length) return `${path}: byte length differs`;
    for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) return `${path}[${i}]: byte differs`;
    return null;
  }
  if (Array.isArray(expected)) {
    if (proto !== Array.prototype || !Array.isArray(actual)) return `${path}: not an array`;
    if (actual.length !== expected.length) return `${path}: length ${actual.length} vs ${expected.length}`;
    const keys = Object.keys(actual);
    if (keys.join() !== Object.keys(expected).join()) return `${path}: present indices differ (holes)`;
    for (const key of keys) {
      const found = difference(actual[Number(key)], expected[Number(key)], `${path}[${key}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (proto !== Object.prototype) return `${path}: prototype is not Object.prototype`;
  const keys = Object.keys(actual);
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(expected))) return `${path}: keys differ`;
  for (const key of keys) {
    const descriptor = Object.getOwnPropertyDescriptor(actual, key);
    if (descriptor === undefined || !('value' in descriptor))
      return `${path}.${key}: not an own data property`;
    const found = difference(descriptor.value, (expected as Record<string, unknown>)[key], `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}
