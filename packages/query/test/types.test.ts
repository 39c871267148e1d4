/**
 * The typed API. The `@ts-expect-error` lines are checked by the compiler (run
 * `tsc --noEmit` over this file); the test runs the well-typed calls.
 */
import { describe, expect, it } from 'vitest';
import { and, field, fields, from, IndexedCollection, keyFn } from '../src/index.js';

interface User {
  id: string;
  age: number;
  country: string;
  tags: string[];
  address: { city: string; zip?: string };
  orders?: { total: number }[];
}

const arr: User[] = [
  { id: 'a', age: 30, country: 'ES', tags: ['vip'], address: { city: 'Lima' }, orders: [{ total: 20 }] },
  { id: 'b', age: 12, country: 'AR', tags: [], address: { city: 'Rosario' } },
];
const users = IndexedCollection.from<User, string>(arr, { key: 'id', indexes: { byAge: 'age' } });

/** Never called: compile-time checks only. */
function rejected(): void {
  // @ts-expect-error age is a number
  from(users).where('age', '>=', 'x');
  // @ts-expect-error no such path
  from(users).where('agee', '=', 1);
  // @ts-expect-error wrong value type
  fields<User>()('country').eq(3);
  const projected = from(users).select((u) => ({ id: u.id }));
  // @ts-expect-error rows of a projection have no 'age'
  projected.where('age', '=', 1);
}

describe('query: typed API', () => {
  it('carries record, projection, group and join types through a chain when typed', () => {
    void rejected;
    const q1: { id: string; age: number }[] = from(users)
      .where('age', '>=', 18)
      .select((u) => ({ id: u.id, age: u.age }))
      .toArray();
    expect(q1).toEqual([{ id: 'a', age: 30 }]);
    expect(from(users).where('address.city', '=', 'Lima').count()).toBe(1);
    expect(from(users).where('tags[]', '=', 'vip').count()).toBe(1);
    expect(from(users).where('tags', 'contains', 'vip').count()).toBe(1);
    expect(from(users).where('orders[].total', '>', 10).count()).toBe(1);
    const u = fields<User>();
    expect(
      from(arr)
        .where(and(u('age').between(1, 20), u('country').in(['AR'])))
        .count(),
    ).toBe(1);
    expect(from(arr).where(field('anything').eq(1)).count()).toBe(0);
    const g = from(arr)
      .groupBy('country', (a) => ({ n: a.count(), avg: a.avg('age'), oldest: a.max('age') }))
      .toArray();
    const n: number = g[0]?.n ?? 0;
    const key: string | undefined = g[0]?.key;
    const oldest: number | undefined = g[0]?.oldest;
    expect([n, key, oldest]).toEqual([1, 'ES', 30]);
    const joined = from(arr).leftJoin(users, 'id', 'id').toArray();
    const right: User | undefined = joined[0]?.right;
    expect(right?.id).toBe('a');
    const tags: string[] = from(arr).flatten('tags').toArray();
    expect(tags).toEqual(['vip']);
    const ages: number[] = from(users).select('age').distinct().toArray();
    expect(ages.sort()).toEqual([12, 30]);
    const full = keyFn('types.full', (x: User) => `${x.id}:${x.country}`);
    expect(from(users).where(full.eq('b:AR')).first()?.id).toBe('b');
  });
});
