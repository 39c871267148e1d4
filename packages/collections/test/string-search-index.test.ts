/**
 * Leaves with string keys keep a search index (a common prefix and fingerprints past it) that an
 * insert carries over instead of building again: at either end when the new key shares the
 * prefix, and into both halves of a split. Lookups must stay exact through all of that, for
 * keys present, keys absent between them, and keys outside every prefix. A removal that leaves a
 * child's first key shares the branch's keys and index with the version before it: both versions
 * must stay exact.
 */
import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/index.js';

const pad = (i: number) => i.toString().padStart(6, '0');

function expectExact(
  d: Dictionary<string, number>,
  present: Map<string, number>,
  absent: readonly string[],
): void {
  for (const [k, v] of present) expect(d.get(k), k).toBe(v);
  for (const k of absent) expect(d.get(k), k).toBeUndefined();
  expect(d.size).toBe(present.size);
  expect([...d.keys()]).toEqual([...present.keys()].sort());
}

describe('string search index across inserts and splits', () => {
  it('stays exact for keys appended in order, prepended, and inserted at random into full leaves', () => {
    // Bulk-built: full leaves, each split by its first insert.
    const present = new Map<string, number>();
    for (let i = 0; i < 5_000; i++) present.set(`item-${pad(i * 2)}`, i);
    let d = Dictionary.from([...present]);
    // Searched once, so every node has its index before the inserts copy it.
    expectExact(d, present, []);
    let n = 5_000;
    let seed = 7;
    const next = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed;
    };
    for (let i = 0; i < 3_000; i++) {
      const odd = `item-${pad(((next() % 5_000) * 2 + 1) % 10_000)}`; // between two present keys
      const appended = `item-${pad(10_000 + i)}`; // after every key, same prefix
      const prepended = `item-${'-'.repeat(1 + (i % 3))}${pad(i)}`; // '-' sorts before digits
      const elsewhere = `zz-${pad(i)}`; // outside the prefix: the index is built again
      for (const k of [odd, appended, prepended, elsewhere]) {
        if (!present.has(k)) present.set(k, n++);
        d = d.set(k, present.get(k) as number);
        expect(d.get(k), k).toBe(present.get(k));
      }
    }
    const absent = ['item-', 'item-0000000', 'item-~', 'zz-', 'zz-9999999', 'a', '', 'item-00000a'];
    expectExact(d, new Map([...present].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), absent);
  });

  it('stays exact through removals, in the new version and in the one it was derived from', () => {
    const all = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) all.set(`key-${pad(i * 3)}`, i);
    const before = Dictionary.from([...all]);
    expectExact(before, all, []);
    const present = new Map(all);
    let d = before;
    let seed = 11;
    const next = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed;
    };
    for (let i = 0; i < 6_000; i++) {
      // Random keys, and runs of neighbours (which take the first keys of leaves and branches).
      const at = i % 4 === 0 ? (Math.floor(i / 4) * 7) % 20_000 : next() % 20_000;
      const k = `key-${pad(at * 3)}`;
      present.delete(k);
      d = d.delete(k);
      expect(d.get(k), k).toBeUndefined();
      const probe = `key-${pad((next() % 20_000) * 3)}`;
      expect(d.get(probe), probe).toBe(present.get(probe));
    }
    const absent = ['key-', 'key-0000001', 'key-~', 'a', '', `key-${pad(60_001)}`];
    expectExact(d, present, absent);
    // The version the removals started from is unchanged.
    expectExact(before, all, absent);
  });
});
