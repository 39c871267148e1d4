/**
 * A third-party index kind through the public interface only (issue 10): the toy length index
 * of `fixtures/length-index.ts`, declared on an `IndexedCollection`, kept current in the same
 * transaction (and replayed when a commit rebases), persisted with the collection, and offered
 * to the planner, which chooses it (seen in `explain()`).
 */
import { hasReason, ObjectSpace } from '@proto/atom';
import { from, IndexedCollection } from '@proto/query';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { lengthIndex, lengthIndexKind, lengthOf } from './fixtures/length-index.ts';

interface Person {
  readonly id: string;
  readonly name: string;
  readonly city: string;
}

const nameLength = lengthOf<Person>('name');

function people(n: number): Person[] {
  const out: Person[] = [];
  for (let i = 0; i < n; i++) {
    // Names of 4..12 characters, with a few short ones.
    const len = i % 50 === 0 ? 2 : 4 + (i % 9);
    out.push({ id: `p${String(i).padStart(4, '0')}`, name: 'x'.repeat(len), city: i % 2 === 0 ? 'A' : 'B' });
  }
  return out;
}

function collection(records: readonly Person[]): IndexedCollection<Person, string> {
  return IndexedCollection.empty<Person, string>({
    key: 'id',
    indexes: { byCity: 'city', byNameLength: lengthIndex('name') },
  }).putAll(records);
}

async function open(location: MemoryLocation): Promise<ObjectSpace> {
  return ObjectSpace.open(await openMemoryBackend({ location }));
}

type People = IndexedCollection<Person, string>;

/** Two transactions begun on the same version, each with its view of the collection. */
function twoTransactions(db: ReturnType<ObjectSpace['database']>) {
  const t1 = db.begin();
  const t2 = db.begin();
  return { t1, t2, c1: t1.get<People>('people') as People, c2: t2.get<People>('people') as People };
}

function ids(rows: readonly Person[]): string[] {
  return rows.map((p) => p.id).sort();
}

