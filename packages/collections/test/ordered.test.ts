import { isConflict } from '@proto/atom';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CollectionError,
  CountedSet,
  cursorOf,
  Dictionary,
  type EntryCursor,
  type Key,
  leafKeysOf,
  OrderedSet,
  RepeatedKeysDictionary,
  setNodeCapacity,
} from '../src/index.js';
import { openSpace } from './helpers.js';

function drain<K, V>(cursor: EntryCursor<K, V>): [K, V][] {
  const out: [K, V][] = [];
  while (cursor.next()) out.push([cursor.key, cursor.value]);
  return out;
}

const tens = Dictionary.from<number, string>([10, 20, 30, 40, 50].map((k) => [k, `v${k}`]));

describe('collections: ordered access', () => {
  afterEach(() => setNodeCapacity(64));

  it('yields nothing, and keeps yielding nothing, when the dictionary is empty', () => {
    const empty = Dictionary.empty<number, string>();
    for (const reverse of [false, true]) {
      const cursor = cursorOf(empty, { from: 1, to: 9 }, reverse);
      expect(cursor.next()).toBe(false);
      expect(cursor.next()).toBe(false);
    }
    expect(leafKeysOf(empty)).toEqual([]);
  });

  it('includes or excludes each bound as asked when the bounds are keys of the dictionary', () => {
    const keys = (range: Parameters<typeof cursorOf>[1], reverse = false) =>
      drain(cursorOf(tens, range, reverse)).map(([k]) => k);
    expect(keys({ from: 20, to: 40 })).toEqual([20, 30]);
    expect(keys({ from: 20, to: 40, toInclusive: true })).toEqual([20, 30, 40]);
    expect(keys({ from: 20, fromInclusive: false, to: 40 })).toEqual([30]);
    expect(keys({ from: 20, to: 40, toInclusive: true }, true)).toEqual([40, 30, 20]);
    expect(keys({ from: 20, fromInclusive: false, to: 40, toInclusive: true }, true)).toEqual([40, 30]);
    expect(keys({ to: 30 }, true)).toEqual([20, 10]);
    expect(keys({ from: 30 }, true)).toEqual([50, 40, 30]);
    expect(keys({ from: undefined, to: undefined }, true)).toEqual([50, 40, 30, 20, 10]);
    expect(keys(undefined)).toEqual([10, 20, 30, 40, 50]);
  });

  it('yields nothing when the range starts past its end or lies outside the keys', () => {
    expect(drain(cursorOf(tens, { from: 40, to: 20 }))).toEqual([]);
    expect(drain(cursorOf(tens, { from: 40, to: 20 }, true))).toEqual([]);
    expect(drain(cursorOf(tens, { from: 30, to: 30 }))).toEqual([]);
    expect(drain(cursorOf(tens, { from: 51 }))).toEqual([]);
    expect(drain(cursorOf(tens, { to: 10 }, true))).toEqual([]);
    // Strings sort after every number.
    expect(drain(cursorOf(tens as Dictionary<Key, string>, { from: 'a' }))).toEqual([]);
  });

  it('gives the keys of one leaf without a cursor and nothing once the tree has branches', () => {
    setNodeCapacity(8);
    let d = Dictionary.empty<number, number>();
    for (let i = 7; i >= 0; i--) d = d.set(i, i);
    expect(d.depth).toBe(1);
    expect(leafKeysOf(d)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    d = d.set(8, 8);
    expect(d.depth).toBe(2);
    expect(leafKeysOf(d)).toBeUndefined();
    expect(drain(cursorOf(d, { from: 3, to: 6 }))).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
  });

  it('throws CollectionError when a bound is not a key', () => {
    expect(() => cursorOf(tens, { from: {} as never })).toThrow(CollectionError);
  });

  it('records the range read, and gives no leaf keys, when the dictionary is a view bound to a transaction', async () => {
    const h = await openSpace();
    const db = h.space.database('app');
    await db.transact((tx) => tx.set('d', tens));
    const reader = db.begin();
    const writer = db.begin();
    const view = reader.get<Dictionary<number, string>>('d') as Dictionary<number, string>;
    expect(leafKeysOf(view)).toBeUndefined();
    expect(drain(cursorOf(view, { from: 20, to: 40 }, true)).map(([k]) => k)).toEqual([30, 20]);
    reader.set('seen', true);
    const base = writer.get<Dictionary<number, string>>('d') as Dictionary<number, string>;
    writer.set('d', base.set(25, 'new'));
    await writer.commit();
    const outcome = await reader.commit().then(
      () => 'ok',
      (error: unknown) => (isConflict(error) ? 'conflict' : Promise.reject(error)),
    );
    expect(outcome).toBe('conflict');
    await h.space.close();
  });
});

describe('collections: B+ tree update results', () => {
  afterEach(() => setNodeCapacity(64));

  // Issue 10: an update's size change comes back with its result (the new root's count), not
  // through module-level variables read after the call, so updates of several trees of several
  // kinds interleave freely; positions (`at`) check the counts kept in every branch.
  it('keeps each collection its own size and positions when inserts and deletes of several trees interleave', () => {
    const op = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 80 }), fc.boolean());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 500 }), (ops) => {
        setNodeCapacity(8);
        let dict = Dictionary.empty<number, number>();
        let set = OrderedSet.empty<number>();
        let counted = CountedSet.empty<number>();
        let repeated = RepeatedKeysDictionary.empty<number, number>();
        const dictModel = new Map<number, number>();
        const setModel = new Set<number>();
        const countedModel = new Map<number, number>();
        const repeatedModel = new Set<string>();
        for (const [which, key, add] of ops) {
          if (which === 0) {
            dict = add ? dict.set(key, key * 2) : dict.delete(key);
            if (add) dictModel.set(key, key * 2);
            else dictModel.delete(key);
          } else if (which === 1) {
            set = add ? set.add(key) : set.delete(key);
            if (add) setModel.add(key);
            else setModel.delete(key);
          } else if (which === 2) {
            const times = countedModel.get(key) ?? 0;
            counted = add ? counted.add(key) : counted.remove(key, times);
            if (add) countedModel.set(key, times + 1);
            else countedModel.delete(key);
          } else {
            repeated = add ? repeated.add(key % 7, key) : repeated.remove(key % 7, key);
            if (add) repeatedModel.add(`${key % 7}:${key}`);
            else repeatedModel.delete(`${key % 7}:${key}`);
          }
        }
        const byKey = [...dictModel].sort((a, b) => a[0] - b[0]);
        expect(dict.size).toBe(byKey.length);
        for (let i = 0; i < byKey.length; i++) expect(dict.at(i)).toEqual(byKey[i]);
        const members = [...setModel].sort((a, b) => a - b);
        expect(set.size).toBe(members.length);
        for (let i = 0; i < members.length; i++) expect(set.at(i)).toBe(members[i]);
        expect(counted.distinctSize).toBe(countedModel.size);
        expect([...counted.entries()]).toEqual([...countedModel].sort((a, b) => a[0] - b[0]));
        expect(repeated.size).toBe(repeatedModel.size);
      }),
      { numRuns: 150 },
    );
  });
});
