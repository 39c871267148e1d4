/**
 * Indexed collections and queries on a backend without synchronous reads: every query and
 * update runs in `db.transact`, which loads what it meets unloaded in batched reads and runs
 * again. The memory backend with `syncReads: false` stands for a network backend; a small
 * cache keeps reads missing.
 */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { from, IndexedCollection } from '../src/index.js';

interface User {
  readonly id: number;
  readonly age: number;
  readonly city: string;
}

const cities = ['Oslo', 'Lima', 'Pune', 'Kyiv', 'Rome'];
const user = (id: number): User => ({ id, age: (id * 37) % 90, city: cities[id % cities.length] as string });

async function openAsync(location: MemoryLocation, maxAtoms = 16) {
  return ObjectSpace.open(await openMemoryBackend({ location, syncReads: false }), { cache: { maxAtoms } });
}

async function written(n: number): Promise<MemoryLocation> {
  const location = createMemoryLocation();
  const space = await ObjectSpace.open(await openMemoryBackend({ location }));
  const users = IndexedCollection.from<User, number>(
    Array.from({ length: n }, (_, i) => user(i)),
    { key: 'id', indexes: { byAge: 'age', byCity: 'city' } },
  );
  await space.database('db').transact((tx) => tx.set('users', users));
  await space.close();
  return location;
}

describe('queries on a backend without synchronous reads', () => {
  it('answer as on a synchronous backend, through the indexes, from a cold cache', async () => {
    const n = 20_000;
    const location = await written(n);
    const all = Array.from({ length: n }, (_, i) => user(i));
    const space = await openAsync(location);
    const db = space.database('db');
    const users = (tx: { get<T>(name: string): T | undefined }) =>
      tx.get<IndexedCollection<User, number>>('users') as IndexedCollection<User, number>;
    const young = await db.transact((tx) =>
      from(users(tx)).where('age', '<', 10).where('city', '=', 'Lima').orderBy('id').toArray(),
    );
    expect(young).toEqual(all.filter((u) => u.age < 10 && u.city === 'Lima'));
    const plan = await db.transact(
      (tx) => from(users(tx)).where('age', '=', 42).explain({ analyze: true }).text,
    );
    expect(plan).toContain('byAge');
    const oldest = await db.transact((tx) => from(users(tx)).orderBy('age', 'desc').limit(3).toArray());
    expect(oldest.map((u) => u.age)).toEqual([89, 89, 89]);
    expect(space.stats().batchedReads).toBeGreaterThan(5);
    await space.close();
  });

  it('keeps its indexes right through random updates, reopens and evictions (model-based)', async () => {
    const location = await written(3_000);
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('put' as const),
        id: fc.integer({ min: 0, max: 4000 }),
        age: fc.integer({ min: 0, max: 99 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 4000 }) }),
      fc.record({ kind: fc.constant('query' as const), age: fc.integer({ min: 0, max: 99 }) }),
      fc.constant({ kind: 'reopen' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 15 }), async (ops) => {
        // Each run starts from the same written collection, in a copy of its location.
        const copy = createMemoryLocation();
        const source = await ObjectSpace.open(await openMemoryBackend({ location }));
        const target = await openMemoryBackend({ location: copy });
        await source.backup(target);
        await target.close();
        await source.close();
        const model = new Map(Array.from({ length: 3_000 }, (_, i) => [i, user(i)] as [number, User]));
        let space = await openAsync(copy);
        try {
          for (const o of ops) {
            const db = space.database('db');
            if (o.kind === 'reopen') {
              await space.close();
              space = await openAsync(copy);
            } else if (o.kind === 'query') {
              const got = await db.transact((tx) =>
                from(tx.get<IndexedCollection<User, number>>('users') as IndexedCollection<User, number>)
                  .where('age', '=', o.age)
                  .orderBy('id')
                  .toArray(),
              );
              expect(got).toEqual(
                [...model.values()].filter((u) => u.age === o.age).sort((a, b) => a.id - b.id),
              );
            } else {
              await db.transact((tx) => {
                const users = tx.get<IndexedCollection<User, number>>('users') as IndexedCollection<
                  User,
                  number
                >;
                tx.set(
                  'users',
                  o.kind === 'put' ? users.put({ id: o.id, age: o.age, city: 'Oslo' }) : users.delete(o.id),
                );
              });
              if (o.kind === 'put') model.set(o.id, { id: o.id, age: o.age, city: 'Oslo' });
              else model.delete(o.id);
            }
          }
        } finally {
          await space.close();
        }
      }),
      { numRuns: 15 },
    );
  });
});
