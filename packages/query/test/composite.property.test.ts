/**
 * Composite indexes against the naive evaluator: whatever the records (missing fields, nulls,
 * NaN, mixed types, arrays and objects where keys are expected), the index's walks return
 * exactly the records a scan finds, before and after random puts and deletes, whichever plan
 * the (noisy) cost model picks.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { and, type Expr, field, from, IndexedCollection } from '../src/index.js';
import { setCostNoise } from '../src/plan/cost.js';
import { naive, noise, type Pred, type Row, rowOf } from './oracle.js';

const DATES = [new Date(0), new Date(1000)];
const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -0, Number.NaN, null) },
  { weight: 2, arbitrary: fc.constantFrom('', 'x', 'xa', 'y') },
  { weight: 1, arbitrary: fc.constantFrom(undefined, ['x'], { o: 1 }) },
);
const word = fc.constantFrom('a', 'ab', 'b');

const rowArb = (id: number): fc.Arbitrary<Row> =>
  fc
    .record({
      a: scalar,
      b: fc.option(word, { nil: undefined, freq: 5 }),
      c: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined, freq: 6 }),
      nested: fc.option(fc.record({ x: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }) }), {
        nil: undefined,
      }),
      d: fc.option(fc.constantFrom(...DATES), { nil: undefined }),
    })
    .map((r) => rowOf(id, r));

const COMPOSITES: readonly (readonly string[])[] = [
  ['b', 'c'],
  ['a', 'c'],
  ['b', 'a', 'c'],
  ['c', 'nested.x'],
  ['d', 'b', 'c'],
];

const operand = (path: string): fc.Arbitrary<unknown> => {
  switch (path) {
    case 'b':
      return word;
    case 'c':
      return fc.integer({ min: -1, max: 13 });
    case 'nested.x':
      return fc.integer({ min: -1, max: 5 });
    case 'd':
      return fc.constantFrom(...DATES);
    default:
      return fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constantFrom(0.5, Number.NaN, null, '', 'x', 'y'));
  }
};

const equality = (path: string): fc.Arbitrary<Pred> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('eq' as const), path: fc.constant(path), x: operand(path) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('in' as const),
        path: fc.constant(path),
        xs: fc.array(operand(path), { minLength: 1, maxLength: 3 }),
      }),
    },
  );

const range = (path: string): fc.Arbitrary<Pred[]> =>
  fc.oneof(
    fc
      .record({ op: fc.constantFrom('lt', 'lte', 'gt', 'gte'), path: fc.constant(path), x: operand(path) })
      .map((p) => [p as Pred]),
    fc
      .record({
        op: fc.constant('between' as const),
        path: fc.constant(path),
        lo: operand(path),
        hi: operand(path),
        li: fc.boolean(),
        hi2: fc.boolean(),
      })
      .map((p) => [p as Pred]),
    // Two ranges on one field, merged by the index.
    fc.tuple(operand(path), operand(path)).map(
      ([lo, hi]) =>
        [
          { op: 'gte', path, x: lo },
          { op: 'lt', path, x: hi },
        ] as Pred[],
    ),
    fc
      .record({
        op: fc.constant('startsWith' as const),
        path: fc.constant(path),
        p: fc.constantFrom('', 'x', 'a'),
      })
      .map((p) => [p as Pred]),
  );

/** Equalities on the first `k` paths of the index, maybe a range on the next, maybe noise. */
const conjunctionArb = (paths: readonly string[]): fc.Arbitrary<Pred[]> =>
  fc.integer({ min: 0, max: paths.length }).chain((k) =>
    fc
      .tuple(
        fc.tuple(...paths.slice(0, k).map(equality)),
        k < paths.length ? fc.option(range(paths[k] as string), { nil: undefined }) : fc.constant(undefined),
        fc.option(fc.constantFrom('a', 'b', 'c').chain(equality), { nil: undefined }),
        fc.integer(),
      )
      .map(([eqs, r, extra, seed]) => {
        const terms: Pred[] = [...eqs, ...(r ?? []), ...(extra === undefined ? [] : [extra])];
        // Term order must not matter.
        let s = seed;
        for (let i = terms.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1103515245) + 12345) | 0;
          const j = Math.abs(s) % (i + 1);
          [terms[i], terms[j]] = [terms[j] as Pred, terms[i] as Pred];
        }
        return terms;
      }),
  );

