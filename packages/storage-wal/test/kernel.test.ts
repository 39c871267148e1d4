import { ObjectSpace } from '@proto/atom';
import { compactWal, openWalBackend } from '@proto/storage-wal';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

describe('storage-wal: with the kernel', () => {
  it('keeps committed values across reopen and compaction when used by an ObjectSpace', async () => {
    const dir = tempDir();
    const space = await ObjectSpace.open(await openWalBackend({ path: dir }));
    const db = space.database('shop');
    for (let i = 0; i < 20; i++) {
      await db.transact((tx) => {
        tx.set('counter', i);
        tx.set('cart', {
          items: Array.from({ length: i }, (_, k) => `item-${k}`),
          updated: new Date(1_700_000_000_000 + i),
        });
      });
    }
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => db.transact((tx) => tx.set(`session-${i}`, { user: i }))),
    );
    await space.close();

    const report = await compactWal(dir);
    expect(report.liveAtoms).toBeGreaterThan(0);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);

    const reopened = await ObjectSpace.open(await openWalBackend({ path: dir }));
    const values = await reopened.database('shop').transact((tx) => ({
      counter: tx.get('counter'),
      cart: tx.get('cart'),
      sessions: Array.from({ length: 10 }, (_, i) => tx.get(`session-${i}`)),
    }));
    expect(values).toEqual({
      counter: 19,
      cart: {
        items: Array.from({ length: 19 }, (_, k) => `item-${k}`),
        updated: new Date(1_700_000_000_019),
      },
      sessions: Array.from({ length: 10 }, (_, i) => ({ user: i })),
    });
    await reopened.close();
  });
});
