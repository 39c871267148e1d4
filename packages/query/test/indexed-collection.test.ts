import { hasReason, isConflict } from '@proto/atom';
import { describe, expect, it } from 'vitest';
import {
  field,
  from,
  IndexedCollection,
  isUniqueViolation,
  keyFn,
  UniqueConstraintError,
} from '../src/index.js';
import { byId, openSpace, type User } from './helpers.js';

const people: User[] = [
  { id: 'a', name: 'Ann', age: 31, email: 'ann@x', country: 'ES', tags: ['vip', 'new'] },
  { id: 'b', name: 'Bob', age: 17, email: 'bob@x', country: 'AR', tags: ['new'] },
  { id: 'c', name: 'Cid', age: 45, email: 'cid@x', country: 'ES' },
  { id: 'd', name: 'Dee', age: null, country: 'FR', tags: [] },
  { id: 'e', name: 'Eve', email: 'eve@x', country: 'AR', tags: ['vip', 'vip'] },
];

/** Filler records (enough that indexes beat a scan); none matches the queries below. */
const filler: User[] = Array.from({ length: 300 }, (_, i) => ({
  id: `z${String(i).padStart(3, '0')}`,
  name: `Filler ${i}`,
  age: 200 + (i % 50),
  email: `z${i}@x`,
  country: `X${i % 30}`,
  tags: [`t${i % 7}`],
}));

function users(): IndexedCollection<User, string> {
  return IndexedCollection.from<User, string>([...people, ...filler], { key: 'id' })
    .createIndex('byAge', 'age')
    .createIndex('byCountry', 'country')
    .createIndex('byEmail', { path: 'email', unique: true })
    .createIndex('byTag', 'tags[]');
}

/** The (index key → primary keys) an index should hold, computed naively from the records. */
function expectedEntries(records: Iterable<User>, key: (u: User) => readonly unknown[]): string[] {
  const out: string[] = [];
  for (const u of records) for (const k of new Set(key(u))) out.push(`${JSON.stringify(k)}:${u.id}`);
  return out.sort();
}

function actualEntries(c: IndexedCollection<User, string>, path: string, keys: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    for (const u of from(c)
      .where(path as 'age', '=', k as number)
      .toArray())
      out.push(`${JSON.stringify(k)}:${u.id}`);
  }
  return out.sort();
}

