import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { from, IndexedCollection } from '@proto/query';
import { openWalBackend } from '@proto/storage-wal';
import { afterAll, describe, expect, it } from 'vitest';
import { vectorIndex } from '../src/index.ts';
import { clustered, type Item, openSpace } from './fixtures.ts';

type Items = IndexedCollection<Item, string>;
const DIM = 16;

function empty(lists: number | 'none' = 8): Items {
  return IndexedCollection.empty<Item, string>({
    key: 'id',
    indexes: { emb: vectorIndex({ path: 'embedding', dim: DIM, lists, trainAt: 200 }) },
  });
}

const keys = (
  c: Items,
  q: readonly number[],
  k = 10,
  where?: (q: ReturnType<typeof from<Items>>) => ReturnType<typeof from<Items>>,
) =>
  (where === undefined ? from(c) : where(from(c)))
    .nearest('embedding', q, { k, nprobe: 8 })
    .toArray()
    .map((r) => r.key);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('vector: transactions', () => {
  const items = clustered(600, DIM, 11);
  const probe = Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0));

  it('never finds a vector added in an aborted transaction', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('items', empty().putAll(items)));
    const tx = db.begin();
    const c = tx.get<Items>('items') as Items;
    tx.set('items', c.put({ id: 'ghost', category: 0, embedding: probe }));
    expect(keys(tx.get<Items>('items') as Items, probe, 1)).toEqual(['ghost']);
    tx.abort();
    const after = db.begin({ readOnly: true }).get<Items>('items') as Items;
    expect(keys(after, probe, 10)).not.toContain('ghost');
    await space.close();
  });

  it('never returns a deleted record, nor an updated one with its old vector', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('items', empty().putAll(items)));
    const target = items[42] as Item;
    const [first] = keys(db.begin({ readOnly: true }).get<Items>('items') as Items, target.embedding, 1);
    expect(first).toBe(target.id);
    await db.transact((tx) => {
      const c = tx.get<Items>('items') as Items;
      tx.set('items', c.put({ ...target, embedding: probe }).delete((items[43] as Item).id));
    });
    const c = db.begin({ readOnly: true }).get<Items>('items') as Items;
    const near = from(c).nearest('embedding', target.embedding, { k: 600, nprobe: 8 }).toArray();
    expect(near.map((r) => r.key)).not.toContain((items[43] as Item).id);
    const moved = near.find((r) => r.key === target.id);
    // Its distance is now that of the new vector.
    const cosine = 1 - probe.reduce<number>((s, x, i) => s + x * (target.embedding[i] as number), 0);
    expect(moved?.distance).toBeCloseTo(cosine, 5);
    expect(keys(c, probe, 1)).toEqual([target.id]);
    await space.close();
  });

  it('commits two concurrent writers of different records and finds both', async () => {
    const { space } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('items', empty().putAll(items)));
    const a = db.begin();
    const b = db.begin();
    const va = Array.from({ length: DIM }, (_, i) => (i === 1 ? 1 : 0));
    const vb = Array.from({ length: DIM }, (_, i) => (i === 2 ? 1 : 0));
    a.set('items', (a.get<Items>('items') as Items).put({ id: 'a', category: 1, embedding: va }));
    b.set('items', (b.get<Items>('items') as Items).put({ id: 'b', category: 1, embedding: vb }));
    await a.commit();
    await b.commit(); // rebased: its put is replayed on a's version, and the index updated there
    const c = db.begin({ readOnly: true }).get<Items>('items') as Items;
    expect(keys(c, va, 1)).toEqual(['a']);
    expect(keys(c, vb, 1)).toEqual(['b']);
    expect(c.size).toBe(602);
    await space.close();
  });

  it('gives the same results after a reopen of the memory backend', async () => {
    const { space, location } = await openSpace();
    const db = space.database('app');
    await db.transact((tx) => tx.set('items', empty().putAll(items)));
    await db.transact((tx) => tx.set('items', (tx.get<Items>('items') as Items).delete('i000003')));
    const queries = [0, 100, 200, 300].map((i) => (items[i] as Item).embedding);
    const c0 = db.begin({ readOnly: true }).get<Items>('items') as Items;
    const before = queries.map((q) => keys(c0, q, 10, (x) => x.where('category', '<', 50)));
    await space.close();
    const again = await openSpace(location);
    const c1 = again.space.database('app').begin({ readOnly: true }).get<Items>('items') as Items;
    expect(queries.map((q) => keys(c1, q, 10, (x) => x.where('category', '<', 50)))).toEqual(before);
    // Still writable after the reopen: the decoded blocks take updates.
    await again.space
      .database('app')
      .transact((tx) =>
        tx.set('items', (tx.get<Items>('items') as Items).put({ id: 'new', category: 1, embedding: probe })),
      );
    const c2 = again.space.database('app').begin({ readOnly: true }).get<Items>('items') as Items;
    expect(keys(c2, probe, 1)).toEqual(['new']);
    await again.space.close();
  });

  it('gives the same results after a reopen of the WAL backend', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-vector-'));
    dirs.push(dir);
    for (const lists of [8, 'none'] as const) {
      const path = join(dir, String(lists));
      const space = await ObjectSpace.open(await openWalBackend({ path }));
      const db = space.database('app');
      await db.transact((tx) => tx.set('items', empty(lists).putAll(items)));
      const queries = [5, 55, 555].map((i) => (items[i] as Item).embedding);
      const c0 = db.begin({ readOnly: true }).get<Items>('items') as Items;
      const before = queries.map((q) => keys(c0, q));
      await space.close();
      const again = await ObjectSpace.open(await openWalBackend({ path }));
      const c1 = again.database('app').begin({ readOnly: true }).get<Items>('items') as Items;
      expect(queries.map((q) => keys(c1, q))).toEqual(before);
      expect(c1.indexes()[0]?.entries).toBe(600);
      await again.close();
    }
  });
});
