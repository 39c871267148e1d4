import { ObjectSpace } from '@proto/atom';
import { openMemoryBackend } from '@proto/storage-memory';
import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/index.js';
import { openSpace } from './helpers.js';

type Scores = Dictionary<string, number>;

const keyOf = (i: number) => `key-${String(i).padStart(7, '0')}`;

/**
 * What one-key updates of a dictionary of `n` entries write: each commit (a delta record)
 * and the checkpoint after `repeat` updates of each of four keys.
 */
async function writesPerUpdate(n: number, repeat: number) {
  const space = await ObjectSpace.open(await openMemoryBackend(), {
    historyLimit: 0,
    cache: { maxAtoms: 200_000 },
  });
  const db = space.database('app');
  await db.transact((tx) => {
    tx.set('scores', Dictionary.from(Array.from({ length: n }, (_, i) => [keyOf(i), i] as [string, number])));
    tx.set('other', 0);
  });
  const stats = () => space.stats();
  // A checkpoint's own atoms: the commit record, the space and database states, one root cell.
  await db.transact((tx) => tx.set('other', 1));
  let before = stats();
  await space.checkpoint();
  const kernel = stats().atomsWritten - before.atomsWritten;
  const commits: { atoms: number; bytes: number }[] = [];
  const keys = [0, Math.floor(n / 2), n - 1, 12345 % n];
  for (let r = 0; r < repeat; r++) {
    for (const i of keys) {
      before = stats();
      await db.transact((tx) => {
        const d = tx.get<Scores>('scores') as Scores;
        tx.set('scores', d.set(keyOf(i), -r));
      });
      const after = stats();
      commits.push({
        atoms: after.atomsWritten - before.atomsWritten,
        bytes: after.bytesWritten - before.bytesWritten,
      });
    }
  }
  before = stats();
  await space.checkpoint();
  const checkpoint = stats().atomsWritten - before.atomsWritten;
  const scores = db.begin({ readOnly: true }).get<Scores>('scores') as Scores;
  const depth = scores.depth;
  for (const i of keys) expect(scores.get(keyOf(i))).toBe(-(repeat - 1));
  await space.close();
  return { commits, checkpoint, depth, kernel };
}

describe('collections: atoms written per update', () => {
  it('writes one small delta record per one-key commit of a 100k-entry dictionary', async () => {
    const { commits } = await writesPerUpdate(100_000, 2);
    for (const c of commits) {
      expect(c.atoms).toBe(1);
      expect(c.bytes).toBeLessThan(200);
    }
  });

  it('writes each changed leaf once per checkpoint, with one node per level and the handle', async () => {
    const small = await writesPerUpdate(10_000, 3);
    const large = await writesPerUpdate(100_000, 3);
    expect(large.kernel).toBeGreaterThan(0);
    // Four keys in four leaves, each updated three times: the leaves are written once, and the
    // branches above them once (the root branch is shared by all four paths).
    expect(large.checkpoint - large.kernel).toBeLessThanOrEqual(4 * (large.depth - 1) + 2);
    expect(large.checkpoint - large.kernel).toBeGreaterThanOrEqual(4 + 2);
    expect(small.checkpoint - small.kernel).toBeLessThanOrEqual(4 * (small.depth - 1) + 2);
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