describe('query: IndexedCollection', () => {
  it('keeps every index in step with its records through puts, updates and deletes', () => {
    let c = users();
    c = c.put({ id: 'f', name: 'Fay', age: 31, email: 'fay@x', country: 'FR', tags: ['new'] });
    c = c.put({ id: 'a', name: 'Ann', age: 32, email: 'ann@y', country: 'FR', tags: ['old'] });
    c = c.delete('b');
    c = c.put({ id: 'd', name: 'Dee', age: 50, country: 'FR' });
    const records = [...c.values()].filter((u) => !u.id.startsWith('z'));
    const ages = [...new Set(records.map((u) => u.age).filter((a) => typeof a === 'number'))];
    expect(actualEntries(c, 'age', ages)).toEqual(
      expectedEntries(records, (u) => (typeof u.age === 'number' ? [u.age] : [])),
    );
    expect(actualEntries(c, 'country', ['ES', 'AR', 'FR'])).toEqual(
      expectedEntries(records, (u) => (u.country === undefined ? [] : [u.country])),
    );
    expect(actualEntries(c, 'tags[]', ['vip', 'new', 'old'])).toEqual(
      expectedEntries(records, (u) => u.tags ?? []),
    );
    const all = [...c.values()];
    const info = Object.fromEntries(c.indexes().map((ix) => [ix.name, ix]));
    expect(info.byAge?.entries).toBe(all.filter((u) => typeof u.age === 'number').length);
    expect(info.byTag?.entries).toBe(all.reduce((n, u) => n + new Set(u.tags ?? []).size, 0));
    expect(info.byTag?.covered).toBe(all.filter((u) => (u.tags ?? []).length > 0).length);
    expect(from(c).where('email', '=', 'ann@x').toArray()).toEqual([]);
    expect(from(c).where('email', '=', 'ann@y').first()?.id).toBe('a');
  });

  it('indexes null but not missing or non-key values when a field is absent or an object', () => {
    let c = users().createIndex('byAddress', 'address');
    c = c.put({ id: 'z', name: 'Zed', address: { city: 'X' } });
    const info = c.indexes().find((ix) => ix.name === 'byAge');
    expect(info?.entries).toBe(4 + filler.length);
    expect(
      from(c)
        .where('age', '=', null)
        .toArray()
        .map((u) => u.id),
    ).toEqual(['d']);
    expect(
      from(c)
        .where(field('age').isNull())
        .toArray()
        .map((u) => u.id)
        .sort(),
    ).toEqual(['d', 'e', 'z']);
    expect(c.indexes().find((ix) => ix.name === 'byAddress')?.entries).toBe(0);
    expect(
      from(c)
        .where('address', '=', { city: 'X' })
        .toArray()
        .map((u) => u.id),
    ).toEqual(['z']);
  });

  it('rejects a duplicate key of a unique index with a typed error and changes nothing', () => {
    const c = users();
    let error: unknown;
    try {
      c.put({ id: 'q', name: 'Q', email: 'ann@x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UniqueConstraintError);
    expect(isUniqueViolation(error)).toBe(true);
    expect(hasReason(error, 'invalid-argument')).toBe(true);
    expect((error as UniqueConstraintError).existing).toBe('a');
    expect(c.size).toBe(5 + filler.length);
    expect(() => c.createIndex('byCountryUnique', { path: 'country', unique: true })).toThrow(
      UniqueConstraintError,
    );
    // Updating a record without changing its unique key is not a violation.
    expect(c.put({ ...(c.get('a') as User), age: 99 }).get('a')?.age).toBe(99);
  });

  it('drops an index so plans stop using it and writes stop maintaining it', () => {
    const c = users().dropIndex('byAge');
    expect(c.hasIndex('byAge')).toBe(false);
    const q = from(c).where('age', 'between', [20, 100]);
    expect(q.explain().indexes).toEqual([]);
    expect(q.explain().plan.children[0]?.node).toBe('FullScan');
    expect(byId(q.toArray()).map((u) => u.id)).toEqual(['a', 'c']);
    expect(from(users()).where('age', 'between', [20, 100]).explain().indexes).toEqual(['byAge']);
    expect(() => c.dropIndex('byAge')).toThrow(/no index named/);
  });

  it('indexes a named key function and maintains it after the function is registered', () => {
    const initial = keyFn('test.initial', (u: User) => u.name.slice(0, 1).toLowerCase());
    const c = users()
      .createIndex('byInitial', { key: initial })
      .put({ id: 'g', name: 'ann2', country: 'ES' });
    const q = from(c).where(initial.eq('a'));
    expect(q.explain().indexes).toEqual(['byInitial']);
    expect(byId(q.toArray()).map((u) => u.id)).toEqual(['a', 'g']);
  });

  it('rejects a record whose key field differs from the key it is stored under', () => {
    expect(() => users().set('x', { id: 'y', name: 'Y' })).toThrow(/must match/);
  });
});

describe('query: IndexedCollection in transactions', () => {
  it('survives commit, close and reopen with its indexes intact', async () => {
    const { space, location } = await openSpace();
    await space.database('app').transact((tx) => tx.set('users', users()));
    await space.close();
    const reopened = await openSpace(location);
    const tx = reopened.space.database('app').begin({ readOnly: true });
    const c = tx.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    expect(c).toBeInstanceOf(IndexedCollection);
    expect(c.indexes().map((ix) => ix.name)).toEqual(['byAge', 'byCountry', 'byEmail', 'byTag']);
    const q = from(c).where('country', '=', 'ES');
    expect(q.explain().indexes).toEqual(['byCountry']);
    expect(byId(q.toArray()).map((u) => u.id)).toEqual(['a', 'c']);
    expect(
      from(c)
        .where('tags[]', '=', 'vip')
        .toArray()
        .map((u) => u.id)
        .sort(),
    ).toEqual(['a', 'e']);
    await reopened.space.close();
  });

  it('commits two concurrent transactions that update different records, both correctly indexed', async () => {
    const { space, location } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('users', users()));
    const t1 = db.begin();
    const t2 = db.begin();
    const c1 = t1.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    const c2 = t2.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    t1.set('users', c1.put({ ...(c1.get('a') as User), country: 'PT', age: 70 }));
    t2.set('users', c2.put({ ...(c2.get('b') as User), country: 'PT', tags: ['vip'] }));
    await t1.commit();
    await t2.commit();
    expect(space.stats().rebases).toBeGreaterThan(0);
    await space.close();
    const again = await openSpace(location);
    const c = again.space
      .database('app')
      .begin({ readOnly: true })
      .get<IndexedCollection<User, string>>('users');
    if (c === undefined) throw new Error('missing root');
    expect(byId(from(c).where('country', '=', 'PT').toArray()).map((u) => u.id)).toEqual(['a', 'b']);
    expect(
      from(c)
        .where('country', '=', 'ES')
        .toArray()
        .map((u) => u.id),
    ).toEqual(['c']);
    expect(
      from(c)
        .where('age', '=', 70)
        .toArray()
        .map((u) => u.id),
    ).toEqual(['a']);
    expect(from(c).where('age', '=', 31).toArray()).toEqual([]);
    expect(byId(from(c).where('tags[]', '=', 'vip').toArray()).map((u) => u.id)).toEqual(['a', 'b', 'e']);
    expect(c.indexes().find((ix) => ix.name === 'byCountry')?.entries).toBe(5 + filler.length);
    await again.space.close();
  });

  it('recomputes index entries on the newer version when two transactions write the same record', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('users', users()));
    const t1 = db.begin();
    const t2 = db.begin();
    const c1 = t1.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    const c2 = t2.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    // Blind writes of the same key: the later commit wins, and no stale entry of the first remains.
    t1.set('users', c1.set('c', { id: 'c', name: 'Cid', country: 'DE', age: 1 }));
    t2.set('users', c2.set('c', { id: 'c', name: 'Cid', country: 'IT', age: 2 }));
    await t1.commit();
    await t2.commit();
    const c = db.begin({ readOnly: true }).get<IndexedCollection<User, string>>('users');
    if (c === undefined) throw new Error('missing root');
    expect(c.get('c')?.country).toBe('IT');
    expect(from(c).where('country', '=', 'DE').toArray()).toEqual([]);
    expect(
      from(c)
        .where('country', 'in', ['IT'])
        .toArray()
        .map((u) => u.id),
    ).toEqual(['c']);
    expect(from(c).where('age', '=', 1).count()).toBe(0);
    await space.close();
  });

  it('fails the later commit with a conflict when a concurrent commit took the same unique key', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('users', users()));
    const t1 = db.begin();
    const t2 = db.begin();
    const c1 = t1.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    const c2 = t2.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    t1.set('users', c1.put({ id: 'x', name: 'X', email: 'same@x' }));
    t2.set('users', c2.put({ id: 'y', name: 'Y', email: 'same@x' }));
    await t1.commit();
    const error = await t2.commit().catch((e: unknown) => e);
    expect(isConflict(error)).toBe(true);
    // Retrying the write on a fresh snapshot reports the violation itself.
    await expect(
      db.transact((tx) => {
        const c = tx.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
        tx.set('users', c.put({ id: 'y', name: 'Y', email: 'same@x' }));
      }),
    ).rejects.toBeInstanceOf(UniqueConstraintError);
    await space.close();
  });

  it('conflicts when a concurrent commit changes the rows a query read, and not otherwise', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('users', users()));
    // T1 reads the Spanish users and writes a summary; T2 changes an Argentinian user.
    const t1 = db.begin();
    const t2 = db.begin();
    const c1 = t1.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    const c2 = t2.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    t1.set('spanish', from(c1).where('country', '=', 'ES').count());
    t2.set('users', c2.put({ ...(c2.get('b') as User), age: 18 }));
    await t2.commit();
    await t1.commit();
    // T3 reads the Spanish users; T4 moves someone to Spain: T3 must conflict.
    const t3 = db.begin();
    const t4 = db.begin();
    const c3 = t3.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    const c4 = t4.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    t3.set('spanish', from(c3).where('country', '=', 'ES').toArray().length);
    t4.set('users', c4.put({ ...(c4.get('e') as User), country: 'ES' }));
    await t4.commit();
    const error = await t3.commit().catch((e: unknown) => e);
    expect(isConflict(error)).toBe(true);
    await space.close();
  });

  it('replays index creation on the newer version so records written concurrently are indexed', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) =>
      tx.set('users', IndexedCollection.from<User, string>([...people, ...filler], { key: 'id' })),
    );
    const t1 = db.begin();
    const t2 = db.begin();
    const c1 = t1.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    const c2 = t2.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
    t2.set('users', c2.put({ id: 'n', name: 'New', country: 'NZ' }));
    t1.set('users', c1.createIndex('byCountry', 'country'));
    await t2.commit();
    await t1.commit();
    const c = db.begin({ readOnly: true }).get<IndexedCollection<User, string>>('users');
    if (c === undefined) throw new Error('missing root');
    const q = from(c).where('country', '=', 'NZ');
    expect(q.explain().indexes).toEqual(['byCountry']);
    expect(q.toArray().map((u) => u.id)).toEqual(['n']);
    await space.close();
  });

  it('commits many small concurrent transactions on different records without losing an index entry', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('users', users()));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transact((tx) => {
          const c = tx.get<IndexedCollection<User, string>>('users') as IndexedCollection<User, string>;
          tx.set(
            'users',
            c.put({ id: `n${i}`, name: `N${i}`, country: i % 2 === 0 ? 'EVEN' : 'ODD', age: 100 + i }),
          );
        }),
      ),
    );
    const c = db.begin({ readOnly: true }).get<IndexedCollection<User, string>>('users');
    if (c === undefined) throw new Error('missing root');
    expect(from(c).where('country', '=', 'EVEN').count()).toBe(10);
    expect(from(c).where('age', 'between', [100, 119]).count()).toBe(20);
    expect(c.size).toBe(25 + filler.length);
    await space.close();
  });
});
