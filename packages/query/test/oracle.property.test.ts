import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { and, type Expr, field, from, IndexedCollection, not, or } from '../src/index.js';
import { setCostNoise } from '../src/plan/cost.js';
import { naive, noise, type OrderKey, type Pred, type Row, rowOf, valuesOf } from './oracle.js';

const DATES = [new Date(0), new Date(1000), new Date(86_400_000)];
const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -4, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -0, Number.NaN, null) },
  { weight: 2, arbitrary: fc.constantFrom('', 'x', 'xa', 'xb', 'y', 'ya') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const word = fc.constantFrom('a', 'ab', 'b', 'ba', 'c');

const rowArb = (id: number): fc.Arbitrary<Row> =>
  fc
    .record({
      a: scalar,
      b: fc.option(word, { nil: undefined }),
      c: fc.integer({ min: 0, max: 30 }),
      tags: fc.oneof(
        { weight: 5, arbitrary: fc.array(word, { maxLength: 3 }) },
        { weight: 1, arbitrary: fc.constantFrom(undefined, 'abc', 'ba') },
      ),
      nested: fc.option(fc.record({ x: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) }), {
        nil: undefined,
      }),
      d: fc.option(fc.constantFrom(...DATES), { nil: undefined }),
    })
    .map((r) => rowOf(id, r));

const rowsArb = fc
  .integer({ min: 0, max: 250 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rowArb(i))));

// `x+y` is a composite index on x, y.
const INDEXABLE = ['a', 'b', 'c', 'tags', 'tags[]', 'nested.x', 'd', 'b+c', 'a+c+nested.x', 'd+b'] as const;
const indexesArb = fc.subarray([...INDEXABLE]);

const operand = (path: string): fc.Arbitrary<unknown> => {
  switch (path) {
    case 'b':
    case 'tags[]':
      return word;
    case 'tags':
      return fc.constantFrom(['a'], ['a', 'b'], [], ['c']);
    case 'd':
      return fc.constantFrom(...DATES);
    case 'c':
    case 'id':
      return fc.integer({ min: -1, max: 31 });
    case 'nested.x':
      return fc.integer({ min: -1, max: 6 });
    default:
      return fc.oneof(
        fc.integer({ min: -5, max: 5 }),
        fc.constantFrom(0.5, Number.NaN, null, '', 'x', 'xa', 'y'),
      );
  }
};

const PATHS = ['a', 'b', 'c', 'tags', 'tags[]', 'nested.x', 'd', 'id'];

const leafArb: fc.Arbitrary<Pred> = fc.constantFrom(...PATHS).chain((path) =>
  fc.oneof(
    fc.record({
      op: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'),
      path: fc.constant(path),
      x: operand(path),
    }) as fc.Arbitrary<Pred>,
    fc.record({
      op: fc.constant('between'),
      path: fc.constant(path),
      lo: operand(path),
      hi: operand(path),
      li: fc.boolean(),
      hi2: fc.boolean(),
    }) as fc.Arbitrary<Pred>,
    fc.record({
      op: fc.constant('in'),
      path: fc.constant(path),
      xs: fc.array(operand(path), { minLength: 1, maxLength: 4 }),
    }) as fc.Arbitrary<Pred>,
    fc.record({
      op: fc.constant('contains'),
      path: fc.constantFrom('tags', 'b'),
      x: word,
    }) as fc.Arbitrary<Pred>,
    fc.record({
      op: fc.constant('startsWith'),
      path: fc.constantFrom('a', 'b', 'tags[]'),
      p: fc.constantFrom('', 'x', 'a', 'b'),
    }) as fc.Arbitrary<Pred>,
    fc.record({ op: fc.constantFrom('exists', 'isNull'), path: fc.constant(path) }) as fc.Arbitrary<Pred>,
  ),
);

const predArb: fc.Arbitrary<Pred> = fc.letrec<{ p: Pred }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: leafArb },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('and' as const),
        args: fc.array(tie('p'), { minLength: 1, maxLength: 3 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('or' as const),
        args: fc.array(tie('p'), { minLength: 1, maxLength: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('not' as const), arg: tie('p') }) },
  ),
})).p;

