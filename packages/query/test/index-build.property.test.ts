/**
 * Building an index over an existing collection (`createIndex`, `IndexedCollection.from`) sorts
 * the keys in runs of equal keys: all strings and all numbers take a path of their own (distinct
 * keys found with a Map, sorted natively; strings nearly all distinct, their positions sorted by
 * a string comparator), anything else a comparator sort. Whatever the path,
 * the index must answer as a scan of the records does: the same records per key, in key order,
 * ties in primary-key order.
 */
import { compareKeys } from '@proto/collections';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { from, IndexedCollection } from '../src/index.js';

type Row = { id: number; k: unknown };

const numberKey = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constant(-0),
  fc.double({ noNaN: true, min: -3, max: 3 }),
);
const stringKey = fc.oneof(
  fc.constantFrom('', 'a', 'b', 'ab', 'é', '\u{1F600}', 'Z'),
  fc.string({ maxLength: 3 }),
);
const keyColumn = fc.oneof(
  fc.array(numberKey, { maxLength: 120 }),
  fc.array(stringKey, { maxLength: 120 }),
  fc.array(fc.oneof(numberKey, stringKey, fc.boolean()), { maxLength: 120 }),
);

/** The index answers `keys` (each) and the key order as a scan of `rows` does. */
function expectAsScan(
  coll: IndexedCollection<Row, number>,
  rows: readonly Row[],
  keys: Iterable<unknown>,
): void {
  for (const k of keys) {
    const viaIndex = from(coll)
      .where('k', '=', k as never)
      .toArray()
      .map((r) => r.id);
    expect(viaIndex).toEqual(rows.filter((r) => compareKeys(r.k, k) === 0).map((r) => r.id));
  }
  const ordered = from(coll)
    .orderBy('k')
    .toArray()
    .map((r) => r.id);
  expect(ordered).toEqual([...rows].sort((a, b) => compareKeys(a.k, b.k) || a.id - b.id).map((r) => r.id));
}

describe('index builds', () => {
  it('answer every key and the key order as a scan does, for string, number and mixed keys', () => {
    fc.assert(
      fc.property(keyColumn, (ks) => {
        const rows: Row[] = ks.map((k, id) => ({ id, k }));
        const coll = IndexedCollection.from(rows, { key: 'id' }).createIndex('byK', 'k');
        expect(coll.indexes().find((ix) => ix.name === 'byK')?.entries).toBe(rows.length);
        expectAsScan(coll, rows, new Set(ks));
      }),
      { numRuns: 200 },
    );
  });

  it('answer as a scan does for strings nearly all distinct (ids, emails), a few repeated', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 40, maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (distinct, repeats) => {
          // A few of the keys again, at the end: runs of two or more among distinct keys.
          const ks = [...distinct, ...repeats.map((r) => distinct[r % distinct.length] as string)];
          const rows: Row[] = ks.map((k, id) => ({ id, k }));
          const coll = IndexedCollection.from(rows, { key: 'id' }).createIndex('byK', 'k');
          expectAsScan(coll, rows, new Set(repeats.map((r) => distinct[r % distinct.length] as string)));
          expect(coll.indexes()[0]?.keys).toBe(distinct.length);
          if (repeats.length > 0)
            expect(() =>
              IndexedCollection.from(rows, { key: 'id' }).createIndex('u', { path: 'k', unique: true }),
            ).toThrow(/already holds key/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a unique index over repeated keys, naming both records', () => {
    const rows = [
      { id: 1, k: 'x' },
      { id: 2, k: 'y' },
      { id: 3, k: 'x' },
    ];
    expect(() =>
      IndexedCollection.from(rows, { key: 'id' }).createIndex('u', { path: 'k', unique: true }),
    ).toThrow(/already holds key "x" for record 1; record 3/);
  });
});
