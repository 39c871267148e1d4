/**
 * The index-kind interface (issue 10): the ordered index is its first implementation, reachable
 * through the registry like any kind; a stored index of an unregistered kind is a typed error
 * naming its package. (A third-party kind is tested outside this package, in
 * `apps/demo/test/index-kind.test.ts`.)
 */
import { hasReason } from '@proto/atom';
import { cursorOf, Dictionary, type Key } from '@proto/collections';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from '../src/compile.js';
import {
  and,
  type Expr,
  type ExprNode,
  field,
  from,
  IndexedCollection,
  type IndexKind,
  indexKind,
  keyFn,
  or,
  registerIndexKind,
} from '../src/index.js';
import { setCostNoise } from '../src/plan/cost.js';
import type { User } from './helpers.js';
import { noise } from './oracle.js';

const records: User[] = Array.from({ length: 200 }, (_, i) => ({
  id: `u${String(i).padStart(3, '0')}`,
  name: `N${i}`,
  age: i % 60,
  tags: [`t${i % 5}`, `t${i % 3}`],
}));

describe('query: index kinds', () => {
  it('offers the ordered index’s probes and ranges through the IndexKind interface when asked like any kind', () => {
    const kind = indexKind('ordered') as IndexKind;
    expect(kind.name).toBe('ordered');
    const c = IndexedCollection.from<User, string>(records, { key: 'id' })
      .createIndex('byAge', 'age')
      .createIndex('byTag', 'tags[]');
    const terms: ExprNode[] = [
      field('age').between(10, 20),
      field('age').in([3, 5]),
      field('tags[]').eq('t1'),
    ];
    for (const name of ['byAge', 'byTag']) {
      const definition = kind.define(name, name === 'byAge' ? 'age' : 'tags[]');
      const index = kind.build(
        definition,
        records.map((r) => [r.id, r] as const),
      );
      const paths = kind.accessPaths(index, terms, { records: records.length });
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) {
        const expected = records.filter((r) => p.covers.every((i) => compile(terms[i] as ExprNode)(r)));
        const got = [...p.keys(index)];
        expect(got.slice().sort()).toEqual(expected.map((r) => r.id).sort());
        expect(p.rows).toBe(expected.length);
      }
    }
    expect(c.indexes().map((ix) => ix.kind)).toEqual(['ordered', 'ordered']);
  });

  it('builds and updates the ordered index through its kind with the same result as the collection', () => {
    const kind = indexKind('ordered') as IndexKind;
    const definition = kind.define('byAge', 'age');
    let index = kind.build(definition, []);
    for (const r of records) index = kind.update(index, r.id as Key, undefined, r);
    index = kind.update(index, 'u000', records[0], undefined);
    const c = IndexedCollection.from<User, string>(records, { key: 'id' })
      .createIndex('byAge', 'age')
      .delete('u000');
    const info = c.indexes()[0];
    expect(kind.describe(index)).toMatchObject({ on: 'age', entries: info?.entries, keys: info?.keys });
  });

  it('throws unsupported naming the kind and its package when a stored index’s kind is not registered', () => {
    // A stored payload as a collection of another process would write it.
    const payload = [
      1,
      'id',
      Dictionary.empty(),
      [['byGeo', 'kind:acme.geo', '@acme/geo-index', { p: 'loc' }, []]],
    ];
    const Ctor = IndexedCollection as unknown as new (
      s: undefined,
      p: readonly unknown[],
    ) => IndexedCollection;
    const c = new Ctor(undefined, payload);
    const error = (() => {
      try {
        from(c).toArray();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(hasReason(error, 'unsupported')).toBe(true);
    expect(String((error as Error).message)).toContain("kind 'acme.geo'");
    expect(String((error as Error).message)).toContain('@acme/geo-index');
  });

  it('rejects an unregistered kind at createIndex and another kind under a taken name', () => {
    const fake = { ...(indexKind('ordered') as IndexKind), name: 'test.unregistered' };
    const attempt = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(
      hasReason(
        attempt(() => IndexedCollection.empty({ key: 'id' }).createIndex('x', { kind: fake })),
        'invalid-argument',
      ),
    ).toBe(true);
    expect(
      hasReason(
        attempt(() => registerIndexKind({ ...fake, name: 'ordered' })),
        'invalid-argument',
      ),
    ).toBe(true);
  });
});

/**
 * A small kind for the property below: records bucketed by `n % 7` (a key function), answering
 * `eq`/`in` on that key function. Its index is a `Dictionary` bucket → Dictionary<pk, true>.
 */
interface Row {
  readonly id: number;
  readonly n: number;
  readonly a: number;
}
const bucketOf = (r: Row) => ((r.n % 7) + 7) % 7;
const bucket = keyFn('test.bucket', bucketOf);
type Buckets = Dictionary<number, Dictionary<Key, true>>;
function move(tree: Buckets, from: number | undefined, to: number | undefined, pk: Key): Buckets {
  let t = tree;
  if (from !== undefined) {
    const set = (t.get(from) as Dictionary<Key, true>).delete(pk);
    t = set.size === 0 ? t.delete(from) : t.set(from, set);
  }
  if (to !== undefined)
    t = t.set(to, (t.get(to) ?? (Dictionary.empty() as Dictionary<Key, true>)).set(pk, true));
  return t;
}
const bucketKind: IndexKind<{ readonly on: string }, Buckets> = {
  name: 'test.bucket',
  package: '@proto/query tests',
  define: () => ({ on: 'n % 7' }),
  build: (_d, records) => {
    let t: Buckets = Dictionary.empty();
    for (const [pk, r] of records) t = move(t, undefined, bucketOf(r as Row), pk);
    return t;
  },
  update: (t, pk, before, after) => {
    const b = before === undefined ? undefined : bucketOf(before as Row);
    const a = after === undefined ? undefined : bucketOf(after as Row);
    return a === b ? t : move(t, b, a, pk);
  },
  encode: (t) => [t],
  decode: (_d, stored) => (stored as [Buckets])[0],
  describe: (t) => ({ on: 'n % 7', entries: 0, keys: t.size, covered: 0 }),
  accessPaths: (t, terms) => {
    const out = [];
    for (let i = 0; i < terms.length; i++) {
      const e = terms[i] as ExprNode;
      if (!('on' in e) || e.on.id !== 'fn:test.bucket') continue;
      const values = e.op === 'eq' ? [e.value] : e.op === 'in' ? e.values : undefined;
      if (values === undefined || !values.every((v) => typeof v === 'number')) continue;
      const wanted = [...new Set(values as number[])];
      let rows = 0;
      for (const w of wanted) rows += t.get(w)?.size ?? 0;
      out.push({
        covers: [i],
        rows,
        operator: 'BucketProbe',
        detail: wanted.join(','),
        *keys(index: Buckets) {
          for (const w of wanted) {
            const set = index.get(w);
            if (set === undefined) continue;
            const c = cursorOf(set);
            while (c.next()) yield c.key as Key;
          }
        },
      });
    }
    return out;
  },
};
registerIndexKind(bucketKind);

describe('query: a kind’s access paths in every plan shape (oracle)', () => {
  afterEach(() => setCostNoise(undefined));

  it('returns the naive result when kind paths drive, intersect and OR-merge with ordered indexes under random costs', () => {
    const rowArb = fc.record({ n: fc.integer({ min: -30, max: 30 }), a: fc.integer({ min: 0, max: 9 }) });
    const termArb: fc.Arbitrary<Expr<Row>> = fc.oneof(
      fc.integer({ min: 0, max: 7 }).map((b) => bucket.eq(b) as Expr<Row>),
      fc
        .array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 3 })
        .map((bs) => bucket.in(bs) as Expr<Row>),
      fc.integer({ min: 0, max: 9 }).map((a) => field<Row>('a').eq(a)),
      fc.integer({ min: 0, max: 9 }).map((a) => field<Row>('a').gte(a)),
    );
    const predArb = fc.oneof(
      fc.array(termArb, { minLength: 1, maxLength: 3 }).map((ts) => and(...ts)),
      fc
        .array(
          fc.array(termArb, { minLength: 1, maxLength: 2 }).map((ts) => and(...ts)),
          { minLength: 2, maxLength: 3 },
        )
        .map((ds) => or(...ds)),
    );
    const writesArb = fc.array(
      fc.tuple(fc.integer({ min: 0, max: 80 }), fc.option(rowArb, { nil: undefined })),
      {
        maxLength: 30,
      },
    );
    fc.assert(
      fc.property(
        fc.array(rowArb, { maxLength: 120 }),
        writesArb,
        predArb,
        fc.integer(),
        (raw, writes, pred, seed) => {
          setCostNoise(noise(seed));
          const rows: Row[] = raw.map((r, i) => ({ id: i, ...r }));
          let c = IndexedCollection.from<Row, number>(rows, {
            key: 'id',
            indexes: { byA: 'a', byBucket: { kind: bucketKind } },
          });
          const model = new Map(rows.map((r) => [r.id, r] as const));
          for (const [id, r] of writes) {
            if (r === undefined) {
              c = c.delete(id);
              model.delete(id);
            } else {
              c = c.put({ id, ...r });
              model.set(id, { id, ...r });
            }
          }
          const test = compile(pred);
          const expected = [...model.values()]
            .filter((r) => test(r))
            .map((r) => r.id)
            .sort((x, y) => x - y);
          const got = from(c)
            .where(pred)
            .toArray()
            .map((r) => r.id)
            .sort((x, y) => x - y);
          expect(got).toEqual(expected);
          expect(from(c).where(pred).count()).toBe(expected.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