describe('demo: a third-party index kind (issue 10)', () => {
  it('chooses the kind’s access path and shows it with its estimate in explain() when it is selective', () => {
    const records = people(1000);
    const c = collection(records);
    const q = from(c).where(nameLength.eq(2));
    const e = q.explain();
    expect(e.indexes).toEqual(['byNameLength']);
    expect(e.text).toContain('LengthScan byNameLength length:name() = 2  (est 20)');
    expect(ids(q.toArray())).toEqual(ids(records.filter((p) => p.name.length === 2)));
    const info = c.indexes().find((ix) => ix.name === 'byNameLength');
    expect(info).toMatchObject({ kind: 'demo.length', on: 'length(name)', entries: 1000, keys: 10 });
  });

  it('returns the same rows as a filter for ranges, IN and combinations with other indexes', () => {
    const records = people(600);
    const c = collection(records);
    const cases = [
      {
        q: from(c).where(nameLength.between(2, 4)),
        f: (p: Person) => p.name.length >= 2 && p.name.length <= 4,
      },
      { q: from(c).where(nameLength.in([2, 12])), f: (p: Person) => [2, 12].includes(p.name.length) },
      { q: from(c).where(nameLength.lt(3)), f: (p: Person) => p.name.length < 3 },
      {
        q: from(c).where(nameLength.eq(5)).where('city', '=', 'A'),
        f: (p: Person) => p.name.length === 5 && p.city === 'A',
      },
    ];
    for (const { q, f } of cases) expect(ids(q.toArray())).toEqual(ids(records.filter(f)));
    expect(from(c).where(nameLength.lt(3)).explain().indexes).toContain('byNameLength');
  });

  it('keeps the index current in the same transaction, through a rebase, an eviction and a reopen', async () => {
    const location = createMemoryLocation();
    const space = await open(location);
    const db = space.database('app');
    await db.transact((tx) => tx.set('people', collection(people(200))));
    // Two concurrent transactions add different records: the second commit rebases onto the
    // first, replaying its write, and the length index holds both.
    const { t1, t2, c1, c2 } = twoTransactions(db);
    const own = c1.put({ id: 'new-1', name: 'abcdefghijklmnopq', city: 'A' });
    // Inside the transaction, its own write is already indexed (t1 commits first, so this
    // read still holds when it commits).
    expect(ids(from(own).where(nameLength.eq(17)).toArray())).toEqual(['new-1']);
    t1.set('people', own);
    t2.set('people', c2.put({ id: 'new-2', name: 'abcdefghijklmnopq', city: 'B' }));
    await t1.commit();
    await t2.commit();
    expect(space.stats().rebases).toBeGreaterThan(0);
    const now = db.begin({ readOnly: true }).get<IndexedCollection<Person, string>>('people');
    if (now === undefined) throw new Error('missing root');
    const q = from(now).where(nameLength.eq(17));
    expect(q.explain().indexes).toEqual(['byNameLength']);
    expect(ids(q.toArray())).toEqual(['new-1', 'new-2']);
    // Caches dropped: the index's trees load again from storage.
    space.evictCaches();
    const evicted = db.begin({ readOnly: true }).get<People>('people') as People;
    expect(ids(from(evicted).where(nameLength.eq(17)).toArray())).toEqual(['new-1', 'new-2']);
    await space.close();

    // A fresh space over the same location: nothing cached, the index decodes from storage.
    const again = await open(location);
    const c = again
      .database('app')
      .begin({ readOnly: true })
      .get<IndexedCollection<Person, string>>('people');
    if (c === undefined) throw new Error('missing root');
    const r = from(c).where(nameLength.eq(17));
    expect(r.explain().text).toContain('LengthScan byNameLength');
    expect(ids(r.toArray())).toEqual(['new-1', 'new-2']);
    expect(c.indexes().find((ix) => ix.name === 'byNameLength')?.entries).toBe(202);
    // Deleting a record removes its entry.
    await again.database('app').transact((tx) => {
      const d = tx.get<IndexedCollection<Person, string>>('people') as IndexedCollection<Person, string>;
      tx.set('people', d.delete('new-1'));
    });
    const after = again
      .database('app')
      .begin({ readOnly: true })
      .get<IndexedCollection<Person, string>>('people');
    expect(
      ids(
        from(after as IndexedCollection<Person, string>)
          .where(nameLength.eq(17))
          .toArray(),
      ),
    ).toEqual(['new-2']);
    await again.close();
  });

  it('conflicts when a concurrent commit adds a record a query through the kind read, and not otherwise', async () => {
    const space = await open(createMemoryLocation());
    const db = space.database('app');
    await db.transact((tx) => tx.set('people', collection(people(200))));
    const { t1, t2, c1, c2 } = twoTransactions(db);
    // t2 reads "names of length 3" (none) through the index, then writes elsewhere.
    expect(from(c2).where(nameLength.eq(3)).explain().indexes).toEqual(['byNameLength']);
    expect(from(c2).where(nameLength.eq(3)).toArray()).toEqual([]);
    t2.set('people', c2.put({ id: 'other', name: 'abcdefgh', city: 'A' }));
    t1.set('people', c1.put({ id: 'abc', name: 'abc', city: 'A' }));
    await t1.commit();
    const error = await t2.commit().catch((e: unknown) => e);
    expect(hasReason(error, 'conflict')).toBe(true);
    // The same read commits when the concurrent record does not match it.
    const { t1: t3, t2: t4, c1: c3, c2: c4 } = twoTransactions(db);
    expect(ids(from(c4).where(nameLength.eq(3)).toArray())).toEqual(['abc']);
    t4.set('people', c4.put({ id: 'other', name: 'abcdefgh', city: 'A' }));
    t3.set('people', c3.put({ id: 'longer', name: 'abcdefghij', city: 'B' }));
    await t3.commit();
    await t4.commit();
    await space.close();
  });

  it('rejects bad options with the kind’s own typed error', () => {
    const error = (() => {
      try {
        IndexedCollection.empty<Person, string>({ key: 'id' }).createIndex('bad', {
          kind: lengthIndexKind,
          options: { path: 'a.b' },
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(hasReason(error, 'invalid-argument')).toBe(true);
  });
});
