import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/index.js';
import { openSpace } from './helpers.js';

type Scores = Dictionary<string, number>;

/** Atoms written by one committed single-key update of a dictionary of `n` entries. */
async function atomsPerUpdate(n: number): Promise<{ perUpdate: number[]; depth: number; kernel: number }> {
  const h = await openSpace(undefined, 200_000);
  const db = h.space.database('app');
  const entries = Array.from(
    { length: n },
    (_, i) => [`key-${String(i).padStart(7, '0')}`, i] as [string, number],
  );
  await db.transact((tx) => {
    tx.set('scores', Dictionary.from(entries));
    tx.set('other', 0);
  });
  const written = () => h.space.stats().atomsWritten;
  // The kernel's own atoms per commit (commit record, space and database state, root cell).
  let before = written();
  await db.transact((tx) => tx.set('other', 1));
  const kernel = written() - before;
  const perUpdate: number[] = [];
  for (const i of [0, Math.floor(n / 2), n - 1, 12345 % n]) {
    before = written();
    await db.transact((tx) => {
      const d = tx.get<Scores>('scores') as Scores;
      tx.set('scores', d.set(`key-${String(i).padStart(7, '0')}`, -1));
    });
    perUpdate.push(written() - before - kernel);
  }
  const depth = (db.begin({ readOnly: true }).get<Scores>('scores') as Scores).depth;
  await h.space.close();
  return { perUpdate, depth, kernel };
}

describe('collections: atoms written per update', () => {
  it('writes one node per level plus the handle when one key of a 100k-entry dictionary changes', async () => {
    const small = await atomsPerUpdate(10_000);
    const large = await atomsPerUpdate(100_000);
    expect(large.kernel).toBeGreaterThan(0);
    for (const n of large.perUpdate) expect(n).toBe(large.depth + 1);
    for (const n of small.perUpdate) expect(n).toBe(small.depth + 1);
    expect(large.depth).toBeLessThanOrEqual(4);
    expect(large.depth - small.depth).toBeLessThanOrEqual(1);
  });

  it('writes nothing for a collection when it never becomes reachable from a root', async () => {
    const h = await openSpace();
    const db = h.space.database('app');
    await db.transact((tx) => tx.set('other', 0));
    let before = h.space.stats().atomsWritten;
    await db.transact((tx) => tx.set('other', 1));
    const kernel = h.space.stats().atomsWritten - before;
    before = h.space.stats().atomsWritten;
    await db.transact((tx) => {
      const scratch = Dictionary.from(
        Array.from({ length: 5000 }, (_, i) => [`k${i}`, i] as [string, number]),
      );
      tx.set('other', scratch.size);
    });
    expect(h.space.stats().atomsWritten - before).toBe(kernel);
    await h.space.close();
  });
});
