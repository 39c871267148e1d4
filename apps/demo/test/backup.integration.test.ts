/**
 * Backup as migration: a WAL space with indexed records is copied into a new SQLite file while
 * writers keep committing to it; the SQLite copy opens as exactly the commit it copied, its
 * indexed queries answer as the source's did at that commit, and it takes new commits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { from, IndexedCollection } from '@proto/query';
import { openSqliteBackend } from '@proto/storage-sqlite';
import { openWalBackend } from '@proto/storage-wal';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'proto-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Item {
  readonly id: number;
  readonly group: string;
  readonly score: number;
}

describe('backup from the WAL backend to SQLite', () => {
  it('opens as exactly the commit it copied, while writers went on', async () => {
    const source = await ObjectSpace.open(await openWalBackend({ path: join(dir, 'wal') }), {
      historyLimit: 200,
    });
    const db = source.database('app');
    await db.transact((tx) =>
      tx.set(
        'items',
        IndexedCollection.from<Item, number>(
          Array.from({ length: 5000 }, (_, id) => ({ id, group: `g${id % 7}`, score: (id * 37) % 1000 })),
          { key: 'id', indexes: { byGroup: 'group', byScore: 'score' } },
        ),
      ),
    );
    const write = (i: number) =>
      db.transact((tx) => {
        const items = tx.get<IndexedCollection<Item, number>>('items') as IndexedCollection<Item, number>;
        tx.set('items', items.put({ id: 10_000 + i, group: 'late', score: i }));
      });
    let running = true;
    const writers = (async () => {
      for (let i = 0; running; i++) await write(i);
    })();
    await write(-1);
    const target = await openSqliteBackend({ path: join(dir, 'copy.sqlite') });
    const report = await source.backup(target);
    running = false;
    await writers;
    await target.close();

    const copy = await ObjectSpace.open(await openSqliteBackend({ path: join(dir, 'copy.sqlite') }));
    expect(copy.sequence).toBe(report.sequence);
    const then = source
      .database('app')
      .begin({ asOf: report.sequence })
      .get<IndexedCollection<Item, number>>('items');
    const copied = copy.database('app').read((tx) => tx.get<IndexedCollection<Item, number>>('items'));
    const query = (c: IndexedCollection<Item, number> | undefined) =>
      from(c as IndexedCollection<Item, number>)
        .where('group', '=', 'g3')
        .where('score', '<', 300)
        .orderBy('score')
        .toArray();
    expect(copied?.size).toBe(then?.size);
    expect(query(copied)).toEqual(query(then));
    expect([...(copied?.entries() ?? [])]).toEqual([...(then?.entries() ?? [])]);
    expect(copied?.indexes()).toEqual(then?.indexes());
    // The writers went on: the source is ahead of the copy.
    expect(source.sequence).toBeGreaterThan(report.sequence);
    await copy.database('app').transact((tx) => tx.set('note', 'migrated'));
    await copy.close();
    await source.close();
  }, 120_000);
});
