/**
 * Batched index upkeep (`change-log.ts`): the ordered indexes of a collection written record
 * by record, with reads of its indexes only now and then (so up to a few hundred changes are
 * made in one batch), hold exactly what indexes built from scratch over the same records hold;
 * unique keys are refused at the write, as a model says; and two writes on one state (a
 * branch) never see each other's changes.
 */
import { compareKeys, Dictionary, type Key } from '@proto/collections';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { from, IndexedCollection, isUniqueViolation } from '../src/index.js';
import { IndexData } from '../src/index-data.js';

interface Row {
  readonly id: number;
  readonly code?: string | number;
  readonly group?: string | Date;
  readonly score?: number;
  readonly tags?: readonly string[];
}

const INDEXES = {
  byCode: { path: 'code', unique: true },
  byGroup: 'group',
  byScore: 'score',
  byTag: 'tags[]',
} as const;

function empty(): IndexedCollection<Row, number> {
  return IndexedCollection.empty<Row, number>({ key: 'id', indexes: INDEXES });
}

/** An index tree's entries, with sets of primary keys as arrays, for comparison. */
function contents(ix: unknown): unknown[] {
  const data = ix as IndexData;
  return [...data.tree.entries()].map(([k, v]) => [
    k,
    v instanceof Dictionary ? [...(v as Dictionary<Key, true>).keys()] : v,
    data.entries,
  ]);
}

/** The collection's indexes against ones built from scratch over its records. */
function expectFreshIndexes(c: IndexedCollection<Row, number>): void {
  const rows = [...c.values()];
  const fresh = IndexedCollection.from(rows, { key: 'id', indexes: INDEXES });
  const ours = c._state().indexes;
  const theirs = fresh._state().indexes;
  expect(ours.length).toBe(theirs.length);
  ours.forEach((ix, i) => {
    expect(ix).toBeInstanceOf(IndexData);
    expect(contents(ix)).toEqual(contents(theirs[i]));
    expect((ix as IndexData).covered).toBe((theirs[i] as IndexData).covered);
  });
  expect(c.indexes().map((s) => s.entries)).toEqual(fresh.indexes().map((s) => s.entries));
}

const id = fc.integer({ min: 0, max: 150 });
const row: fc.Arbitrary<Row> = fc.record(
  {
    id,
    code: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.constantFrom('a', 'b', 'c')),
    group: fc.oneof(fc.constantFrom('x', 'y', 'z', 'w'), fc.constant(new Date(5)), fc.constant(new Date(-0))),
    score: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(-0)),
    tags: fc.array(fc.constantFrom('t1', 't2', 't3'), { maxLength: 3 }),
  },
  { requiredKeys: ['id'] },
);
type Step = { op: 'put'; row: Row } | { op: 'delete'; id: number } | { op: 'read' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 36, arbitrary: row.map((r) => ({ op: 'put' as const, row: r })) },
  { weight: 12, arbitrary: id.map((i) => ({ op: 'delete' as const, id: i })) },
  { weight: 1, arbitrary: fc.constant({ op: 'read' as const }) },
);

describe('batched index upkeep', () => {
  it('holds what indexes built from scratch hold, and refuses taken unique keys as a model does', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 100, maxLength: 400 }), (steps) => {
        let c = empty();
        const model = new Map<number, Row>();
        for (const s of steps) {
          if (s.op === 'read') {
            expectFreshIndexes(c);
            continue;
          }
          if (s.op === 'delete') {
            c = c.delete(s.id);
            model.delete(s.id);
            continue;
          }
          const holder = [...model.values()].find(
            (r) =>
              r.id !== s.row.id &&
              r.code !== undefined &&
              s.row.code !== undefined &&
              compareKeys(r.code, s.row.code) === 0,
          );
          if (holder === undefined) {
            c = c.put(s.row);
            model.set(s.row.id, s.row);
          } else {
            let error: unknown;
            const before = c;
            try {
              c = c.put(s.row);
            } catch (e) {
              error = e;
            }
            expect(isUniqueViolation(error)).toBe(true);
            expect(c).toBe(before);
          }
        }
        expectFreshIndexes(c);
        expect(c.size).toBe(model.size);
        // Queries through the indexes agree with the records.
        for (const g of ['x', 'y']) {
          const viaIndex = from(c)
            .where('group', '=', g)
            .toArray()
            .map((r) => r.id);
          const viaModel = [...model.values()]
            .filter((r) => r.group === g)
            .map((r) => r.id)
            .sort((a, b) => a - b);
          expect(viaIndex).toEqual(viaModel);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps two writes on one state apart (each sees its own changes only)', () => {
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 10, maxLength: 60 }),
        fc.array(row, { minLength: 10, maxLength: 60 }),
        fc.array(row, { minLength: 10, maxLength: 60 }),
        (shared, left, right) => {
          const noCodes = (rows: Row[]) => rows.map(({ code: _, ...r }) => r);
          let base = empty();
          for (const r of noCodes(shared)) base = base.put(r);
          let a = base;
          let b = base;
          // Interleaved, so that each extends the log after the other did.
          for (let i = 0; i < Math.max(left.length, right.length); i++) {
            const l = noCodes(left)[i];
            const r = noCodes(right)[i];
            if (l !== undefined) a = a.put(l);
            if (r !== undefined) b = b.put(r);
          }
          expectFreshIndexes(a);
          expectFreshIndexes(b);
          expectFreshIndexes(base);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses a unique key taken earlier in the same batch, and accepts one given up in it', () => {
    let c = empty();
    for (let i = 0; i < 40; i++) c = c.put({ id: i, code: i });
    const read = c.indexes(); // makes the batch
    expect(read[0]?.entries).toBe(40);
    // Within one batch: 100 moves its code away, 101 takes the code given up, 102 collides.
    c = c.put({ id: 100, code: 500 });
    for (let i = 0; i < 20; i++) c = c.put({ id: 200 + i, code: 1000 + i });
    c = c.put({ id: 5, code: 600 });
    c = c.put({ id: 101, code: 5 });
    expect(() => c.put({ id: 102, code: 500 })).toThrow(/byCode/);
    expect(() => c.put({ id: 103, code: 1019 })).toThrow(/byCode/);
    expect(from(c).where('code', '=', 5).first()?.id).toBe(101);
    expect(from(c).where('code', '=', 600).first()?.id).toBe(5);
    expectFreshIndexes(c);
  });
});
