/**
 * `IndexedCollection` in delta commits: a commit stores the records that changed, and opening
 * the space (after a crash, with no checkpoint since) derives the index entries again. On
 * random puts and deletes, the reopened collection's records and every indexed query equal a
 * plain model; a swap of two unique keys replays without a constraint error.
 */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { from, IndexedCollection } from '../src/index.js';

interface User {
  readonly id: number;
  readonly email: string;
  readonly age: number;
  readonly tags: readonly string[];
}

type Users = IndexedCollection<User, number>;

const options = { checkpoint: { commits: 1000 }, cache: { maxAtoms: 100 } };

function emptyUsers(): Users {
  return IndexedCollection.empty<User, number>({
    key: 'id',
    indexes: { byEmail: { path: 'email', unique: true }, byAge: 'age', byTag: 'tags[]' },
  });
}

/** Opens a space on `location`, after the previous backend went away without a checkpoint. */
async function crashAndOpen(location: ReturnType<typeof createMemoryLocation>, close: () => Promise<void>) {
  await close();
  const backend = await openMemoryBackend({ location });
  const space = await ObjectSpace.open(backend, options);
  return { space, backend };
}

describe('query: indexed collections in delta commits', () => {
  it('reopens after a crash with the records and indexes the commits left', async () => {
    const change = fc.oneof(
      fc.record({
        kind: fc.constant('put' as const),
        id: fc.integer({ min: 0, max: 80 }),
        age: fc.integer({ min: 0, max: 9 }),
        tag: fc.constantFrom('a', 'b', 'c'),
      }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 80 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(change, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 12 }),
        async (commits) => {
          const location = createMemoryLocation();
          let backend = await openMemoryBackend({ location });
          let space = await ObjectSpace.open(backend, options);
          await space.database('db').transact((tx) => tx.set('users', emptyUsers()));
          const model = new Map<number, User>();
          for (const commit of commits) {
            await space.database('db').transact((tx) => {
              let users = tx.get<Users>('users') as Users;
              for (const c of commit) {
                // Unique emails by id: a put never collides with another record.
                if (c.kind === 'put')
                  users = users.put({ id: c.id, email: `u${c.id}@x`, age: c.age, tags: [c.tag] });
                else users = users.delete(c.id);
              }
              tx.set('users', users);
            });
            for (const c of commit) {
              if (c.kind === 'put')
                model.set(c.id, { id: c.id, email: `u${c.id}@x`, age: c.age, tags: [c.tag] });
              else model.delete(c.id);
            }
          }
          const stats = space.stats();
          expect(stats.checkpoints).toBe(1);
          const reopened = await crashAndOpen(location, () => backend.close());
          space = reopened.space;
          backend = reopened.backend;
          const users = space.database('db').begin({ readOnly: true }).get<Users>('users') as Users;
          const byId = (a: User, b: User) => a.id - b.id;
          expect([...users.values()].sort(byId)).toEqual([...model.values()].sort(byId));
          for (let age = 0; age < 10; age++) {
            const got = from(users).where('age', '==', age).toArray().sort(byId);
            expect(got).toEqual([...model.values()].filter((u) => u.age === age).sort(byId));
          }
          const tagged = from(users).where('tags[]', '==', 'b').toArray().sort(byId);
          expect(tagged).toEqual([...model.values()].filter((u) => u.tags.includes('b')).sort(byId));
          for (const u of model.values())
            expect(from(users).where('email', '==', u.email).toArray()).toEqual([u]);
          expect(users.indexes().find((i) => i.name === 'byEmail')?.entries).toBe(model.size);
          await space.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('replays a swap of two unique keys made in one commit', async () => {
    const location = createMemoryLocation();
    const backend = await openMemoryBackend({ location });
    const space = await ObjectSpace.open(backend, options);
    const db = space.database('db');
    await db.transact((tx) =>
      tx.set(
        'users',
        emptyUsers()
          .put({ id: 1, email: 'a@x', age: 1, tags: [] })
          .put({ id: 2, email: 'b@x', age: 2, tags: [] }),
      ),
    );
    await db.transact((tx) => {
      const users = tx.get<Users>('users') as Users;
      tx.set(
        'users',
        users
          .put({ id: 1, email: 'tmp@x', age: 1, tags: [] })
          .put({ id: 2, email: 'a@x', age: 2, tags: [] })
          .put({ id: 1, email: 'b@x', age: 1, tags: [] }),
      );
    });
    expect(space.stats().checkpoints).toBe(1);
    const reopened = await crashAndOpen(location, () => backend.close());
    const users = reopened.space.database('db').begin({ readOnly: true }).get<Users>('users') as Users;
    expect(from(users).where('email', '==', 'b@x').toArray()).toEqual([
      { id: 1, email: 'b@x', age: 1, tags: [] },
    ]);
    expect(from(users).where('email', '==', 'a@x').toArray()).toEqual([
      { id: 2, email: 'a@x', age: 2, tags: [] },
    ]);
    await reopened.space.close();
  });
});
