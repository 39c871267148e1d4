import { from, IndexedCollection } from '@proto/query';
import { describe, expect, it } from 'vitest';
import { retrainVectorIndex, vectorIndex, vectorIndexStatus } from '../src/index.ts';
import { bruteForce, clustered, type Item, openSpace, recall } from './fixtures.ts';

type Items = IndexedCollection<Item, string>;
const DIM = 16;

describe('vector: retraining drifted lists', () => {
  it('reports drift, retrains on a snapshot while a writer commits, and keeps every record findable', async () => {
    const items = clustered(3000, DIM, 5, 30);
    const { space } = await openSpace();
    const db = space.database('app');
    // Trained on the first 400 records (20 lists), then grown to 2,999.
    await db.transact((tx) =>
      tx.set(
        'items',
        IndexedCollection.empty<Item, string>({ key: 'id' })
          .putAll(items.slice(0, 400))
          .createIndex('emb', vectorIndex({ path: 'embedding', dim: DIM, trainAt: 400, seed: 3 })),
      ),
    );
    await db.transact((tx) =>
      tx.set('items', (tx.get<Items>('items') as Items).putAll(items.slice(400, 2999))),
    );
    const grown = db.begin({ readOnly: true }).get<Items>('items') as Items;
    const before = vectorIndexStatus(grown, 'emb');
    expect(before).toMatchObject({
      trained: true,
      lists: 20,
      vectors: 2999,
      trainedVectors: 400,
      needsRetraining: true,
    });
    expect(before.growth).toBeCloseTo(2999 / 400, 5);

    // A writer commits while the retraining runs; both land.
    const retraining = retrainVectorIndex(db, 'items', 'emb');
    const last = items[2999] as Item;
    await db.transact((tx) => tx.set('items', (tx.get<Items>('items') as Items).put(last)));
    const result = await retraining;
    expect(result.retrained).toBe(true);
    expect(result.lists).toBe(Math.round(Math.sqrt(2999)));

    const after = db.begin({ readOnly: true }).get<Items>('items') as Items;
    const status = vectorIndexStatus(after, 'emb');
    expect(status).toMatchObject({ trained: true, lists: 55, vectors: 3000, needsRetraining: false });
    expect(after.size).toBe(3000);
    // Every record is in the new lists: probing all of them is exact, and the concurrent write is found.
    expect(from(after).nearest('embedding', last.embedding, { k: 1 }).toArray()[0]?.key).toBe(last.id);
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const q = (items[i * 150] as Item).embedding;
      const truth = bruteForce(items, q, 10).map((t) => t.id);
      const all = from(after)
        .nearest('embedding', q, { k: 10, nprobe: 55 })
        .toArray()
        .map((r) => r.key as string);
      expect(all).toEqual(truth);
      total += recall(
        from(after)
          .nearest('embedding', q, { k: 10, recall: 0.95 })
          .toArray()
          .map((r) => r.key as string),
        truth,
      );
    }
    expect(total / 20).toBeGreaterThanOrEqual(0.95);
    // Nothing to do now (unless forced).
    expect((await retrainVectorIndex(db, 'items', 'emb')).retrained).toBe(false);
    await space.close();
  });

  it('trains an index that was created empty once it has enough vectors', async () => {
    const items = clustered(1200, DIM, 8, 20);
    const { space } = await openSpace();
    const db = space.database('app');
    // Written one record at a time, each put updates the (untrained, flat) index.
    let c0 = IndexedCollection.empty<Item, string>({
      key: 'id',
      indexes: { emb: vectorIndex({ path: 'embedding', dim: DIM }) },
    });
    for (const item of items) c0 = c0.put(item);
    await db.transact((tx) => tx.set('items', c0));
    const c = db.begin({ readOnly: true }).get<Items>('items') as Items;
    expect(vectorIndexStatus(c, 'emb')).toMatchObject({ trained: false, lists: 1, needsRetraining: true });
    await retrainVectorIndex(db, 'items', 'emb');
    const t = db.begin({ readOnly: true }).get<Items>('items') as Items;
    expect(vectorIndexStatus(t, 'emb')).toMatchObject({ trained: true, lists: 35, vectors: 1200 });
    expect(
      from(t)
        .nearest('embedding', (items[0] as Item).embedding, { k: 1 })
        .toArray()[0]?.key,
    ).toBe((items[0] as Item).id);
    await space.close();
  });
});
