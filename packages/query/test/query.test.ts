import { Dictionary, List } from '@proto/collections';
import { describe, expect, it } from 'vitest';
import {
  and,
  type Expr,
  field,
  fields,
  from,
  IndexedCollection,
  not,
  or,
  predicate,
  QueryError,
} from '../src/index.js';
import { openSpace } from './helpers.js';

interface User {
  readonly id: number;
  readonly name: string;
  readonly age: number;
  readonly country: string;
  readonly lastLogin: number;
  readonly tags: readonly string[];
  readonly address: { readonly city: string };
}

interface Order {
  readonly id: number;
  readonly user: number;
  readonly total: number;
}

const users: User[] = Array.from({ length: 40 }, (_, i) => ({
  id: i,
  name: `user${i}`,
  age: 10 + ((i * 13) % 60),
  country: ['ES', 'AR', 'FR', 'DE'][i % 4] as string,
  lastLogin: (i * 37) % 100,
  tags: i % 3 === 0 ? ['a', 'b'] : ['c'],
  address: { city: i % 2 === 0 ? 'Madrid' : 'Lima' },
}));
const orders: Order[] = Array.from({ length: 30 }, (_, i) => ({
  id: 100 + i,
  user: (i * 7) % 45,
  total: i * 10,
}));

const coll = IndexedCollection.from<User, number>(users, {
  key: 'id',
  indexes: { byAge: 'age', byCountry: 'country', byLogin: 'lastLogin' },
});

