/**
 * `space.backup(target)`: the newest commit copied into an empty location opens there as
 * exactly that commit, whatever its collections hold (nested collections, values stored out of
 * line, commits not yet checkpointed), while writers keep committing to the source.
 */
import { ObjectSpace } from '@proto/atom';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { Dictionary, List, OrderedSet } from '../src/index.js';

/** Everything a database holds, as plain data. */
function contents(space: ObjectSpace, db: string, asOf?: number): unknown {
  const tx = space.database(db).begin(asOf === undefined ? { readOnly: true } : { asOf });
  const plain = (v: unknown): unknown =>
    v instanceof Dictionary
      ? [...v.entries()].map(([k, x]) => [k, plain(x)])
      : v instanceof List || v instanceof OrderedSet
        ? [...v].map(plain)
        : v;
  return tx.rootNames().map((name) => [name, plain(tx.get(name))]);
}

describe('space.backup', () => {
  it('copies the newest commit, delta records and all, into an empty backend; writers go on meanwhile', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend(), { historyLimit: 100 });
    const db = space.database('shop');
    const big = 'x'.repeat(3000); // stored out of line
    await db.transact((tx) => {
      tx.set(
        'orders',
        Dictionary.from(
          Array.from(
            { length: 20_000 },
            (_, i) => [i, { n: i, note: i % 100 === 0 ? big : 'ok' }] as [number, unknown],
          ),
        ),
      );
      tx.set('carts', Dictionary.from([['ada', List.from([1, 2, 3])]]));
      tx.set('tags', OrderedSet.from(['a', 'b']));
      tx.set('title', 'shop');
    });
    await space.checkpoint();
    // Delta commits after the checkpoint: their nodes are not written to the source yet.
    for (let i = 0; i < 20; i++)
      await db.transact((tx) =>
        tx.set('orders', tx.get<Dictionary<number, unknown>>('orders')?.set(i, { n: -i })),
      );
    await space.database('other').transact((tx) => tx.set('x', new Date(5)));
    const location = createMemoryLocation();
    const target = await openMemoryBackend({ location });
    const progress: number[] = [];
    const writers = Array.from({ length: 10 }, (_, i) =>
      db.transact((tx) =>
        tx.set('orders', tx.get<Dictionary<number, unknown>>('orders')?.set(100 + i, 'late')),
      ),
    );
    const report = await space.backup(target, { onProgress: (p) => progress.push(p.atoms) });
    await Promise.all(writers);
    expect(report.atoms).toBeGreaterThan(300);
    expect(progress.at(-1)).toBe(report.atoms);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    await target.close();
    // The copy opens at the commit it copied, with its contents exactly.
    const copy = await ObjectSpace.open(await openMemoryBackend({ location }));
    expect(copy.sequence).toBe(report.sequence);
    expect(copy.databaseNames()).toEqual(['other', 'shop']);
    for (const name of ['shop', 'other'])
      expect(contents(copy, name)).toEqual(contents(space, name, report.sequence));
    expect(contents(copy, 'shop')).not.toEqual(contents(space, 'shop'));
    // It is a working space of its own.
    await copy.database('shop').transact((tx) => tx.set('title', 'copy'));
    expect(copy.database('shop').read((tx) => tx.get('title'))).toBe('copy');
    await copy.close();
    await space.close();
  }, 60_000);

  it('refuses a target that holds data', async () => {
    const space = await ObjectSpace.open(await openMemoryBackend());
    await space.database('db').transact((tx) => tx.set('a', 1));
    const used = await openMemoryBackend();
    const other = await ObjectSpace.open(used);
    await other.database('db').transact((tx) => tx.set('b', 2));
    await expect(space.backup(used)).rejects.toThrow(/already holds data/);
    await other.close();
    await space.close();
  });
});
