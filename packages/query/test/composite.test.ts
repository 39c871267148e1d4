import { hasReason } from '@proto/atom';
import { describe, expect, it } from 'vitest';
import { and, compositeIndexKind, field, from, IndexedCollection, isUniqueViolation } from '../src/index.js';
import { openSpace } from './helpers.js';

interface Item {
  readonly id: number;
  readonly category?: string;
  readonly status?: string;
  readonly value?: number;
}

const items = (n: number): Item[] =>
  Array.from({ length: n }, (_, id) => ({
    id,
    category: `c${id % 10}`,
    status: `s${id % 7}`,
    value: (id * 37) % 1000,
  }));

const composite = (rows: readonly Item[]) =>
  IndexedCollection.from<Item, number>(rows, {
    key: 'id',
    indexes: { byCsv: { paths: ['category', 'status', 'value'] } },
  });

const andRange = (c: string, s: string, lo: number, hi: number) =>
  and(field('category').eq(c), field('status').eq(s), field('value').between(lo, hi, '()'));

const ids = (rows: readonly Item[]) => rows.map((r) => r.id).sort((a, b) => a - b);

describe('query: composite indexes', () => {
  it('answers equalities on a prefix plus a range on the next field with one walk, estimated closely', () => {
    const rows = items(20_000);
    const coll = composite(rows);
    const q = from(coll).where(andRange('c3', 's2', 100, 400));
    const expected = rows.filter(
      (r) =>
        r.category === 'c3' && r.status === 's2' && (r.value as number) > 100 && (r.value as number) < 400,
    );
    expect(ids(q.toArray())).toEqual(ids(expected));
    const explained = q.explain({ analyze: true });
    expect(explained.text).toContain(
      'CompositeRangeScan byCsv category = "c3", status = "s2", value (100, 400)',
    );
    expect(explained.indexes).toEqual(['byCsv']);
    // Past 64 entries the estimate is distinct keys in the range × entries per key.
    expect(Math.abs(explained.estimatedRows - expected.length)).toBeLessThanOrEqual(expected.length * 0.1);
    const small = from(coll).where(andRange('c3', 's2', 100, 150));
    expect(small.explain().estimatedRows).toBe(small.toArray().length);
    // A prefix alone, and IN lists (one walk per combination).
    const prefix = from(coll).where(and(field('category').eq('c4'), field('status').in(['s1', 's5'])));
    expect(prefix.explain().text).toContain('CompositeProbe byCsv category = "c4", status IN ("s1", "s5")');
    expect(ids(prefix.toArray())).toEqual(
      ids(rows.filter((r) => r.category === 'c4' && (r.status === 's1' || r.status === 's5'))),
    );
  });

  it('indexes records that lack a later field under the prefix they have, and skips those lacking the first', () => {
    const rows: Item[] = [
      { id: 1, category: 'a', status: 'x', value: 5 },
      { id: 2, category: 'a', status: 'x' },
      { id: 3, category: 'a' },
      { id: 4, status: 'x', value: 5 },
      { id: 5, category: 'a', value: 5 },
    ];
    const coll = composite(rows);
    expect(coll.indexes().find((ix) => ix.name === 'byCsv')).toMatchObject({
      kind: 'composite',
      on: 'category, status, value',
      entries: 4,
      keys: 3,
      covered: 4,
    });
    const where = (...terms: Parameters<typeof and>) =>
      ids(
        from(coll)
          .where(and(...terms))
          .toArray(),
      );
    expect(where(field('category').eq('a'), field('status').eq('x'))).toEqual([1, 2]);
    expect(where(field('category').eq('a'), field('status').eq('x'), field('value').gte(5))).toEqual([1]);
    expect(where(field('category').eq('a'), field('value').eq(5))).toEqual([1, 5]);
  });

  it('keeps the index current through puts and deletes, and refuses a unique full key', () => {
    let coll = IndexedCollection.empty<Item, number>({
      key: 'id',
      indexes: { u: { paths: ['category', 'status'], unique: true } },
    });
    coll = coll.put({ id: 1, category: 'a', status: 'x' }).put({ id: 2, category: 'a', status: 'y' });
    coll = coll.put({ id: 3, category: 'a' }).put({ id: 4, category: 'a' }); // shorter keys do not count
    let error: unknown;
    try {
      coll.put({ id: 5, category: 'a', status: 'x' });
    } catch (e) {
      error = e;
    }
    expect(isUniqueViolation(error)).toBe(true);
    expect(String(error)).toContain("'u'");
    coll = coll.put({ id: 1, category: 'b', status: 'x' }).put({ id: 5, category: 'a', status: 'x' });
    coll = coll.delete(2);
    const q = (c: string, s: string) =>
      ids(
        from(coll)
          .where(and(field('category').eq(c), field('status').eq(s)))
          .toArray(),
      );
    expect(q('a', 'x')).toEqual([5]);
    expect(q('b', 'x')).toEqual([1]);
    expect(q('a', 'y')).toEqual([]);
    expect(() =>
      IndexedCollection.from<Item, number>(
        [
          { id: 1, category: 'a', status: 'x' },
          { id: 2, category: 'a', status: 'x' },
        ],
        { key: 'id', indexes: { u: { paths: ['category', 'status'], unique: true } } },
      ),
    ).toThrow(/unique/);
  });

  it('survives commit and reopen, and indexes both of two concurrent transactions', async () => {
    const { space, location } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('items', composite(items(2_000))));
    const t1 = db.begin();
    const t2 = db.begin();
    const c1 = t1.get<IndexedCollection<Item, number>>('items') as IndexedCollection<Item, number>;
    const c2 = t2.get<IndexedCollection<Item, number>>('items') as IndexedCollection<Item, number>;
    t1.set('items', c1.put({ id: 5000, category: 'new', status: 'n', value: 1 }));
    t2.set('items', c2.put({ id: 5001, category: 'new', status: 'n', value: 2 }));
    await t1.commit();
    await t2.commit();
    expect(space.stats().rebases).toBeGreaterThan(0);
    await space.close();
    const again = await openSpace(location);
    const c = again.space
      .database('app')
      .begin({ readOnly: true })
      .get<IndexedCollection<Item, number>>('items') as IndexedCollection<Item, number>;
    const q = from(c).where(and(field('category').eq('new'), field('status').eq('n'), field('value').gte(0)));
    expect(q.explain().indexes).toEqual(['byCsv']);
    expect(ids(q.toArray())).toEqual([5000, 5001]);
    const info = c.indexes().find((ix) => ix.name === 'byCsv');
    expect(info?.definition).toEqual({
      name: 'byCsv',
      paths: ['category', 'status', 'value'],
      unique: false,
    });
    // The definition declares the same index again through the kind.
    const copy = IndexedCollection.from<Item, number>(items(50), {
      key: 'id',
      indexes: { byCsv: { kind: compositeIndexKind, options: info?.definition } },
    });
    expect(copy.indexes()[0]).toMatchObject({ kind: 'composite', entries: 50 });
    await again.space.close();
  });

  it('refuses bad declarations with invalid-argument, saying what to give', () => {
    const bad = (spec: unknown) => {
      try {
        IndexedCollection.empty<Item, number>({ key: 'id' }).createIndex('ix', spec as never);
      } catch (error) {
        expect(hasReason(error, 'invalid-argument')).toBe(true);
        return String((error as Error).message);
      }
      throw new Error('accepted');
    };
    expect(bad({ paths: ['category'] })).toMatch(/2 to 8 paths/);
    expect(bad({ paths: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] })).toMatch(/2 to 8 paths/);
    expect(bad({ paths: ['tags[]', 'value'] })).toMatch(/\[\] step/);
    expect(bad({ paths: ['value', 'value'] })).toMatch(/given twice/);
    expect(bad({ paths: ['value', 7] })).toMatch(/non-empty string/);
    expect(bad({ paths: ['value', 'status'], unique: 'yes' })).toMatch(/unique must be/);
    expect(bad({ paths: ['value', 'status'], path: 'value' })).toMatch(/takes \{ paths, unique \}/);
    expect(bad({ paths: 'value' })).toMatch(/give \{ paths/);
  });
});