function toExpr(p: Pred): Expr {
  switch (p.op) {
    case 'and':
      return and(...p.args.map(toExpr));
    case 'or':
      return or(...p.args.map(toExpr));
    case 'not':
      return not(toExpr(p.arg));
    case 'between':
      return field(p.path).between(p.lo, p.hi, `${p.li ? '[' : '('}${p.hi2 ? ']' : ')'}` as '[]');
    case 'in':
      return field(p.path).in(p.xs);
    case 'contains':
      return field(p.path).contains(p.x);
    case 'startsWith':
      return field(p.path).startsWith(p.p);
    case 'exists':
      return field(p.path).exists();
    case 'isNull':
      return field(p.path).isNull();
    default:
      return field(p.path)[p.op](p.x);
  }
}

const orderArb = fc.array(
  fc.record({ path: fc.constantFrom('a', 'b', 'c', 'nested.x', 'id', 'd'), desc: fc.boolean() }),
  { maxLength: 2 },
);

function build(rows: readonly Row[], indexes: readonly string[]): IndexedCollection<Row, number> {
  let c = IndexedCollection.from<Row, number>(rows, { key: 'id' });
  for (const path of indexes)
    c = c.createIndex(`ix:${path}`, path.includes('+') ? { paths: path.split('+') as 'id'[] } : path);
  return c;
}

const ids = (rows: readonly Row[]) => rows.map((r) => r.id);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

const stats = new Map<string, number>();

