/**
 * A map keyed by collection keys, where two keys are one entry exactly when `compareKeys`
 * says they are equal: primitives as themselves (a `Map` identifies -0 with 0, as the key
 * order does), other keys (Dates, byte arrays, arrays) by their canonical string, in a second
 * map so that they never meet a string key.
 */
import type { Key } from '@proto/collections';
import { canonical } from './values.js';

export class KeyMap<V> {
  readonly #primitives = new Map<unknown, V>();
  readonly #others = new Map<string, V>();

  get size(): number {
    return this.#primitives.size + this.#others.size;
  }

  get(key: Key): V | undefined {
    return typeof key === 'object' && key !== null
      ? this.#others.get(canonical(key))
      : this.#primitives.get(key);
  }

  has(key: Key): boolean {
    return typeof key === 'object' && key !== null
      ? this.#others.has(canonical(key))
      : this.#primitives.has(key);
  }

  set(key: Key, value: V): void {
    if (typeof key === 'object' && key !== null) this.#others.set(canonical(key), value);
    else this.#primitives.set(key, value);
  }

  /** The values, primitives' first, each in insertion order. */
  values(): V[] {
    return [...this.#primitives.values(), ...this.#others.values()];
  }
}
