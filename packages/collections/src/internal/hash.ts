/**
 * A deterministic structural hash of plain values, stable across processes and versions (it is
 * part of the stored format of `HashDictionary`): equal values (by `valuesEqual`) hash equal.
 */
import { Atom, AtomRef, forEachElement } from '@proto/atom';
import { invalidArgument } from '../errors.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function mix(h: number, x: number): number {
  h ^= x;
  h = Math.imul(h, 0x01000193);
  return h >>> 0;
}

function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return mix(h, s.length);
}

function walk(h: number, value: unknown, depth: number): number {
  if (depth > 100) invalidArgument('hash keys may nest at most 100 levels deep');
  switch (typeof value) {
    case 'string':
      return mixString(mix(h, 1), value);
    case 'number':
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)) {
        return mix(mix(h, 2), value | 0);
      }
      f64[0] = Number.isNaN(value) ? Number.NaN : value;
      return mix(mix(mix(h, 3), u32[0] as number), u32[1] as number);
    case 'boolean':
      return mix(h, value ? 5 : 4);
    case 'bigint':
      return mixString(mix(h, 6), value.toString(16));
    case 'undefined':
      return mix(h, 7);
    case 'object': {
      if (value === null) return mix(h, 8);
      if (value instanceof Date) {
        f64[0] = value.getTime();
        return mix(mix(mix(h, 9), u32[0] as number), u32[1] as number);
      }
      if (value instanceof Uint8Array) {
        h = mix(h, 10);
        for (let i = 0; i < value.length; i++) h = mix(h, value[i] as number);
        return mix(h, value.length);
      }
      if (Array.isArray(value)) {
        // A run of holes mixes in once with its length, so a sparse array hashes in time
        // following its elements.
        h = mix(h, 11);
        let next = 0;
        forEachElement(value as unknown[], (item, index) => {
          if (index > next) h = mix(mix(h, 12), index - next);
          h = walk(h, item, depth + 1);
          next = index + 1;
        });
        if (value.length > next) h = mix(mix(h, 12), value.length - next);
        return mix(h, value.length);
      }
      if (value instanceof Atom || value instanceof AtomRef) break;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) break;
      h = mix(h, 13);
      const keys = Object.keys(value);
      for (const k of keys) h = walk(mixString(h, k), (value as Record<string, unknown>)[k], depth + 1);
      return mix(h, keys.length);
    }
    default:
      break;
  }
  return invalidArgument(
    'HashDictionary keys are plain values: null, undefined, booleans, numbers, bigints, strings, Dates, Uint8Arrays, arrays and plain objects (no atoms or class instances)',
  );
}

/** The 32-bit hash of `value`; throws `invalid-argument` for values that cannot be keys. */
export function hashValue(value: unknown): number {
  return walk(0x811c9dc5, value, 0);
}