describe('query: optimizer against a naive evaluator (oracle)', () => {
  afterEach(() => {
    setCostNoise(undefined);
    if (process.env.ORACLE_STATS) console.log(stats);
  });

  it('returns exactly the naive result for random data, indexes, predicates, orders and limits', () => {
    fc.assert(
      fc.property(
        rowsArb,
        indexesArb,
        predArb,
        orderArb,
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        fc.integer({ min: 0, max: 5 }),
        fc.boolean(),
        fc.integer(),
        (rows, indexes, pred, order: OrderKey[], limit, offset, noisy, seed) => {
          setCostNoise(noisy ? noise(seed) : undefined);
          const coll = build(rows, indexes);
          let q = from(coll).where(toExpr(pred));
          for (const k of order) q = q.orderBy(k.path as 'id', k.desc ? 'desc' : 'asc');
          const ordered = order.length > 0;
          if (ordered) {
            if (offset > 0) q = q.offset(offset);
            if (limit !== undefined) q = q.limit(limit);
          }
          const expected = naive(rows, pred, order, ordered ? offset : 0, ordered ? limit : undefined);
          const actual = q.toArray();
          if (ordered) expect(ids(actual)).toEqual(ids(expected));
          else expect(sorted(ids(actual))).toEqual(sorted(ids(expected)));
          // The same query over a plain array (no indexes) agrees too.
          let qa = from(rows).where(toExpr(pred));
          for (const k of order) qa = qa.orderBy(k.path as 'id', k.desc ? 'desc' : 'asc');
          if (ordered) {
            if (offset > 0) qa = qa.offset(offset);
            if (limit !== undefined) qa = qa.limit(limit);
          }
          const fromArray = qa.toArray();
          if (ordered) expect(ids(fromArray)).toEqual(ids(expected));
          else expect(sorted(ids(fromArray))).toEqual(sorted(ids(expected)));
          expect(from(coll).where(toExpr(pred)).count()).toBe(naive(rows, pred, [], 0, undefined).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns the naive result for conjunctions and disjunctions of indexed terms (AND/OR merges)', () => {
    const conj = fc.array(leafArb, { minLength: 2, maxLength: 4 });
    const shape = fc.oneof(
      conj.map((args): Pred => ({ op: 'and', args })),
      fc.tuple(conj, conj).map(
        ([x, y]): Pred => ({
          op: 'or',
          args: [
            { op: 'and', args: x },
            { op: 'and', args: y },
          ],
        }),
      ),
      fc
        .tuple(conj, leafArb, leafArb)
        .map(([x, l, r]): Pred => ({ op: 'and', args: [...x, { op: 'or', args: [l, r] }] })),
    );
    fc.assert(
      fc.property(rowsArb, shape, fc.integer(), fc.boolean(), (rows, pred, seed, noisy) => {
        setCostNoise(noisy ? noise(seed) : undefined);
        const coll = build(rows, INDEXABLE);
        const expected = sorted(ids(naive(rows, pred, [], 0, undefined)));
        if (process.env.ORACLE_STATS) {
          const t = from(coll).where(toExpr(pred)).explain().text;
          for (const n of ['IndexMember', 'Intersect', 'Union', 'IndexProbe', 'IndexRangeScan', 'FullScan'])
            if (t.includes(n)) stats.set(n, (stats.get(n) ?? 0) + 1);
        }
        // Run three times: repeated probes switch index membership tests to materialized sets.
        for (let run = 0; run < 3; run++) {
          expect(sorted(ids(from(coll).where(toExpr(pred)).toArray()))).toEqual(expected);
        }
      }),
      { numRuns: 250 },
    );
  });

  it('returns the naive result for equality conjunctions checked against the indexes (IndexMember)', () => {
    const eqLeaf = fc
      .constantFrom('a', 'b', 'c', 'tags[]', 'nested.x', 'd')
      .chain((path) => operand(path).map((x): Pred => ({ op: 'eq', path, x })));
    const extra = fc.option(leafArb, { nil: undefined });
    fc.assert(
      fc.property(
        rowsArb,
        fc.array(eqLeaf, { minLength: 2, maxLength: 3 }),
        extra,
        fc.integer(),
        (rows, eqs, more, seed) => {
          setCostNoise(noise(seed));
          const coll = build(rows, INDEXABLE);
          const pred: Pred = { op: 'and', args: more === undefined ? eqs : [...eqs, more] };
          const expected = sorted(ids(naive(rows, pred, [], 0, undefined)));
          for (let run = 0; run < 3; run++) {
            expect(sorted(ids(from(coll).where(toExpr(pred)).toArray()))).toEqual(expected);
          }
          if (process.env.ORACLE_STATS) {
            const t = from(coll).where(toExpr(pred)).explain().text;
            if (t.includes('IndexMember')) stats.set('member', (stats.get('member') ?? 0) + 1);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returns the naive result for many queries of one shape with different constants (plan cache)', () => {
    const shape = fc.record({
      a: fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 6, maxLength: 6 }),
      b: fc.array(word, { minLength: 6, maxLength: 6 }),
      lo: fc.array(fc.integer({ min: -1, max: 30 }), { minLength: 6, maxLength: 6 }),
      width: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 6, maxLength: 6 }),
    });
    fc.assert(
      fc.property(rowsArb, shape, fc.boolean(), fc.integer(), (rows, k, ordered, seed) => {
        setCostNoise(noise(seed));
        const coll = build(rows, INDEXABLE);
        // The same shape six times (cached from the third planning on), constants varying.
        for (let i = 0; i < 6; i++) {
          const pred: Pred = {
            op: 'and',
            args: [
              { op: 'eq', path: 'b', x: k.b[i] },
              {
                op: 'between',
                path: 'c',
                lo: k.lo[i],
                hi: (k.lo[i] as number) + (k.width[i] as number),
                li: true,
                hi2: false,
              },
              { op: 'ne', path: 'a', x: k.a[i] },
            ],
          };
          const order: OrderKey[] = ordered ? [{ path: 'c', desc: true }] : [];
          let q = from(coll).where(toExpr(pred));
          if (ordered) q = q.orderBy('c', 'desc').limit(5);
          const expected = naive(rows, pred, order, 0, ordered ? 5 : undefined);
          const actual = q.toArray();
          if (ordered) expect(ids(actual)).toEqual(ids(expected));
          else expect(sorted(ids(actual))).toEqual(sorted(ids(expected)));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('keeps the first rows in order when a limit stops an ordered index walk early', () => {
    fc.assert(
      fc.property(
        rowsArb,
        fc.constantFrom('a', 'c', 'b', 'd'),
        fc.boolean(),
        fc.integer({ min: 1, max: 10 }),
        (rows, path, desc, limit) => {
          const coll = build(rows, [path]);
          const order = [{ path, desc }];
          const actual = from(coll)
            .orderBy(path as 'id', desc ? 'desc' : 'asc')
            .limit(limit)
            .toArray();
          expect(ids(actual)).toEqual(ids(naive(rows, undefined, order, 0, limit)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('joins, groups, dedupes and flattens exactly like naive loops', () => {
    const side = fc.array(
      fc.record({
        id: fc.integer({ min: 0, max: 1000 }),
        k: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
        v: fc.integer({ min: -5, max: 5 }),
      }),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(side, side, fc.constantFrom('inner', 'left', 'right', 'full'), (left, right, kind) => {
        const key = (r: { k?: number | undefined }) => r.k;
        const match = (l: { k?: number | undefined }, r: { k?: number | undefined }) =>
          l.k !== undefined && l.k === r.k;
        const expected: string[] = [];
        for (const l of left) {
          const ms = right.filter((r) => match(l, r));
          for (const r of ms) expected.push(`${l.id}|${r.id}`);
          if (ms.length === 0 && (kind === 'left' || kind === 'full')) expected.push(`${l.id}|-`);
        }
        if (kind === 'right' || kind === 'full') {
          for (const r of right) if (!left.some((l) => match(l, r))) expected.push(`-|${r.id}`);
        }
        const q = from(left);
        const pair = (l: { id: number } | undefined, r: { id: number } | undefined) =>
          `${l?.id ?? '-'}|${r?.id ?? '-'}`;
        const actual =
          kind === 'inner'
            ? q.join(right, key, key, pair).toArray()
            : kind === 'left'
              ? q.leftJoin(right, key, key, pair).toArray()
              : kind === 'right'
                ? q.rightJoin(right, key, key, pair).toArray()
                : q.fullJoin(right, key, key, pair).toArray();
        expect(actual).toEqual(expected);

        // group by k with aggregates
        const groups = new Map<number | undefined, { n: number; sum: number; min: number; max: number }>();
        for (const r of left) {
          const g = groups.get(r.k) ?? {
            n: 0,
            sum: 0,
            min: Number.POSITIVE_INFINITY,
            max: Number.NEGATIVE_INFINITY,
          };
          g.n++;
          g.sum += r.v;
          g.min = Math.min(g.min, r.v);
          g.max = Math.max(g.max, r.v);
          groups.set(r.k, g);
        }
        const grouped = from(left)
          .groupBy('k', (a) => ({
            n: a.count(),
            sum: a.sum('v'),
            avg: a.avg('v'),
            min: a.min('v'),
            max: a.max('v'),
          }))
          .toArray();
        expect(grouped.map((g) => g.key)).toEqual([...groups.keys()]);
        for (const g of grouped) {
          const e = groups.get(g.key);
          expect(g).toEqual({
            key: g.key,
            n: e?.n,
            sum: e?.sum,
            avg: (e?.sum ?? 0) / (e?.n ?? 1),
            min: e?.min,
            max: e?.max,
          });
        }
        // distinct values, first occurrence order
        const ks = left.map((r) => r.k);
        expect(from(left).select('k').distinct().toArray()).toEqual(ks.filter((k, i) => ks.indexOf(k) === i));
        // flatten
        const nested = left.map((r) => ({
          id: r.id,
          items: Array.from({ length: Math.abs(r.v) }, (_, i) => r.id * 10 + i),
        }));
        expect(from(nested).flatten('items').toArray()).toEqual(nested.flatMap((r) => r.items));
      }),
      { numRuns: 150 },
    );
  });

  it('answers distinct values of an indexed path from the index as a naive Set would', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const coll = build(rows, ['c']);
        const expected = [...new Set(rows.map((r) => valuesOf(r, 'c')[0]))].sort(
          (a, b) => Number(a) - Number(b),
        );
        const actual = from(coll).select('c').distinct().toArray() as number[];
        expect([...actual].sort((a, b) => a - b)).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });
});
