/**
 * Regression tests for the hardening issue (issue 9) in the collections: byte keys that changed
 * type across a reopen, and sparse arrays that cost their `length` instead of their elements.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { CountedSet, Dictionary, HashDictionary, OrderedSet } from '../src/index.js';
import { openSpace, roundTrip } from './helpers.js';

/** A sparse array of `length` holding `items` at the given indices. */
function sparse(length: number, items: Record<number, unknown>): unknown[] {
  const array: unknown[] = [];
  for (const [index, item] of Object.entries(items)) array[Number(index)] = item;
  if (array.length < length) {
    array[length - 1] = undefined;
    delete array[length - 1];
  }
  return array;
}

/** `array` behind a proxy that counts reads of its indices, and the counter. */
function counted(array: unknown[]): { array: unknown[]; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(array, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
      return Reflect.get(target, property, receiver);
    },
    has(target, property) {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
      return Reflect.has(target, property);
    },
  });
  return { array: proxy, reads: () => reads };
}

describe('collections: byte keys (issue 9, finding 12)', () => {
  it('stores a Buffer key as a plain Uint8Array when it is inserted, so it reads back the same before and after a reopen', async () => {
    const key = Buffer.from([1, 2, 3]);
    const dictionary = Dictionary.empty<Uint8Array, string>().set(key, 'bytes');
    const set = OrderedSet.empty<Uint8Array>().add(key);
    const counted = CountedSet.empty<Uint8Array>().add(key);
    for (const [keys, label] of [
      [[...dictionary.keys()], 'Dictionary'],
      [[...set], 'OrderedSet'],
      [[...counted.keys()], 'CountedSet'],
    ] as const) {
      expect(keys, label).toHaveLength(1);
      expect(Object.getPrototypeOf(keys[0]), label).toBe(Uint8Array.prototype);
      expect([...(keys[0] as Uint8Array)], label).toEqual([1, 2, 3]);
    }
    // A later change to the caller's buffer changes nothing stored.
    key[0] = 9;
    expect(dictionary.get(new Uint8Array([1, 2, 3]))).toBe('bytes');
    const h = await openSpace();
    const back = await roundTrip(h, 'd', dictionary, 'reopen');
    const [stored] = [...back.keys()];
    expect(Object.getPrototypeOf(stored)).toBe(Uint8Array.prototype);
    expect(back.get(Buffer.from([1, 2, 3]))).toBe('bytes');
    await h.space.close();
  });
});

describe('collections: sparse arrays (issue 9, finding 2)', () => {
  it('hashes, stores and reads back a sparse array when it is a HashDictionary key of length 2^32 - 1', async () => {
    const key = sparse(2 ** 32 - 1, { 1: 'a', [2 ** 32 - 2]: 'z' });
    const same = sparse(2 ** 32 - 1, { 1: 'a', [2 ** 32 - 2]: 'z' });
    const other = sparse(2 ** 32 - 1, { 2: 'a', [2 ** 32 - 2]: 'z' });
    // Hashing visits the elements, not every index (a million holes here).
    const probe = counted(sparse(1_000_001, { 7: 'a', 1000000: 'z' }));
    HashDictionary.empty<unknown[], number>().set(probe.array, 0);
    expect(probe.reads()).toBeLessThan(100);
    const hash = HashDictionary.empty<unknown[], number>().set(key, 1).set(other, 2);
    expect(hash.get(same)).toBe(1);
    expect(hash.get(other)).toBe(2);
    expect(hash.size).toBe(2);
    const h = await openSpace();
    const back = await roundTrip(h, 'hash', hash, 'reopen');
    expect(back.get(same)).toBe(1);
    expect(back.get(other)).toBe(2);
    await h.space.close();
  });

  it('reads back a value holding a sparse array with a nested collection when the tree is loaded again', async () => {
    const inner = Dictionary.from([['k', 'v']]);
    const value = { rows: sparse(2 ** 32 - 1, { 0: 'first', [2 ** 32 - 2]: inner }) };
    const outer = Dictionary.from([['doc', value]]);
    const h = await openSpace();
    const back = await roundTrip(h, 'outer', outer, 'evict');
    const rows = back.get('doc')?.rows as unknown[];
    expect(rows.length).toBe(2 ** 32 - 1);
    expect(Object.keys(rows)).toEqual(['0', String(2 ** 32 - 2)]);
    expect((rows[2 ** 32 - 2] as Dictionary<string, string>).get('k')).toBe('v');
    await h.space.close();
  });
});