describe('query: fluent API', () => {
  it('filters, orders, projects and limits in one typed chain', () => {
    const rows = from(coll)
      .where('age', '>=', 18)
      .where('country', 'in', ['ES', 'AR'])
      .orderBy('lastLogin', 'desc')
      .select((u) => ({ id: u.id, name: u.name }))
      .limit(5)
      .toArray();
    const expected = users
      .filter((u) => u.age >= 18 && (u.country === 'ES' || u.country === 'AR'))
      .sort((a, b) => b.lastLogin - a.lastLogin || a.id - b.id)
      .slice(0, 5)
      .map((u) => ({ id: u.id, name: u.name }));
    expect(rows).toEqual(expected);
  });

  it('accepts expressions, typed field callbacks and the typed field builder alike', () => {
    const u = fields<User>();
    const a = from(coll)
      .where(and(u('age').between(20, 30, '[)'), u('address.city').eq('Lima')))
      .toArray();
    const b = from(coll)
      .where((f) => and(f('age').gte(20), f('age').lt(30), f('address.city').eq('Lima')))
      .toArray();
    const c = from(users)
      .where(field('age').between(20, 30, '[)'))
      .where('address.city', '=', 'Lima')
      .toArray();
    const expected = users
      .filter((x) => x.age >= 20 && x.age < 30 && x.address.city === 'Lima')
      .map((x) => x.id);
    expect(a.map((x) => x.id).sort((p, q) => p - q)).toEqual(expected);
    expect(b.map((x) => x.id).sort((p, q) => p - q)).toEqual(expected);
    expect(c.map((x) => x.id)).toEqual(expected);
  });

  it('orders by several keys with ties broken by primary key', () => {
    const rows = from(coll).orderBy('country').orderBy('age', 'desc').toArray();
    const expected = [...users].sort((a, b) =>
      a.country < b.country ? -1 : a.country > b.country ? 1 : b.age - a.age || a.id - b.id,
    );
    expect(rows.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    const byCountry = [...users].sort((a, b) =>
      a.country < b.country ? -1 : a.country > b.country ? 1 : a.id - b.id,
    );
    expect(
      from(coll)
        .orderBy('country')
        .offset(35)
        .toArray()
        .map((r) => r.id),
    ).toEqual(byCountry.slice(35).map((r) => r.id));
  });

  it('joins collections, arrays and queries with inner, left, right and full joins', () => {
    const inner = from(orders)
      .join(coll, 'user', 'id', (o, u) => `${o.id}:${u.name}`)
      .toArray();
    expect(inner).toEqual(orders.filter((o) => o.user < 40).map((o) => `${o.id}:user${o.user}`));
    const left = from(orders).leftJoin(users, 'user', 'id').toArray();
    expect(left.filter((r) => r.right === undefined).map((r) => r.left.id)).toEqual(
      orders.filter((o) => o.user >= 40).map((o) => o.id),
    );
    const right = from(orders)
      .rightJoin(from(coll).where('country', '=', 'ES'), 'user', 'id')
      .toArray();
    expect(right.filter((r) => r.left === undefined).length).toBe(
      users.filter((u) => u.country === 'ES' && !orders.some((o) => o.user === u.id)).length,
    );
    const full = from(orders).fullJoin(users, 'user', 'id').toArray();
    expect(full.length).toBe(
      orders.length + users.filter((u) => !orders.some((o) => o.user === u.id)).length,
    );
  });

  it('groups with count, sum, avg, min and max, then orders the groups', () => {
    const rows = from(coll)
      .where('age', '>=', 18)
      .groupBy('country', (a) => ({
        n: a.count(),
        avgAge: a.avg('age'),
        oldest: a.max('age'),
        youngest: a.min('age'),
        logins: a.sum('lastLogin'),
      }))
      .orderBy('avgAge', 'desc')
      .limit(3)
      .toArray();
    const adults = users.filter((u) => u.age >= 18);
    const expected = [...new Set(adults.map((u) => u.country))]
      .map((country) => {
        const g = adults.filter((u) => u.country === country);
        return {
          key: country,
          n: g.length,
          avgAge: g.reduce((s, u) => s + u.age, 0) / g.length,
          oldest: Math.max(...g.map((u) => u.age)),
          youngest: Math.min(...g.map((u) => u.age)),
          logins: g.reduce((s, u) => s + u.lastLogin, 0),
        };
      })
      .sort((a, b) => b.avgAge - a.avgAge)
      .slice(0, 3);
    expect(rows).toEqual(expected);
    const plain = from(users)
      .groupBy((u) => u.age > 40)
      .toArray();
    expect(plain.map((g) => [g.key, g.rows.length])).toEqual([
      [false, users.filter((u) => u.age <= 40).length],
      [true, users.filter((u) => u.age > 40).length],
    ]);
  });

  it('removes duplicates by value or by key, keeping the first', () => {
    expect(from(users).select('country').distinct().toArray()).toEqual(['ES', 'AR', 'FR', 'DE']);
    expect(
      from(users)
        .select((u) => ({ c: u.country }))
        .distinct()
        .count(),
    ).toBe(4);
    expect(
      from(users)
        .distinct('address.city')
        .toArray()
        .map((u) => u.id),
    ).toEqual([0, 1]);
  });

  it('flattens arrays and nested collections', () => {
    expect(from(users).flatten('tags').distinct().toArray().sort()).toEqual(['a', 'b', 'c']);
    const baskets = [
      {
        id: 1,
        items: Dictionary.from<string, number>([
          ['x', 1],
          ['y', 2],
        ]),
      },
      { id: 2, items: Dictionary.from<string, number>([['z', 3]]) },
    ];
    expect(from(baskets).flatten('items').toArray()).toEqual([1, 2, 3]);
    expect(
      from(users)
        .flatMap((u) => u.tags.map((t) => `${u.id}${t}`))
        .limit(3)
        .toArray(),
    ).toEqual(['0a', '0b', '1c']);
  });

  it('reads dictionaries, iterables and subqueries as sources', () => {
    const dict = Dictionary.from<number, User>(users.map((u) => [u.id, u]));
    expect(from(dict).where('country', '=', 'FR').count()).toBe(10);
    const list = List.from(users);
    expect(from(list).where('country', '=', 'FR').orderBy('age', 'desc').select('id').toArray()).toEqual(
      from(users).where('country', '=', 'FR').orderBy('age', 'desc').select('id').toArray(),
    );
    function* gen() {
      yield* users;
    }
    expect(from(gen()).where('age', '<', 20).toArray().length).toBe(users.filter((u) => u.age < 20).length);
    const sub = from(coll).where('country', '=', 'DE');
    expect(from(sub).orderBy('age').select('id').first()).toBe(
      [...users].filter((u) => u.country === 'DE').sort((a, b) => a.age - b.age || a.id - b.id)[0]?.id,
    );
  });

  it('is lazy: a limit stops pulling from the source', () => {
    let pulled = 0;
    const source = {
      *[Symbol.iterator]() {
        for (const u of users) {
          pulled++;
          yield u;
        }
      },
    };
    expect(
      from(source)
        .where('country', '=', 'ES')
        .limit(2)
        .toArray()
        .map((u) => u.id),
    ).toEqual([0, 4]);
    expect(pulled).toBe(5);
    pulled = 0;
    const it = from(source)[Symbol.iterator]();
    it.next();
    expect(pulled).toBe(1);
  });

  it('iterates synchronously and with for await', async () => {
    const sync: number[] = [];
    for (const u of from(coll).where('country', '=', 'AR').orderBy('id')) sync.push(u.id);
    const asyncRows: number[] = [];
    for await (const u of from(coll).where('country', '=', 'AR').orderBy('id')) asyncRows.push(u.id);
    expect(asyncRows).toEqual(sync);
    expect(sync).toEqual(users.filter((u) => u.country === 'AR').map((u) => u.id));
  });

  it('returns results as collections', async () => {
    const byName = from(coll).where('country', '=', 'ES').toDictionary('name');
    expect(byName).toBeInstanceOf(Dictionary);
    expect(byName.size).toBe(10);
    expect(byName.get('user4')?.id).toBe(4);
    const ages = from(coll).where('country', '=', 'ES').orderBy('age').select('age').toList();
    expect(ages).toBeInstanceOf(List);
    expect(ages.toArray()).toEqual(
      users
        .filter((u) => u.country === 'ES')
        .map((u) => u.age)
        .sort((a, b) => a - b),
    );
    // A result dictionary is a value like any other: it can be stored.
    const { space } = await openSpace();
    const db = space.database('x');
    await db.transact((tx) => tx.set('spanish', byName));
    expect(db.begin({ readOnly: true }).get<Dictionary<string, User>>('spanish')?.size).toBe(10);
    await space.close();
  });

  it('rejects malformed queries with a QueryError', () => {
    expect(() =>
      from(users)
        .where('age', '<', { not: 'a key' } as never)
        .toArray(),
    ).toThrow(QueryError);
    expect(() =>
      from(users)
        .where('age', '=', undefined as never)
        .toArray(),
    ).toThrow(/isNull/);
    expect(() => from(users).limit(-1)).toThrow(QueryError);
    expect(() => from(users).orderBy('tags[]' as never)).toThrow(/several values/);
    expect(() => field('a..b')).toThrow(QueryError);
    expect(() => from(42 as never)).toThrow(QueryError);
  });
});

describe('query: expression semantics', () => {
  const rows = [
    { id: 0, v: 1 },
    { id: 1, v: null },
    { id: 2 },
    { id: 3, v: 'x' },
    { id: 4, v: Number.NaN },
    { id: 5, v: -0 },
    { id: 6, v: [1, 2] },
    { id: 7, v: 'xyz' },
    { id: 8, v: new Date(5) },
    { id: 9, v: { a: 1 } },
  ];
  const ids = (e: Expr<(typeof rows)[number]>) =>
    from(rows)
      .where(e)
      .toArray()
      .map((r) => r.id);

  it('compares only values of the operand type, NaN first among numbers', () => {
    expect(ids(field('v').lt(1))).toEqual([4, 5]);
    expect(ids(field('v').gte('x'))).toEqual([3, 7]);
    expect(ids(field('v').gt(new Date(0)))).toEqual([8]);
  });

  it('treats null and missing as documented by eq, ne, exists and isNull', () => {
    expect(ids(field('v').eq(null))).toEqual([1]);
    expect(ids(field('v').exists())).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);
    expect(ids(field('v').isNull())).toEqual([1, 2]);
    expect(ids(field('v').ne(1))).toEqual([1, 3, 4, 5, 6, 7, 8, 9]);
    expect(ids(not(field('v').eq(1)))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('matches -0 and 0, NaN and NaN, arrays and objects by value', () => {
    expect(ids(field('v').eq(0))).toEqual([5]);
    expect(ids(field('v').eq(Number.NaN))).toEqual([4]);
    expect(ids(field('v').eq([1, 2]))).toEqual([6]);
    expect(ids(field('v').eq({ a: 1 }))).toEqual([9]);
    expect(ids(field('v').in([1, 'x', [1, 2]]))).toEqual([0, 3, 6]);
  });

  it('tests contains on arrays and strings, and prefixes on strings only', () => {
    expect(ids(field('v').contains(2))).toEqual([6]);
    expect(ids(field('v').contains('y'))).toEqual([7]);
    expect(ids(field('v').startsWith('x'))).toEqual([3, 7]);
    expect(ids(field('v[]').eq(1))).toEqual([6]);
    expect(ids(field('v[1]').eq(2))).toEqual([6]);
  });

  it('combines with and, or, not and opaque predicates', () => {
    expect(
      ids(
        or(
          field('v').eq(1),
          and(
            field('v').exists(),
            predicate((r: { id: number }) => r.id > 7),
          ),
        ),
      ),
    ).toEqual([0, 8, 9]);
    expect(ids(and())).toHaveLength(rows.length);
    expect(ids(or())).toEqual([]);
  });
});