function toExpr(p: Pred): Expr {
  switch (p.op) {
    case 'between':
      return field(p.path).between(p.lo, p.hi, `${p.li ? '[' : '('}${p.hi2 ? ']' : ')'}` as '[]');
    case 'in':
      return field(p.path).in(p.xs);
    case 'startsWith':
      return field(p.path).startsWith(p.p);
    case 'eq':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return field(p.path)[p.op](p.x);
    default:
      throw new Error(`unexpected term ${p.op}`);
  }
}

const sorted = (rows: readonly Row[]) => rows.map((r) => r.id).sort((x, y) => x - y);

type Edit = { put: Row } | { del: number };

describe('composite indexes against a naive evaluator', () => {
  afterEach(() => setCostNoise(undefined));

  it('return exactly the records a scan finds, after random puts and deletes too', () => {
    let planned = 0;
    let viaComposite = 0;
    let viaRange = 0;
    const scenario = fc
      .record({
        n: fc.integer({ min: 0, max: 120 }),
        index: fc.constantFrom(...COMPOSITES),
        withSingles: fc.boolean(),
        noisy: fc.boolean(),
        seed: fc.integer(),
      })
      .chain(({ n, index, withSingles, noisy, seed }) =>
        fc.record({
          rows: fc.tuple(...Array.from({ length: n }, (_, i) => rowArb(i))),
          index: fc.constant(index),
          withSingles: fc.constant(withSingles),
          noisy: fc.constant(noisy),
          seed: fc.constant(seed),
          queries: fc.array(conjunctionArb(index), { minLength: 1, maxLength: 6 }),
          edits: fc.array(
            fc.oneof(
              fc.integer({ min: 0, max: n + 10 }).chain((id) => rowArb(id).map((put) => ({ put }) as Edit)),
              fc.integer({ min: 0, max: n + 10 }).map((del) => ({ del }) as Edit),
            ),
            { maxLength: 20 },
          ),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ rows, index, withSingles, noisy, seed, queries, edits }) => {
        setCostNoise(noisy ? noise(seed) : undefined);
        let coll = IndexedCollection.from<Row, number>(rows, {
          key: 'id',
          indexes: { composite: { paths: [...index] } },
        });
        if (withSingles) for (const p of index) coll = coll.createIndex(`single:${p}`, p as 'id');
        const check = (model: readonly Row[]) => {
          for (const terms of queries) {
            const pred: Pred = { op: 'and', args: terms };
            const q = from(coll).where(and(...terms.map(toExpr)));
            const actual = q.toArray();
            planned++;
            if (q.explain().text.includes('Composite')) viaComposite++;
            if (q.explain().text.includes('CompositeRangeScan')) viaRange++;
            expect(sorted(actual)).toEqual(sorted(naive(model, pred, [], 0, undefined)));
          }
        };
        check(rows);
        const model = new Map(rows.map((r) => [r.id, r]));
        for (const e of edits) {
          if ('put' in e) {
            coll = coll.put(e.put);
            model.set(e.put.id, e.put);
          } else {
            coll = coll.delete(e.del);
            model.delete(e.del);
          }
        }
        check([...model.values()]);
        // The index built from scratch over the edited records is the one the edits made.
        const rebuilt = IndexedCollection.from<Row, number>([...model.values()], {
          key: 'id',
          indexes: { composite: { paths: [...index] } },
        });
        const info = (c: IndexedCollection<Row, number>) => c.indexes().find((ix) => ix.name === 'composite');
        expect(info(coll)?.entries).toBe(info(rebuilt)?.entries);
        expect(info(coll)?.keys).toBe(info(rebuilt)?.keys);
      }),
      { numRuns: 300 },
    );
    // The walks were really tested: most plans read the composite index.
    expect(viaComposite).toBeGreaterThan(planned / 5);
    expect(viaRange).toBeGreaterThan(planned / 20);
  });
});
